"""Disk-image plumbing for the stemcell fixtures: VHD footer, MBR, non-zero counting and a parallel gzip tar writer.

Nothing here holds a whole disk in memory: :func:`pack_tar` streams members in 1 MiB reads, counts the non-zero
payload of what it reads and deflates 4 MiB chunks on a thread pool (pigz-style, joined by sync flushes).
"""

from __future__ import annotations

import hashlib
import os
import struct
import tarfile
import time
import zlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

MIB = 1 << 20
SECTOR = 512
BLOCK = 4096  # ext4 block size: the unit the CPI skips zeros in
PARTITION_OFFSET = MIB
VHD_EPOCH = 946_684_800  # 2000-01-01T00:00:00Z
_ZERO_SECTOR = bytes(SECTOR)
_GZIP_CHUNK = 4 * MIB


def chs_geometry(size: int) -> tuple[int, int, int]:
    """Cylinders, heads and sectors per track of a VHD of ``size`` bytes (VHD specification algorithm)."""
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


def vhd_footer(size: int, unique_id: bytes, timestamp: int) -> bytes:
    """Footer of a fixed VHD of virtual size ``size``, as ``qemu-img convert -O vpc -o subformat=fixed`` writes."""
    cyl, heads, spt = chs_geometry(size)
    head = struct.pack(
        ">8sIIQI4sI4sQQHBBI", b"conectix", 2, 0x10000, 2**64 - 1, timestamp - VHD_EPOCH,
        b"qemu", 0x00050003, b"Wi2k", size, size, cyl, heads, spt, 2,
    )  # fmt: skip
    tail = unique_id[:16].ljust(16, b"\0") + bytes(428)  # unique id, saved state 0, reserved
    return head + struct.pack(">I", ~(sum(head) + sum(tail)) & 0xFFFFFFFF) + tail


def mbr(size: int, signature: int) -> bytes:
    """MBR with one bootable Linux (0x83) partition from LBA 2048 (CHS 0/32/33) to the end of the disk."""
    first = PARTITION_OFFSET // SECTOR
    entry = b"\x80\x20\x21\x00\x83\xfe\xff\xff" + struct.pack("<II", first, size // SECTOR - first)
    return bytes(440) + struct.pack("<I", signature) + b"\0\0" + entry + bytes(48) + b"\x55\xaa"


def dense_bytes(data: bytes, block: int = SECTOR) -> int:
    """Bytes of ``data`` lying in ``block``-byte blocks (counted from its start) that hold a non-zero byte."""
    size = len(data)
    if tail := size % block:
        dense_tail = 0 if data[size - tail :] == bytes(tail) else tail
        return dense_tail + (dense_bytes(data[: size - tail], block) if size > tail else 0)
    zero = _ZERO_SECTOR if block == SECTOR else bytes(block)
    if zero not in data:  # the substring search skips ahead fast on dense data
        return size
    if size == block or data == bytes(size):
        return 0
    if size <= 8 * block:
        return sum(block for i in range(0, size, block) if data[i : i + block] != zero)
    step = max(8 * block, size // 16 // block * block)
    return sum(dense_bytes(data[i : i + step], block) for i in range(0, size, step))


class CountingReader:
    """Read-through file wrapper counting the non-zero bytes, and the bytes in non-zero 512-byte sectors and
    non-zero 4 KiB blocks, of what is read."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw, self._carry = raw, b""
        self.nonzero_bytes = self.sector_bytes = self.block_bytes = 0

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        if self._carry or data != bytes(len(data)):
            self.nonzero_bytes += len(data) - data.count(0)
            buf = self._carry + data
            whole = len(buf) - len(buf) % BLOCK if data else len(buf)
            self.sector_bytes += dense_bytes(buf[:whole])
            self.block_bytes += dense_bytes(buf[:whole], BLOCK)
            self._carry = buf[whole:]
        return data

    def flush(self) -> None:
        """Count the last, partial block (callers that stop reading at the known size never read EOF)."""
        self.sector_bytes += dense_bytes(self._carry)
        self.block_bytes += dense_bytes(self._carry, BLOCK)
        self._carry = b""


def _deflate(chunk: bytes, level: int) -> bytes:
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    return compressor.compress(chunk) + compressor.flush(zlib.Z_SYNC_FLUSH)


class GzipWriter:
    """pigz-style gzip: 4 MiB chunks deflated on a thread pool and joined by sync flushes; hashes the output."""

    def __init__(self, raw: BinaryIO, level: int, pool: ThreadPoolExecutor) -> None:
        self._raw, self._level, self._pool = raw, level, pool
        self._pending: deque[Future[bytes]] = deque()
        self._parts: list[bytes] = []
        self._crc = self._size = self._buffered = 0
        self._zero = (b"", b"")  # a zero chunk and its deflate output: zero chunks are deflated once
        self.sha1, self.sha256 = hashlib.sha1(), hashlib.sha256()
        self._emit(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03")  # no name, no mtime, OS = Unix

    def write(self, data: bytes) -> int:
        self._crc = zlib.crc32(data, self._crc)
        self._size += len(data)
        self._parts.append(bytes(data))
        self._buffered += len(data)
        if self._buffered >= _GZIP_CHUNK:
            self._submit()
        return len(data)

    def tell(self) -> int:
        return self._size

    def _submit(self) -> None:
        chunk = b"".join(self._parts)
        self._parts, self._buffered = [], 0
        if chunk != self._zero[0] and chunk == bytes(len(chunk)):
            self._zero = (chunk, _deflate(chunk, self._level))
        if chunk == self._zero[0]:
            self._pending.append(Future())
            self._pending[-1].set_result(self._zero[1])
        else:
            self._pending.append(self._pool.submit(_deflate, chunk, self._level))
        while len(self._pending) > 2 * (os.cpu_count() or 2):
            self._emit(self._pending.popleft().result())

    def _emit(self, data: bytes) -> None:
        self._raw.write(data)
        self.sha1.update(data)
        self.sha256.update(data)

    def close(self) -> None:
        """Deflate what is buffered and write the final block and the gzip trailer (CRC-32, size)."""
        if self._parts:
            self._submit()
        while self._pending:
            self._emit(self._pending.popleft().result())
        self._emit(b"\x03\x00" + struct.pack("<II", self._crc, self._size & 0xFFFFFFFF))


def pack_tar(
    target: Path, members: list[Path], level: int, pool: ThreadPoolExecutor
) -> tuple[GzipWriter, tuple[int, int, int]]:
    """Write a GNU gzip tar of ``members``; return the writer (hashes) and the first member's non-zero counts
    (bytes in non-zero sectors, in non-zero 4 KiB blocks, literal non-zero bytes)."""
    counts: list[tuple[int, int, int]] = []
    with target.open("wb") as raw:
        gz = GzipWriter(raw, level, pool)
        tar = tarfile.TarFile(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT, copybufsize=MIB)  # type: ignore[arg-type]
        for path in members:
            info = tarfile.TarInfo(path.name)
            info.size, info.mode, info.mtime = path.stat().st_size, 0o644, time.time()
            info.uname = info.gname = "root"
            with path.open("rb") as f:
                reader = CountingReader(f)
                tar.addfile(info, reader)
                reader.flush()
                counts.append((reader.sector_bytes, reader.block_bytes, reader.nonzero_bytes))
        tar.close()
        gz.close()
    return gz, counts[0]
