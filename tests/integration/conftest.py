"""Session fixtures for the integration tests: ``bin/cpi`` over HTTP against Azurite and the ARM emulator.

* ``peers`` (session) — :class:`tests.peers.Peers`: Azurite + storage fault proxy + ARM emulator, seeded
  with resource group ``bosh-rg`` (eastus), storage account ``devstoreaccount1`` (containers ``bosh`` and
  ``stemcell``) and gallery ``bosh_gallery``; Microsoft.Compute traffic is recorded into ``.traffic/``.
* ``cpi_config_path`` (session) — the default ``cpi.json`` for the peers.
* ``cpi`` (function) — a :class:`Cpi`: ``cpi("create_stemcell", image_path, props)`` runs ``bin/cpi`` like
  the Director and returns a :class:`tests.peers.CpiResponse`; ``cpi.with_config(location="westus")``
  gives a runner on a config variant.
Every test under ``tests/integration`` is marked ``integration``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pytest

from arm_emulator.types.base import Knobs
from tests.peers import (
    CpiResponse,
    Peers,
    cpi_config,
    run_cpi,
    running_peers,
    session_traffic_dir,
    write_cpi_config,
)

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.integration)


@dataclass(frozen=True, slots=True)
class Cpi:
    """Runs ``bin/cpi`` with one config file; each call is a fresh process, as with the Director."""

    peers: Peers
    config_path: Path
    workdir: Path

    def __call__(
        self,
        method: str,
        *arguments: Any,
        context: Mapping[str, Any] | None = None,
        api_version: int | None = 2,
        timeout: float = 600.0,
    ) -> CpiResponse:
        return run_cpi(
            self.config_path,
            method,
            arguments,
            workdir=self.workdir,
            context=context,
            api_version=api_version,
            timeout=timeout,
        )

    def with_config(self, **azure_overrides: Any) -> Cpi:
        """A runner whose config overrides keys of ``cloud.properties.azure`` (see ``cpi_config``)."""
        index = len(list(self.workdir.glob("cpi-variant-*.json")))
        path = write_cpi_config(self.workdir / f"cpi-variant-{index}.json", cpi_config(self.peers, **azure_overrides))
        return Cpi(peers=self.peers, config_path=path, workdir=self.workdir)


@pytest.fixture(scope="session")
def peers(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Iterator[Peers]:
    workdir = tmp_path_factory.mktemp("integration-peers")
    with running_peers(workdir, traffic_dir=session_traffic_dir(pytestconfig)) as running:
        yield running


@pytest.fixture(scope="session")
def cpi_config_path(peers: Peers) -> Path:
    return write_cpi_config(peers.workdir / "cpi.json", cpi_config(peers))


@pytest.fixture
def cpi(peers: Peers, cpi_config_path: Path, tmp_path: Path) -> Iterator[Cpi]:
    yield Cpi(peers=peers, config_path=cpi_config_path, workdir=tmp_path)
    peers.emulator.faults.clear()
    peers.proxy.faults.clear()
    defaults = Knobs()
    for knob in fields(Knobs):
        setattr(peers.emulator.knobs, knob.name, getattr(defaults, knob.name))
