"""FakeStemcellStore and FakeLocks: stemcell blobs (name -> metadata) in memory and a recording lock.

Calls are appended to a ``journal`` shared with the other fakes (``"upload <cid>"``, ``"lock <name>"``,
``"unlock <name>"``). ``FakeLocks.on_acquire(name)`` runs while the caller "waits" for a lock: what another CPI
process did meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from bosh_azure_cpi.models.cids import StemcellCid
from bosh_azure_cpi.models.images import BlobLocation, UploadResult
from bosh_azure_cpi.services.stemcell_store import StorageAccountRef
from tests.fakes.config import ACCOUNT, RESOURCE_GROUP, SUBSCRIPTION

ACCOUNT_ID = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}/providers/Microsoft.Storage/storageAccounts/{ACCOUNT}"


class FakeLocks:
    def __init__(self, journal: list[str]) -> None:
        self.journal = journal
        self.held: list[str] = []
        self.on_acquire: Callable[[str], None] | None = None

    @contextmanager
    def hold(self, name: str) -> Iterator[None]:
        if self.on_acquire is not None:
            self.on_acquire(name)
        self.journal.append(f"lock {name}")
        self.held.append(name)
        try:
            yield
        finally:
            self.held.remove(name)
            self.journal.append(f"unlock {name}")


class FakeStemcellStore:
    def __init__(self, journal: list[str] | None = None, *, sha256: str = "fake-sha256") -> None:
        self.journal = journal if journal is not None else []
        self.blobs: dict[str, dict[str, str]] = {}
        self.sha256 = sha256
        self.upload_error: Exception | None = None
        self.account = StorageAccountRef(name=ACCOUNT, resource_group=RESOURCE_GROUP, id=ACCOUNT_ID)
        self._locks = FakeLocks(self.journal)

    def ensure_account(self) -> StorageAccountRef:
        self.journal.append("ensure_account")
        return self.account

    def delete_abandoned_uploads(self) -> int:
        self.journal.append("delete_abandoned_uploads")
        return 0

    def upload(self, cid: StemcellCid, image_path: str, metadata: dict[str, str]) -> UploadResult:
        self.journal.append(f"upload {cid}")
        if self.upload_error is not None:
            raise self.upload_error
        self.blobs[cid.blob_name] = {**metadata, "image_sha256": self.sha256}
        return UploadResult(blob=self.location(cid), sha256=self.sha256, vhd_size=1024, bytes_sent=512)

    def write_marker(self, cid: StemcellCid, metadata: dict[str, str]) -> None:
        self.journal.append(f"write_marker {cid}")
        self.blobs[cid.blob_name] = dict(metadata)

    def location(self, cid: StemcellCid) -> BlobLocation:
        return BlobLocation(
            account_name=ACCOUNT,
            account_id=ACCOUNT_ID,
            container="stemcell",
            blob_name=cid.blob_name,
            url=f"https://{ACCOUNT}.blob.core.windows.net/stemcell/{cid.blob_name}",
        )

    def metadata(self, cid: StemcellCid) -> dict[str, str] | None:
        found = self.blobs.get(cid.blob_name)
        return None if found is None else dict(found)

    def delete(self, cid: StemcellCid) -> bool:
        self.journal.append(f"delete {cid}")
        return self.blobs.pop(cid.blob_name, None) is not None

    def locks(self) -> FakeLocks:
        return self._locks
