"""Find the non-zero blocks of a disk image and group them into Put Page writes (pure, no I/O).

A page blob reads back zeros wherever nothing was written, so a disk image is uploaded by writing only the
blocks that hold a non-zero byte. :class:`PageScanner` takes the image as sequential chunks of any size (a
block may straddle two chunks) and emits :class:`PageWrite` objects, each a run of adjacent non-zero blocks,
512-aligned, at most :data:`MAX_PUT_PAGE` bytes, in ascending offset order, coalesced across chunk boundaries.
Zero detection compares big blocks with a preallocated zero buffer (one ``memcmp`` per block, no copy) and
descends to smaller blocks, down to ``block_size``, only inside non-zero blocks.

``block_size`` is the unit of zero detection, aligned on absolute offsets: 512 (the page size) sends exactly
the non-zero pages; 4096, the block size of the ext4 file systems in stemcell root disks, sends every file-system
block that holds data. The difference matters: file tails leave 1-7 zero pages inside most 4 KiB blocks, so a
512-byte scan of a real root disk splits its data into tens of thousands of small writes where a 4 KiB scan
needs a few hundred, for about 10 % more bytes (the zero tails of blocks that hold data).

Buffers: a write of ``max_length`` bytes is a ``memoryview`` of a scanner-owned ``bytearray`` that the caller
hands back with :meth:`PageScanner.recycle` once the write is sent, so an upload reuses a fixed set of buffers
instead of allocating (and fragmenting the heap with) one per write; shorter writes are ``bytes`` copies.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

PAGE_SIZE = 512
"""Page blob page size: every write starts and ends on a multiple of it."""

MAX_PUT_PAGE = 4 << 20
"""Azure's limit for one Put Page request body (4 MiB)."""

EXT4_BLOCK = 4 << 10
"""Block size of the ext4 file systems in stemcell root disks."""

_LEVELS = (4 << 20, 64 << 10, EXT4_BLOCK, PAGE_SIZE)
"""Block sizes tried from coarse to fine, down to the scanner's ``block_size``."""

Buffer = bytes | bytearray


@dataclass(frozen=True, slots=True)
class PageWrite:
    """One Put Page request: ``data`` goes to ``[offset, offset + len(data))``; both are 512-aligned."""

    offset: int
    data: bytes | memoryview

    @property
    def length(self) -> int:
        return len(self.data)

    @property
    def end(self) -> int:
        return self.offset + len(self.data)


class PageScanner:
    """Turn sequential chunks ``(offset, data)`` of an image into :class:`PageWrite` objects.

    ``feed`` returns the writes that can no longer grow; ``close`` returns the last one. Chunks must be
    contiguous and start at offset 0; the total length must be a multiple of 512 (``ValueError`` otherwise).
    Each emitted write holds a copy of its bytes, so callers may drop or reuse their chunks; a full-size write's
    copy lives in a scanner buffer, valid until the write is passed to :meth:`recycle` (optional).
    """

    def __init__(self, *, max_length: int = MAX_PUT_PAGE, block_size: int = PAGE_SIZE, buffers: int = 0) -> None:
        """``buffers``: write buffers allocated up front, so memory does not depend on the image (more are
        allocated when a caller holds them all)."""
        if max_length <= 0 or max_length % PAGE_SIZE:
            raise ValueError(f"max_length must be a positive multiple of {PAGE_SIZE}, got {max_length}")
        if block_size not in _LEVELS[1:]:
            raise ValueError(f"block_size must be one of {_LEVELS[1:]}, got {block_size}")
        self._max = max_length
        self._block = block_size
        self._levels = _LEVELS[: _LEVELS.index(block_size) + 1]
        self._zeros = {size: bytes(size) for size in self._levels}
        self._next = 0  # absolute offset the next chunk must start at
        self._carry = b""  # head of a block that straddles a chunk boundary
        self._buffer: bytearray | None = None  # data of the open write: buffer[: end - start]
        self._spare = deque(bytearray(max_length) for _ in range(buffers))  # append/pop are thread-safe
        self._start = 0
        self._end = 0

    @property
    def position(self) -> int:
        """Bytes consumed so far."""
        return self._next

    def feed(self, offset: int, data: Buffer) -> list[PageWrite]:
        """Consume one chunk; return the writes completed by it (possibly none)."""
        if offset != self._next:
            raise ValueError(f"chunk at offset {offset}, expected {self._next}")
        self._next += len(data)
        out: list[PageWrite] = []
        pos = 0
        if self._carry:
            pos = self._block - len(self._carry)
            block = self._carry + data[:pos]
            if len(block) < self._block:
                self._carry = block
                return out
            self._carry = b""
            self._scan(out, block, offset + pos - self._block, 0, self._block)
        stop = pos + (len(data) - pos) // self._block * self._block
        self._scan(out, data, offset, pos, stop)
        if stop < len(data):
            self._carry = bytes(data[stop:])
        return out

    def recycle(self, write: PageWrite) -> None:
        """Take back the buffer of a sent ``write`` (thread-safe); its ``data`` must not be used afterwards."""
        if isinstance(write.data, memoryview) and isinstance(write.data.obj, bytearray):
            self._spare.append(write.data.obj)

    def close(self) -> list[PageWrite]:
        """Flush the open write (and a last, partial block); ``ValueError`` if the stream did not end on a page."""
        if len(self._carry) % PAGE_SIZE:
            raise ValueError(f"stream length {self._next} is not a multiple of {PAGE_SIZE}")
        out: list[PageWrite] = []
        if self._carry.count(0) != len(self._carry):
            self._extend(out, self._carry, self._next - len(self._carry), 0, len(self._carry))
        self._carry = b""
        if self._end > self._start:
            out.append(self._flush())
        return out

    def _scan(self, out: list[PageWrite], data: Buffer, base: int, start: int, stop: int) -> None:
        """Add the non-zero blocks of ``data[start:stop]`` (whole blocks; ``data[0]`` is at ``base``)."""
        for run_start, run_end in _nonzero_runs(data, start, stop, self._zeros, self._levels):
            self._extend(out, data, base, run_start, run_end)

    def _extend(self, out: list[PageWrite], data: Buffer, base: int, start: int, end: int) -> None:
        """Append ``data[start:end]`` (absolute ``base + start``) to the open write, splitting at the cap."""
        if self._end > self._start and base + start != self._end:
            out.append(self._flush())
        source = memoryview(data)
        while start < end:
            if self._end == self._start:
                self._start = self._end = base + start
            filled = self._end - self._start
            take = min(end - start, self._max - filled)
            buffer = self._open_buffer()
            buffer[filled : filled + take] = source[start : start + take]
            self._end += take
            start += take
            if self._end - self._start == self._max:
                out.append(self._flush())

    def _open_buffer(self) -> bytearray:
        if self._buffer is None:
            self._buffer = self._spare.pop() if self._spare else bytearray(self._max)
        return self._buffer

    def _flush(self) -> PageWrite:
        """Emit the open write: a full buffer is handed over as a view, a shorter write is copied out."""
        length, self._end = self._end - self._start, self._start
        buffer = self._open_buffer()
        if length == self._max:
            self._buffer = None
            return PageWrite(self._start, memoryview(buffer))
        return PageWrite(self._start, bytes(memoryview(buffer)[:length]))


def _nonzero_runs(
    data: Buffer, start: int, stop: int, zeros: dict[int, bytes], levels: tuple[int, ...]
) -> Iterator[tuple[int, int]]:
    """Yield ``(start, end)`` runs of non-zero ``levels[-1]`` blocks in ``data[start:stop]`` (whole blocks)."""
    size = levels[0]
    if len(levels) == 1:
        yield from _block_runs(data, start, stop, zeros[size])
        return
    zero = zeros[size]
    tail_zero = memoryview(zero)
    for block in range(start, stop, size):
        end = min(block + size, stop)
        if data.startswith(zero if end - block == size else tail_zero[: end - block], block, end):
            continue
        yield from _nonzero_runs(data, block, end, zeros, levels[1:])


def _block_runs(data: Buffer, start: int, stop: int, zero_block: bytes) -> Iterator[tuple[int, int]]:
    size = len(zero_block)
    run_start = -1
    for block in range(start, stop, size):
        if data.startswith(zero_block, block, block + size):
            if run_start >= 0:
                yield run_start, block
                run_start = -1
        elif run_start < 0:
            run_start = block
    if run_start >= 0:
        yield run_start, stop


def scan_writes(
    chunks: Iterable[tuple[int, Buffer]], *, max_length: int = MAX_PUT_PAGE, block_size: int = PAGE_SIZE
) -> Iterator[PageWrite]:
    """Yield the Put Page writes for sequential ``chunks`` (see :class:`PageScanner`)."""
    scanner = PageScanner(max_length=max_length, block_size=block_size)
    for offset, data in chunks:
        yield from scanner.feed(offset, data)
    yield from scanner.close()


def page_ranges(
    chunks: Iterable[tuple[int, Buffer]], *, max_length: int = MAX_PUT_PAGE, block_size: int = PAGE_SIZE
) -> Iterator[tuple[int, int]]:
    """Yield the ``(offset, length)`` of each Put Page write for sequential ``chunks``."""
    for write in scan_writes(chunks, max_length=max_length, block_size=block_size):
        yield write.offset, write.length


def merge_ranges(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sort ``(start, end)`` half-open ranges and merge overlapping or touching ones."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged
