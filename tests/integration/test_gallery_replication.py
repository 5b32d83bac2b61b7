"""Replicating a gallery image version from many CPI processes at once: one update, every process served.

Each worker is a separate Python process running the production services for the peers' config (what
``create_vm`` does to find its image): ``build_services(load_config(path), Deadline(600)).stemcells.resolve(cid,
region)``. Workers build their services, report ``ready`` and block on stdin, so all of them start resolving at the
same moment. The emulator keeps the replication running until every worker but the lock holder has reported that
it is waiting for the version's lock; then the test ends the replication. So the overlap is certain, not timed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from bench import fixtures
from tests import peers as P  # noqa: N812 - short alias for the harness

WORKERS = 8
MIB = 1024 * 1024
WAIT = 180.0  # safety net for each wait below; never reached when the code is right
WAITING = "is held by another CPI process; waiting"
NEVER = 10**6  # emulator polls per region: replication ends only when the test ends it

WORKER = """
import json, logging, sys
from bosh_azure_cpi.config import load_config
from bosh_azure_cpi.models.cids import StemcellCid
from bosh_azure_cpi.models.deadline import Deadline
from bosh_azure_cpi.wiring import build_services

logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s: %(message)s")
logging.getLogger("bosh_azure_cpi").setLevel(logging.INFO)
config_path, cid, region = sys.argv[1:]
stemcells = build_services(load_config(config_path), Deadline(600)).stemcells
print("ready", flush=True)
sys.stdin.readline()
image = stemcells.resolve(StemcellCid.parse(cid), region)
print(json.dumps({"image_id": image.image_id}), flush=True)
"""


class Worker:
    """One resolving process; its stdout and stderr are read by threads so nothing blocks."""

    def __init__(self, config: Path, cid: str, region: str, workdir: Path, waits: threading.Semaphore) -> None:
        (workdir / "tmp").mkdir(parents=True, exist_ok=True)
        env = {"PATH": P.DIRECTOR_PATH, "TMPDIR": str(workdir / "tmp"), "HOME": str(workdir)}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(config), cid, region],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=workdir,
            start_new_session=True,
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self.ready = threading.Event()
        self.waited = False
        self._waits = waits
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout, self.stdout), daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, self.stderr), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: Any, lines: list[str]) -> None:
        with stream:
            for raw in stream:
                line = raw.decode(errors="replace").rstrip("\n")
                lines.append(line)
                if line == "ready":
                    self.ready.set()
                if WAITING in line and not self.waited:
                    self.waited = True
                    self._waits.release()

    def go(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"go\n")
        self.proc.stdin.close()

    def finish(self) -> dict[str, Any]:
        """Wait for the process; its result, or an assertion error with its stderr."""
        self.proc.wait(timeout=WAIT)
        for reader in self._readers:
            reader.join(WAIT)
        results = [line for line in self.stdout if line.startswith("{")]
        assert self.proc.returncode == 0 and results, "\n".join(self.stderr[-40:])
        return dict(json.loads(results[-1]))

    def kill(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        assert self.proc.stdin is not None
        if not self.proc.stdin.closed:
            self.proc.stdin.close()
        for reader in self._readers:
            reader.join(WAIT)


class Pool:
    """Workers started together; ``waits`` counts the workers that found the lock taken."""

    def __init__(self, count: int, config: Path, cid: str, region: str, workdir: Path) -> None:
        self.waits = threading.Semaphore(0)
        self.workers = [Worker(config, cid, region, workdir / f"worker-{i}", self.waits) for i in range(count)]

    def waiting(self, count: int) -> int:
        """Wait until ``count`` workers have queued for the lock (at most WAIT seconds in all); how many did."""
        end = time.monotonic() + WAIT
        return sum(1 for _ in range(count) if self.waits.acquire(timeout=max(0.0, end - time.monotonic())))


@contextlib.contextmanager
def workers(count: int, config: Path, cid: str, region: str, workdir: Path) -> Any:
    pool = Pool(count, config, cid, region, workdir)
    started = pool.workers
    try:
        for worker in started:
            assert worker.ready.wait(WAIT), "\n".join(worker.stderr[-40:])
        yield pool
    finally:
        for worker in started:
            worker.kill()


def resolve_once(config: Path, cid: str, region: str, workdir: Path) -> dict[str, Any]:
    with workers(1, config, cid, region, workdir) as pool:
        [worker] = pool.workers
        worker.go()
        return worker.finish()


@pytest.fixture(scope="module")
def fixture_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("replication-fixtures")


def create_stemcell(cpi: Any, directory: Path, version: str) -> tuple[str, str]:
    """Upload a small stemcell; returns its CID and the image version's resource path."""
    fx = fixtures.build_stemcell(directory, 8 * MIB, version=version, compresslevel=1)
    cid = cpi("create_stemcell", str(fx.image), fx.cloud_properties).unwrap()
    path = (
        f"/subscriptions/{P.SUBSCRIPTION_ID}/resourceGroups/{P.RESOURCE_GROUP}/providers/Microsoft.Compute"
        f"/galleries/{P.GALLERY}/images/{fx.cloud_properties['name']}/versions/{version}.0"
    )
    return cid, path


def writes(peers: P.Peers, path: str, since: int) -> dict[str, int]:
    pattern = re.escape(path) + "$"
    return {method: peers.emulator.requests.count(method, pattern, since=since) for method in ("PUT", "PATCH")}


def publishing(peers: P.Peers, path: str) -> dict[str, Any]:
    resource = peers.emulator.resource(path)
    assert resource is not None
    profile = resource["properties"]["publishingProfile"]
    return {
        "regions": sorted(t["name"].replace(" ", "").lower() for t in profile["targetRegions"]),
        "replicas": profile["replicaCount"],
    }


def test_concurrent_resolves_replicate_to_a_new_region_exactly_once(cpi, peers, fixture_dir, tmp_path):
    cid, path = create_stemcell(cpi, fixture_dir, "91.0")
    assert publishing(peers, path) == {"regions": ["eastus"], "replicas": 3}
    mark = peers.emulator.requests.mark()
    peers.emulator.knobs.replication_polls_per_region = NEVER  # reset by the cpi fixture

    with workers(WORKERS, cpi.config_path, cid, "westus2", tmp_path) as pool:
        for worker in pool.workers:
            worker.go()
        waiting = pool.waiting(WORKERS - 1)  # everyone but the lock holder queues behind the replication
        peers.emulator.complete_operations()
        results = [worker.finish() for worker in pool.workers]

    assert waiting == WORKERS - 1
    assert sum(worker.waited for worker in pool.workers) == WORKERS - 1
    assert [result["image_id"].lower() for result in results] == [path.lower()] * WORKERS
    assert writes(peers, path, mark) == {"PUT": 0, "PATCH": 1}
    assert publishing(peers, path) == {"regions": ["eastus", "westus2"], "replicas": 3}


def test_a_changed_replica_count_is_applied_once_on_the_next_resolve(cpi, peers, fixture_dir, tmp_path):
    cid, path = create_stemcell(cpi, fixture_dir, "92.0")
    fewer = cpi.with_config(compute_gallery_replicas=2).config_path

    mark = peers.emulator.requests.mark()
    first = resolve_once(fewer, cid, "eastus", tmp_path / "first")
    assert writes(peers, path, mark) == {"PUT": 0, "PATCH": 1}
    assert publishing(peers, path) == {"regions": ["eastus"], "replicas": 2}

    mark = peers.emulator.requests.mark()
    second = resolve_once(fewer, cid, "eastus", tmp_path / "second")
    assert writes(peers, path, mark) == {"PUT": 0, "PATCH": 0}
    assert first == second and first["image_id"].lower() == path.lower()
