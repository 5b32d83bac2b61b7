"""tests.support.images builds what it claims: fixed VHDs, image tarballs, hostile images, sparse buffers."""

from __future__ import annotations

import gzip
import io
import random
import tarfile
import zlib
from pathlib import Path

import pytest

from tests.support import images
from tests.support.images import MIB, SECTOR, TIB

GZIP_MAGIC = b"\x1f\x8b"


def _gunzip(data: bytes) -> tuple[bytes, bool, bytes]:
    """(payload, whether the gzip stream ended, bytes after it)."""
    inflater = zlib.decompressobj(wbits=31)
    payload = inflater.decompress(data)
    return payload, inflater.eof, inflater.unused_data


def _members(path: Path) -> list[tarfile.TarInfo]:
    with tarfile.open(path, "r:gz") as tar:
        return tar.getmembers()


def _member_bytes(path: Path, name: str = "root.vhd") -> bytes:
    with tarfile.open(path, "r:gz") as tar:
        reader = tar.extractfile(name)
        assert reader is not None
        return reader.read()


# --- footers and disks -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "geometry"),
    [
        (16 * MIB, (481, 4, 17)),
        (1 << 30, (2080, 16, 63)),
        (127 << 30, (65278, 16, 255)),
        (65535 * 16 * 255 * SECTOR * 2, (65535, 16, 255)),
    ],
)
def test_chs_geometry_follows_the_vhd_specification(size: int, geometry: tuple[int, int, int]) -> None:
    assert images.chs_geometry(size) == geometry


def test_vhd_footer_describes_a_fixed_disk_with_a_valid_checksum() -> None:
    footer = images.vhd_footer(16 * MIB)

    fields = images.parse_footer(footer)

    assert len(footer) == 512
    assert fields["cookie"] == b"conectix"
    assert (fields["features"], fields["version"]) == (2, 0x10000)
    assert fields["data_offset"] == 2**64 - 1
    assert fields["current_size"] == fields["original_size"] == 16 * MIB
    assert (fields["cylinders"], fields["heads"], fields["sectors_per_track"]) == (481, 4, 17)
    assert fields["disk_type"] == images.FIXED
    assert fields["checksum_valid"]
    assert fields["saved_state"] == 0
    assert footer[85:] == bytes(427)


def test_vhd_footer_can_be_corrupted_on_request() -> None:
    corrupt = images.parse_footer(images.vhd_footer(MIB, corrupt_checksum=True))
    wrong_cookie = images.parse_footer(images.vhd_footer(MIB, cookie=b"notavhd!"))
    dynamic = images.parse_footer(images.vhd_footer(MIB, disk_type=images.DYNAMIC))

    assert not corrupt["checksum_valid"]
    assert (wrong_cookie["cookie"], wrong_cookie["checksum_valid"]) == (b"notavhd!", True)
    assert (dynamic["disk_type"], dynamic["data_offset"], dynamic["checksum_valid"]) == (3, 512, True)


def test_parse_footer_rejects_a_short_buffer() -> None:
    with pytest.raises(ValueError, match="512 bytes"):
        images.parse_footer(bytes(511))


def test_sparse_vhd_places_chunks_and_appends_the_footer(tmp_path: Path) -> None:
    path = images.sparse_vhd(tmp_path / "root.vhd", 8 * MIB, {0: b"\xeb\x63", 5 * MIB + 7: b"fake-data"})

    data = path.read_bytes()

    assert len(data) == 8 * MIB + 512
    assert data[:2] == b"\xeb\x63"
    assert data[5 * MIB + 7 : 5 * MIB + 16] == b"fake-data"
    assert data[:-512].count(0) == 8 * MIB - 11
    assert images.parse_footer(data[-512:])["current_size"] == 8 * MIB
    assert path.stat().st_blocks * 512 < 4 * MIB  # holes stay holes


def test_sparse_vhd_rejects_a_chunk_outside_the_disk(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="outside"):
        images.sparse_vhd(tmp_path / "root.vhd", MIB, {MIB - 4: b"too long"})


def test_dynamic_vhd_has_a_footer_copy_a_sparse_header_and_an_empty_bat() -> None:
    data = images.dynamic_vhd(4 * MIB)

    head, footer = images.parse_footer(data[:512]), images.parse_footer(data[-512:])

    assert data[:512] == data[-512:]
    assert (head["disk_type"], head["checksum_valid"], head["current_size"]) == (images.DYNAMIC, True, 4 * MIB)
    assert footer["data_offset"] == 512
    assert data[512:520] == b"cxsparse"
    assert int.from_bytes(data[548:552]) == ~sum(data[512:548] + bytes(4) + data[552:1536]) & 0xFFFFFFFF
    assert data[1536:2048] == b"\xff" * 512


def test_image_tarball_holds_the_vhd_then_the_extra_members(tmp_path: Path) -> None:
    vhd = images.sparse_vhd(tmp_path / "root.vhd", MIB, {MIB // 2: b"fake"})

    path = images.image_tarball(tmp_path, vhd, extra_members=[("stemcell.MF", b"name: fake\n")])

    assert path == tmp_path / "image"
    assert path.read_bytes()[:2] == GZIP_MAGIC
    assert [(m.name, m.isfile(), m.size) for m in _members(path)] == [
        ("root.vhd", True, MIB + 512),
        ("stemcell.MF", True, 11),
    ]
    assert _member_bytes(path) == vhd.read_bytes()


def test_image_tarball_accepts_bytes_and_keeps_the_member_name_verbatim(tmp_path: Path) -> None:
    path = images.image_tarball(tmp_path, images.vhd_bytes(), member_name="/root.vhd", name="other")

    assert [m.name for m in _members(path)] == ["/root.vhd"]
    assert _member_bytes(path, "/root.vhd") == images.vhd_bytes()


def test_valid_image_bytes_hold_a_fixed_vhd() -> None:
    payload, ended, rest = _gunzip(images.valid_image_bytes())
    member = tarfile.TarInfo.frombuf(payload[:512], "utf-8", "surrogateescape")
    footer = images.parse_footer(payload[512 + MIB : 512 + MIB + 512])

    assert (ended, rest) == (True, b"")
    assert (member.name, member.size, member.isfile()) == ("root.vhd", MIB + 512, True)
    assert (footer["current_size"], footer["checksum_valid"]) == (MIB, True)


# --- hostile images --------------------------------------------------------------------------------------------

MEMBER_LAYOUTS = {
    "missing_root_vhd": [("disk.vhd", tarfile.REGTYPE)],
    "parent_traversal": [("../root.vhd", tarfile.REGTYPE)],
    "absolute_path": [("/root.vhd", tarfile.REGTYPE)],
    "dot_slash_member": [("./root.vhd", tarfile.REGTYPE)],
    "symlink": [("root.vhd", tarfile.SYMTYPE)],
    "hardlink": [("real.vhd", tarfile.REGTYPE), ("root.vhd", tarfile.LNKTYPE)],
    "char_device": [("root.vhd", tarfile.CHRTYPE)],
    "fifo": [("root.vhd", tarfile.FIFOTYPE)],
    "directory": [("root.vhd", tarfile.DIRTYPE)],
    "duplicate_root_vhd": [("root.vhd", tarfile.REGTYPE), ("root.vhd", tarfile.REGTYPE)],
}
FOOTER_CLAIMS: dict[str, tuple[int, dict[str, object]]] = {  # kind: (member size, fields unlike a valid 1 MiB VHD)
    "bad_checksum": (MIB + 512, {"checksum_valid": False}),
    "bad_cookie": (MIB + 512, {"cookie": b"notavhd!"}),
    "unaligned_size": (MIB + 2048, {"current_size": MIB + 1536, "original_size": MIB + 1536}),
    "footer_size_mismatch": (MIB + 512, {"current_size": 2 * MIB, "original_size": 2 * MIB}),
}
STREAM_KINDS = {"not_gzip", "empty_file", "gzip_not_tar", "dynamic_vhd", "truncated_gzip", "oversized_member"}
STREAM_KINDS |= {"truncated_member", "trailing_zeros", "trailing_garbage"}


def test_every_hostile_kind_is_checked_below() -> None:
    checked = MEMBER_LAYOUTS.keys() | FOOTER_CLAIMS.keys() | STREAM_KINDS

    assert sorted(images.HOSTILE_KINDS) == sorted(checked)


@pytest.mark.parametrize("kind", images.HOSTILE_KINDS)
def test_hostile_image_is_written_under_tmp_path(tmp_path: Path, kind: str) -> None:
    image = images.hostile_image(tmp_path, kind)

    assert (image.kind, image.path) == (kind, tmp_path / f"{kind}.image")
    assert image.path.is_file()
    assert (image.expected_error is None) == (kind in {"dot_slash_member", "trailing_zeros", "trailing_garbage"})


@pytest.mark.parametrize("kind", sorted(MEMBER_LAYOUTS))
def test_hostile_member_layout(tmp_path: Path, kind: str) -> None:
    members = _members(images.hostile_image(tmp_path, kind).path)

    assert [(m.name, m.type) for m in members] == MEMBER_LAYOUTS[kind]
    assert all(m.size == MIB + 512 for m in members if m.isfile())


def test_hostile_links_and_devices_point_where_they_say(tmp_path: Path) -> None:
    symlink = _members(images.hostile_image(tmp_path, "symlink").path)[0]
    hardlink = _members(images.hostile_image(tmp_path, "hardlink").path)[1]
    device = _members(images.hostile_image(tmp_path, "char_device").path)[0]

    assert symlink.linkname == "/etc/shadow"
    assert hardlink.linkname == "real.vhd"
    assert (device.devmajor, device.devminor) == (1, 5)


@pytest.mark.parametrize("kind", sorted(FOOTER_CLAIMS))
def test_hostile_footer(tmp_path: Path, kind: str) -> None:
    size, differences = FOOTER_CLAIMS[kind]
    vhd = _member_bytes(images.hostile_image(tmp_path, kind).path)
    valid: dict[str, object] = {"cookie": b"conectix", "disk_type": images.FIXED, "checksum_valid": True}
    expected = valid | {"current_size": MIB, "original_size": MIB} | differences

    fields = images.parse_footer(vhd[-512:])

    assert len(vhd) == size
    assert {key: fields[key] for key in expected} == expected


def test_hostile_dynamic_vhd_starts_with_a_footer_copy(tmp_path: Path) -> None:
    vhd = _member_bytes(images.hostile_image(tmp_path, "dynamic_vhd").path)

    assert vhd == images.dynamic_vhd()
    assert images.parse_footer(vhd[:512])["disk_type"] == images.DYNAMIC


@pytest.mark.parametrize("kind", ["not_gzip", "empty_file"])
def test_hostile_image_that_is_not_gzip(tmp_path: Path, kind: str) -> None:
    data = images.hostile_image(tmp_path, kind).path.read_bytes()

    assert data[:2] != GZIP_MAGIC


def test_hostile_gzip_that_is_not_tar(tmp_path: Path) -> None:
    path = images.hostile_image(tmp_path, "gzip_not_tar").path

    assert gzip.decompress(path.read_bytes()).startswith(b"not a tar archive")
    with pytest.raises(tarfile.ReadError), tarfile.open(path, "r:gz"):
        pass


def test_hostile_truncated_gzip_is_a_prefix_of_a_valid_image(tmp_path: Path) -> None:
    data = images.hostile_image(tmp_path, "truncated_gzip").path.read_bytes()
    valid = images.valid_image_bytes()

    _, ended, _ = _gunzip(data)

    assert valid.startswith(data)
    assert 0 < len(data) < len(valid)
    assert not ended


@pytest.mark.parametrize(("kind", "trailer"), [("trailing_zeros", bytes(4096)), ("trailing_garbage", b"trailing")])
def test_hostile_trailing_bytes_follow_a_complete_image(tmp_path: Path, kind: str, trailer: bytes) -> None:
    data = images.hostile_image(tmp_path, kind).path.read_bytes()

    payload, ended, rest = _gunzip(data)

    assert data.startswith(images.valid_image_bytes())
    assert ended
    assert rest.startswith(trailer)
    with tarfile.open(fileobj=io.BytesIO(payload)) as tar:
        assert tar.getnames() == ["root.vhd"]


@pytest.mark.parametrize("declared", [3 * TIB, 10 * (1 << 30) + 512, MIB + 512])
def test_oversized_member_declares_the_size_without_the_data(tmp_path: Path, declared: int) -> None:
    path = images.oversized_member(tmp_path, declared)

    payload, ended, rest = _gunzip(path.read_bytes())
    header = tarfile.TarInfo.frombuf(payload, "utf-8", "surrogateescape")

    assert (ended, rest, len(payload)) == (True, b"", 512)
    assert (header.name, header.size, header.isfile()) == ("root.vhd", declared, True)


@pytest.mark.parametrize(("kind", "declared"), [("oversized_member", 3 * TIB), ("truncated_member", MIB + 512)])
def test_registered_oversized_members(tmp_path: Path, kind: str, declared: int) -> None:
    payload, _, _ = _gunzip(images.hostile_image(tmp_path, kind).path.read_bytes())

    assert tarfile.TarInfo.frombuf(payload, "utf-8", "surrogateescape").size == declared


# --- sparse buffers --------------------------------------------------------------------------------------------


def _sector_kinds(data: bytes) -> set[str]:
    kinds = set()
    for offset in range(0, len(data) - len(data) % SECTOR, SECTOR):
        zeros = data[offset : offset + SECTOR].count(0)
        kinds.add("empty" if zeros == SECTOR else "full" if zeros == 0 else "partial")
    return kinds


def test_random_sparse_buffer_mixes_empty_full_and_partial_sectors() -> None:
    data = images.random_sparse_buffer(random.Random(5), 256 * 1024, 0.4)

    density = 1 - data.count(0) / len(data)

    assert len(data) == 256 * 1024
    assert _sector_kinds(data) == {"empty", "full", "partial"}
    assert 0.25 < density < 0.55
    assert data == images.random_sparse_buffer(random.Random(5), 256 * 1024, 0.4)


@pytest.mark.parametrize(("density", "zeros"), [(0.0, 1000), (1.0, 0)])
def test_random_sparse_buffer_extreme_densities(density: float, zeros: int) -> None:
    assert images.random_sparse_buffer(random.Random(1), 1000, density).count(0) == zeros


@pytest.mark.parametrize(
    ("data", "ranges"),
    [
        (b"", []),
        (bytes(1024), []),
        (bytes(512) + b"\x01", [(512, 1)]),
        (b"\x01" + bytes(1023) + b"\x02" * 512 + bytes(512), [(0, 512), (1024, 512)]),
        (bytes(511) + b"\x01" + b"\x01" + bytes(511), [(0, 1024)]),
    ],
)
def test_nonzero_ranges_merges_adjacent_sectors(data: bytes, ranges: list[tuple[int, int]]) -> None:
    assert images.nonzero_ranges(data) == ranges
