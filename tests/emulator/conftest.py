"""Fixtures for the emulator's own tests: one set of peers per session, real SDK clients, raw HTTPS.

Tests share the seeded environment (``bosh-rg``, ``devstoreaccount1``, ``bosh_gallery``) and create their
own uniquely named resources; the ``arm`` fixture resets faults and knobs after each test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any

import pytest
import requests
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.storage import StorageManagementClient

from arm_emulator import ArmEmulator
from arm_emulator.types.base import Knobs
from arm_emulator.vhd import FOOTER_SIZE, build_footer
from tests.peers import (
    GALLERY,
    LOCATION,
    RESOURCE_GROUP,
    STORAGE_ACCOUNT,
    SUBSCRIPTION_ID,
    Peers,
    blob_service,
    credential,
    mgmt_kwargs,
    running_peers,
    session_traffic_dir,
)

GALLERY_API = "2026-03-03"
RG_PATH = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{RESOURCE_GROUP}"
GALLERY_PATH = f"{RG_PATH}/providers/Microsoft.Compute/galleries/{GALLERY}"
ACCOUNT_ID = f"{RG_PATH}/providers/Microsoft.Storage/storageAccounts/{STORAGE_ACCOUNT}"
MIB = 1024 * 1024


@pytest.fixture(scope="session")
def peers(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Iterator[Peers]:
    workdir = tmp_path_factory.mktemp("emulator-peers")
    with running_peers(workdir, traffic_dir=session_traffic_dir(pytestconfig), extent_memory_mb=256) as running:
        yield running


@pytest.fixture
def arm(peers: Peers) -> Iterator[ArmEmulator]:
    """The session's emulator; faults, knobs and proxy rules are reset after the test."""
    yield peers.emulator
    peers.emulator.faults.clear()
    peers.proxy.faults.clear()
    defaults = Knobs()
    for knob in fields(Knobs):
        setattr(peers.emulator.knobs, knob.name, getattr(defaults, knob.name))
    peers.emulator.complete_operations()


@pytest.fixture(scope="session")
def compute(peers: Peers) -> Iterator[ComputeManagementClient]:
    kwargs = mgmt_kwargs(peers, retry_backoff_factor=0.01)
    with ComputeManagementClient(credential(peers), SUBSCRIPTION_ID, **kwargs) as client:
        yield client


@pytest.fixture(scope="session")
def storage(peers: Peers) -> Iterator[StorageManagementClient]:
    kwargs = mgmt_kwargs(peers, retry_backoff_factor=0.01)
    with StorageManagementClient(credential(peers), SUBSCRIPTION_ID, **kwargs) as client:
        yield client


@pytest.fixture
def name() -> str:
    """A fresh resource name for this test."""
    return f"t{uuid.uuid4().hex[:10]}"


@dataclass(frozen=True, slots=True)
class Raw:
    """HTTPS calls to the emulator with a valid bearer token, returning ``requests.Response``."""

    session: requests.Session
    base: str
    ca_path: str

    def __call__(
        self, method: str, path: str, api_version: str | None = GALLERY_API, **kwargs: Any
    ) -> requests.Response:
        params = dict(kwargs.pop("params", {}))
        if api_version is not None:
            params["api-version"] = api_version
        url = path if path.startswith("http") else self.base + path
        return self.session.request(method, url, params=params, timeout=30, verify=self.ca_path, **kwargs)


@pytest.fixture(scope="session")
def raw(peers: Peers) -> Iterator[Raw]:
    emulator = peers.emulator
    token = credential(peers).get_token(f"{emulator.url}/.default").token
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        yield Raw(session=session, base=emulator.url, ca_path=str(emulator.ca_path))


def upload_vhd(peers: Peers, blob_name: str, disk_mib: int = 4, footer: bytes | None = None) -> str:
    """Upload a fixed VHD page blob (``disk_mib`` MiB of disk + footer) into ``stemcell``; return its URL."""
    size = disk_mib * MIB
    with blob_service(peers) as service:
        blob = service.get_blob_client("stemcell", blob_name)
        blob.create_page_blob(size + FOOTER_SIZE)
        blob.upload_page(b"\x01" * 512, offset=0, length=512)
        blob.upload_page(footer or build_footer(size), offset=size, length=FOOTER_SIZE)
        return str(blob.url)


@pytest.fixture(scope="session")
def vhd_uri(peers: Peers) -> str:
    return upload_vhd(peers, "bosh-stemcell-fixture.vhd")


@pytest.fixture
def image(compute: ComputeManagementClient, name: str) -> str:
    """A fresh image definition in the seeded gallery; returns its name."""
    body = {
        "location": LOCATION,
        "properties": {
            "osType": "Linux",
            "osState": "Generalized",
            "identifier": {"publisher": "bosh", "offer": name, "sku": "gen1"},
        },
    }
    compute.gallery_images.begin_create_or_update(RESOURCE_GROUP, GALLERY, name, body).result()
    return name


def version_body(uri: str, regions: list[str] | None = None, **publishing: Any) -> dict[str, Any]:
    """A gallery image version made from a VHD blob in the seeded storage account."""
    profile: dict[str, Any] = dict(publishing)
    if regions is not None:
        profile["targetRegions"] = [{"name": r} for r in regions]
    return {
        "location": LOCATION,
        "properties": {
            "publishingProfile": profile,
            "storageProfile": {"osDiskImage": {"source": {"uri": uri, "storageAccountId": ACCOUNT_ID}}},
        },
    }
