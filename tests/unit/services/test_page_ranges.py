"""Zero detection and Put Page coalescing: properties on random sparse buffers, plus edge cases."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bosh_azure_cpi.services.page_ranges import (
    MAX_PUT_PAGE,
    PAGE_SIZE,
    PageScanner,
    PageWrite,
    merge_ranges,
    page_ranges,
    scan_writes,
)

ZERO_PAGE = bytes(PAGE_SIZE)


@st.composite
def sparse_buffers(draw: st.DrawFn) -> bytes:
    """Zero and data runs at sub-page and multi-page sizes, padded to a whole number of pages."""
    rnd = random.Random(draw(st.integers(0, 2**32)))
    out = bytearray()
    for _ in range(draw(st.integers(0, 24))):
        kind = draw(st.sampled_from(["zeros", "data", "byte"]))
        length = draw(st.one_of(st.integers(1, 2 * PAGE_SIZE), st.integers(2 * PAGE_SIZE, 24 * PAGE_SIZE)))
        if kind == "zeros":
            out += bytes(length)
        elif kind == "data":
            out += rnd.randbytes(length)
        else:  # one non-zero byte at a random place inside zeros
            run = bytearray(length)
            run[rnd.randrange(length)] = rnd.randrange(1, 256)
            out += run
    out += bytes(-len(out) % PAGE_SIZE)
    return bytes(out)


@st.composite
def chunkings(draw: st.DrawFn, size: int) -> list[int]:
    """Sorted cut points (any byte position, not page-aligned) splitting ``size`` bytes into chunks."""
    cuts = draw(st.lists(st.integers(0, size), max_size=12))
    return sorted(set(cuts) | {0, size})


def chunks_of(data: bytes, cuts: list[int]) -> list[tuple[int, bytes]]:
    return [(a, data[a:b]) for a, b in itertools.pairwise(cuts)]


def nonzero_pages(data: bytes) -> set[int]:
    return {p for p in range(0, len(data), PAGE_SIZE) if data[p : p + PAGE_SIZE] != ZERO_PAGE}


def rebuild(writes: list[PageWrite], size: int) -> bytes:
    out = bytearray(size)
    for w in writes:
        out[w.offset : w.end] = w.data
    return bytes(out)


def assert_well_formed(writes: list[PageWrite], data: bytes, max_length: int) -> None:
    for w in writes:
        assert w.offset % PAGE_SIZE == 0 and w.length % PAGE_SIZE == 0
        assert 0 < w.length <= max_length
        assert w.data[:PAGE_SIZE] != ZERO_PAGE and w.data[-PAGE_SIZE:] != ZERO_PAGE  # never starts/ends with zeros
    for a, b in itertools.pairwise(writes):
        assert a.end <= b.offset  # sorted, non-overlapping
    assert rebuild(writes, len(data)) == data


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), sparse_buffers(), st.sampled_from([PAGE_SIZE, 3 * PAGE_SIZE, 4096, MAX_PUT_PAGE]))
def test_writes_cover_exactly_the_nonzero_pages_by_default(data: st.DataObject, buffer: bytes, max_length: int) -> None:
    cuts = data.draw(chunkings(len(buffer)))
    writes = list(scan_writes(chunks_of(buffer, cuts), max_length=max_length))

    assert_well_formed(writes, buffer, max_length)
    covered = {p for w in writes for p in range(w.offset, w.end, PAGE_SIZE)}
    assert covered == nonzero_pages(buffer)  # every non-zero byte sent, no all-zero page sent
    for a, b in itertools.pairwise(writes):
        assert a.end < b.offset or a.length == max_length  # adjacent pages are coalesced up to the cap


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), sparse_buffers(), st.sampled_from([4096, 64 << 10]))
def test_with_a_coarser_block_size_every_block_holding_data_is_sent_whole(
    data: st.DataObject, buffer: bytes, block_size: int
) -> None:
    cuts = data.draw(chunkings(len(buffer)))
    max_length = data.draw(st.sampled_from([4096, 3 * 4096, MAX_PUT_PAGE]))
    writes = list(scan_writes(chunks_of(buffer, cuts), max_length=max_length, block_size=block_size))

    assert rebuild(writes, len(buffer)) == buffer
    blocks = {b for b in range(0, len(buffer), block_size) if any(buffer[b : b + block_size])}
    covered = {p for w in writes for p in range(w.offset, w.end, PAGE_SIZE)}
    assert covered == {p for b in blocks for p in range(b, min(b + block_size, len(buffer)), PAGE_SIZE)}
    for w in writes:
        assert w.offset % PAGE_SIZE == 0 and 0 < w.length <= max_length
    for a, b in itertools.pairwise(writes):
        assert a.end < b.offset or a.length == max_length  # adjacent blocks are coalesced up to the cap
    assert list(scan_writes([(0, buffer)], max_length=max_length, block_size=block_size)) == writes


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), sparse_buffers(), st.sampled_from([PAGE_SIZE, 3 * PAGE_SIZE]))
def test_recycling_sent_writes_reuses_buffers_without_changing_any_write(
    data: st.DataObject, buffer: bytes, max_length: int
) -> None:
    cuts = data.draw(chunkings(len(buffer)))
    scanner, sent, buffers, most_views = PageScanner(max_length=max_length), [], set(), 0
    for offset, chunk in chunks_of(buffer, cuts):
        writes = scanner.feed(offset, chunk)
        views = {id(w.data.obj) for w in writes if isinstance(w.data, memoryview)}
        buffers, most_views = buffers | views, max(most_views, len(views))
        for write in writes:
            sent.append(PageWrite(write.offset, bytes(write.data)))  # what went on the wire, before recycling
            scanner.recycle(write)
    sent += scanner.close()

    assert sent == list(scan_writes(chunks_of(buffer, cuts), max_length=max_length))
    assert len(buffers) <= most_views + 1  # reused: the full writes of one chunk plus the open write's buffer


def test_full_writes_are_views_of_scanner_buffers_and_shorter_writes_are_copies() -> None:
    scanner = PageScanner(max_length=2 * PAGE_SIZE)
    (full,) = scanner.feed(0, b"\1" * (2 * PAGE_SIZE))
    assert isinstance(full.data, memoryview) and isinstance(full.data.obj, bytearray)

    scanner.recycle(full)
    (again,) = scanner.feed(2 * PAGE_SIZE, b"\3" * (2 * PAGE_SIZE))
    assert isinstance(again.data, memoryview) and again.data.obj is full.data.obj  # reused, not allocated
    assert again == PageWrite(2 * PAGE_SIZE, b"\3" * (2 * PAGE_SIZE))

    scanner.feed(4 * PAGE_SIZE, ZERO_PAGE + b"\2" * PAGE_SIZE)
    (short,) = scanner.close()
    assert isinstance(short.data, bytes) and short == PageWrite(5 * PAGE_SIZE, b"\2" * PAGE_SIZE)


def test_a_last_partial_block_is_sent_when_it_holds_data() -> None:
    buffer = b"\1" * PAGE_SIZE + bytes(4096 - PAGE_SIZE) + bytes(PAGE_SIZE) + b"\2" * PAGE_SIZE  # 4 KiB + 2 pages
    assert list(page_ranges([(0, buffer)], block_size=4096)) == [(0, 4096 + 2 * PAGE_SIZE)]
    assert list(page_ranges([(0, buffer[:-PAGE_SIZE] + ZERO_PAGE)], block_size=4096)) == [(0, 4096)]


@settings(max_examples=50, deadline=None)
@given(st.data(), sparse_buffers())
def test_result_does_not_depend_on_chunk_boundaries(data: st.DataObject, buffer: bytes) -> None:
    cuts = data.draw(chunkings(len(buffer)))
    assert list(scan_writes(chunks_of(buffer, cuts))) == list(scan_writes([(0, buffer)]))


def test_writes_are_capped_at_4_mib_when_data_is_dense() -> None:
    rnd = random.Random(7)
    buffer = rnd.randbytes(9 * 1024 * 1024 + 3 * PAGE_SIZE).replace(b"\0", b"\1")
    ranges = list(page_ranges([(0, buffer[: 5 << 20]), (5 << 20, buffer[5 << 20 :])]))
    assert ranges == [(0, MAX_PUT_PAGE), (MAX_PUT_PAGE, MAX_PUT_PAGE), (2 * MAX_PUT_PAGE, (1 << 20) + 3 * PAGE_SIZE)]


def test_zero_blocks_are_skipped_and_lone_bytes_found_when_buffer_is_mostly_zero() -> None:
    buffer = bytearray(24 << 20)
    buffer[0] = 1
    buffer[(20 << 20) + 700] = 2  # second page of a 4 KiB block
    buffer[-1] = 3
    ranges = list(page_ranges([(0, bytes(buffer[: 12 << 20])), (12 << 20, bytes(buffer[12 << 20 :]))]))
    assert ranges == [(0, PAGE_SIZE), ((20 << 20) + PAGE_SIZE, PAGE_SIZE), ((24 << 20) - PAGE_SIZE, PAGE_SIZE)]


def test_a_page_straddling_tiny_chunks_is_assembled() -> None:
    buffer = bytes(300) + b"\x09" + bytes(PAGE_SIZE - 301) + b"\x08" * PAGE_SIZE
    chunks = [(i, buffer[i : i + 7]) for i in range(0, len(buffer), 7)]
    assert list(scan_writes(chunks)) == [PageWrite(0, buffer)]


def test_feed_rejects_chunks_out_of_order() -> None:
    scanner = PageScanner()
    scanner.feed(0, bytes(PAGE_SIZE))
    with pytest.raises(ValueError, match="expected 512"):
        scanner.feed(1024, bytes(PAGE_SIZE))


def test_close_rejects_a_stream_that_ends_inside_a_page() -> None:
    scanner = PageScanner()
    scanner.feed(0, b"\1" * 700)
    with pytest.raises(ValueError, match="not a multiple of 512"):
        scanner.close()


@pytest.mark.parametrize(("max_length", "block_size"), [(0, PAGE_SIZE), (700, PAGE_SIZE), (PAGE_SIZE, 1024)])
def test_scanner_rejects_bad_settings(max_length: int, block_size: int) -> None:
    with pytest.raises(ValueError, match="max_length|block_size"):
        PageScanner(max_length=max_length, block_size=block_size)


def test_merge_ranges_sorts_and_joins_touching_and_overlapping_ranges() -> None:
    assert merge_ranges([(10, 20), (0, 5), (5, 8), (15, 30), (40, 50)]) == [(0, 8), (10, 30), (40, 50)]
    assert merge_ranges([]) == []
