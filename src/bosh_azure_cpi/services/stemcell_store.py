"""StemcellStore: stemcell VHD blobs in the default storage account (container ``stemcell``) and the CPI's locks.

The default storage account is ``storage_account_name`` when configured (no ARM call needed); otherwise the
account in the resource group tagged ``{"user-agent": "bosh", "type": "stemcell"}`` in the location, created by
``create_stemcell`` when there is none (the Ruby CPI's convention). Blob names are ``<stemcell cid>.vhd``.
"""

from __future__ import annotations

import logging
import uuid
from contextlib import suppress
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

from bosh_azure_cpi.config import AzureConfig
from bosh_azure_cpi.errors import CloudError, InvalidArgument
from bosh_azure_cpi.models.cids import StemcellCid
from bosh_azure_cpi.models.deadline import Deadline
from bosh_azure_cpi.models.images import BlobLocation, UploadResult
from bosh_azure_cpi.services.blob_upload import PageBlobUploader, delete_abandoned_uploads
from bosh_azure_cpi.services.leases import LOCK_CONTAINER, BlobLock
from bosh_azure_cpi.services.lro import azure_errors, find, wait
from bosh_azure_cpi.services.stemcell_image import open_vhd

if TYPE_CHECKING:
    from azure.storage.blob import BlobServiceClient, ContainerClient

    from bosh_azure_cpi.services.clients import AzureClients

logger = logging.getLogger(__name__)
STEMCELL_CONTAINER = "stemcell"
STEMCELL_ACCOUNT_TAGS = {"user-agent": "bosh", "type": "stemcell"}
MARKER_SIZE = 1024  # light stemcells: an empty page blob carrying the metadata, as the Ruby CPI writes
ABANDONED_AFTER_S = 3600


@dataclass(frozen=True, slots=True, kw_only=True)
class StorageAccountRef:
    name: str
    resource_group: str
    id: str


class StemcellStore:
    def __init__(self, clients: AzureClients, config: AzureConfig, deadline: Deadline) -> None:
        self._clients = clients
        self._config = config
        self._deadline = deadline

    @cached_property
    def account(self) -> StorageAccountRef:
        """The default storage account; raises CloudError when there is none (see ``ensure_account``)."""
        found = self._configured_account() or self._tagged_account()
        if found is None:
            raise CloudError(
                f"No default storage account: set 'azure.storage_account_name' or create a storage account in "
                f"'{self._config.resource_group_name}' tagged user-agent=bosh, type=stemcell"
            )
        return found

    def has_account(self) -> bool:
        return self._configured_account() is not None or self._tagged_account() is not None

    def ensure_account(self) -> StorageAccountRef:
        """The default storage account, created (Standard_LRS, tagged for stemcells) when none exists yet."""
        if not self.has_account():
            created = self._create_account()
            self.__dict__["_tagged"] = created  # so has_account(), metadata() and delete() see it from now on
            self.__dict__["account"] = created
        return self.account

    @cached_property
    def service(self) -> BlobServiceClient:
        return self._clients.blob_service(self.account.name, self.account.resource_group)

    def container(self, name: str = STEMCELL_CONTAINER) -> ContainerClient:
        return self.service.get_container_client(name)

    def locks(self) -> BlobLock:
        return BlobLock(self.container(LOCK_CONTAINER), self._deadline)

    def location(self, cid: StemcellCid) -> BlobLocation:
        base = self._config.endpoints.blob_url(self.account.name)
        return BlobLocation(
            account_name=self.account.name,
            account_id=self.account.id,
            container=STEMCELL_CONTAINER,
            blob_name=cid.blob_name,
            url=f"{base}/{STEMCELL_CONTAINER}/{cid.blob_name}",
        )

    def upload(self, cid: StemcellCid, image_path: str, metadata: dict[str, str]) -> UploadResult:
        """Stream the image's root.vhd into ``<cid>.vhd`` (only non-zero pages); nothing is left on failure."""
        with open_vhd(image_path) as vhd:  # validates the archive before anything is created
            self._ensure_container()
            blob = self.container().get_blob_client(cid.blob_name)
            uploader = PageBlobUploader(blob, threads=self._config.parallel_upload_thread_num)
            report = uploader.upload(vhd, metadata)
        return UploadResult(
            blob=self.location(cid), sha256=report.sha256, vhd_size=report.vhd_size, bytes_sent=report.bytes_sent
        )

    def write_marker(self, cid: StemcellCid, metadata: dict[str, str]) -> None:
        """A small empty page blob carrying a light stemcell's metadata."""
        self._ensure_container()
        with azure_errors(f"Creating light stemcell marker '{cid.blob_name}'"):
            self.container().get_blob_client(cid.blob_name).create_page_blob(MARKER_SIZE, metadata=metadata)

    def metadata(self, cid: StemcellCid) -> dict[str, str] | None:
        """The blob's metadata, or None when the blob (or the account) does not exist."""
        if not self.has_account():
            return None
        blob = self.container().get_blob_client(cid.blob_name)
        properties = find(f"Reading blob '{cid.blob_name}'", blob.get_blob_properties)
        return None if properties is None else dict(properties.metadata or {})

    def delete(self, cid: StemcellCid) -> bool:
        """Delete ``<cid>.vhd``; False when it was already gone."""
        if not self.has_account():
            return False
        blob = self.container().get_blob_client(cid.blob_name)
        with azure_errors(f"Deleting blob '{cid.blob_name}'"):
            try:
                blob.delete_blob(delete_snapshots="include")
            except ResourceNotFoundError:
                return False
        logger.info("Deleted blob %s/%s", STEMCELL_CONTAINER, cid.blob_name)
        return True

    def delete_abandoned_uploads(self) -> int:
        """Remove blobs of uploads whose CPI process died (marker set, lease expired)."""
        with azure_errors("Cleaning up abandoned stemcell uploads"):
            return len(delete_abandoned_uploads(self.container(), older_than=ABANDONED_AFTER_S))

    def _ensure_container(self) -> None:
        with azure_errors(f"Creating container '{STEMCELL_CONTAINER}'"), suppress(ResourceExistsError):
            self.container().create_container()

    def _configured_account(self) -> StorageAccountRef | None:
        name = self._config.storage_account_name
        return None if not name else self._ref(name, self._config.resource_group_name)

    @cached_property
    def _tagged(self) -> StorageAccountRef | None:
        group = self._config.resource_group_name
        location = self._config.location.replace(" ", "").lower()
        with azure_errors(f"Listing storage accounts in '{group}'"):
            for account in self._clients.storage.storage_accounts.list_by_resource_group(group):
                tags = account.tags or {}
                if all(tags.get(k) == v for k, v in STEMCELL_ACCOUNT_TAGS.items()) and (
                    not location or account.location.replace(" ", "").lower() == location
                ):
                    return self._ref(account.name or "", group)
        return None

    def _tagged_account(self) -> StorageAccountRef | None:
        return self._tagged

    def _create_account(self) -> StorageAccountRef:
        from bosh_azure_cpi.services.params.storage import build_storage_account_params  # noqa: PLC0415

        if not self._config.location:
            raise InvalidArgument("'azure.location' is required to create the default storage account")
        group = self._config.resource_group_name
        name = f"bosh{uuid.uuid4().hex[:20]}"
        what = f"Creating storage account '{name}' for stemcells"
        logger.info("%s", what)
        params = build_storage_account_params(self._config.location, STEMCELL_ACCOUNT_TAGS)
        with azure_errors(what):
            poller = self._clients.storage.storage_accounts.begin_create(group, name, params)
        wait(poller, what, self._deadline)
        return self._ref(name, group)

    def _ref(self, name: str, group: str) -> StorageAccountRef:
        account_id = (
            f"/subscriptions/{self._config.subscription_id}/resourceGroups/{group}"
            f"/providers/Microsoft.Storage/storageAccounts/{name}"
        )
        return StorageAccountRef(name=name, resource_group=group, id=account_id)
