"""Realistic BOSH Azure stemcell fixtures: ``python -m bench.fixtures --size 3G``.

The stemcell tarball (a .tgz of stored deflate blocks) holds ``stemcell.MF`` and ``image``: a gzip tar (deflated at
``compresslevel`` on all cores) holding only ``root.vhd``. That is a fixed VHD: a sparse MBR disk with one Linux
partition at 1 MiB holding ext4 (``mke2fs -d``: no root, no loop device), then the 512-byte VHD footer. The file
system holds this machine's Python installation as /usr/local, trimmed to the budget (FILL_RATIO of the file
system) and topped up with generated files from a fixed seed. Builds are cached in ``out_dir`` under a key of every
parameter and GENERATOR_VERSION.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import logging
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from bench.disk_image import MIB, PARTITION_OFFSET, SECTOR, mbr, pack_tar, vhd_footer

logger = logging.getLogger(__name__)

GENERATOR_VERSION = 1
KIB, GIB = 1 << 10, 1 << 30
MIN_SIZE = 8 * MIB
FILL_RATIO = 0.55
DEFAULT_NAME = "bosh-azure-hyperv-ubuntu-jammy-go_agent"
DEFAULT_VERSION = "1.181"
DEFAULT_OUT = Path(__file__).resolve().parent / "fixtures"
_BLOCK = 4 * KIB  # ext4 block: the unit of the content budget
_OUTER_LEVEL = 0  # stored deflate blocks: ``image`` is compressed already; gzip -6 gains < 1 % for ~20 s CPU/GiB
_META = "fixture.json"


class FixtureError(RuntimeError):
    """A fixture could not be built (bad parameters, missing or failing mke2fs)."""


@dataclasses.dataclass(frozen=True, slots=True)
class StemcellFixture:
    """A built stemcell: artefact paths, sizes, hashes of ``image`` and the non-zero payload of ``root.vhd``."""

    tarball: Path
    image: Path
    manifest: Path
    vhd_size: int  # root.vhd bytes: virtual size + 512-byte footer
    image_size: int
    tarball_size: int
    nonzero_sector_bytes: int  # bytes in 512-byte sectors holding a non-zero byte (what a page blob stores)
    nonzero_block_bytes: int  # bytes in 4 KiB blocks holding a non-zero byte (what the CPI sends)
    nonzero_bytes: int  # literal non-zero bytes
    image_sha1: str
    image_sha256: str
    file_count: int
    build_seconds: float
    cloud_properties: dict[str, Any]
    reused: bool = False


# --- disk structures -------------------------------------------------------------------------------------------


# --- file system content ---------------------------------------------------------------------------------------


def _cost(size: int) -> int:
    return -(-size // _BLOCK) * _BLOCK + 256  # whole blocks + an inode


def _link(src: str, dst: Path) -> None:
    if os.path.islink(src):
        os.symlink(os.readlink(src), dst)
        return
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _stage_tree(source: Path, dest: Path, budget: int, max_files: int) -> int:
    """Hard-link (or copy) files of ``source`` into ``dest`` in sorted order while they fit; return the cost."""
    used = count = 0
    for top, dirs, files in os.walk(source):
        dirs.sort()
        target, made = dest / os.path.relpath(top, source), False
        for name in sorted(files + [d for d in dirs if os.path.islink(os.path.join(top, d))]):
            src = os.path.join(top, name)
            cost = _cost(0 if os.path.islink(src) else os.lstat(src).st_size) + (0 if made else _BLOCK)
            if used + cost <= budget and count < max_files:
                target.mkdir(parents=True, exist_ok=True)
                _link(src, target / name)
                used, count, made = used + cost, count + 1, True
        if budget - used < 2 * _BLOCK or count >= max_files:
            break
    return used


def _content(rng: random.Random, corpus: bytes, kind: int, size: int) -> bytes:
    """Text (kind 0), binary-like text, random bytes and zero runs (1) or random bytes (2)."""
    if kind == 2:
        return rng.randbytes(size)
    parts: list[bytes] = []
    total = 0
    while total < size:
        offset = rng.randrange(len(corpus) - 4 * KIB)
        part = corpus[offset : offset + rng.randint(1, 8) * 512]
        if kind == 1:
            part += rng.randbytes(rng.randint(256, 4 * KIB)) + bytes(rng.randint(0, 2 * KIB))
        parts.append(part)
        total += len(part)
    return b"".join(parts)[:size]


def _generate_tree(dest: Path, budget: int, seed: int = 1181) -> None:
    """Files with a stemcell-like size and content mix (fixed seed) until about ``budget`` bytes of ext4."""
    rng = random.Random(seed)
    vocab = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz_", k=rng.randint(2, 10))) for _ in range(4096)]
    words = rng.choices(vocab, k=160_000)
    corpus = "\n".join(" ".join(words[i : i + 12]) for i in range(0, len(words), 12)).encode()
    used = count = 0
    while budget - used >= 2 * _BLOCK:
        roll = rng.random()  # 70 % small files, 25 % medium, 5 % large
        low, high = (7, 14) if roll < 0.7 else (14, 20) if roll < 0.95 else (20, 25)
        size = min(int(2 ** rng.uniform(low, high)), budget - used - _BLOCK)
        path = dest / f"pkg-{count // 64:04d}" / f"blob-{count:06d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_content(rng, corpus, rng.choices((0, 1, 2), weights=(5, 3, 2))[0], size))
        used += _cost(size)
        count += 1


# --- build pipeline --------------------------------------------------------------------------------------------


def _build_vhd(vhd: Path, size: int, tree: Path) -> None:
    """Sparse raw disk, ext4 (from ``tree``) at 1 MiB, MBR, then the fixed VHD footer."""
    mke2fs = shutil.which("mke2fs") or shutil.which("mke2fs", path="/usr/sbin:/sbin")
    if mke2fs is None:
        raise FixtureError("mke2fs not found: install e2fsprogs (1.43 or newer, for -d and -E offset)")
    with vhd.open("wb") as f:
        f.truncate(size)
    options = f"offset={PARTITION_OFFSET},root_owner=0:0,nodiscard"
    fs_size = f"{(size - PARTITION_OFFSET) // KIB}k"
    cmd = [mke2fs, "-t", "ext4", "-F", "-q", "-d", str(tree), "-E", options, str(vhd), fs_size]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise FixtureError(f"mke2fs failed ({result.returncode}): {(result.stderr or result.stdout).strip()}")
    with vhd.open("r+b") as f:
        f.write(mbr(size, int.from_bytes(os.urandom(4))))
        f.seek(size)
        f.write(vhd_footer(size, os.urandom(16), int(time.time())))


def cloud_properties(
    name: str, version: str, size: int, generation: str, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Azure stemcell ``cloud_properties``; gen2 adds generation, NVMe and accelerated networking.

    ``extra`` overrides keys; a None value removes the key.
    """
    props: dict[str, Any] = {
        "name": name, "version": version, "infrastructure": "azure", "hypervisor": "hyperv",
        "disk": size // MIB, "disk_format": "vhd", "container_format": "bare", "os_type": "linux",
        "os_distro": "ubuntu", "architecture": "x86_64", "root_device_name": "/dev/sda1",
    }  # fmt: skip
    if generation == "gen2":
        props.update(generation="gen2", disk_controller_types=["scsi", "nvme"], accelerated_networking=True)
    props.update(extra or {})
    return {key: value for key, value in props.items() if value is not None}


def tarball_name(name: str, version: str) -> str:
    """``bosh-stemcell-<version>-azure-hyperv-ubuntu-jammy-go_agent.tgz`` for the default name."""
    return f"bosh-stemcell-{version}-{name.removeprefix('bosh-')}.tgz"


def _populate(stage: Path, budget: int) -> int:
    """Fill ``stage`` with the Python installation as /usr/local, then generated files; return the file count."""
    base = Path(sys.base_prefix)
    max_files = budget // 16 // KIB  # mke2fs makes an inode per 16 KiB (or 4 KiB below 512 MiB)
    used = _stage_tree(base, stage / "usr" / "local", budget, max_files) if (base / "lib").is_dir() else 0
    if budget - used >= 64 * KIB:
        _generate_tree(stage / "var" / "vcap" / "data" / "blobs", budget - used)
    return sum(len(files) for _, _, files in os.walk(stage))


def _build(work: Path, size: int, props: dict[str, Any], tree: Path | None, level: int) -> dict[str, Any]:
    """Build every artefact into ``work``; return the fixture's JSON record (file names, not paths)."""
    started = time.monotonic()
    stage, vhd, image, manifest = work / "tree", work / "root.vhd", work / "image", work / "stemcell.MF"
    if tree is None:
        files = _populate(stage, int((size - PARTITION_OFFSET) * FILL_RATIO))
    else:
        files = sum(len(names) for _, _, names in os.walk(tree))
    logger.info("%.1f s: making the %d MiB file system", time.monotonic() - started, size // MIB)
    _build_vhd(vhd, size, tree or stage)
    shutil.rmtree(stage, ignore_errors=True)
    with ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        logger.info("%.1f s: packing image", time.monotonic() - started)
        gz, (sector_bytes, block_bytes, nonzero_bytes) = pack_tar(image, [vhd], level, pool)
        vhd_size = vhd.stat().st_size
        vhd.unlink()
        doc = {
            "name": props["name"], "version": props["version"], "bosh_protocol": "1", "api_version": 3,
            "sha1": gz.sha1.hexdigest(), "operating_system": "ubuntu-jammy", "stemcell_formats": ["azure-vhd"],
            "cloud_properties": props,
        }  # fmt: skip
        manifest.write_text(yaml.safe_dump(doc, sort_keys=False))
        tarball = work / tarball_name(props["name"], props["version"])
        logger.info("%.1f s: packing the stemcell tarball", time.monotonic() - started)
        pack_tar(tarball, [manifest, image], _OUTER_LEVEL, pool)
    return {
        "tarball": tarball.name, "image": image.name, "manifest": manifest.name, "vhd_size": vhd_size,
        "image_size": image.stat().st_size, "tarball_size": tarball.stat().st_size,
        "nonzero_sector_bytes": sector_bytes, "nonzero_block_bytes": block_bytes, "nonzero_bytes": nonzero_bytes,
        "image_sha1": doc["sha1"], "image_sha256": gz.sha256.hexdigest(), "file_count": files,
        "build_seconds": round(time.monotonic() - started, 3), "cloud_properties": props,
    }  # fmt: skip


def _load(folder: Path) -> StemcellFixture | None:
    """The fixture cached in ``folder``, or None if absent or incomplete."""
    try:
        record = json.loads((folder / _META).read_text())
        paths = {field: folder / record.pop(field) for field in ("tarball", "image", "manifest")}
        fixture = StemcellFixture(**paths, **record, reused=True)
        complete = fixture.image.stat().st_size == fixture.image_size and fixture.tarball.is_file()
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return fixture if complete else None


def build_stemcell(  # noqa: PLR0913 - keyword-only knobs of the fixture
    out_dir: Path,
    size_bytes: int,
    *,
    name: str = DEFAULT_NAME,
    version: str = DEFAULT_VERSION,
    tree: Path | None = None,
    generation: str = "gen1",
    extra_cloud_properties: dict[str, Any] | None = None,
    compresslevel: int = 6,
) -> StemcellFixture:
    """Build (or reuse from ``out_dir``) a stemcell whose root.vhd has a virtual size of ``size_bytes``.

    ``size_bytes`` must be a whole number of MiB, at least 8 MiB. ``tree`` is used as the file system content
    as-is; by default the content is the trimmed Python installation plus generated files.
    """
    if size_bytes % MIB or size_bytes < MIN_SIZE:
        raise FixtureError(f"size must be a whole number of MiB, at least 8 MiB, not {size_bytes}")
    if generation not in ("gen1", "gen2"):
        raise FixtureError(f"generation must be gen1 or gen2, not {generation!r}")
    if tree is not None and not Path(tree).is_dir():
        raise FixtureError(f"the tree {tree} is not a directory")
    props = cloud_properties(name, version, size_bytes, generation, extra_cloud_properties)
    source = str(Path(tree).resolve()) if tree else f"default:{sys.base_prefix}"
    spec = [GENERATOR_VERSION, size_bytes, source, compresslevel, props]
    key = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()
    folder = Path(out_dir) / f"{tarball_name(name, version).removesuffix('.tgz')}-{key[:12]}"
    if (cached := _load(folder)) is not None:
        return cached
    shutil.rmtree(folder, ignore_errors=True)  # an incomplete earlier build
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=folder.parent))
    try:
        record = _build(work, size_bytes, props, tree, compresslevel)
        (work / _META).write_text(json.dumps(record, indent=2))
        work.rename(folder)  # atomic publication; fails if a concurrent build published first
    except OSError:
        if not folder.is_dir():
            raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    fixture = _load(folder)
    if fixture is None:
        raise FixtureError(f"the fixture in {folder} is incomplete")
    return dataclasses.replace(fixture, reused=False)


def parse_size(text: str) -> int:
    """``3G``, ``64M``, ``512MiB``, ``1048576``: binary units."""
    match = re.fullmatch(r"\s*(\d+)\s*([KMGT]?)(?:i?B)?\s*", text, re.IGNORECASE)
    if match is None:
        raise argparse.ArgumentTypeError(f"not a size: {text!r}")
    return int(match[1]) << (10 * " KMGT".index(match[2].upper() or " "))


def report(fixture: StemcellFixture) -> str:
    """Human-readable summary of a fixture."""

    def size(n: int) -> str:
        return f"{n / GIB:.2f} GiB" if n >= GIB else f"{n / MIB:.1f} MiB"

    sectors, vhd = fixture.nonzero_sector_bytes, fixture.vhd_size
    reused = " (reused from the cache)" if fixture.reused else ""
    return "\n".join((
        f"stemcell  {fixture.tarball} ({size(fixture.tarball_size)})",
        f"root.vhd  {size(vhd)}: {(vhd - SECTOR) // MIB} MiB virtual + 512-byte footer",
        f"image     {size(fixture.image_size)} gzip tar, sha256 {fixture.image_sha256}",
        f"non-zero  {size(sectors)} ({sectors} bytes, {100 * sectors / vhd:.1f} %) in 512-byte sectors with data; "
        f"{size(fixture.nonzero_block_bytes)} in 4 KiB blocks with data; "
        f"{size(fixture.nonzero_bytes)} ({fixture.nonzero_bytes} bytes) literal non-zero bytes",
        f"files     {fixture.file_count} in the file system tree",
        f"built in  {fixture.build_seconds:.1f} s{reused}",
    ))  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Build a stemcell fixture and print its report; exit status 1 on a FixtureError."""
    parser = argparse.ArgumentParser(prog="python -m bench.fixtures", description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=parse_size, default=3 * GIB, help="virtual disk size, e.g. 3G (default)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default bench/fixtures)")
    parser.add_argument("--name", default=DEFAULT_NAME)
    parser.add_argument("--version", default=DEFAULT_VERSION)
    parser.add_argument("--tree", type=Path, help="file system content to use as-is instead of the default")
    parser.add_argument("--generation", choices=("gen1", "gen2"), default="gen1")
    parser.add_argument("--compresslevel", type=int, choices=range(10), default=6, metavar="0-9")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        fixture = build_stemcell(
            args.out, args.size, name=args.name, version=args.version, tree=args.tree,
            generation=args.generation, compresslevel=args.compresslevel,
        )  # fmt: skip
    except FixtureError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(report(fixture))
    return 0


if __name__ == "__main__":
    sys.exit(main())
