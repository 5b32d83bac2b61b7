"""Stemcell upload into a real page blob service: Azurite (in memory) on a free loopback port.

The module starts its own ``azurite-blob`` (tools/node, ``make node``) and stops it at the end.
"""

from __future__ import annotations

import hashlib
import random
import selectors
import socket
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import BlobServiceClient, ContainerClient

from bosh_azure_cpi.errors import InvalidArgument
from bosh_azure_cpi.services.blob_upload import (
    MARKER_IN_PROGRESS,
    MARKER_KEY,
    PageBlobUploader,
    UploadReport,
    UploadTuning,
    delete_abandoned_uploads,
)
from bosh_azure_cpi.services.page_ranges import merge_ranges
from bosh_azure_cpi.services.stemcell_image import open_vhd
from tests.support.images import MIB, image_tarball, nonzero_ranges, random_sparse_buffer, vhd_footer

pytestmark = pytest.mark.integration

AZURITE = Path(__file__).resolve().parents[2] / "tools" / "node" / "node_modules" / ".bin" / "azurite-blob"
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
API_VERSION = "2025-11-05"  # newest blob API of Azurite 3.35.0, pinned by the CPI


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_listening(proc: subprocess.Popen[str], timeout: float = 30.0) -> None:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while selector.select(timeout):
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"azurite-blob exited with {proc.wait()} before listening")
            if "successfully listens" in line:
                return
    raise RuntimeError(f"azurite-blob did not listen within {timeout:.0f}s")


@pytest.fixture(scope="module")
def account_url() -> Iterator[str]:
    if not AZURITE.exists():
        pytest.skip(f"{AZURITE} is missing (run `make node`)")
    port = _free_port()
    args = [str(AZURITE), "--inMemoryPersistence", "--blobHost", "127.0.0.1", "--blobPort", str(port)]
    proc = subprocess.Popen(
        [*args, "--disableTelemetry", "--silent"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        _wait_until_listening(proc)
        yield f"http://127.0.0.1:{port}/{ACCOUNT}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()


@pytest.fixture
def container(account_url: str, request: pytest.FixtureRequest) -> Iterator[ContainerClient]:
    service = BlobServiceClient(
        account_url, credential={"account_name": ACCOUNT, "account_key": KEY}, api_version=API_VERSION
    )
    name = request.node.name.replace("_", "-")[:63].strip("-").lower()
    client = service.create_container(name)
    yield client
    client.delete_container()


def _islands_vhd(virtual_size: int) -> bytes:
    """Random data islands (no zero sector inside) far apart: every write is exactly one island."""
    rnd = random.Random(11)
    disk = bytearray(virtual_size)
    for offset in (0, 3 * MIB + 4096, 17 * MIB, 17 * MIB + 600 * 1024, 50 * MIB + 512, virtual_size - 8192):
        length = min(rnd.randrange(512, 2 * MIB), virtual_size - offset)
        disk[offset : offset + length] = rnd.randbytes(length).replace(b"\0", b"\1")
    return bytes(disk) + vhd_footer(virtual_size)


def _upload(container: ContainerClient, image: Path, name: str, tuning: UploadTuning | None = None) -> UploadReport:
    blob = container.get_blob_client(name)
    with open_vhd(str(image)) as vhd:
        return PageBlobUploader(blob, threads=4).upload(vhd, {"name": "fake-stemcell"}, tuning=tuning)


def _stored_ranges(container: ContainerClient, name: str) -> list[tuple[int, int]]:
    pages = container.get_blob_client(name).list_page_ranges()
    return merge_ranges((int(r.start or 0), int(r.end or 0) + 1) for r in pages)


def test_sparse_vhd_round_trips_and_only_nonzero_blocks_are_sent(container: ContainerClient, tmp_path: Path) -> None:
    vhd = _islands_vhd(96 * MIB)
    image = image_tarball(tmp_path, vhd)

    report = _upload(container, image, "bosh-stemcell-islands.vhd")

    blob = container.get_blob_client("bosh-stemcell-islands.vhd")
    assert blob.download_blob().readall() == vhd
    expected = [(offset, offset + length) for offset, length in nonzero_ranges(vhd, 4096)]
    assert report.bytes_sent == sum(end - start for start, end in expected)
    assert _stored_ranges(container, "bosh-stemcell-islands.vhd") == expected
    props = blob.get_blob_properties()
    sha256 = hashlib.sha256(image.read_bytes()).hexdigest()
    assert report.sha256 == sha256
    assert props.metadata == {"name": "fake-stemcell", "image_sha256": sha256}
    assert props.size == len(vhd) and props.lease.state == "available"


def test_scattered_sectors_are_sent_exactly_with_512_byte_blocks(container: ContainerClient, tmp_path: Path) -> None:
    disk = bytearray(64 * MIB)
    disk[5 * MIB : 6 * MIB] = random_sparse_buffer(random.Random(5), MIB, density=0.3)
    vhd = bytes(disk) + vhd_footer(64 * MIB)
    image = image_tarball(tmp_path, vhd)

    report = _upload(container, image, "scattered.vhd", UploadTuning(block_size=512))

    assert container.get_blob_client("scattered.vhd").download_blob().readall() == vhd
    expected = [(offset, offset + length) for offset, length in nonzero_ranges(vhd)]
    assert report.bytes_sent == sum(end - start for start, end in expected)
    assert _stored_ranges(container, "scattered.vhd") == expected


def test_corrupt_footer_leaves_no_blob(container: ContainerClient, tmp_path: Path) -> None:
    vhd = _islands_vhd(64 * MIB)[:-512] + vhd_footer(64 * MIB, corrupt_checksum=True)
    image = image_tarball(tmp_path, vhd)

    with pytest.raises(InvalidArgument, match="footer checksum"):
        _upload(container, image, "corrupt.vhd")

    assert list(container.list_blobs()) == []
    with pytest.raises(ResourceNotFoundError):
        container.get_blob_client("corrupt.vhd").get_blob_properties()


def test_abandoned_uploads_are_deleted_and_others_kept(container: ContainerClient) -> None:
    marker = {MARKER_KEY: MARKER_IN_PROGRESS}
    for name, metadata in (("killed.vhd", marker), ("uploading.vhd", marker), ("complete.vhd", {})):
        container.get_blob_client(name).create_page_blob(size=MIB, metadata=metadata)
    killed = container.get_blob_client("killed.vhd").acquire_lease(lease_duration=15)
    killed.break_lease(lease_break_period=0)  # as if its lease had expired after the process died
    live = container.get_blob_client("uploading.vhd").acquire_lease(lease_duration=60)

    later = datetime.now(UTC) + timedelta(hours=1)
    assert delete_abandoned_uploads(container, timedelta(minutes=10)) == []  # too recent
    assert delete_abandoned_uploads(container, timedelta(minutes=10), now=later) == ["killed.vhd"]

    assert sorted(b.name for b in container.list_blobs()) == ["complete.vhd", "uploading.vhd"]
    live.release()
