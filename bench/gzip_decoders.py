"""Gzip decoders for stemcell images, and the zero-page scan: ``python -m bench.gzip_decoders [IMAGE]``.

Measures, on a stemcell ``image`` (gzip tar holding ``root.vhd``), best of ``--repeat`` runs:

1. raw inflate speed (MiB/s of output) of stdlib ``zlib``/``gzip``, ``isal`` (``isal_zlib``, ``igzip``) and
   ``zlib-ng`` (``zlib_ng``, ``gzip_ng``) - the optional ones only when installed;
2. the CPI's read pipeline per decoder: ``open_vhd`` + ``chunks(4 MiB)`` + ``PageScanner`` + ``finish``;
3. the zero-page scan alone (``PageScanner`` over the decompressed VHD held in memory).

Without IMAGE, ``--build DIR`` makes a realistic one: a 1 GiB raw disk whose ext4 file system (500 MiB at 1 MiB,
``mke2fs -t ext4 -d``) holds this Python's standard library without site-packages (~260 MiB: site-packages does
not fit in 500 MiB), the zero tail, a fixed-VHD footer; tarred and gzip'ed at level 6. About 24 % of its
512-byte pages are non-zero, like a real stemcell (10-30 %).
"""

from __future__ import annotations

import argparse
import gzip
import importlib
import shutil
import struct
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from bosh_azure_cpi.services import stemcell_image
from bosh_azure_cpi.services.page_ranges import EXT4_BLOCK, PageScanner

MIB = 1 << 20
READ = 128 << 10
OUT = 4 * MIB


def build_image(out_dir: Path, disk_size: int = 1 << 30) -> Path:
    """Write ``out_dir/image`` (see the module docstring) and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        tree, vhd = Path(tmp) / "tree", Path(tmp) / "root.vhd"
        stdlib = Path(sysconfig.get_paths()["stdlib"])
        shutil.copytree(stdlib, tree, ignore=shutil.ignore_patterns("site-packages"), symlinks=True)
        with vhd.open("wb") as f:
            f.truncate(disk_size)
        subprocess.run(
            ["mke2fs", "-t", "ext4", "-F", "-q", "-d", str(tree), "-E", "offset=1048576", str(vhd), "512000k"],
            check=True,
        )
        with vhd.open("ab") as f:
            f.write(_fixed_footer(disk_size))
        image = out_dir / "image"
        with gzip.open(image, "wb", compresslevel=6) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
            tar.add(vhd, arcname="root.vhd")
    return image


def _fixed_footer(size: int) -> bytes:
    footer = bytearray(512)
    struct.pack_into(">8sIIQI4sI4sQQIII", footer, 0, b"conectix", 2, 0x10000, 2**64 - 1, 0, b"bosh", 0x10000,
                     b"Wi2k", size, size, 0xFFFF10FF, 2, 0)  # fmt: skip
    struct.pack_into(">I", footer, 64, ~sum(footer) & 0xFFFFFFFF)
    return bytes(footer)


def _optional(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _inflate(factory: Callable[[int], Any], path: Path) -> int:
    total = 0
    with path.open("rb") as raw:
        dec = factory(31)
        while block := raw.read(READ):
            total += len(dec.decompress(block, OUT))
            while dec.unconsumed_tail:
                total += len(dec.decompress(dec.unconsumed_tail, OUT))
            if dec.eof:
                break
    return total


def _gzip_file(opener: Callable[..., Any], path: Path) -> int:
    total = 0
    with opener(path, "rb") as f:
        while data := f.read(OUT):
            total += len(data)
    return total


def _pipeline(factory: Callable[[int], Any], errors: tuple[type[Exception], ...], path: Path) -> int:
    saved = stemcell_image._decompressobj, stemcell_image._ZLIB_ERRORS
    stemcell_image._decompressobj, stemcell_image._ZLIB_ERRORS = factory, errors
    try:
        with stemcell_image.open_vhd(str(path)) as vhd:
            scanner = PageScanner(block_size=EXT4_BLOCK, buffers=4)
            for offset, data in vhd.chunks(OUT):
                for write in scanner.feed(offset, data):
                    scanner.recycle(write)  # as the uploader does once a write is sent
            scanner.close()
            vhd.finish()
            return vhd.size
    finally:
        stemcell_image._decompressobj, stemcell_image._ZLIB_ERRORS = saved


def candidates() -> dict[str, Callable[[Path], int]]:
    """Name -> measurement (returns bytes produced) for every decoder installed here."""
    runs: dict[str, Callable[[Path], int]] = {
        "inflate zlib (stdlib)": lambda p: _inflate(zlib.decompressobj, p),
        "gzip.open (stdlib)": lambda p: _gzip_file(gzip.open, p),
    }
    isal_zlib, igzip = _optional("isal.isal_zlib"), _optional("isal.igzip")
    if isal_zlib and igzip:
        runs["inflate isal"] = lambda p: _inflate(isal_zlib.decompressobj, p)
        runs["isal.igzip.open"] = lambda p: _gzip_file(igzip.open, p)
    zlib_ng, gzip_ng = _optional("zlib_ng.zlib_ng"), _optional("zlib_ng.gzip_ng")
    if zlib_ng and gzip_ng:
        runs["inflate zlib-ng"] = lambda p: _inflate(zlib_ng.decompressobj, p)
        runs["zlib_ng.gzip_ng.open"] = lambda p: _gzip_file(gzip_ng.open, p)
    runs["pipeline zlib (stdlib)"] = lambda p: _pipeline(zlib.decompressobj, (zlib.error,), p)
    if isal_zlib:
        runs["pipeline isal"] = lambda p: _pipeline(isal_zlib.decompressobj, (isal_zlib.error,), p)
    if zlib_ng:
        runs["pipeline zlib-ng"] = lambda p: _pipeline(zlib_ng.decompressobj, (zlib_ng.error,), p)
    return runs


def scan_speed(path: Path, repeat: int) -> tuple[float, int, int]:
    """(MiB/s, writes, bytes in writes) of PageScanner alone (exact 512-byte pages) over the VHD held in memory."""
    with stemcell_image.open_vhd(str(path)) as vhd:
        chunks = list(vhd.chunks(OUT))
        vhd.finish()
    best, writes, sent = float("inf"), 0, 0
    for _ in range(repeat):
        start = time.perf_counter()
        scanner = PageScanner()
        out = [w for offset, data in chunks for w in scanner.feed(offset, data)] + scanner.close()
        best = min(best, time.perf_counter() - start)
        writes, sent = len(out), sum(w.length for w in out)
    size = sum(len(data) for _, data in chunks)
    return size / MIB / best, writes, sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("image", nargs="?", type=Path, help="a stemcell image file (gzip tar with root.vhd)")
    parser.add_argument("--build", type=Path, metavar="DIR", help="build the realistic image in DIR first")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    image = build_image(args.build) if args.build else args.image
    if image is None:
        parser.error("give IMAGE or --build DIR")
    print(f"image {image}: {image.stat().st_size / MIB:.1f} MiB; CPI decoder: {stemcell_image.INFLATE_BACKEND}")
    baseline: dict[str, float] = {}
    for name, run in candidates().items():
        best, size = float("inf"), 0
        for _ in range(args.repeat):
            start = time.perf_counter()
            size = run(image)
            best = min(best, time.perf_counter() - start)
        speed = size / MIB / best
        base = baseline.setdefault(name.split()[0] if name.startswith("pipeline") else "raw", speed)
        print(f"{name:24s} {best:7.3f} s {speed:8.1f} MiB/s  x{speed / base:4.2f}")
    speed, writes, sent = scan_speed(image, args.repeat)
    print(f"zero-page scan alone     {speed:8.1f} MiB/s  ({writes} writes, {sent / MIB:.1f} MiB non-zero)")


if __name__ == "__main__":
    sys.exit(main())
