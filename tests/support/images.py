"""Small stemcell ``image`` builders for tests: fixed VHDs, gzip tarballs, hostile images, sparse buffers.

``image`` is the file the director hands to ``create_stemcell``: a gzip tar whose only member is ``root.vhd``, a
fixed VHD (the raw disk, then a 512-byte footer). Hostile builders return a HostileImage whose
``expected_error`` is only a *suggested* substring of the CPI's message (None: the image must be accepted).
Everything here is small and built in memory or under ``tmp_path``; nothing needs mke2fs.
"""

from __future__ import annotations

import gzip
import io
import random
import struct
import tarfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

SECTOR = 512
MIB = 1 << 20
TIB = 1 << 40
FIXED, DYNAMIC, DIFFERENCING = 2, 3, 4
NO_DATA_OFFSET = 2**64 - 1  # the data offset of a fixed VHD
FOOTER_TIMESTAMP = 757_382_400  # 2024-01-01T00:00:00Z in seconds since 2000-01-01T00:00:00Z
_FOOTER = struct.Struct(">8sIIQI4sI4sQQHBBII16sB427x")
FOOTER_FIELDS = (
    "cookie", "features", "version", "data_offset", "timestamp", "creator_app", "creator_version",
    "creator_os", "original_size", "current_size", "cylinders", "heads", "sectors_per_track", "disk_type",
    "checksum", "unique_id", "saved_state",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class HostileImage:
    """An ``image`` file that the CPI must reject (or, with ``expected_error`` None, accept)."""

    kind: str
    path: Path
    expected_error: str | None  # a suggested substring of the CPI's error message


# --- VHD footers and disks -------------------------------------------------------------------------------------


def chs_geometry(size: int) -> tuple[int, int, int]:
    """(cylinders, heads, sectors per track) of a ``size``-byte disk, per the VHD specification's algorithm."""
    sectors = min(size // SECTOR, 65535 * 16 * 255)
    if sectors >= 65535 * 16 * 63:
        return sectors // 255 // 16, 16, 255
    spt, cyl_heads = 17, sectors // 17
    heads = max(4, (cyl_heads + 1023) // 1024)
    if cyl_heads >= heads * 1024 or heads > 16:
        spt, heads, cyl_heads = 31, 16, sectors // 31
    if cyl_heads >= heads * 1024:
        spt, heads, cyl_heads = 63, 16, sectors // 63
    return cyl_heads // heads, heads, spt


def footer_checksum(footer: bytes) -> int:
    """One's complement of the byte sum of a 512-byte footer, its checksum field (bytes 64-67) excluded."""
    return ~(sum(footer[:64]) + sum(footer[68:])) & 0xFFFFFFFF


def vhd_footer(
    current_size: int,
    *,
    disk_type: int = FIXED,
    corrupt_checksum: bool = False,
    cookie: bytes = b"conectix",
    original_size: int | None = None,
) -> bytes:
    """A 512-byte VHD footer (qemu-img style) with correct geometry and checksum unless asked otherwise."""
    data_offset = NO_DATA_OFFSET if disk_type == FIXED else SECTOR
    raw = _FOOTER.pack(
        cookie, 2, 0x10000, data_offset, FOOTER_TIMESTAMP, b"qemu", 0x00050003, b"Wi2k",
        current_size if original_size is None else original_size, current_size, *chs_geometry(current_size),
        disk_type, 0, b"fake-unique-id-1", 0,
    )  # fmt: skip
    checksum = footer_checksum(raw) ^ (0x5A5A if corrupt_checksum else 0)
    return raw[:64] + struct.pack(">I", checksum) + raw[68:]


def parse_footer(footer: bytes) -> dict[str, Any]:
    """The fields of a 512-byte footer by FOOTER_FIELDS name, plus ``checksum_valid``."""
    if len(footer) != SECTOR:
        raise ValueError(f"a VHD footer is 512 bytes, not {len(footer)}")
    fields = dict(zip(FOOTER_FIELDS, _FOOTER.unpack(footer), strict=True))
    fields["checksum_valid"] = fields["checksum"] == footer_checksum(footer)
    return fields


def sparse_vhd(
    path: Path, virtual_size: int, data: Mapping[int, bytes] | None = None, *, footer: bytes | None = None
) -> Path:
    """Write a fixed VHD: ``virtual_size`` sparse bytes with ``data`` chunks at their offsets, then the footer."""
    with path.open("wb") as f:
        f.truncate(virtual_size)
        for offset, chunk in (data or {}).items():
            if offset < 0 or offset + len(chunk) > virtual_size:
                raise ValueError(f"chunk at {offset} ({len(chunk)} bytes) is outside the {virtual_size}-byte disk")
            f.seek(offset)
            f.write(chunk)
        f.seek(virtual_size)
        f.write(vhd_footer(virtual_size) if footer is None else footer)
    return path


def vhd_bytes(virtual_size: int = MIB, *, footer: bytes | None = None) -> bytes:
    """A small in-memory fixed VHD: a disk with an MBR boot signature and a little data, then the footer."""
    disk = bytearray(virtual_size)
    disk[510:512] = b"\x55\xaa"
    disk[virtual_size // 2 : virtual_size // 2 + 11] = b"fake-ext4fs"
    return bytes(disk) + (vhd_footer(virtual_size) if footer is None else footer)


def dynamic_vhd(virtual_size: int = 4 * MIB, block_size: int = 2 * MIB) -> bytes:
    """A dynamic VHD with no allocated block: footer copy, ``cxsparse`` header, empty BAT, footer."""
    footer = vhd_footer(virtual_size, disk_type=DYNAMIC)
    entries = -(-virtual_size // block_size)
    header = bytearray(struct.pack(">8sQQIII", b"cxsparse", NO_DATA_OFFSET, 3 * SECTOR, 0x10000, entries, block_size))
    header += bytes(1024 - len(header))
    header[36:40] = struct.pack(">I", ~sum(header) & 0xFFFFFFFF)
    bat = b"\xff" * (-(-entries * 4 // SECTOR) * SECTOR)
    return footer + bytes(header) + bat + footer


# --- tarballs --------------------------------------------------------------------------------------------------


def _member(name: str, kind: bytes = tarfile.REGTYPE, **attrs: Any) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime = kind, 0o644, 1_700_000_000
    for key, value in attrs.items():
        setattr(info, key, value)
    return info


def _write_tar(path: Path, entries: Iterable[tuple[tarfile.TarInfo, bytes | Path | None]]) -> Path:
    """A gzip tar of ``entries`` (member, payload) with names kept verbatim (no leading-slash stripping)."""
    with tarfile.open(path, "w:gz", format=tarfile.GNU_FORMAT) as tar:
        for info, payload in entries:
            if isinstance(payload, Path):
                info.size = payload.stat().st_size
                with payload.open("rb") as f:
                    tar.addfile(info, f)
            else:
                info.size = len(payload or b"")
                tar.addfile(info, io.BytesIO(payload) if payload else None)
    return path


def image_tarball(
    tmp_path: Path,
    vhd: Path | bytes,
    *,
    member_name: str = "root.vhd",
    extra_members: Iterable[tuple[str, bytes]] = (),
    name: str = "image",
) -> Path:
    """Write ``tmp_path/name``: a gzip tar holding ``vhd`` as ``member_name``, then ``extra_members``."""
    entries = [(_member(member_name), vhd), *((_member(extra), data) for extra, data in extra_members)]
    return _write_tar(tmp_path / name, entries)


def oversized_member(tmp_path: Path, declared_size: int = 3 * TIB, *, name: str = "image") -> Path:
    """A gzip stream holding only a tar header for ``root.vhd`` claiming ``declared_size`` bytes (no data)."""
    header = _member("root.vhd", size=declared_size).tobuf(tarfile.GNU_FORMAT)
    path = tmp_path / name
    path.write_bytes(gzip.compress(header, mtime=0))
    return path


# --- hostile images --------------------------------------------------------------------------------------------


Builder = Callable[[Path], Path]


def _raw(data: Callable[[], bytes]) -> Builder:
    def build(path: Path) -> Path:
        path.write_bytes(data())
        return path

    return build


def _tar(*entries: tuple[tarfile.TarInfo, Callable[[], bytes] | None]) -> Builder:
    return lambda path: _write_tar(path, [(info, payload and payload()) for info, payload in entries])


def _vhd_member(payload: Callable[[], bytes] = vhd_bytes, member_name: str = "root.vhd") -> Builder:
    return _tar((_member(member_name), payload))


def _special(kind: bytes, **attrs: Any) -> Builder:
    return _tar((_member("root.vhd", kind, **attrs), None))


def valid_image_bytes() -> bytes:
    """A valid small image (1 MiB fixed VHD with 64 KiB of random data), long enough to cut mid-stream."""
    disk = bytearray(vhd_bytes(MIB))
    disk[MIB // 2 : MIB // 2 + 64 * 1024] = random.Random(7).randbytes(64 * 1024)
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz,  # same bytes on every call ("w:gz" stamps the time)
        tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar,
    ):
        tar.addfile(_member("root.vhd", size=len(disk)), io.BytesIO(bytes(disk)))
    return buffer.getvalue()


_UNALIGNED = MIB + 3 * SECTOR
_HOSTILE: Mapping[str, tuple[Builder, str | None]] = MappingProxyType(
    {
        "not_gzip": (_raw(lambda: b"this is not a stemcell image\n"), "not a gzip file"),
        "empty_file": (_raw(lambda: b""), "empty"),
        "gzip_not_tar": (_raw(lambda: gzip.compress(b"not a tar archive\n" * 64, mtime=0)), "not a tar archive"),
        "missing_root_vhd": (_vhd_member(member_name="disk.vhd"), "no root.vhd"),
        "parent_traversal": (_vhd_member(member_name="../root.vhd"), "'..'"),
        "absolute_path": (_vhd_member(member_name="/root.vhd"), "absolute path"),
        "symlink": (_special(tarfile.SYMTYPE, linkname="/etc/shadow"), "not a regular file"),
        "hardlink": (
            _tar((_member("real.vhd"), vhd_bytes), (_member("root.vhd", tarfile.LNKTYPE, linkname="real.vhd"), None)),
            "not a regular file",
        ),
        "char_device": (_special(tarfile.CHRTYPE, devmajor=1, devminor=5), "not a regular file"),
        "fifo": (_special(tarfile.FIFOTYPE), "not a regular file"),
        "directory": (_special(tarfile.DIRTYPE, mode=0o755), "not a regular file"),
        "duplicate_root_vhd": (
            _tar((_member("root.vhd"), vhd_bytes), (_member("root.vhd"), vhd_bytes)),
            "more than one root.vhd",
        ),
        "dynamic_vhd": (_vhd_member(dynamic_vhd), "only fixed VHDs"),
        "bad_checksum": (_vhd_member(lambda: vhd_bytes(footer=vhd_footer(MIB, corrupt_checksum=True))), "checksum"),
        "bad_cookie": (_vhd_member(lambda: vhd_bytes(footer=vhd_footer(MIB, cookie=b"notavhd!"))), "cookie"),
        "unaligned_size": (
            _vhd_member(lambda: vhd_bytes(_UNALIGNED, footer=vhd_footer(_UNALIGNED))),
            "whole number of MiB",
        ),
        "footer_size_mismatch": (_vhd_member(lambda: vhd_bytes(MIB, footer=vhd_footer(2 * MIB))), "footer says"),
        "truncated_gzip": (_raw(lambda: (valid := valid_image_bytes())[: len(valid) * 2 // 3]), "truncated"),
        "oversized_member": (lambda path: oversized_member(path.parent, name=path.name), "more than the limit"),
        "truncated_member": (
            lambda path: oversized_member(path.parent, MIB + SECTOR, name=path.name),
            "truncated",
        ),
        "dot_slash_member": (_vhd_member(member_name="./root.vhd"), None),
        "trailing_zeros": (_raw(lambda: valid_image_bytes() + bytes(4096)), None),
        "trailing_garbage": (
            _raw(lambda: valid_image_bytes() + b"trailing garbage after the gzip stream\n"),
            None,  # accepted, like the Ruby CPI's tar; the bytes still count in image_sha256
        ),
    }
)
HOSTILE_KINDS: tuple[str, ...] = tuple(_HOSTILE)


def hostile_image(tmp_path: Path, kind: str) -> HostileImage:
    """Write the hostile image ``kind`` (one of HOSTILE_KINDS) as ``tmp_path/<kind>.image``."""
    build, expected = _HOSTILE[kind]
    return HostileImage(kind, build(tmp_path / f"{kind}.image"), expected)


# --- sparse buffers --------------------------------------------------------------------------------------------


def random_sparse_buffer(rng: random.Random, size: int, density: float = 0.3) -> bytes:
    """``size`` bytes of zero runs and non-zero data runs (about ``density`` data) for property tests.

    Runs are whole sectors ending on a 512-byte boundary or 1-511 bytes long, so sectors come out empty,
    full or partly filled.
    """
    buf = bytearray(size)
    pos = 0
    while pos < size:
        whole_sectors = rng.random() < 0.5
        length = rng.randint(1, 8) * SECTOR - pos % SECTOR if whole_sectors else rng.randint(1, SECTOR - 1)
        length = min(length, size - pos)
        if rng.random() < density:
            buf[pos : pos + length] = rng.randbytes(length).replace(b"\0", b"\x01")
        pos += length
    return bytes(buf)


def nonzero_ranges(data: bytes, granularity: int = SECTOR) -> list[tuple[int, int]]:
    """Merged (offset, length) ranges of the ``granularity``-byte units of ``data`` holding a non-zero byte."""
    ranges: list[tuple[int, int]] = []
    for offset in range(0, len(data), granularity):
        unit = data[offset : offset + granularity]
        if unit.count(0) == len(unit):
            continue
        if ranges and sum(ranges[-1]) == offset:
            ranges[-1] = (ranges[-1][0], ranges[-1][1] + len(unit))
        else:
            ranges.append((offset, len(unit)))
    return ranges
