"""PageBlobUploader against an autospec'd BlobClient: call sequence, bounded memory, failures, progress."""

from __future__ import annotations

import itertools
import logging
import random
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import create_autospec

import pytest
from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.storage.blob import BlobClient, BlobLeaseClient, BlobProperties, ContainerClient, PageRange

from bosh_azure_cpi.errors import AzureError, CloudError, InvalidArgument
from bosh_azure_cpi.services.blob_upload import (
    MARKER_IN_PROGRESS,
    MARKER_KEY,
    PageBlobUploader,
    UploadReport,
    UploadTuning,
    delete_abandoned_uploads,
)
from bosh_azure_cpi.services.stemcell_image import ImageDigest, open_vhd
from tests.support.images import MIB, hostile_image

NAME = "fake-stemcell.vhd"
METADATA = {"name": "fake-name", "version": "fake-version"}
WAIT = 10.0  # safety net for waits on events; never reached when the code is right
FAST = UploadTuning(chunk_size=MIB)


class FakeVhd:
    """A VhdSource over bytes; ``on_chunk(index)`` runs in the reader before each chunk is handed out."""

    def __init__(self, data: bytes, *, size: int | None = None, on_chunk: Callable[[int], None] | None = None):
        self.data = data
        self.size = len(data) if size is None else size
        self.on_chunk = on_chunk
        self.yielded = 0
        self.finish_error: BaseException | None = None

    def chunks(self, chunk_size: int) -> Iterator[tuple[int, bytes]]:
        for offset in range(0, len(self.data), chunk_size):
            if self.on_chunk:
                self.on_chunk(self.yielded)
            self.yielded += 1
            yield offset, self.data[offset : offset + chunk_size]

    def finish(self) -> ImageDigest:
        if self.finish_error:
            raise self.finish_error
        return ImageDigest(sha256="fake-sha256", image_size=1234, vhd_size=self.size, virtual_size=self.size - 512)


def islands(count: int, *, spacing: int = MIB, length: int = 4096, tail: int = 512) -> bytes:
    """``count`` random data islands, one at the start of each ``spacing`` bytes, then ``tail`` bytes."""
    rnd = random.Random(count)
    out = bytearray(count * spacing + tail)
    for i in range(count):
        out[i * spacing : i * spacing + length] = rnd.randbytes(length).replace(b"\0", b"\1")
    out[-1] = 1
    return bytes(out)


@pytest.fixture
def client() -> Any:
    """An autospec'd BlobClient whose page list reflects the pages written; ``sent`` holds each body as sent."""
    blob = create_autospec(BlobClient, instance=True)
    blob.blob_name = NAME
    blob.acquire_lease.return_value = create_autospec(BlobLeaseClient, instance=True)
    blob.sent = []
    lock = threading.Lock()

    def upload_page(page: bytes, offset: int, length: int, **_: Any) -> dict[str, Any]:
        with lock:
            blob.sent.append((offset, bytes(page), page))  # the bytes on the wire, and the object passed
        return {}

    blob.upload_page.side_effect = upload_page
    blob.list_page_ranges.side_effect = lambda **_: [
        PageRange(offset, offset + len(body) - 1) for offset, body, _ in sorted(blob.sent, key=lambda s: s[0])
    ]
    return blob


def uploader(client: Any, *, threads: int = 2, **kwargs: Any) -> PageBlobUploader:
    return PageBlobUploader(client, threads=threads, progress_interval_s=kwargs.pop("interval", 1e9), **kwargs)


def test_upload_creates_leases_writes_verifies_tags_and_releases(client: Any) -> None:
    data = bytearray(islands(16))
    dense = 5 * MIB + 8192  # 9 MiB of data after island 5, a zero 4 KiB block between them
    data[dense : dense + 9 * MIB] = random.Random(1).randbytes(9 * MIB).replace(b"\0", b"\2")
    lease = client.acquire_lease.return_value
    clock = itertools.count(100.0, 0.5)

    report = uploader(client, clock=lambda: next(clock)).upload(FakeVhd(bytes(data)), METADATA, tuning=FAST)

    client.create_page_blob.assert_called_once_with(
        size=len(data), metadata={**METADATA, MARKER_KEY: MARKER_IN_PROGRESS}
    )
    client.acquire_lease.assert_called_once_with(lease_duration=60)
    for call in client.upload_page.call_args_list:
        page, offset, length = call.args[0], call.kwargs["offset"], call.kwargs["length"]
        assert call.kwargs == {"offset": offset, "length": length, "lease": lease, "validate_content": False}
        assert offset % 512 == 0 and length % 512 == 0 and 0 < length <= 4 * MIB and len(page) == length
    assert rebuild(client.sent, len(data)) == data
    client.list_page_ranges.assert_called_once_with(lease=lease)
    client.set_blob_metadata.assert_called_once_with({**METADATA, "image_sha256": "fake-sha256"}, lease=lease)
    lease.release.assert_called_once_with()
    client.delete_blob.assert_not_called()
    order = [name for name, *_ in client.mock_calls if name != "upload_page"]
    assert order == [
        "create_page_blob", "acquire_lease", "list_page_ranges", "set_blob_metadata", "acquire_lease().release",
    ]  # fmt: skip
    assert report == UploadReport(
        vhd_size=len(data),
        bytes_sent=sum(c.kwargs["length"] for c in client.upload_page.call_args_list),
        put_page_requests=client.upload_page.call_count,
        sha256="fake-sha256",
        seconds=report.seconds,
        verified=True,
    )
    # islands 0-5; the 9 MiB dense, split 4 + 4 + 1; island 15; the last sector
    assert report.put_page_requests == 6 + 3 + 1 + 1
    assert report.seconds > 0


@contextmanager
def _capturing(handler: logging.Handler) -> Iterator[None]:
    """Attach ``handler`` to the uploader's logger at DEBUG level for the block."""
    logger = logging.getLogger("bosh_azure_cpi.services.blob_upload")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


class _Records(logging.Handler):
    """Sets ``seen`` when a log record matches ``pattern``."""

    def __init__(self, pattern: str) -> None:
        super().__init__(logging.DEBUG)
        self.pattern = re.compile(pattern)
        self.seen = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.pattern.search(record.getMessage()):
            self.seen.set()


def rebuild(sent: list[tuple[int, bytes, object]], size: int) -> bytearray:
    out = bytearray(size)
    for offset, body, _ in sent:
        out[offset : offset + len(body)] = body
    return out


def test_full_writes_reuse_a_fixed_set_of_buffers_and_none_is_overwritten_while_sent(client: Any) -> None:
    data = random.Random(2).randbytes(40 * MIB).replace(b"\0", b"\3") + bytes(MIB) + b"\4" * 512
    threads = 3

    uploader(client, threads=threads).upload(FakeVhd(data), METADATA, tuning=FAST)

    assert rebuild(client.sent, len(data)) == data
    views = [page for _, _, page in client.sent if isinstance(page, memoryview)]
    assert len(views) == 10  # every full 4 MiB write is a view of a scanner buffer: no copy per request
    assert len({id(view.obj) for view in views}) <= threads + 4


def test_reader_blocks_when_threads_plus_2_writes_are_pending(client: Any) -> None:
    threads = 3
    gate, busy = threading.Event(), threading.Condition()
    state = {"in_flight": 0, "max": 0}

    def slow_upload_page(page: bytes, offset: int, length: int, **_: Any) -> dict[str, Any]:
        with busy:
            state["in_flight"] += 1
            state["max"] = max(state["max"], state["in_flight"])
            busy.notify_all()
        assert gate.wait(WAIT), "the test never opened the gate"
        with busy:
            state["in_flight"] -= 1
        return {}

    client.upload_page.side_effect = slow_upload_page
    client.list_page_ranges.side_effect = lambda **_: [
        PageRange(c.kwargs["offset"], c.kwargs["offset"] + c.kwargs["length"] - 1)
        for c in client.upload_page.call_args_list
    ]
    vhd = FakeVhd(islands(12))
    full = _Records("Put Page queue full")
    result: list[object] = []
    worker = threading.Thread(
        target=lambda: result.append(uploader(client, threads=threads).upload(vhd, METADATA, tuning=FAST))
    )
    with _capturing(full):
        try:
            worker.start()
            assert full.seen.wait(WAIT), "the reader never found the queue full"
            # Nothing completed: threads + 2 writes pending, one more in hand (the scanner holds the open write).
            assert vhd.yielded == (threads + 2) + 2
            with busy:
                assert busy.wait_for(lambda: state["in_flight"] == threads, WAIT)
        finally:
            gate.set()
            worker.join(WAIT)
    assert isinstance(result[0], UploadReport)
    assert state["max"] == threads
    assert client.upload_page.call_count == 13


def test_failed_put_page_stops_the_upload_and_deletes_the_blob(client: Any) -> None:
    lease = client.acquire_lease.return_value
    vhd = FakeVhd(islands(24))
    full = _Records(f"Put Page queue full .* at offset {5 * MIB};")  # writes 2, 3 and 4 pending (threads + 2)

    def failing(page: bytes, offset: int, length: int, **_: Any) -> dict[str, Any]:
        if offset == 2 * MIB:  # fail once the reader has queued a write behind this one and waits
            assert full.seen.wait(WAIT), "the reader never queued a write behind this one"
            raise HttpResponseError(message="The server is busy.\nRequestId: fake")
        return {}

    client.upload_page.side_effect = failing
    with _capturing(full), pytest.raises(AzureError) as err:  # one worker: the order of events is deterministic
        uploader(client, threads=1).upload(vhd, METADATA, tuning=FAST)

    assert err.value.message == f"Put Page {2 * MIB}+4096: The server is busy."
    assert client.upload_page.call_count == 3  # the write queued behind the failed one never starts
    assert vhd.yielded == 7  # of 25 chunks: the reader stopped at the write it was waiting to queue
    client.delete_blob.assert_called_once_with(lease=lease)
    client.set_blob_metadata.assert_not_called()
    lease.release.assert_not_called()


def test_bad_trailing_footer_deletes_the_blob(client: Any, tmp_path: Path) -> None:
    image = hostile_image(tmp_path, "bad_checksum")
    with open_vhd(str(image.path)) as vhd, pytest.raises(InvalidArgument, match="footer checksum"):
        uploader(client).upload(vhd, METADATA)
    assert client.upload_page.called  # pages went up before the footer was seen
    client.delete_blob.assert_called_once_with(lease=client.acquire_lease.return_value)
    client.set_blob_metadata.assert_not_called()


def test_verification_mismatch_deletes_the_blob(client: Any) -> None:
    client.list_page_ranges.side_effect = lambda **_: [PageRange(0, 4095), PageRange(MIB, MIB + 511)]
    with pytest.raises(CloudError) as err:
        uploader(client).upload(FakeVhd(islands(3)), METADATA, tuning=FAST)
    assert err.value.message == (
        f"Verifying page blob {NAME}: it holds 2 ranges (4608 bytes) but 4 ranges (12800 bytes) were written; "
        f"first difference at offset {MIB}"
    )
    client.delete_blob.assert_called_once()
    client.set_blob_metadata.assert_not_called()


def test_interrupt_deletes_the_blob_and_propagates(client: Any) -> None:
    def interrupt(index: int) -> None:
        if index == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        uploader(client).upload(FakeVhd(islands(8), on_chunk=interrupt), METADATA, tuning=FAST)
    client.delete_blob.assert_called_once()
    client.set_blob_metadata.assert_not_called()


def test_lease_is_broken_when_deleting_under_it_fails(client: Any) -> None:
    lease = client.acquire_lease.return_value
    client.delete_blob.side_effect = [HttpResponseError(message="LeaseIdMismatch"), None]
    vhd = FakeVhd(islands(2))
    vhd.finish_error = InvalidArgument("fake bad footer")
    with pytest.raises(InvalidArgument, match="fake bad footer"):
        uploader(client).upload(vhd, METADATA, tuning=FAST)
    lease.break_lease.assert_called_once_with(lease_break_period=0)
    assert client.delete_blob.call_count == 2


def test_progress_is_logged_every_interval_with_the_injected_clock(
    client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    ticks = itertools.count(0.0, 1.0)  # each clock() call is one second later
    data = islands(8)
    caplog.set_level(logging.INFO, logger="bosh_azure_cpi.services.blob_upload")

    uploader(client, interval=3.0, clock=lambda: next(ticks)).upload(FakeVhd(data), METADATA, tuning=FAST)

    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Uploading")]
    # clock: 0 start, 1 progress start, then one call per chunk (9 chunks) at 2..10: lines at t=4, 7, 10
    assert len(lines) == 3
    assert re.fullmatch(
        rf"Uploading {NAME}: read {3 * MIB} of {len(data)} bytes \(37%\), sent \d+ bytes, 1\.0 MiB/s, ETA 5 s",
        lines[0],
    )
    assert lines[1].startswith(f"Uploading {NAME}: read {6 * MIB} of {len(data)} bytes (75%)")
    assert re.fullmatch(rf"Uploading {NAME}: read {len(data)} of {len(data)} bytes \(100%\), .* ETA 0 s", lines[2])


def test_lease_is_renewed_while_uploading(client: Any) -> None:
    lease = client.acquire_lease.return_value
    renewed = threading.Event()
    lease.renew.side_effect = lambda **_: renewed.set()
    vhd = FakeVhd(islands(3), on_chunk=lambda i: i == 1 and renewed.wait(WAIT))

    uploader(client).upload(vhd, METADATA, tuning=UploadTuning(chunk_size=MIB, renew_interval_s=0.001))

    assert lease.renew.called
    assert not [t for t in threading.enumerate() if t.name == "lease-renewal"]  # stopped
    lease.release.assert_called_once_with()


def test_failed_lease_renewal_aborts_the_upload(client: Any) -> None:
    lease = client.acquire_lease.return_value
    failed = threading.Event()

    def renew(**_: Any) -> None:
        failed.set()
        raise HttpResponseError(message="LeaseIdMismatchWithLeaseOperation")

    def wait_for_renewal_thread(index: int) -> None:
        if index == 1:
            assert failed.wait(WAIT)
            for thread in threading.enumerate():
                if thread.name == "lease-renewal":
                    thread.join(WAIT)

    lease.renew.side_effect = renew
    vhd = FakeVhd(islands(4), on_chunk=wait_for_renewal_thread)
    with pytest.raises(AzureError, match=f"Renewing the lease on page blob {NAME}: LeaseIdMismatch"):
        uploader(client).upload(vhd, METADATA, tuning=UploadTuning(chunk_size=MIB, renew_interval_s=0.001))
    client.delete_blob.assert_called_once()


def test_azure_limits_are_enforced_before_any_request(client: Any) -> None:
    with pytest.raises(InvalidArgument, match="at most 8796093022208 bytes"):
        uploader(client).upload(FakeVhd(b"", size=(8 << 40) + 512), METADATA)
    with pytest.raises(InvalidArgument, match="multiple of 512"):
        uploader(client).upload(FakeVhd(b"", size=MIB + 100), METADATA)
    client.create_page_blob.assert_not_called()


def test_write_past_the_end_of_the_blob_is_refused(client: Any) -> None:
    data = islands(2)  # 2 MiB + 512 of data, but the blob is 1 MiB + 512
    with pytest.raises(CloudError, match="past the end of the blob"):
        uploader(client).upload(FakeVhd(data, size=MIB + 512), METADATA, tuning=FAST)
    assert all(c.kwargs["offset"] + c.kwargs["length"] <= MIB + 512 for c in client.upload_page.call_args_list)
    client.delete_blob.assert_called_once()


def test_unexpected_error_becomes_a_one_line_cloud_error(client: Any) -> None:
    client.set_blob_metadata.side_effect = ValueError("bad metadata\nsecond line")
    with pytest.raises(CloudError) as err:
        uploader(client).upload(FakeVhd(islands(1)), METADATA, tuning=FAST)
    assert err.value.message == f"Uploading page blob {NAME}: ValueError: bad metadata"
    client.delete_blob.assert_called_once()


def test_threads_must_be_positive(client: Any) -> None:
    with pytest.raises(ValueError, match="threads"):
        PageBlobUploader(client, threads=0)


def blob(name: str, *, marker: bool, lease_state: str, age_minutes: int, now: datetime) -> BlobProperties:
    props = BlobProperties()
    props.name = name
    props.etag = f'"etag-{name}"'
    props.metadata = {MARKER_KEY: MARKER_IN_PROGRESS} if marker else {"name": "fake"}
    props.lease.state = lease_state
    props.last_modified = now - timedelta(minutes=age_minutes)
    return props


def test_delete_abandoned_uploads_deletes_only_old_unleased_marked_blobs() -> None:
    now = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    container = create_autospec(ContainerClient, instance=True)
    container.container_name = "stemcell"
    container.list_blobs.return_value = [
        blob("abandoned", marker=True, lease_state="expired", age_minutes=30, now=now),
        blob("broken", marker=True, lease_state="broken", age_minutes=30, now=now),
        blob("uploading", marker=True, lease_state="leased", age_minutes=30, now=now),
        blob("fresh", marker=True, lease_state="available", age_minutes=1, now=now),
        blob("complete", marker=False, lease_state="available", age_minutes=30, now=now),
        blob("changed-meanwhile", marker=True, lease_state="available", age_minutes=30, now=now),
    ]
    container.delete_blob.side_effect = lambda name, **_: (
        (_ for _ in ()).throw(HttpResponseError(message="ConditionNotMet")) if name == "changed-meanwhile" else None
    )

    deleted = delete_abandoned_uploads(container, timedelta(minutes=10), now=now)

    assert deleted == ["abandoned", "broken"]
    assert delete_abandoned_uploads(container, 600.0, now=now) == ["abandoned", "broken"]  # seconds work too
    container.list_blobs.assert_called_with(include=["metadata"])
    container.delete_blob.assert_any_call(
        "abandoned", etag='"etag-abandoned"', match_condition=MatchConditions.IfNotModified
    )


def test_delete_abandoned_uploads_is_a_no_op_without_the_container() -> None:
    container = create_autospec(ContainerClient, instance=True)
    container.container_name = "stemcell"
    container.list_blobs.side_effect = ResourceNotFoundError(message="ContainerNotFound")
    assert delete_abandoned_uploads(container, timedelta(hours=1)) == []
    container.delete_blob.assert_not_called()
