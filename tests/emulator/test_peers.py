"""The shared harness (tests/peers.py): config files and the Director-like ``bin/cpi`` runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.peers import (
    DELETE,
    CpiProtocolError,
    Peers,
    cpi_config,
    parse_response,
    run_cpi,
    write_cpi_config,
)


def test_cpi_config_points_at_the_peers_and_takes_overrides(peers: Peers, tmp_path: Path) -> None:
    config = cpi_config(peers, location="westus", endpoints={"ca_cert": DELETE}, compute_gallery_name=DELETE)
    azure = config["cloud"]["properties"]["azure"]
    assert azure["location"] == "westus"
    assert "compute_gallery_name" not in azure
    assert azure["endpoints"] == {
        "resource_manager": f"{peers.emulator.url}/",
        "active_directory": peers.emulator.url,
        "storage_blob": f"{peers.proxy.url}/{{account}}",
    }
    assert azure["ssh_public_key"].startswith("ssh-rsa AAAA")
    path = write_cpi_config(tmp_path / "cpi.json", config)
    assert json.loads(path.read_text()) == config
    default = cpi_config(peers)["cloud"]["properties"]["azure"]
    assert default["endpoints"]["ca_cert"] == peers.emulator.ca_pem


@pytest.mark.parametrize(
    ("stdout", "problem"),
    [
        (b'{"result": 1, "error": null}', "exactly result/error/log"),
        (b'{"result": 1, "error": null, "log": null}', "log must be a string"),
        (b'{"result": 1, "error": {"type": "x", "message": "m"}, "log": ""}', "error must be"),
        (b'{"result": 1, "error": null, "log": ""}{"x": 1}', "not one JSON document"),
        (b"", "not one JSON document"),
    ],
)
def test_response_checks(stdout: bytes, problem: str) -> None:
    with pytest.raises(CpiProtocolError, match=problem):
        parse_response(0, stdout, "")


def test_response_requires_exit_code_zero() -> None:
    with pytest.raises(CpiProtocolError, match="exited with 1"):
        parse_response(1, b'{"result": 1, "error": null, "log": ""}', "")
    ok = parse_response(
        0, b'{"result": 1, "error": {"type": "t", "message": "m", "ok_to_retry": false}, "log": ""}\n', "e"
    )
    assert (ok.result, ok.error, ok.stderr) == (1, {"type": "t", "message": "m", "ok_to_retry": False}, "e")


def test_run_cpi_info_like_the_director(peers: Peers, tmp_path: Path) -> None:
    config = write_cpi_config(tmp_path / "cpi.json", cpi_config(peers))
    response = run_cpi(config, "info", [], workdir=tmp_path, api_version=None)
    assert response.unwrap()["api_version"] >= 2
