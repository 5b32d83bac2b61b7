"""StemcellStore against autospec'd storage clients: default account, blob locations, marker, metadata, delete."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest.mock import create_autospec

import pytest
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.mgmt.storage import models as sm
from azure.mgmt.storage.operations import StorageAccountsOperations
from azure.storage.blob import (
    BlobClient,
    BlobLeaseClient,
    BlobProperties,
    BlobServiceClient,
    ContainerClient,
    PageRange,
)

from bosh_azure_cpi.errors import CloudError, InvalidArgument
from bosh_azure_cpi.models.cids import StemcellCid
from bosh_azure_cpi.models.deadline import Deadline
from bosh_azure_cpi.services.blob_upload import MARKER_IN_PROGRESS, MARKER_KEY
from bosh_azure_cpi.services.leases import BlobLock
from bosh_azure_cpi.services.stemcell_store import StemcellStore
from tests.fakes.config import ACCOUNT, RESOURCE_GROUP, SUBSCRIPTION, fake_azure_config
from tests.fakes.pollers import FakePoller
from tests.support.images import valid_image_bytes

CID = StemcellCid.parse("bosh-stemcell-00000000-0000-0000-0000-0000000000aa")
TAGS = {"user-agent": "bosh", "type": "stemcell"}


class Clients:
    """The parts of AzureClients the store uses: ARM storage accounts and per-account blob services."""

    def __init__(self) -> None:
        self.accounts = create_autospec(StorageAccountsOperations, instance=True)
        self.accounts.list_by_resource_group.return_value = []
        self.storage = SimpleNamespace(storage_accounts=self.accounts)
        self.service = create_autospec(BlobServiceClient, instance=True)
        self.service.get_container_client.side_effect = self.container
        self.containers: dict[str, Any] = {}
        self.blobs: dict[str, Any] = {}
        self.opened: list[tuple[str, str]] = []

    def blob_service(self, account: str, resource_group: str) -> Any:
        self.opened.append((account, resource_group))
        return self.service

    def container(self, name: str) -> Any:
        if name not in self.containers:
            container = create_autospec(ContainerClient, instance=True)
            container.container_name = name
            container.get_blob_client.side_effect = lambda blob, c=name: self.blob(f"{c}/{blob}")
            self.containers[name] = container
        return self.containers[name]

    def blob(self, path: str) -> Any:
        if path not in self.blobs:
            blob = create_autospec(BlobClient, instance=True)
            blob.blob_name = path.split("/", 1)[1]
            self.blobs[path] = blob
        return self.blobs[path]


@pytest.fixture
def clients() -> Clients:
    return Clients()


def store(clients: Clients, **config: Any) -> StemcellStore:
    return StemcellStore(clients, fake_azure_config(**config), Deadline(60))  # type: ignore[arg-type]


def account(name: str, location: str, tags: dict[str, str] | None) -> sm.StorageAccount:
    return sm.StorageAccount({"name": name, "location": location, "tags": tags})


# --- default account ------------------------------------------------------------------------------------------


def test_a_configured_account_needs_no_arm_call(clients: Clients) -> None:
    made = store(clients)
    assert made.has_account()
    assert made.ensure_account().name == ACCOUNT
    assert made.account.id == (
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}/providers/Microsoft.Storage/storageAccounts/{ACCOUNT}"
    )
    clients.accounts.list_by_resource_group.assert_not_called()
    clients.accounts.begin_create.assert_not_called()


def test_the_stemcell_tagged_account_in_the_location_is_found_once(clients: Clients) -> None:
    clients.accounts.list_by_resource_group.return_value = [
        account("fakewest", "westus", TAGS),
        account("fakeuntagged", "eastus", {"type": "stemcell"}),
        account("fakeeast", "East US", {**TAGS, "extra": "tag"}),
    ]
    made = store(clients, storage_account_name=None)

    assert made.has_account()
    assert made.account.name == "fakeeast"
    assert made.ensure_account().name == "fakeeast"
    clients.accounts.list_by_resource_group.assert_called_once_with(RESOURCE_GROUP)
    clients.accounts.begin_create.assert_not_called()


def test_without_an_account_there_is_no_account_and_no_metadata(clients: Clients) -> None:
    made = store(clients, storage_account_name=None)
    assert not made.has_account()
    with pytest.raises(CloudError, match="No default storage account"):
        _ = made.account
    assert made.metadata(CID) is None
    assert made.delete(CID) is False
    assert clients.opened == []


def test_ensure_account_creates_a_tagged_account_and_uses_it_from_then_on(clients: Clients) -> None:
    clients.accounts.begin_create.return_value = FakePoller(polls=1)
    made = store(clients, storage_account_name=None)

    created = made.ensure_account()

    (group, name, params), _ = clients.accounts.begin_create.call_args
    assert group == RESOURCE_GROUP
    assert re.fullmatch(r"bosh[0-9a-f]{20}", name) and created.name == name
    assert params.as_dict() == {
        "sku": {"name": "Standard_LRS"},
        "kind": "StorageV2",
        "location": "eastus",
        "tags": TAGS,
        "properties": {"supportsHttpsTrafficOnly": True, "minimumTlsVersion": "TLS1_2", "allowBlobPublicAccess": False},
    }
    assert made.has_account() and made.account == created
    made.delete(CID)  # later calls in the same process see the new account
    clients.blobs[f"stemcell/{CID}.vhd"].delete_blob.assert_called_once_with(delete_snapshots="include")
    assert clients.opened == [(name, RESOURCE_GROUP)]


def test_creating_an_account_needs_a_location(clients: Clients) -> None:
    made = store(clients, storage_account_name=None, location=None, compute_gallery_name=None)
    with pytest.raises(InvalidArgument, match="'azure.location' is required"):
        made.ensure_account()


# --- blobs ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoints", "base"),
    [
        ({}, f"https://{ACCOUNT}.blob.core.windows.net"),
        ({"storage_blob": "http://127.0.0.1:10000/{account}/"}, f"http://127.0.0.1:10000/{ACCOUNT}"),
    ],
)
def test_blob_location_names_the_account_container_and_url(
    clients: Clients, endpoints: dict[str, str], base: str
) -> None:
    location = store(clients, endpoints=endpoints).location(CID)
    assert location.url == f"{base}/stemcell/{CID}.vhd"
    assert (location.account_name, location.container, location.blob_name) == (ACCOUNT, "stemcell", f"{CID}.vhd")
    assert location.account_id.endswith(f"/storageAccounts/{ACCOUNT}")


def test_a_light_stemcell_marker_is_a_small_page_blob_with_the_metadata(clients: Clients) -> None:
    clients.container("stemcell").create_container.side_effect = ResourceExistsError("fake exists")
    store(clients).write_marker(CID, {"name": "fake"})
    clients.blobs[f"stemcell/{CID}.vhd"].create_page_blob.assert_called_once_with(1024, metadata={"name": "fake"})


def test_metadata_of_a_blob_and_of_a_missing_blob(clients: Clients) -> None:
    made = store(clients)
    blob = clients.blob(f"stemcell/{CID}.vhd")
    properties = BlobProperties()
    properties.metadata = {"compute_gallery_name": "fake"}
    blob.get_blob_properties.return_value = properties
    assert made.metadata(CID) == {"compute_gallery_name": "fake"}

    blob.get_blob_properties.side_effect = ResourceNotFoundError("fake gone")
    assert made.metadata(CID) is None


def test_delete_is_idempotent(clients: Clients) -> None:
    made = store(clients)
    assert made.delete(CID) is True
    clients.blobs[f"stemcell/{CID}.vhd"].delete_blob.side_effect = ResourceNotFoundError("fake gone")
    assert made.delete(CID) is False


def test_abandoned_uploads_older_than_an_hour_are_cleaned_up(clients: Clients) -> None:
    now = datetime.now(UTC)
    listed = []
    for name, minutes in (("fake-old", 90), ("fake-recent", 30)):
        blob = BlobProperties()
        blob.name, blob.etag, blob.last_modified = name, f'"{name}"', now - timedelta(minutes=minutes)
        blob.metadata = {MARKER_KEY: MARKER_IN_PROGRESS}
        listed.append(blob)
    clients.container("stemcell").list_blobs.return_value = listed

    assert store(clients).delete_abandoned_uploads() == 1
    (name,), _ = clients.container("stemcell").delete_blob.call_args
    assert name == "fake-old"


def test_locks_are_leases_in_their_own_container(clients: Clients) -> None:
    locks = store(clients).locks()
    assert isinstance(locks, BlobLock)
    assert locks._container is clients.container("bosh-cpi-locks")


def test_upload_streams_the_image_into_the_cid_blob(clients: Clients, tmp_path: Path) -> None:
    image = tmp_path / "image"
    image.write_bytes(valid_image_bytes())
    blob = clients.blob(f"stemcell/{CID}.vhd")
    blob.acquire_lease.return_value = create_autospec(BlobLeaseClient, instance=True)
    pages: list[PageRange] = []
    lock = threading.Lock()

    def upload_page(data: bytes, offset: int, length: int, **_: Any) -> None:
        with lock:
            pages.append(PageRange(offset, offset + length - 1))

    blob.upload_page.side_effect = upload_page
    blob.list_page_ranges.side_effect = lambda **_: sorted(pages, key=lambda r: r.start)

    result = store(clients, parallel_upload_thread_num=2).upload(CID, str(image), {"name": "fake"})

    clients.container("stemcell").create_container.assert_called_once_with()
    assert result.blob.url.endswith(f"/stemcell/{CID}.vhd")
    assert result.vhd_size == 1024 * 1024 + 512
    assert 0 < result.bytes_sent < result.vhd_size
    metadata = blob.set_blob_metadata.call_args.args[0]
    assert metadata == {"name": "fake", "image_sha256": result.sha256}


def test_a_bad_image_is_refused_before_anything_is_created(clients: Clients, tmp_path: Path) -> None:
    image = tmp_path / "image"
    image.write_bytes(b"not a stemcell")
    with pytest.raises(InvalidArgument):
        store(clients).upload(CID, str(image), {})
    assert clients.opened == []
