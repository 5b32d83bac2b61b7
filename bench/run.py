"""``make bench``: this project against the alternatives, side by side in one run; figures into JSON and Markdown.

``python -m bench.run [--smoke] [--size 3G] [--out bench/results] [--runs N] [--budget-min M]``

Order: fixtures (cached in ``bench/fixtures``), then start-up, ARM requests per call and concurrency against
one set of peers, then stemcell ingestion with what is left of the time budget (every pipeline runs once, repeats
only while they fit). Writes ``OUT/latest.json``; the Markdown goes to ``bench/RESULTS.md`` for a full run with
the default ``--out``, else to ``OUT/RESULTS.md`` (``--smoke`` never touches ``bench/RESULTS.md``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import fixtures
from bench.arm_requests import WEST, CpiSetup, bench_arm_requests
from bench.concurrency import bench_concurrency
from bench.ingest import IngestPlan, bench_ingest
from bench.report import evaluate, render_markdown, write_json
from bench.startup import ROOT, bench_startup

MIB = 1 << 20
BENCH = ROOT / "bench"
DEFAULT_OUT = BENCH / "results"


@dataclass(frozen=True, slots=True)
class Settings:
    """Sizes and repetitions of one mode."""

    size: int
    rss_sizes: tuple[int, int]
    runs: int
    startup_runs: int
    has_vm_runs: int
    processes: int
    probe_bytes: int
    budget_s: float
    call_size: int = 16 * MIB  # stemcells of the ARM and concurrency benchmarks


FULL = Settings(3 << 30, (512 * MIB, 3 << 30), 3, 20, 20, 20, 512 * MIB, 12.5 * 60)
SMOKE = Settings(32 * MIB, (16 * MIB, 64 * MIB), 1, 3, 1, 2, 32 * MIB, 120)


PACKAGES = ("azure-storage-blob", "azure-core", "zlib-ng", "azure-mgmt-compute", "azure-identity")


def _first(path: str, prefix: str) -> str:
    try:
        with open(path) as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith(prefix)), "?")
    except OSError:
        return "?"


def _command(*argv: str) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=30).stdout.strip() or "?"
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def machine_info(root: Path) -> dict[str, Any]:
    """Cores, CPU model, RAM, load, Python, package versions, Node and Azurite versions."""
    versions: dict[str, str] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    try:
        azurite = json.loads((root / "tools/node/node_modules/azurite/package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        azurite = "?"
    mem_kib = _first("/proc/meminfo", "MemTotal").split()[0]
    return {
        "cores": os.cpu_count(),
        "cpu_model": _first("/proc/cpuinfo", "model name"),
        "ram_gib": round(int(mem_kib) / (1 << 20), 1) if mem_kib.isdigit() else None,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "kernel": platform.release(),
        "python": platform.python_version(),
        "packages": versions,
        "node": _command("node", "--version"),
        "azurite": azurite,
    }


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="small and quick: the variant `make test` runs")
    parser.add_argument("--size", type=fixtures.parse_size, help="VHD size of the ingestion fixture (default 3G)")
    parser.add_argument("--out", type=Path, help="results folder (default bench/results, smoke: bench/results/smoke)")
    parser.add_argument("--runs", type=int, help="rounds of the ingestion pipelines (default 3, smoke 1)")
    parser.add_argument("--budget-min", type=float, help="time budget in minutes (default 12.5)")
    parser.add_argument("--fixtures", type=Path, help="fixture cache (default bench/fixtures)")
    return parser.parse_args(argv)


def _settings(args: argparse.Namespace) -> Settings:
    base = SMOKE if args.smoke else FULL
    size = args.size or base.size
    rss = base.rss_sizes if args.smoke or size == base.size else (min(base.rss_sizes[0], size // 2), size)
    return dataclasses.replace(
        base,
        size=size,
        rss_sizes=rss,
        runs=args.runs or base.runs,
        budget_s=args.budget_min * 60 if args.budget_min else base.budget_s,
    )


def _fixtures(folder: Path, settings: Settings) -> dict[str, fixtures.StemcellFixture]:
    def build(size: int, version: str = fixtures.DEFAULT_VERSION) -> fixtures.StemcellFixture:
        started = time.monotonic()
        fixture = fixtures.build_stemcell(folder, size, version=version)
        how = "reused" if fixture.reused else f"built in {time.monotonic() - started:.1f} s"
        print(f"fixture {size // MIB} MiB (version {version}): {how}", flush=True)
        return fixture

    main = build(settings.size)
    small, large = (main if size == settings.size else build(size) for size in settings.rss_sizes)
    return {
        "main": main, "small": small, "large": large,
        "calls": build(settings.call_size), "concurrency": build(settings.call_size, "1.182"),
    }  # fmt: skip


def _call_benchmarks(work: Path, built: dict[str, fixtures.StemcellFixture], settings: Settings) -> dict[str, Any]:
    """Start-up, ARM requests and concurrency against one set of peers."""
    from tests.peers import cpi_config, running_peers, write_cpi_config

    results: dict[str, Any] = {}
    with running_peers(work / "peers") as peers:
        threads = {"parallel_upload_thread_num": 16}
        east = write_cpi_config(work / "east.json", cpi_config(peers, **threads))
        west = write_cpi_config(work / "west.json", cpi_config(peers, location=WEST, **threads))
        setup = CpiSetup(peers=peers, east=east, west=west, stemcell=built["calls"], workdir=work / "calls")
        for name, run in (
            ("startup", lambda: bench_startup(east, work / "startup", settings.startup_runs, settings.has_vm_runs)),
            ("arm_requests", lambda: bench_arm_requests(setup)),
            ("concurrency", lambda: bench_concurrency(setup, built["concurrency"], settings.processes)),
        ):
            started = time.monotonic()
            results[name] = run()
            print(f"{name}: {time.monotonic() - started:.1f} s", flush=True)
    return results


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run every benchmark; return the results document (targets evaluated)."""
    started, load_start = time.monotonic(), [round(x, 2) for x in os.getloadavg()]
    settings = _settings(args)
    built = _fixtures(args.fixtures or BENCH / "fixtures", settings)
    main = built["main"]
    results: dict[str, Any] = {"fixture": {k: v for k, v in dataclasses.asdict(main).items() if k != "reused"}}
    with tempfile.TemporaryDirectory(prefix="bosh-azure-cpi-bench-") as tmp:
        work = Path(tmp)
        results.update(_call_benchmarks(work, built, settings))
        plan = IngestPlan(
            fixture=main, rss_sizes=(built["small"], built["large"]), workdir=work / "ingest", runs=settings.runs,
            deadline=started + settings.budget_s, probe_bytes=settings.probe_bytes,
        )  # fmt: skip
        results["ingestion"] = bench_ingest(plan, lambda line: print(line, flush=True))
    results["machine"] = machine_info(ROOT)
    results["targets"] = evaluate(results)
    command = "make bench-smoke" if args.smoke else "make bench"
    results["meta"] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "mode": "smoke" if args.smoke else "full",
        "command": command, "duration_s": round(time.monotonic() - started, 1), "load_start": load_start,
    }  # fmt: skip
    return results


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN/Infinity
    return str(value) if isinstance(value, Path) else value


def main(argv: list[str] | None = None) -> int:
    """Run, write ``latest.json`` and the Markdown, print the target table."""
    logging.basicConfig(level=logging.WARNING)
    args = _parse(argv)
    raw = run(args)
    results = _json_safe(raw)
    out = args.out or (DEFAULT_OUT / "smoke" if args.smoke else DEFAULT_OUT)
    write_json(results, out / "latest.json")
    markdown = BENCH / "RESULTS.md" if not args.smoke and args.out is None else out / "RESULTS.md"
    markdown.write_text(render_markdown(raw))  # NaN shows as "nan" here, null in the JSON
    for row in results["targets"]:
        print(f"{row['status']:4s}  {row['target']}: {row['measured']} (goal {row['goal']})")
    print(f"wrote {out / 'latest.json'} and {markdown} in {results['meta']['duration_s'] / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
