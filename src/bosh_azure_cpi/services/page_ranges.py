"""Find the non-zero 512-byte pages of a disk image and group them into Put Page writes (pure, no I/O).

A page blob reads back zeros wherever nothing was written, so a disk image is uploaded by writing only the
512-byte pages that hold a non-zero byte. :class:`PageScanner` takes the image as sequential chunks of any
size (a page may straddle two chunks) and emits :class:`PageWrite` objects, each a run of adjacent non-zero
pages, 512-aligned, at most :data:`MAX_PUT_PAGE` bytes, in ascending offset order, coalesced across chunk
boundaries. Zero detection compares big blocks with a preallocated zero buffer (one ``memcmp`` per block,
no copy) and descends to smaller blocks, and finally to single pages, only inside non-zero blocks.

With ``max_gap > 0`` a run of zero pages of at most ``max_gap`` bytes between two non-zero runs is sent as
zeros inside one write instead of splitting it: ext4 metadata leaves single zero pages every few KiB, so
exact writes mean thousands of small Put Page requests per GiB. ``gap_budget`` caps the zero bytes sent this
way at a fraction of the data bytes sent so far, which bounds the upload at ``(1 + gap_budget)`` times the
non-zero pages. A write never starts or ends with a zero page.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

PAGE_SIZE = 512
"""Page blob page size: every write starts and ends on a multiple of it."""

MAX_PUT_PAGE = 4 << 20
"""Azure's limit for one Put Page request body (4 MiB)."""

_LEVELS = (4 << 20, 64 << 10, 4 << 10, PAGE_SIZE)
"""Block sizes tried from coarse to fine; 4 KiB matches the ext4 block size of stemcell root disks."""

Buffer = bytes | bytearray


@dataclass(frozen=True, slots=True)
class PageWrite:
    """One Put Page request: ``data`` goes to ``[offset, offset + len(data))``; both are 512-aligned."""

    offset: int
    data: bytes

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
    Each emitted write owns a copy of its bytes, so callers may drop or reuse their chunks.
    """

    def __init__(self, *, max_length: int = MAX_PUT_PAGE, max_gap: int = 0, gap_budget: float | None = None) -> None:
        if max_length <= 0 or max_length % PAGE_SIZE:
            raise ValueError(f"max_length must be a positive multiple of {PAGE_SIZE}, got {max_length}")
        if max_gap < 0:
            raise ValueError(f"max_gap must not be negative, got {max_gap}")
        self._max = max_length
        self._max_gap = max_gap
        self._gap_budget = gap_budget  # zero bytes sent may not exceed this fraction of the data bytes sent
        self._data_bytes = 0
        self._gap_bytes = 0
        self._zeros = {size: bytes(size) for size in _LEVELS}
        self._next = 0  # absolute offset the next chunk must start at
        self._carry = b""  # head of a page that straddles a chunk boundary
        self._parts: list[bytes] = []  # data of the open write
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
            pos = PAGE_SIZE - len(self._carry)
            page = self._carry + data[:pos]
            if len(page) < PAGE_SIZE:
                self._carry = page
                return out
            self._carry = b""
            base = offset + pos - PAGE_SIZE
            if page != self._zeros[PAGE_SIZE]:
                self._extend(out, page, base, 0, PAGE_SIZE)
        stop = pos + (len(data) - pos) // PAGE_SIZE * PAGE_SIZE
        for run_start, run_end in _nonzero_runs(data, pos, stop, self._zeros, 0):
            self._extend(out, data, offset, run_start, run_end)
        if stop < len(data):
            self._carry = bytes(data[stop:])
        return out

    def close(self) -> list[PageWrite]:
        """Flush the open write; raise ``ValueError`` if the stream did not end on a page boundary."""
        if self._carry:
            raise ValueError(f"stream length {self._next} is not a multiple of {PAGE_SIZE}")
        out: list[PageWrite] = []
        if self._parts:
            out.append(self._flush())
        return out

    def _extend(self, out: list[PageWrite], data: Buffer, base: int, start: int, end: int) -> None:
        """Append ``data[start:end]`` (absolute ``base + start``) to the open write, splitting at the cap."""
        if self._parts:
            gap = base + start - self._end
            if gap > self._max_gap or self._end - self._start + gap >= self._max or not self._affordable(gap):
                out.append(self._flush())
            elif gap:
                self._parts.append(bytes(gap))
                self._end += gap
                self._gap_bytes += gap
        while start < end:
            if not self._parts:
                self._start = self._end = base + start
            take = min(end - start, self._max - (self._end - self._start))
            self._parts.append(bytes(data[start : start + take]))
            self._end += take
            self._data_bytes += take
            start += take
            if self._end - self._start == self._max:
                out.append(self._flush())

    def _affordable(self, gap: int) -> bool:
        return self._gap_budget is None or self._gap_bytes + gap <= self._gap_budget * self._data_bytes

    def _flush(self) -> PageWrite:
        write = PageWrite(self._start, b"".join(self._parts))
        self._parts = []
        return write


def _nonzero_runs(
    data: Buffer, start: int, stop: int, zeros: dict[int, bytes], level: int
) -> Iterator[tuple[int, int]]:
    """Yield ``(start, end)`` runs of non-zero pages inside ``data[start:stop]`` (a whole number of pages)."""
    size = _LEVELS[level]
    if size == PAGE_SIZE:
        yield from _page_runs(data, start, stop, zeros[PAGE_SIZE])
        return
    zero = zeros[size]
    tail_zero = memoryview(zero)
    for block in range(start, stop, size):
        end = min(block + size, stop)
        if data.startswith(zero if end - block == size else tail_zero[: end - block], block, end):
            continue
        yield from _nonzero_runs(data, block, end, zeros, level + 1)


def _page_runs(data: Buffer, start: int, stop: int, zero_page: bytes) -> Iterator[tuple[int, int]]:
    run_start = -1
    for page in range(start, stop, PAGE_SIZE):
        if data.startswith(zero_page, page, page + PAGE_SIZE):
            if run_start >= 0:
                yield run_start, page
                run_start = -1
        elif run_start < 0:
            run_start = page
    if run_start >= 0:
        yield run_start, stop


def scan_writes(
    chunks: Iterable[tuple[int, Buffer]], *, max_length: int = MAX_PUT_PAGE, max_gap: int = 0
) -> Iterator[PageWrite]:
    """Yield the Put Page writes for sequential ``chunks`` (see :class:`PageScanner`)."""
    scanner = PageScanner(max_length=max_length, max_gap=max_gap)
    for offset, data in chunks:
        yield from scanner.feed(offset, data)
    yield from scanner.close()


def page_ranges(chunks: Iterable[tuple[int, Buffer]], *, max_length: int = MAX_PUT_PAGE) -> Iterator[tuple[int, int]]:
    """Yield the ``(offset, length)`` of each Put Page write for sequential ``chunks``."""
    for write in scan_writes(chunks, max_length=max_length):
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
