"""Benchmark 1: stemcell ingestion — the CPI's upload path against the scripted alternative and the lower bound.

Every upload runs in its own process (its peak RSS is its own, read with ``wait4``), and every request byte is
counted on the wire: by a :class:`bench.sink.CountingRelay` in front of a fresh Azurite per upload (so Azurite's
memory and metadata never carry over), or by the :class:`bench.sink.DiscardSink`. Pipelines:

* ``cpi_call`` — ``bin/cpi create_stemcell`` against fresh peers (upload + gallery image version);
  ``upload_window_s`` is Put Blob to Set Metadata as seen on the wire.
* ``cpi`` — the CPI's upload pipeline alone (``python -m bench.ingest cpi``): ``open_vhd`` + ``PageBlobUploader``
  with ``threads = parallel_upload_thread_num`` (16) on a ``BlobClient`` built with the CPI's own pipeline options
  (``AzureClients.pipeline_options(CpiStorageRetryPolicy)``, pinned API version); the account key is given, not
  fetched with ARM ``listKeys``.
* ``scripted`` — what a user would script: ``tar -xzf image -C tmp``, then ``BlobClient.upload_blob(f,
  blob_type="PageBlob", max_concurrency=16)`` (``python -m bench.ingest sdk``).
* ``probe`` — 4 MiB Put Pages of random data, 16 in flight (``python -m bench.ingest probe``): Azurite's
  Put Page throughput; ``gunzip`` — the image inflated in-process by every decoder installed.

Lower bound = max(fastest gunzip, non-zero sector bytes / probe throughput).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arm_emulator.blobs import AZURITE_ACCOUNT, AZURITE_KEY
from bench.fixtures import StemcellFixture
from bench.report import summarize_ingestion
from bench.sink import CountingRelay, DiscardSink, WireLog
from bench.startup import ROOT, VENV_PYTHON, ProcessRun, cpi_result, disk_usage, run_cpi, run_measured

MIB = 1 << 20
CONTAINER = "stemcell"
API_VERSION = "2025-11-05"  # newest blob API version Azurite 3.35.0 accepts
EXTENT_MEMORY_MB = 6144
PROBE_PUT = 4 * MIB
CREDENTIAL = {"account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY}


# ---- workers: one upload per process --------------------------------------------------------------------------


def _worker_cpi(config_path: str, image: str, blob_name: str, *tuning: str) -> dict[str, Any]:
    """The CPI's upload; ``tuning`` (experiments only): ``BLOCK_SIZE`` for ``UploadTuning``."""
    from azure.storage.blob import BlobServiceClient

    from bosh_azure_cpi.config import load_config
    from bosh_azure_cpi.services.blob_upload import PageBlobUploader, UploadTuning
    from bosh_azure_cpi.services.clients import BLOB_API_VERSION, AzureClients
    from bosh_azure_cpi.services.retry import CpiStorageRetryPolicy
    from bosh_azure_cpi.services.stemcell_image import open_vhd

    azure = load_config(config_path).azure
    options = AzureClients(azure).pipeline_options(CpiStorageRetryPolicy)
    url = azure.endpoints.blob_url(AZURITE_ACCOUNT)
    service = BlobServiceClient(url, credential=CREDENTIAL, api_version=BLOB_API_VERSION, **options)
    uploader = PageBlobUploader(service.get_blob_client(CONTAINER, blob_name), threads=azure.parallel_upload_thread_num)
    started = time.perf_counter()
    with open_vhd(image) as vhd:
        knobs = UploadTuning(block_size=int(tuning[0])) if tuning else None
        report = uploader.upload(vhd, {"bench": "cpi"}, tuning=knobs)
    return {
        "upload_s": time.perf_counter() - started,
        "threads": azure.parallel_upload_thread_num,
        "reported_bytes_sent": report.bytes_sent,
        "reported_put_pages": report.put_page_requests,
    }


def _blob_client(url: str, blob_name: str) -> Any:
    from azure.storage.blob import BlobClient

    return BlobClient(f"{url}/{AZURITE_ACCOUNT}", CONTAINER, blob_name, credential=CREDENTIAL, api_version=API_VERSION)


def _worker_sdk(url: str, path: str, blob_name: str, threads: str) -> dict[str, Any]:
    client = _blob_client(url, blob_name)
    started = time.perf_counter()
    with open(path, "rb") as f:
        client.upload_blob(f, blob_type="PageBlob", max_concurrency=int(threads))
    return {"upload_s": time.perf_counter() - started}


def _worker_probe(url: str, size: str, threads: str) -> dict[str, Any]:
    from concurrent.futures import ThreadPoolExecutor

    client, total = _blob_client(url, "probe.vhd"), int(size) // PROBE_PUT * PROBE_PUT
    client.create_page_blob(size=total)
    buffers = [os.urandom(PROBE_PUT) for _ in range(8)]
    started = time.perf_counter()
    with ThreadPoolExecutor(int(threads)) as pool:
        puts = [
            pool.submit(client.upload_page, buffers[i % 8], offset=i * PROBE_PUT, length=PROBE_PUT)
            for i in range(total // PROBE_PUT)
        ]
        for put in puts:
            put.result()
    return {"upload_s": time.perf_counter() - started, "probe_bytes": total}


WORKERS: dict[str, Callable[..., dict[str, Any]]] = {"cpi": _worker_cpi, "sdk": _worker_sdk, "probe": _worker_probe}


# ---- endpoints ------------------------------------------------------------------------------------------------


def _own_cpu_seconds() -> float:
    """CPU seconds of this process: the relay's and the sink's threads (the rest of it waits meanwhile)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where an upload goes: ``url`` is the blob service base URL; ``log`` counts what arrives there;
    ``server_cpu()`` is the CPU seconds used so far by the receiving side (Azurite and relay, or the sink)."""

    kind: str
    url: str
    log: WireLog
    server_cpu: Callable[[], float] = _own_cpu_seconds


@contextlib.contextmanager
def fresh_azurite(workdir: Path) -> Iterator[Endpoint]:
    """A new in-memory Azurite (container ``stemcell`` created) behind a counting relay; removed afterwards."""
    from azure.storage.blob import BlobServiceClient

    from tests.peers import Azurite

    azurite = Azurite(workdir, EXTENT_MEMORY_MB).start()
    try:
        with BlobServiceClient(f"{azurite.url}/{AZURITE_ACCOUNT}", CREDENTIAL, api_version=API_VERSION) as service:
            service.create_container(CONTAINER)
        with CountingRelay(azurite.url) as relay:
            yield Endpoint("azurite", relay.url, relay.log, lambda: azurite.cpu_seconds() + _own_cpu_seconds())
    finally:
        azurite.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def discard_sink() -> Iterator[Endpoint]:
    with DiscardSink() as sink:
        yield Endpoint("sink", sink.url, sink.log)


# ---- measured runs (each takes a timeout; a run cut by it is marked ``timed_out``) ----------------------------


def _figures(run: ProcessRun, endpoint: Endpoint | None, mark: int) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "seconds": run.seconds, "cpu_s": run.cpu_s, "rss_mib": run.max_rss / MIB, "tmp_bytes": run.watched_peak,
        "timed_out": run.timed_out,
    }  # fmt: skip
    if endpoint is not None:
        figures.update(endpoint.log.totals(mark).as_dict())
    return figures


def run_worker(name: str, args: list[str], endpoint: Endpoint, tmp: Path, timeout: float) -> dict[str, Any]:
    """``python -m bench.ingest NAME ARGS`` with ``TMPDIR=tmp`` (watched); process and wire figures."""
    tmp.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp)}
    mark, server_cpu = endpoint.log.mark(), endpoint.server_cpu()
    run = run_measured([str(VENV_PYTHON), "-m", "bench.ingest", name, *args], env=env, watch=tmp, timeout=timeout)
    figures = {**_figures(run, endpoint, mark), "server_cpu_s": endpoint.server_cpu() - server_cpu}
    return figures if run.timed_out else {**figures, **run.json()}


def worker_config(path: Path, blob_url: str, threads: int) -> Path:
    """A cpi.json for the ``cpi`` worker: only the storage settings matter."""
    azure = {
        "environment": "AzureCloud", "subscription_id": "00000000-0000-0000-0000-000000000001",
        "resource_group_name": "bosh-rg", "location": "eastus", "tenant_id": "t", "client_id": "c",
        "client_secret": "s", "ssh_public_key": "ssh-rsa AAAA bench", "use_managed_disks": True,
        "storage_account_name": AZURITE_ACCOUNT,
        "parallel_upload_thread_num": threads, "endpoints": {"storage_blob": f"{blob_url}/{{account}}"},
    }  # fmt: skip
    doc = {"cloud": {"plugin": "azure", "properties": {"azure": azure, "agent": {"mbus": "nats://n:p@10.0.0.4:4222"}}}}
    path.write_text(json.dumps(doc))
    return path


def cpi_pipeline(endpoint: Endpoint, image: Path, workdir: Path, threads: int, timeout: float) -> dict[str, Any]:
    """The CPI's upload pipeline in its own process."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = worker_config(workdir / "cpi.json", endpoint.url, threads)
    return run_worker("cpi", [str(config), str(image), "cpi.vhd"], endpoint, workdir / "tmp", timeout)


def scripted_pipeline(endpoint: Endpoint, image: Path, workdir: Path, threads: int, timeout: float) -> dict[str, Any]:
    """``tar -xzf`` into a temp folder, then ``upload_blob``; seconds is the sum, the parts are kept."""
    extract = workdir / "extract"
    shutil.rmtree(extract, ignore_errors=True)
    extract.mkdir(parents=True)
    try:
        tar = run_measured(["tar", "-xzf", str(image), "-C", str(extract)], timeout=timeout)
        if tar.exit_code != 0 and not tar.timed_out:
            raise RuntimeError(f"tar failed: {tar.stderr.decode(errors='replace')}")
        extracted = disk_usage(extract)
        args = [endpoint.url, str(extract / "root.vhd"), "scripted.vhd", str(threads)]
        left = max(timeout - tar.seconds, 1.0)
        upload = _figures(tar, endpoint, endpoint.log.mark()) if tar.timed_out else (
            run_worker("sdk", args, endpoint, workdir / "tmp", left)
        )  # fmt: skip
    finally:
        shutil.rmtree(extract, ignore_errors=True)
    return {
        **upload, "seconds": tar.seconds + upload["seconds"], "tar_s": tar.seconds, "upload_process_s":
        upload["seconds"], "tar_rss_mib": tar.max_rss / MIB, "tmp_bytes": extracted + upload["tmp_bytes"],
        "timed_out": tar.timed_out or upload["timed_out"],
    }  # fmt: skip


def probe(endpoint: Endpoint, size: int, workdir: Path, threads: int, timeout: float) -> dict[str, Any]:
    """Put Page throughput (MiB/s) of ``size`` bytes of random 4 MiB pages."""
    figures = run_worker("probe", [endpoint.url, str(size), str(threads)], endpoint, workdir / "tmp", timeout)
    if figures["timed_out"]:
        raise RuntimeError(f"the Put Page probe did not finish within {timeout:.0f} s")
    return {**figures, "mib_s": figures["probe_bytes"] / MIB / figures["upload_s"]}


def gunzip(image: Path) -> dict[str, float]:
    """Seconds to inflate ``image`` (output dropped) per decoder (bench.gzip_decoders; stdlib: zlib inflate)."""
    from bench.gzip_decoders import candidates

    seconds: dict[str, float] = {}
    for name, decode in candidates().items():
        if not name.startswith(("pipeline", "gzip.open")):
            started = time.perf_counter()
            decode(image)
            seconds[name] = time.perf_counter() - started
    return seconds


def cpi_call(fixture: StemcellFixture, workdir: Path, threads: int, timeout: float) -> dict[str, Any]:
    """``bin/cpi create_stemcell`` against fresh peers, the blob traffic through a counting relay to Azurite."""
    from tests.peers import cpi_config, running_peers, write_cpi_config

    with (
        running_peers(workdir / "peers", extent_memory_mb=EXTENT_MEMORY_MB) as peers,
        CountingRelay(peers.azurite.url) as relay,
    ):
        endpoints = {"storage_blob": f"{relay.url}/{{account}}"}
        config = cpi_config(peers, parallel_upload_thread_num=threads, endpoints=endpoints)
        path = write_cpi_config(workdir / "cpi.json", config)
        arm_mark = peers.emulator.requests.mark()
        arguments = [str(fixture.image), fixture.cloud_properties]
        run = run_cpi(path, "create_stemcell", arguments, workdir / "call", timeout=timeout)
        if not run.timed_out and (error := cpi_result(run)[1]) is not None:
            raise RuntimeError(f"create_stemcell failed: {error}\n{run.stderr.decode(errors='replace')[-3000:]}")
        figures = _figures(run, Endpoint("azurite", relay.url, relay.log), 0)
        arm = [e for e in peers.emulator.requests.since(arm_mark) if e.kind == "arm"]
    shutil.rmtree(workdir, ignore_errors=True)
    window = figures.get("window_s") or 0.0
    return {**figures, "upload_window_s": window, "rest_s": run.seconds - window, "arm_requests": len(arm)}


# ---- the benchmark --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IngestPlan:
    """What to measure: the main fixture, two sizes for peak RSS against VHD size, rounds and a deadline.

    Round 1 runs every job (cheap ones first; :data:`UPFRONT` jobs ``runs`` times); each gets an equal share of
    the time left before ``deadline`` (``time.monotonic()``), at least ``min_timeout`` s, and a run cut by it is
    reported with the share of the non-zero bytes it sent and a projected time. Later rounds repeat a job only
    if its last run was complete and fits again.
    """

    fixture: StemcellFixture
    rss_sizes: tuple[StemcellFixture, StemcellFixture]  # small, large (the large may be ``fixture`` itself)
    workdir: Path
    runs: int
    deadline: float
    threads: int = 16
    probe_bytes: int = 512 * MIB
    min_timeout: float = 60.0


Job = Callable[[float], dict[str, Any]]


def _jobs(plan: IngestPlan) -> dict[str, tuple[Job, int]]:
    """Job name -> (job taking a timeout, non-zero sector bytes of its fixture), cheap jobs first."""
    fx, work, threads = plan.fixture, plan.workdir, plan.threads
    small, large = plan.rss_sizes

    def on(target: Callable[[], contextlib.AbstractContextManager[Endpoint]], run: Callable[..., Any]) -> Job:
        def job(timeout: float) -> dict[str, Any]:
            with target() as endpoint:
                return dict(run(endpoint, timeout))

        return job

    def azurite() -> contextlib.AbstractContextManager[Endpoint]:
        return fresh_azurite(work / "azurite")

    jobs: dict[str, tuple[Job, int]] = {
        "gunzip": (lambda _: dict(gunzip(fx.image)), 0),
        "probe": (on(azurite, lambda e, t: probe(e, plan.probe_bytes, work / "probe", threads, t)), 0),
        "scripted": (on(azurite, lambda e, t: scripted_pipeline(e, fx.image, work / "s", threads, t)), 0),
        "scripted_sink": (on(discard_sink, lambda e, t: scripted_pipeline(e, fx.image, work / "s", threads, t)), 0),
        "cpi_small": (on(azurite, lambda e, t: cpi_pipeline(e, small.image, work / "c", threads, t)), 0),
        "cpi_large": (on(azurite, lambda e, t: cpi_pipeline(e, large.image, work / "c", threads, t)), 0),
        "cpi_sink": (on(discard_sink, lambda e, t: cpi_pipeline(e, fx.image, work / "c", threads, t)), 0),
        "cpi": (on(azurite, lambda e, t: cpi_pipeline(e, fx.image, work / "c", threads, t)), 0),
        "cpi_call": (lambda t: cpi_call(fx, work / "call", threads, t), 0),
    }
    if large.image == fx.image:  # the "cpi" runs are the large-size runs
        del jobs["cpi_large"]
    sizes = {"cpi_small": small, "cpi_large": large}
    return {name: (job, sizes.get(name, fx).nonzero_sector_bytes) for name, (job, _) in jobs.items()}


def _projected(sample: dict[str, Any], expected: int) -> dict[str, Any]:
    """A cut run's share of its fixture's non-zero bytes sent and its projected time (``projected_s``)."""
    if not sample.get("timed_out"):
        return {**sample, "projected_s": sample["seconds"]} if "seconds" in sample else sample
    done = min(sample.get("page_bytes", 0) / expected, 1.0) if expected else 0.0
    return {**sample, "done": done, "projected_s": sample["seconds"] / done if done else None}


UPFRONT = ("gunzip", "probe")  # cheap and defining the lower bound: all their runs come first


def bench_ingest(plan: IngestPlan, progress: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the jobs round by round (see :class:`IngestPlan`); return the summary."""
    jobs = _jobs(plan)
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in jobs}
    last: dict[str, float] = {}

    def run(name: str, timeout: float, label: str) -> None:
        job, expected = jobs[name]
        started = time.monotonic()
        samples[name].append(_projected(job(max(timeout, plan.min_timeout)), expected))
        last[name] = time.monotonic() - started
        cut = " (cut by its time share)" if samples[name][-1].get("timed_out") else ""
        progress(f"  ingestion {label}: {name} {last[name]:.1f} s{cut}")

    for position, name in enumerate(jobs):
        for index in range(plan.runs if name in UPFRONT else 1):
            run(name, (plan.deadline - time.monotonic()) / (len(jobs) - position), f"run {index + 1}")
    for round_index in range(1, plan.runs):
        for name in jobs:
            left = plan.deadline - time.monotonic()
            if name not in UPFRONT and not samples[name][-1].get("timed_out") and last[name] <= left:
                run(name, left, f"run {round_index + 1}")
    return summarize_ingestion(plan.fixture, plan.rss_sizes, plan.threads, samples)


# ---- worker entry ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.ingest {cpi CONFIG IMAGE BLOB [BLOCK_SIZE] | sdk URL FILE BLOB THREADS | probe URL
    BYTES THREADS}``."""
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description="one measured upload (a worker)")
    parser.add_argument("worker", choices=sorted(WORKERS))
    parser.add_argument("args", nargs="+")
    ns = parser.parse_args(argv)
    figures = WORKERS[ns.worker](*ns.args)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
