"""Fixed VHD footers (Microsoft Virtual Hard Disk Image Format Specification, "Hard Disk Footer Format").

A fixed VHD is the raw disk followed by a 512-byte footer: cookie ``conectix``, big-endian sizes, CHS
geometry, disk type 2 (fixed) and a one's-complement checksum. Azure accepts only fixed VHDs whose virtual
size is a whole number of MiB. :func:`build_footer` makes one (tests, fixtures); :func:`parse_footer`
reads one (the emulator's VHD check).
"""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass

FOOTER_SIZE = 512
FIXED_DISK = 2
_VHD_EPOCH_OFFSET = 946684800  # 2000-01-01T00:00:00Z as a Unix time


@dataclass(frozen=True, slots=True)
class Footer:
    cookie: bytes
    current_size: int
    disk_type: int
    checksum_ok: bool


def _geometry(total_sectors: int) -> tuple[int, int, int]:
    """CHS geometry per the VHD specification's algorithm: (cylinders, heads, sectors per track)."""
    total_sectors = min(total_sectors, 65535 * 16 * 255)
    if total_sectors >= 65535 * 16 * 63:
        spt, heads = 255, 16
        return total_sectors // spt // heads, heads, spt
    spt = 17
    cyl_times_heads = total_sectors // spt
    heads = max((cyl_times_heads + 1023) // 1024, 4)
    if cyl_times_heads >= heads * 1024 or heads > 16:
        spt, heads = 31, 16
        cyl_times_heads = total_sectors // spt
    if cyl_times_heads >= heads * 1024:
        spt, heads = 63, 16
        cyl_times_heads = total_sectors // spt
    return cyl_times_heads // heads, heads, spt


def build_footer(virtual_size: int, timestamp: int = 0, disk_id: bytes | None = None) -> bytes:
    """The 512-byte footer of a fixed VHD whose disk is ``virtual_size`` bytes."""
    cylinders, heads, spt = _geometry(virtual_size // 512)
    fields = struct.pack(
        ">8sIIQI4sI4sQQHBBII16sB",
        b"conectix",
        2,  # features: reserved bit set
        0x00010000,  # file format version 1.0
        0xFFFFFFFFFFFFFFFF,  # data offset: none for fixed disks
        max(timestamp - _VHD_EPOCH_OFFSET, 0),
        b"bosh",
        0x00010000,
        b"Wi2k",
        virtual_size,
        virtual_size,
        cylinders,
        heads,
        spt,
        FIXED_DISK,
        0,  # checksum placeholder
        disk_id or uuid.uuid4().bytes,
        0,
    )
    checksum = (~sum(fields)) & 0xFFFFFFFF
    footer = fields[:64] + struct.pack(">I", checksum) + fields[68:]
    return footer.ljust(FOOTER_SIZE, b"\0")


def parse_footer(data: bytes) -> Footer:
    """Read the fields the emulator checks from a 512-byte footer."""
    if len(data) != FOOTER_SIZE:
        return Footer(cookie=data[:8], current_size=0, disk_type=0, checksum_ok=False)
    (current_size,) = struct.unpack(">Q", data[48:56])
    (disk_type,) = struct.unpack(">I", data[60:64])
    (checksum,) = struct.unpack(">I", data[64:68])
    expected = (~(sum(data[:64]) + sum(data[68:]))) & 0xFFFFFFFF
    return Footer(cookie=data[:8], current_size=current_size, disk_type=disk_type, checksum_ok=checksum == expected)
