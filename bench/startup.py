"""Process measurement for every benchmark, and benchmark 2: ``bin/cpi`` start-up.

:func:`run_measured` runs one command the way the Director runs ``bin/cpi`` (its own session, stdin written and
closed, stdout/stderr collected), reaps it with ``os.wait4`` (CPU time) and samples its ``VmHWM`` every 20 ms for
the peak RSS: ``ru_maxrss`` cannot be used, a child's counts the parent's RSS at fork time (``vfork``/``fork``
then ``exec`` records the parent's high-water mark), which would report this benchmark process's own ~120 MiB
for every child. A :class:`DirWatch` samples the disk usage of a folder (the call's ``TMPDIR``) likewise.

Start-up compares ``bin/cpi`` answering ``info`` (no Azure call, the Director's minimal environment) with a bare
``python -c pass`` of the same virtualenv interpreter and of the system interpreter, interleaved, and times
``has_vm`` against the ARM emulator (token request + one GET).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.report import Stat, stat

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
CPI = ROOT / "bin" / "cpi"
DIRECTOR_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
CONTEXT = {"director_uuid": "bench-director", "request_id": "bench-000001"}


@dataclass(frozen=True, slots=True)
class ProcessRun:
    """A finished process: wall time, exit code, peak RSS (bytes, sampled), output, peak size of the watched
    folder, CPU seconds."""

    seconds: float
    exit_code: int
    max_rss: int
    stdout: bytes
    stderr: bytes
    watched_peak: int = 0
    cpu_s: float = 0.0  # user + system CPU seconds
    timed_out: bool = False  # killed after the timeout

    def json(self) -> Any:
        """stdout parsed as JSON; raises RuntimeError with stderr when the process failed or printed no JSON."""
        try:
            if self.exit_code == 0:
                return json.loads(self.stdout)
        except ValueError:
            pass
        tail = self.stderr.decode(errors="replace")[-3000:]
        raise RuntimeError(f"exit {self.exit_code}, stdout {self.stdout[-500:]!r}\n--- stderr ---\n{tail}")


def disk_usage(path: Path) -> int:
    """Bytes allocated (st_blocks) by the files under ``path``; 0 when it does not exist."""
    total = 0
    for top, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(top, name)).st_blocks * 512
    return total


class DirWatch:
    """``with DirWatch(path) as watch:`` samples ``disk_usage(path)`` every ``interval`` s; ``watch.peak``."""

    def __init__(self, path: Path | None, interval: float = 0.05) -> None:
        self.path, self.interval, self.peak = path, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dir-watch", daemon=True)

    def _run(self) -> None:
        while self.path is not None:
            self.peak = max(self.peak, disk_usage(self.path))
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> DirWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        if self.path is not None:
            self.peak = max(self.peak, disk_usage(self.path))


class PeakRss:
    """``with PeakRss(pid) as peak:`` samples ``VmHWM`` of ``/proc/PID/status``; ``peak.bytes`` (0 if never seen).

    Growth in the last ``interval`` before exit is missed; fine for the steady-state peaks measured here.
    """

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self.pid, self.interval, self.bytes = pid, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-watch", daemon=True)

    def _run(self) -> None:
        path = f"/proc/{self.pid}/status"
        while True:
            try:
                with open(path) as f:
                    line = next((line for line in f if line.startswith("VmHWM:")), "")
            except OSError:
                return
            if line:
                self.bytes = max(self.bytes, int(line.split()[1]) * 1024)
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def director_env(workdir: Path) -> dict[str, str]:
    """The Director's minimal environment for ``bin/cpi`` (PATH, TMPDIR, HOME), with the folders created."""
    home, tmp = workdir / "home", workdir / "tmp"
    home.mkdir(parents=True, exist_ok=True)
    tmp.mkdir(parents=True, exist_ok=True)
    return {"PATH": DIRECTOR_PATH, "TMPDIR": str(tmp), "HOME": str(home)}


def run_measured(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    stdin: bytes = b"",
    watch: Path | None = None,
    timeout: float = 1800.0,
) -> ProcessRun:
    """Run ``argv`` to completion (killed after ``timeout`` s) and measure it; see the module docstring."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, DirWatch(watch) as watcher:
        started = time.perf_counter()
        proc = subprocess.Popen(
            list(argv), stdin=subprocess.PIPE, stdout=out, stderr=err, env=dict(env) if env else None,
            start_new_session=True,
        )  # fmt: skip
        expired = threading.Event()
        timer = threading.Timer(timeout, _kill_group, args=(proc.pid, expired))
        timer.start()
        try:
            with PeakRss(proc.pid) as rss:
                assert proc.stdin is not None
                with contextlib.suppress(BrokenPipeError):
                    proc.stdin.write(stdin)
                proc.stdin.close()
                _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    cpu = usage.ru_utime + usage.ru_stime
    return ProcessRun(seconds, proc.returncode, rss.bytes, stdout, stderr, watcher.peak, cpu, expired.is_set())


def _kill_group(pid: int, expired: threading.Event) -> None:
    expired.set()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def cpi_request(method: str, arguments: Sequence[Any]) -> bytes:
    """A Director request (API v2, no trailing newline)."""
    return json.dumps({"method": method, "arguments": list(arguments), "context": CONTEXT, "api_version": 2}).encode()


def run_cpi(config: Path, method: str, arguments: Sequence[Any], workdir: Path, timeout: float = 1800.0) -> ProcessRun:
    """``bin/cpi CONFIG`` with the Director's environment; ``watched_peak`` is the peak size of its TMPDIR."""
    env = director_env(workdir)
    request = cpi_request(method, arguments)
    return run_measured([str(CPI), str(config)], env=env, stdin=request, watch=Path(env["TMPDIR"]), timeout=timeout)


def cpi_result(run: ProcessRun) -> tuple[Any, dict[str, Any] | None]:
    """``(result, error)`` of a CPI response; RuntimeError when the protocol was broken."""
    body = run.json()
    if not isinstance(body, dict) or "result" not in body:
        raise RuntimeError(f"not a CPI response: {run.stdout[-500:]!r}")
    return body["result"], body.get("error")


def _timed(runs: int, probes: Mapping[str, Callable[[], ProcessRun]]) -> dict[str, list[ProcessRun]]:
    """Run every probe ``runs`` times, interleaved (drift hits all alike); one untimed warm-up each first."""
    for probe in probes.values():
        probe()
    results: dict[str, list[ProcessRun]] = {name: [] for name in probes}
    for _ in range(runs):
        for name, probe in probes.items():
            results[name].append(probe())
    return results


def _check(runs: list[ProcessRun], what: str) -> None:
    failed = [r for r in runs if r.exit_code != 0]
    if failed:
        raise RuntimeError(f"{what} failed: {failed[0].stderr.decode(errors='replace')[-2000:]}")


def bench_startup(config: Path, workdir: Path, runs: int, has_vm_runs: int) -> dict[str, Any]:
    """Medians (ms) of ``info`` vs bare interpreters, their ratio, and ``has_vm`` against the emulator."""
    env = director_env(workdir)
    system_python = shutil.which("python3", path=DIRECTOR_PATH) or "/usr/bin/python3"
    info = cpi_request("info", [])
    probes: dict[str, Callable[[], ProcessRun]] = {
        "info": lambda: run_measured([str(CPI), str(config)], env=env, stdin=info),
        "venv_python": lambda: run_measured([str(VENV_PYTHON), "-c", "pass"], env=env),
        "system_python": lambda: run_measured([system_python, "-c", "pass"], env=env),
    }
    timed = _timed(runs, probes)
    for name, measured in timed.items():
        _check(measured, name)
    _, error = cpi_result(timed["info"][0])
    if error is not None:
        raise RuntimeError(f"info failed: {error}")
    ms: dict[str, Stat] = {name: stat([r.seconds * 1000 for r in measured]) for name, measured in timed.items()}
    figures: dict[str, Any] = {f"{name}_ms": value.as_dict() for name, value in ms.items()}
    figures["info_over_venv_python"] = round(ms["info"].median / ms["venv_python"].median, 2)
    figures["system_python"] = system_python
    figures["has_vm"] = _has_vm(config, workdir, has_vm_runs)
    return figures


def _has_vm(config: Path, workdir: Path, runs: int) -> dict[str, Any]:
    """``has_vm`` of a VM that does not exist: a token request and one ARM GET per call."""
    vm_cid = f"agent_id:{uuid.uuid4()};resource_group_name:bosh-rg"
    measured = [run_cpi(config, "has_vm", [vm_cid], workdir) for _ in range(runs)]
    _check(measured, "has_vm")
    result, error = cpi_result(measured[-1])
    return {
        "ms": stat([r.seconds * 1000 for r in measured]).as_dict(),
        "vm_cid": vm_cid,
        "result": result,
        "error": None if error is None else f"{error.get('type')}: {error.get('message')}",
    }
