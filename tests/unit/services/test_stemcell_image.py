"""Streaming root.vhd out of a stemcell image: hostile images, footer checks, SHA-256, constant memory."""

from __future__ import annotations

import gzip
import hashlib
import io
import random
import shutil
import subprocess
import tarfile
import tracemalloc
from pathlib import Path

import pytest

from bosh_azure_cpi.errors import InvalidArgument
from bosh_azure_cpi.services.stemcell_image import ImageDigest, open_vhd
from tests.support.images import (
    DIFFERENCING,
    DYNAMIC,
    HOSTILE_KINDS,
    MIB,
    hostile_image,
    image_tarball,
    sparse_vhd,
    valid_image_bytes,
    vhd_bytes,
    vhd_footer,
)

# The precise message for every hostile kind of tests/support/images.py; None: the image is valid.
EXPECTED = {
    "not_gzip": "not a gzip file",
    "empty_file": "the file is empty, not a gzip file",
    "gzip_not_tar": "not a tar archive inside the gzip data",
    "missing_root_vhd": "no root.vhd in the archive",
    "parent_traversal": "member '../root.vhd' has a '..' path component",
    "absolute_path": "member '/root.vhd' has an absolute path",
    "symlink": "root.vhd is a symbolic link, not a regular file",
    "hardlink": "root.vhd is a hard link, not a regular file",
    "char_device": "root.vhd is a character device, not a regular file",
    "fifo": "root.vhd is a FIFO, not a regular file",
    "directory": "root.vhd is a directory, not a regular file",
    "duplicate_root_vhd": "the archive holds more than one root.vhd",
    "dynamic_vhd": "root.vhd is a dynamic VHD (it starts with a footer copy), only fixed VHDs are supported",
    "bad_checksum": "root.vhd footer checksum is",
    "bad_cookie": "root.vhd has no VHD footer (cookie b'notavhd!'",
    "unaligned_size": "a fixed VHD for Azure is a whole number of MiB plus the 512-byte footer",
    "footer_size_mismatch": "root.vhd footer says 2097152 bytes of disk, the file holds 1048576",
    "truncated_gzip": "truncated: the gzip stream ends early",
    "truncated_member": "truncated",
    "oversized_member": "root.vhd is 3298534883328 bytes, more than the limit of 1099511628288 bytes",
    "dot_slash_member": None,
    "trailing_zeros": None,
    "trailing_garbage": None,  # accepted and hashed, as `tar -xzf` and the Ruby CPI's Digest::SHA256 do
}


def read_all(path: Path, chunk_size: int = MIB, **kwargs: int) -> tuple[bytes, ImageDigest]:
    with open_vhd(str(path), **kwargs) as vhd:
        data = b"".join(chunk for _, chunk in vhd.chunks(chunk_size))
        return data, vhd.finish()


def gzip_tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes]], *, level: int = 1) -> Path:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for info, data in members:
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path.write_bytes(gzip.compress(buffer.getvalue(), compresslevel=level, mtime=0))
    return path


def member(name: str, kind: bytes = tarfile.REGTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    return info


@pytest.mark.parametrize("kind", HOSTILE_KINDS)
def test_hostile_images_are_rejected_with_a_precise_message(tmp_path: Path, kind: str) -> None:
    image = hostile_image(tmp_path, kind)
    expected = EXPECTED.get(kind, image.expected_error)
    if expected is None:
        _, digest = read_all(image.path)
        assert digest.sha256 == hashlib.sha256(image.path.read_bytes()).hexdigest()
        return
    with pytest.raises(InvalidArgument) as err:
        read_all(image.path)
    assert err.value.message.startswith(f"Stemcell image {image.path}: ")
    assert expected in err.value.message


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/cron.d/x", "'..' path component"),
        ("/etc/passwd", "absolute path"),
        ("a/../b", "'..'"),
        ("d" * 150 + "/../../x", "'..'"),  # hidden in a GNU long-name record
    ],
)
def test_bad_member_names_after_root_vhd_are_rejected_by_finish(tmp_path: Path, name: str, expected: str) -> None:
    path = image_tarball(tmp_path, vhd_bytes(), extra_members=[(name, b"payload")])
    with open_vhd(str(path)) as vhd:
        for _ in vhd.chunks(MIB):
            pass
        with pytest.raises(InvalidArgument, match=expected):
            vhd.finish()


def test_block_device_named_root_vhd_is_rejected(tmp_path: Path) -> None:
    path = gzip_tar(tmp_path / "image", [(member("root.vhd", tarfile.BLKTYPE), b"")])
    with pytest.raises(InvalidArgument, match=r"root\.vhd is a block device, not a regular file"):
        open_vhd(str(path))


@pytest.mark.parametrize(("disk_type", "name"), [(DYNAMIC, "dynamic"), (DIFFERENCING, "differencing")])
def test_footer_of_a_non_fixed_disk_type_is_named(tmp_path: Path, disk_type: int, name: str) -> None:
    path = image_tarball(tmp_path, vhd_bytes(footer=vhd_footer(MIB, disk_type=disk_type)))
    with pytest.raises(InvalidArgument, match=f"footer says {name} disk, only fixed VHDs are supported"):
        read_all(path)


def test_differencing_vhd_is_rejected_before_any_data_is_read(tmp_path: Path) -> None:
    disk = bytearray(vhd_bytes(2 * MIB))
    disk[:512] = vhd_footer(2 * MIB, disk_type=DIFFERENCING)
    path = image_tarball(tmp_path, bytes(disk))
    with pytest.raises(InvalidArgument, match=r"root\.vhd is a differencing VHD"):
        open_vhd(str(path))


def test_size_cap_is_a_parameter(tmp_path: Path) -> None:
    path = image_tarball(tmp_path, vhd_bytes(2 * MIB))
    with pytest.raises(InvalidArgument, match=f"root.vhd is {2 * MIB + 512} bytes, more than the limit of {MIB}"):
        open_vhd(str(path), max_size=MIB)


def test_missing_image_file_is_an_invalid_argument(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match=r"image .*/gone cannot be read: No such file or directory"):
        open_vhd(str(tmp_path / "gone"))


def test_corrupt_deflate_data_is_reported(tmp_path: Path) -> None:
    good = valid_image_bytes()
    bad = bytearray(good)
    for i in range(len(bad) // 2, len(bad) // 2 + 64):
        bad[i] ^= 0xFF
    path = tmp_path / "image"
    path.write_bytes(bytes(bad))
    with pytest.raises(InvalidArgument, match="corrupt gzip data"):
        read_all(path)


def test_gzip_crc_mismatch_is_reported_by_finish(tmp_path: Path) -> None:
    bad = bytearray(valid_image_bytes())
    bad[-8] ^= 0x01  # CRC-32 in the gzip trailer
    path = tmp_path / "image"
    path.write_bytes(bytes(bad))
    with open_vhd(str(path)) as vhd:
        for _ in vhd.chunks(MIB):
            pass
        with pytest.raises(InvalidArgument, match="corrupt gzip data"):
            vhd.finish()


def test_chunks_reproduce_the_vhd_and_finish_returns_the_file_sha256(tmp_path: Path) -> None:
    vhd = bytearray(vhd_bytes(3 * MIB))
    vhd[100_000:300_000] = random.Random(3).randbytes(200_000)
    path = image_tarball(tmp_path, bytes(vhd))
    for chunk_size in (512, 64 * 1024, 4 * MIB):
        with open_vhd(str(path)) as stream:
            assert stream.size == len(vhd)
            chunks = list(stream.chunks(chunk_size))
            digest = stream.finish()
        assert [offset for offset, _ in chunks] == list(range(0, len(vhd), chunk_size))
        assert b"".join(data for _, data in chunks) == vhd
        file_bytes = path.read_bytes()
        assert digest == ImageDigest(
            sha256=hashlib.sha256(file_bytes).hexdigest(),
            image_size=len(file_bytes),
            vhd_size=len(vhd),
            virtual_size=3 * MIB,
        )


def test_sha256_covers_trailing_garbage_and_every_gzip_member(tmp_path: Path) -> None:
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w", format=tarfile.GNU_FORMAT) as tar:
        info = member("./root.vhd")
        info.size = MIB + 512
        tar.addfile(info, io.BytesIO(vhd_bytes()))
    raw = tar_bytes.getvalue()
    two_members = gzip.compress(raw[:700_000], mtime=0) + gzip.compress(raw[700_000:], mtime=0)
    path = tmp_path / "image"
    path.write_bytes(two_members + b"\0" * 3000 + b"trailing garbage\n" * 5000)
    data, digest = read_all(path)
    assert data == vhd_bytes()
    assert digest.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest.image_size == path.stat().st_size


def test_other_members_are_skipped_whatever_their_size_and_name_length(tmp_path: Path) -> None:
    big = random.Random(5).randbytes(3 * MIB + 17)
    long_name = "d" * 120 + "/" + "f" * 140  # a GNU long-name record
    path = gzip_tar(
        tmp_path / "image",
        [
            (member("stemcell.MF"), big),
            (member("dir/", tarfile.DIRTYPE), b""),
            (member(long_name), b"x" * 1000),
            (member("root.vhd"), vhd_bytes()),
        ],
    )
    data, digest = read_all(path)
    assert data == vhd_bytes()
    assert digest.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.skipif(shutil.which("tar") is None, reason="needs GNU tar")
def test_gnu_sparse_member_is_streamed_with_its_holes(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    disk = sparse_vhd(source / "root.vhd", 8 * MIB, {3 * MIB + 512: b"\x07" * 5000, 8 * MIB - 512: b"\x01"})
    image = tmp_path / "image"
    subprocess.run(["tar", "-S", "-czf", str(image), "-C", str(source), "root.vhd"], check=True)
    with tarfile.open(image) as tar:
        assert tar.getmember("root.vhd").sparse, "GNU tar did not store a sparse member"
    data, _ = read_all(image)
    assert data == disk.read_bytes()


def test_a_64_mib_vhd_streams_in_constant_memory(tmp_path: Path) -> None:
    disk = sparse_vhd(tmp_path / "root.vhd", 64 * MIB, {i * 5 * MIB: random.randbytes(300_000) for i in range(12)})
    path = image_tarball(tmp_path, disk)
    tracemalloc.start()
    try:
        with open_vhd(str(path)) as vhd:
            total = sum(len(chunk) for _, chunk in vhd.chunks(MIB))
            vhd.finish()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == 64 * MIB + 512
    assert peak < 8 * MIB  # a few 1 MiB buffers, not the 64 MiB disk


def test_misuse_of_the_stream_is_refused(tmp_path: Path) -> None:
    path = image_tarball(tmp_path, vhd_bytes())
    with open_vhd(str(path)) as vhd:
        with pytest.raises(ValueError, match="multiple of 512"):
            next(vhd.chunks(1000))
        chunks = vhd.chunks(512)
        next(chunks)
        with pytest.raises(RuntimeError, match="finish"):
            vhd.finish()
        with pytest.raises(RuntimeError, match="only once"):
            next(vhd.chunks(512))
