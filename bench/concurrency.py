"""Benchmark 4: N concurrent ``bin/cpi create_vm`` for a region the image is not replicated to yet.

A fresh stemcell (its own version, so only its first region, eastus, holds it) is created; then N processes
start at once, each creating a VM in westus2 (config ``location: westus2``, subnet ``westnet/bosh``, its own
static IP). Measured: gallery image version writes (PUT/PATCH on ``.../versions/<v>``; the CPI's blob lease
should make that exactly 1), failed calls, total wall time and per-call times.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench.arm_requests import ENV, INSTANCE, WEST_NET, CpiSetup, networks, vm_support
from bench.fixtures import StemcellFixture
from bench.report import stat
from bench.startup import ProcessRun, cpi_result, run_cpi

_VERSION_WRITE = ("PUT", "PATCH")


def _version_writes(entries: list[Any]) -> list[str]:
    return [
        f"{e.method} {e.path}"
        for e in entries
        if e.kind == "arm" and e.method in _VERSION_WRITE and "/images/" in e.path and "/versions/" in e.path
    ]


def bench_concurrency(setup: CpiSetup, fixture: StemcellFixture, processes: int) -> dict[str, Any]:
    """Figures of ``processes`` concurrent create_vm calls; ``fixture`` is a stemcell not created before."""
    reason = vm_support(setup.peers)
    if reason is not None:
        return {"not_available": reason, "processes": processes}
    props = fixture.cloud_properties
    created = run_cpi(setup.east, "create_stemcell", [str(fixture.image), props], setup.workdir / "stemcell")
    stemcell, error = cpi_result(created)
    if error is not None:
        return {"not_available": f"create_stemcell failed: {error.get('message')}", "processes": processes}
    log = setup.peers.emulator.requests
    mark = log.mark()

    def create(index: int) -> ProcessRun:
        arguments = [str(uuid.uuid4()), stemcell, INSTANCE, networks(WEST_NET, 20 + index), [], ENV]
        return run_cpi(setup.west, "create_vm", arguments, setup.workdir / f"vm-{index}")

    started = time.perf_counter()
    with ThreadPoolExecutor(processes) as pool:
        runs = list(pool.map(create, range(processes)))
    total = time.perf_counter() - started
    errors = [error for _, error in map(cpi_result, runs) if error is not None]
    entries = log.since(mark)
    writes = _version_writes(entries)
    return {
        "processes": processes,
        "gallery_version_updates": len(writes),
        "update_routes": writes,
        "failures": len(errors),
        "errors": sorted({f"{e.get('type')}: {str(e.get('message'))[:300]}" for e in errors}),
        "total_s": round(total, 3),
        "call_s": stat(r.seconds for r in runs).as_dict(),
        "arm_requests": sum(1 for e in entries if e.kind == "arm"),
        "polls": sum(1 for e in entries if e.kind == "poll"),
    }
