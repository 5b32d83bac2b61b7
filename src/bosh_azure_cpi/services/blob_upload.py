"""Upload a fixed VHD into an Azure page blob: non-zero pages only, bounded memory, leased, verified.

``PageBlobUploader.upload(vhd, metadata)``: (1) Put Blob (page) with the VHD size and ``metadata`` plus the marker
``bosh_upload_state=in_progress``; (2) acquire a 60 s lease, renewed every 15 s by ``leases.LeaseKeeper``; (3) read
the VHD once and Put Page (under the lease) each run of 4 KiB blocks holding a non-zero byte (``page_ranges``), at
most 4 MiB, with at most ``threads`` requests in flight and ``threads + 2`` writes buffered (the reader blocks
while the pool is full; a failed request, already retried by the SDK's policy, stops the others from starting
new ones; full-size writes live in ``threads + 4`` scanner buffers, fewer for a small image, allocated up front
and reused once sent, so memory is about 4 MiB per thread plus a constant for every image size); (4)
``vhd.finish()``: footer check and SHA-256 of the image file; (5) verify that the blob's page ranges, merged,
equal the ranges sent, merged; (6) replace the metadata with ``metadata`` plus ``image_sha256`` (the marker goes)
and release the lease. Put Page carries no Content-MD5 (``validate_content``): TLS already protects the bytes in
transit, and hashing them cost a quarter of the uploader's CPU (``make bench``); the Ruby CPI sends none either.

Any failure, KeyboardInterrupt/SystemExit included, stops the workers, deletes the blob (breaking the lease if
needed) and re-raises as a CPI error (or the interrupt itself). A killed process leaves a blob whose lease
expires within 60 s and whose marker is still set: :func:`delete_abandoned_uploads` removes such blobs once they
are older than a grace period (Put Page refreshes Last-Modified, so a live upload never looks old). Azure limits
that Azurite does not enforce are checked here: Put Page <= 4 MiB, 512-aligned, inside the blob; blob <= 8 TiB.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Protocol

from azure.core import MatchConditions

from bosh_azure_cpi.errors import CloudError, CpiError, InvalidArgument
from bosh_azure_cpi.services.leases import LEASE_SECONDS, RENEW_EVERY_SECONDS, LeaseKeeper
from bosh_azure_cpi.services.lro import azure_errors, find, ignore_missing
from bosh_azure_cpi.services.page_ranges import (
    EXT4_BLOCK,
    MAX_PUT_PAGE,
    PAGE_SIZE,
    PageScanner,
    PageWrite,
    merge_ranges,
)

if TYPE_CHECKING:
    from azure.storage.blob import BlobClient, BlobLeaseClient, ContainerClient

    from bosh_azure_cpi.services.stemcell_image import ImageDigest

logger = logging.getLogger(__name__)

MARKER_KEY = "bosh_upload_state"
MARKER_IN_PROGRESS = "in_progress"
SHA256_KEY = "image_sha256"
MAX_PAGE_BLOB_SIZE = 8 << 40
"""Azure's page blob size limit (8 TiB)."""
_MIB = float(1 << 20)


class VhdSource(Protocol):
    """What ``upload`` reads: ``stemcell_image.VhdStream`` (or a test double)."""

    @property
    def size(self) -> int: ...

    def chunks(self, chunk_size: int) -> Iterator[tuple[int, bytes]]: ...

    def finish(self) -> ImageDigest: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadTuning:
    """Knobs with sound defaults; tests shorten the lease timings."""

    chunk_size: int = 4 << 20  # bytes read from the image at a time
    block_size: int = EXT4_BLOCK  # unit of zero detection; 512 sends exact pages in ~100x more requests
    lease_seconds: int = LEASE_SECONDS  # Azure allows 15-60
    renew_interval_s: float = RENEW_EVERY_SECONDS


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadReport:
    """Outcome of a successful upload."""

    vhd_size: int
    bytes_sent: int
    put_page_requests: int
    sha256: str
    seconds: float
    verified: bool


class PageBlobUploader:
    """Uploads fixed VHDs into the page blob behind ``blob_client`` (a ``azure.storage.blob.BlobClient``)."""

    def __init__(
        self,
        blob_client: BlobClient,
        *,
        threads: int,
        progress_interval_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if threads < 1:
            raise ValueError(f"threads must be at least 1, got {threads}")
        self._client = blob_client
        self._threads = threads
        self._interval = progress_interval_s
        self._clock = clock
        self._name = str(getattr(blob_client, "blob_name", "?"))

    def upload(
        self, vhd: VhdSource, metadata: Mapping[str, str], *, tuning: UploadTuning | None = None
    ) -> UploadReport:
        """Upload ``vhd`` (see the module docstring); on failure nothing is left behind.

        Raises InvalidArgument for a bad image (size, footer, archive), AzureError/CloudError for Azure failures.
        """
        tuning = tuning or UploadTuning()
        _check_blob_size(vhd.size)
        started = self._clock()
        with azure_errors(f"Creating page blob {self._name}"):
            self._client.create_page_blob(size=vhd.size, metadata={**metadata, MARKER_KEY: MARKER_IN_PROGRESS})
        lease: BlobLeaseClient | None = None
        try:
            with azure_errors(f"Leasing page blob {self._name}"):
                lease = self._client.acquire_lease(lease_duration=tuning.lease_seconds)
            with LeaseKeeper(lease, f"page blob {self._name}", tuning.renew_interval_s) as renewer:
                tally = self._send(vhd, lease, renewer, tuning)
                digest = vhd.finish()
                self._verify(tally.ranges, lease)
                with azure_errors(f"Setting metadata of page blob {self._name}"):
                    self._client.set_blob_metadata({**metadata, SHA256_KEY: digest.sha256}, lease=lease)
        except BaseException as exc:
            self._discard(lease)
            if isinstance(exc, CpiError) or not isinstance(exc, Exception):
                raise
            raise CloudError(f"Uploading page blob {self._name}: {type(exc).__name__}: {_one_line(exc)}") from exc
        _release(lease, self._name)
        seconds = self._clock() - started
        logger.info(
            "Uploaded %s: %d bytes, %d sent in %d Put Page requests, %.1f s, sha256 %s",
            self._name, vhd.size, tally.bytes, tally.requests, seconds, digest.sha256,
        )  # fmt: skip
        return UploadReport(
            vhd_size=vhd.size,
            bytes_sent=tally.bytes,
            put_page_requests=tally.requests,
            sha256=digest.sha256,
            seconds=seconds,
            verified=True,
        )

    def _send(self, vhd: VhdSource, lease: BlobLeaseClient, renewer: LeaseKeeper, tuning: UploadTuning) -> _Tally:
        scanner = PageScanner(block_size=tuning.block_size, buffers=_PagePool.buffers_needed(self._threads, vhd.size))
        progress = _Progress(self._name, vhd.size, self._clock, self._interval)
        with _PagePool(self._client, lease, self._threads, vhd.size, scanner.recycle) as pool:
            for offset, chunk in vhd.chunks(tuning.chunk_size):
                for write in scanner.feed(offset, chunk):
                    pool.submit(write)
                renewer.check()
                progress.update(offset + len(chunk), pool.bytes_done)
            for write in scanner.close():
                pool.submit(write)
            pool.join()
        return pool.tally

    def _verify(self, sent: list[tuple[int, int]], lease: BlobLeaseClient) -> None:
        with azure_errors(f"Listing page ranges of {self._name}"):
            listed = [
                (int(r.start or 0), int(r.end or 0) + 1)
                for r in self._client.list_page_ranges(lease=lease)
                if not r.cleared
            ]
        stored = merge_ranges(listed)
        if stored != sent:
            raise CloudError(
                f"Verifying page blob {self._name}: it holds {_span(stored)} but {_span(sent)} were written; "
                f"first difference at offset {_first_difference(stored, sent)}"
            )

    def _discard(self, lease: BlobLeaseClient | None) -> None:
        """Delete the half-written blob; break the lease if deleting under it fails. Never raises."""
        try:
            try:
                ignore_missing(f"Deleting page blob {self._name}", lambda: self._client.delete_blob(lease=lease))
            except CpiError:
                if lease is None:
                    raise
                with azure_errors(f"Breaking the lease on page blob {self._name}"):
                    lease.break_lease(lease_break_period=0)
                ignore_missing(f"Deleting page blob {self._name}", self._client.delete_blob)
            logger.info("Deleted the incomplete page blob %s", self._name)
        except Exception as exc:  # the original error matters more; the marker lets a cleanup find the blob
            logger.error(
                "Could not delete the incomplete page blob %s (its %s marker stays): %s",
                self._name, MARKER_KEY, _one_line(exc),
            )  # fmt: skip


def delete_abandoned_uploads(
    container_client: ContainerClient, older_than: timedelta | float, *, now: datetime | None = None
) -> list[str]:
    """Delete blobs left by killed uploads: marker still set, lease not held, unmodified for ``older_than``.

    ``older_than`` is a timedelta or seconds. Deletion is conditional on the listed ETag, so a blob that changed
    meanwhile is kept. Returns the names deleted ([] when the container does not exist). Raises AzureError if
    listing fails; per-blob failures are logged and skipped.
    """
    age = older_than if isinstance(older_than, timedelta) else timedelta(seconds=older_than)
    cutoff = (now or datetime.now(UTC)) - age
    deleted: list[str] = []
    listing = partial(container_client.list_blobs, include=["metadata"])
    blobs = find(f"Listing blobs of container {container_client.container_name}", lambda: list(listing()))
    for blob in blobs or []:
        if (blob.metadata or {}).get(MARKER_KEY) != MARKER_IN_PROGRESS:
            continue
        if blob.lease.state in ("leased", "breaking") or blob.last_modified > cutoff:
            continue
        try:
            delete = partial(
                container_client.delete_blob, blob.name, etag=blob.etag, match_condition=MatchConditions.IfNotModified
            )
            ignore_missing(f"Deleting abandoned upload {blob.name}", delete)
        except CpiError as exc:
            logger.warning("%s", exc.message)
            continue
        logger.info("Deleted abandoned upload %s (last modified %s)", blob.name, blob.last_modified)
        deleted.append(blob.name)
    return deleted


class _Tally:
    """What was sent: bytes, requests and the merged ranges, recorded in offset order."""

    def __init__(self) -> None:
        self.bytes = 0
        self.requests = 0
        self.ranges: list[tuple[int, int]] = []

    def add(self, write: PageWrite) -> None:
        self.bytes += write.length
        self.requests += 1
        if self.ranges and self.ranges[-1][1] == write.offset:
            self.ranges[-1] = (self.ranges[-1][0], write.end)
        else:
            self.ranges.append((write.offset, write.end))


class _PagePool:
    """Runs Put Page requests on ``threads`` workers; ``submit`` blocks while ``threads + 2`` are pending.

    Each write, sent or not, is passed to ``recycle`` when done (the scanner reuses its buffer).
    """

    def __init__(
        self,
        client: BlobClient,
        lease: BlobLeaseClient,
        threads: int,
        size: int,
        recycle: Callable[[PageWrite], None],
    ) -> None:
        self._client = client
        self._lease = lease
        self._size = size
        self._recycle = recycle
        self.tally = _Tally()
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="put-page")
        self._capacity = self.capacity(threads)
        self._slots = threading.Semaphore(self._capacity)
        self._lock = threading.Lock()
        self._failed = threading.Event()
        self._error: BaseException | None = None
        self.bytes_done = 0

    def __enter__(self) -> _PagePool:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is not None:
            self._failed.set()
        self._executor.shutdown(wait=True, cancel_futures=True)

    @staticmethod
    def capacity(threads: int) -> int:
        """Writes pending at most: in flight plus two queued."""
        return threads + 2

    @classmethod
    def buffers_needed(cls, threads: int, size: int) -> int:
        """Scanner buffers for the pending writes, the open write and a second full write of one chunk; no more
        than a ``size``-byte image can fill."""
        return min(cls.capacity(threads) + 2, size // MAX_PUT_PAGE + 2)

    def submit(self, write: PageWrite) -> None:
        """Check and queue ``write``; blocks while the pool is full; raises the first worker error."""
        _check_write(write, self._size)
        if not self._slots.acquire(blocking=False):
            logger.debug("Put Page queue full (%d pending) at offset %d; reading waits", self._capacity, write.offset)
            self._slots.acquire()
        if self._failed.is_set():
            self._slots.release()
            raise self._error or CloudError("Put Page was cancelled")
        self._executor.submit(self._put, write).add_done_callback(partial(self._done, write))
        self.tally.add(write)

    def join(self) -> None:
        """Wait for every queued write; raise the first worker error."""
        self._executor.shutdown(wait=True)
        if self._failed.is_set():
            raise self._error or CloudError("Put Page was cancelled")

    def _put(self, write: PageWrite) -> None:
        if self._failed.is_set():  # another write failed: start no new request
            return
        logger.debug("Put Page %d+%d", write.offset, write.length)
        with azure_errors(f"Put Page {write.offset}+{write.length}"):
            self._client.upload_page(  # a memoryview body is sent as is (Content-Length set by the SDK), no copy
                write.data,  # type: ignore[arg-type]
                offset=write.offset,
                length=write.length,
                lease=self._lease,
                validate_content=False,
            )
        with self._lock:
            self.bytes_done += write.length

    def _done(self, write: PageWrite, future: Future[None]) -> None:
        error = None if future.cancelled() else future.exception()
        if error is not None:
            with self._lock:
                self._error = self._error or error
            self._failed.set()
        self._recycle(write)
        self._slots.release()


class _Progress:
    """Logs one INFO line per ``interval`` seconds: read/total (percent), sent, MiB/s, ETA."""

    def __init__(self, name: str, total: int, clock: Callable[[], float], interval: float) -> None:
        self._name = name
        self._total = total
        self._clock = clock
        self._interval = interval
        self._start = self._last = clock()

    def update(self, read: int, sent: int) -> None:
        now = self._clock()
        if now - self._last < self._interval:
            return
        self._last = now
        elapsed = max(now - self._start, 1e-9)
        rate = read / elapsed
        eta = (self._total - read) / rate if rate else float("inf")
        logger.info(
            "Uploading %s: read %d of %d bytes (%.0f%%), sent %d bytes, %.1f MiB/s, ETA %.0f s",
            self._name, read, self._total, 100.0 * read / self._total, sent, rate / _MIB, eta,
        )  # fmt: skip


def _release(lease: BlobLeaseClient, name: str) -> None:
    try:
        with azure_errors(f"Releasing the lease on page blob {name}"):
            lease.release()
    except CpiError as exc:  # the blob is complete; the lease expires on its own
        logger.warning("%s", exc.message)


def _check_blob_size(size: int) -> None:
    if size <= 0 or size % PAGE_SIZE:
        raise InvalidArgument(f"A page blob size must be a positive multiple of {PAGE_SIZE} bytes, got {size}")
    if size > MAX_PAGE_BLOB_SIZE:
        raise InvalidArgument(f"A page blob is at most {MAX_PAGE_BLOB_SIZE} bytes (8 TiB), got {size}")


def _check_write(write: PageWrite, size: int) -> None:
    if write.offset % PAGE_SIZE or write.length % PAGE_SIZE or not 0 < write.length <= MAX_PUT_PAGE:
        raise CloudError(f"Refusing Put Page {write.offset}+{write.length}: not 512-aligned or over 4 MiB")
    if write.end > size:
        raise CloudError(f"Refusing Put Page {write.offset}+{write.length}: past the end of the blob ({size})")


def _first_difference(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> int:
    for x, y in zip(a, b, strict=False):
        if x != y:
            return min(x[0], y[0])
    longer = a if len(a) > len(b) else b
    return longer[min(len(a), len(b))][0]


def _span(ranges: list[tuple[int, int]]) -> str:
    return f"{len(ranges)} ranges ({sum(end - start for start, end in ranges)} bytes)"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
