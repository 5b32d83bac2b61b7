"""Figures of a benchmark run: statistics, machine facts, target verdicts, ``latest.json`` and ``RESULTS.md``."""

from __future__ import annotations

import json
import os
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Stat:
    """Values of repeated runs; the median is the figure reported."""

    runs: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    def as_dict(self, digits: int = 3) -> dict[str, Any]:
        return {
            "median": round(self.median, digits),
            "min": round(min(self.runs), digits),
            "max": round(max(self.runs), digits),
            "n": len(self.runs),
            "runs": [round(v, digits) for v in self.runs],
        }


def stat(values: Iterable[float]) -> Stat:
    """A :class:`Stat` of at least one value."""
    runs = tuple(float(v) for v in values)
    if not runs:
        raise ValueError("no values")
    return Stat(runs)


# ---- ingestion summary -----------------------------------------------------------------------------------------


def _stats(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Per key: a Stat dict for numbers (None skipped), any() for flags, the last value otherwise."""
    out: dict[str, Any] = {}
    for key in dict.fromkeys(k for sample in samples for k in sample):
        values = [s[key] for s in samples if s.get(key) is not None]
        if values and all(isinstance(v, bool) for v in values):
            out[key] = any(values)
        elif values and all(isinstance(v, int | float) for v in values):
            out[key] = stat(values).as_dict()
        elif values:
            out[key] = values[-1]
    return out


def summarize_ingestion(fixture: Any, rss_sizes: tuple[Any, Any], threads: int, samples: dict[str, Any]) -> Any:
    """Medians per pipeline, the lower bound and the ratios the targets use (all from this run).

    Times of runs cut by their time share enter the ratios as ``projected_s`` (elapsed / share of bytes sent).
    """
    pipes = {name: _stats(runs) for name, runs in samples.items() if runs and name != "gunzip"}
    complete = {name: [s for s in runs if not s.get("timed_out")] for name, runs in samples.items()}
    sent_by = next((name for name in ("cpi", "cpi_sink", "cpi_call") if complete.get(name)), None)
    sent = _stats(complete[sent_by]) if sent_by else {}
    decoders = {name: stat(s[name] for s in samples["gunzip"]).as_dict() for name in samples["gunzip"][0]}
    fastest = min(decoders, key=lambda name: decoders[name]["median"])
    nonzero = fixture.nonzero_sector_bytes
    put_page_s = nonzero / (1 << 20) / pipes["probe"]["mib_s"]["median"]
    lower = max(decoders[fastest]["median"], put_page_s)
    large = "cpi_large" if "cpi_large" in pipes else "cpi"

    def median(name: str, key: str = "projected_s") -> float:
        return float(pipes[name][key]["median"]) if key in pipes[name] else float("nan")

    return {
        "pipelines": pipes,
        "gunzip_s": decoders,
        "gunzip_fastest": fastest,
        "lower_bound": {"seconds": lower, "gunzip_s": decoders[fastest]["median"], "put_page_s": put_page_s},
        "ratios": {
            "cpi_over_lower_bound": median("cpi") / lower,
            "cpi_over_scripted": median("cpi") / median("scripted"),
            "cpi_call_over_lower_bound": median("cpi_call") / lower,
            "cpi_call_over_scripted": median("cpi_call") / median("scripted"),
            "cpi_sink_over_scripted_sink": median("cpi_sink") / median("scripted_sink"),
            "cpi_bytes_measured_by": sent_by,  # the first pipeline with a complete run: cpi, cpi_sink, cpi_call
            "cpi_body_bytes_over_nonzero": sent["body_bytes"]["median"] / nonzero if sent else float("nan"),
            "cpi_body_bytes_over_nonzero_blocks": (
                sent["body_bytes"]["median"] / fixture.nonzero_block_bytes if sent else float("nan")
            ),
            "cpi_wire_bytes_over_nonzero": (
                (sent["body_bytes"]["median"] + sent["head_bytes"]["median"]) / nonzero if sent else float("nan")
            ),
            "scripted_body_bytes_over_nonzero": median("scripted", "body_bytes") / nonzero,
            "rss_large_over_small": median(large, "rss_mib") / median("cpi_small", "rss_mib"),
        },
        "sizes": {
            "vhd": fixture.vhd_size,
            "small_vhd": rss_sizes[0].vhd_size,
            "large_vhd": rss_sizes[1].vhd_size,
            "small_nonzero": rss_sizes[0].nonzero_sector_bytes,
            "large_nonzero": rss_sizes[1].nonzero_sector_bytes,
            "nonzero": nonzero,
            "nonzero_blocks": fixture.nonzero_block_bytes,
            "threads": threads,
        },
    }


# ---- targets ---------------------------------------------------------------------------------------------------


def _row(target: str, goal: str, measured: str, ok: bool | None) -> dict[str, str]:
    return {"target": target, "goal": goal, "measured": measured, "status": "N/A" if ok is None else _verdict(ok)}


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _ingestion_rows(ingestion: dict[str, Any]) -> list[dict[str, str]]:
    ratios, pipes = ingestion["ratios"], ingestion["pipelines"]
    rss = max(p["rss_mib"]["max"] for name, p in pipes.items() if name.startswith("cpi"))
    small, large = ingestion["sizes"]["small_vhd"] >> 20, ingestion["sizes"]["large_vhd"] >> 20
    flat = ratios["rss_large_over_small"]
    rows = []
    for name, label in (("cpi", "CPI upload pipeline"), ("cpi_call", "bin/cpi create_stemcell")):
        lower, scripted = ratios[f"{name}_over_lower_bound"], ratios[f"{name}_over_scripted"]
        note = " (projected: its run was cut)" if pipes[name].get("timed_out") else ""
        rows.append(_row(f"{label} vs lower bound", "≤ 1.2 x", f"{lower:.2f} x{note}", lower <= 1.2))
        rows.append(_row(f"{label} vs extract-then-upload", "≤ 0.5 x", f"{scripted:.2f} x{note}", scripted <= 0.5))
    blocks, sectors, wire, by = (ratios[k] for k in ("cpi_body_bytes_over_nonzero_blocks",
        "cpi_body_bytes_over_nonzero", "cpi_wire_bytes_over_nonzero", "cpi_bytes_measured_by"))  # fmt: skip
    measured = (
        f"{blocks:.4f} x (vs non-zero 512-byte sectors {sectors:.4f} x, with request heads {wire:.4f} x; `{by}` run)"
        if by
        else "no complete run"
    )
    rows += [
        _row(
            "Bytes sent (request bodies) vs non-zero 4 KiB blocks",
            "≤ 1.01 x",
            measured,
            blocks <= 1.01 if by else None,
        ),
        _row("Peak RSS of the uploading process", "≤ 250 MiB", f"{rss:.0f} MiB", rss <= 250),
        _row(f"Peak RSS flat in VHD size ({large} MiB vs {small} MiB)", "≤ 1.10 x", f"{flat:.2f} x", flat <= 1.10),
    ]
    return rows


def evaluate(results: dict[str, Any]) -> list[dict[str, str]]:
    """One PASS/MISS/N/A row per target the project commits to."""
    rows = _ingestion_rows(results["ingestion"]) if "ingestion" in results else []
    startup = results.get("startup")
    if startup:
        ratio = startup["info_over_venv_python"]
        rows.append(_row("`info` cold start vs bare `python -c pass`", "≤ 2 x", f"{ratio:.2f} x", ratio <= 2))
    calls = (results.get("arm_requests") or {}).get("calls", {})
    create_vm = calls.get("create_vm", {})
    if "arm_requests" in create_vm and "error" not in create_vm:
        count = create_vm["arm_requests"]
        rows.append(_row("ARM requests of create_vm (image in region, polls excluded)", "≤ 5", str(count), count <= 5))
    else:
        reason = create_vm.get("not_available") or create_vm.get("error") or "not measured"
        rows.append(_row("ARM requests of create_vm (image in region, polls excluded)", "≤ 5", reason, None))
    rows.append(_concurrency_row(results.get("concurrency") or {}))
    return rows


def _concurrency_row(conc: dict[str, Any]) -> dict[str, str]:
    n = conc.get("processes", "?")
    target = f"Gallery version updates for {n} concurrent create_vm (new region)"
    if "gallery_version_updates" not in conc:
        return _row(target, "1, no failures", conc.get("not_available", "not measured"), None)
    updates, failures = conc["gallery_version_updates"], conc["failures"]
    return _row(target, "1, no failures", f"{updates} updates, {failures} failures", updates == 1 and not failures)


# ---- output ----------------------------------------------------------------------------------------------------


def write_json(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")


def _n(value: dict[str, Any], unit: str = "s", digits: int = 1) -> str:
    n = f", n={value['n']}" if value.get("n", 1) > 1 else ""
    return f"{value['median']:.{digits}f} {unit}{n}"


def _mib(count: float) -> str:
    return f"{count / (1 << 20):,.1f} MiB"


def _size(count: float) -> str:
    return _mib(count) if count >= 1 << 20 else f"{count / 1024:,.0f} KiB"


def _wall(p: dict[str, Any]) -> str:
    """Median wall time; for runs cut by their time share: elapsed, share of bytes sent, projection."""
    if not p.get("timed_out"):
        return _n(p["seconds"])
    done = p["done"]["median"] if "done" in p else 0.0
    projected = f", ~{p['projected_s']['median']:.0f} s projected" if "projected_s" in p else ""
    return f"> {p['seconds']['median']:.0f} s (cut at {100 * done:.0f} % of the bytes{projected})"


def _pipeline_row(label: str, p: dict[str, Any], sizes: dict[str, Any], name: str) -> str:
    key = {"cpi_small": "small", "cpi_large": "large"}.get(name)
    vhd, nonzero = (sizes[f"{key}_vhd"], sizes[f"{key}_nonzero"]) if key else (sizes["vhd"], sizes["nonzero"])
    body, heads = p["body_bytes"]["median"], p["head_bytes"]["median"]
    seconds = p["projected_s"]["median"] if "projected_s" in p else p["seconds"]["median"]
    return (
        f"| {label} | {_wall(p)} | {vhd / (1 << 20) / seconds:.0f} | {_mib(body)} + {_mib(heads)} "
        f"| {body / nonzero:.3f} | {p['requests']['median']:.0f} ({p['page_requests']['median']:.0f}) "
        f"| {_n(p['cpu_s'])} | {_n(p['rss_mib'], 'MiB', 0)} | {_size(p['tmp_bytes']['max'])} |"
    )


_PIPELINES = (
    ("cpi_call", "This project: `bin/cpi create_stemcell` (upload + gallery image version)"),
    ("cpi", "This project: upload pipeline alone (`open_vhd` + `PageBlobUploader`)"),
    ("scripted", "Scripted: `tar -xzf` to disk, then `upload_blob(blob_type=PageBlob, max_concurrency=16)`"),
    ("cpi_sink", "This project's upload pipeline -> discard sink"),
    ("scripted_sink", "Scripted pipeline -> discard sink"),
    ("cpi_small", "This project's upload pipeline, small fixture (peak RSS vs size)"),
    ("cpi_large", "This project's upload pipeline, large fixture (peak RSS vs size)"),
)


def _ingestion_md(ing: dict[str, Any]) -> list[str]:
    pipes, lower, ratios = ing["pipelines"], ing["lower_bound"], ing["ratios"]
    threads = ing["sizes"]["threads"]
    lines = [
        "## 1. Stemcell ingestion into Azurite", "",
        f"Uploads with {threads} requests in flight; every byte counted on the wire (relay in front of a fresh "
        "Azurite per upload, or the discard sink). Peak RSS is the uploading process's `VmHWM` (sampled every "
        "20 ms), CPU its user + system time (`wait4`); temp disk is the peak size of its `TMPDIR` (plus the "
        "extracted `root.vhd` for the scripted pipeline).", "",
        "| Pipeline | Wall time | VHD MiB/s | Request bodies + heads | Bodies / non-zero | Requests (Put Page) "
        "| CPU | Peak RSS | Temp disk |",
        "|---|---|---|---|---|---|---|---|---|",
    ]  # fmt: skip
    for name, label in _PIPELINES:
        if (p := pipes.get(name)) is not None:
            lines.append(_pipeline_row(label, p, ing["sizes"], name))
    call, scripted = pipes["cpi_call"], pipes["scripted"]
    probe = pipes["probe"]
    lines += [
        "",
        "- `create_stemcell` split: the run was cut during the upload (no split)." if call.get("timed_out") else
        f"- `create_stemcell` split: upload window (Put Blob to Set Metadata, on the wire) "
        f"{_n(call['upload_window_s'])}, the rest (process start, ARM, locks, gallery version) {_n(call['rest_s'])}; "
        f"{call['arm_requests']['median']:.0f} ARM requests.",
        f"- Scripted split: `tar -xzf` {_n(scripted['tar_s'])} (peak RSS of `tar` itself, without its `gzip` child: "
        f"{_n(scripted['tar_rss_mib'], 'MiB', 0)}), "
        f"`upload_blob` process {_n(scripted['upload_process_s'])}.",
        _per_request(pipes),
        f"- Azurite Put Page throughput (4 MiB of random data, {threads} in flight, "
        f"{_mib(probe['probe_bytes']['median'])}): {_n(probe['mib_s'], 'MiB/s')}.",
        f"- **Lower bound** = max(gunzip with {ing['gunzip_fastest']} {lower['gunzip_s']:.2f} s, non-zero sector "
        f"bytes / Put Page throughput {lower['put_page_s']:.2f} s) = **{lower['seconds']:.2f} s**.",
        *_cpu_share(pipes),
        f"- Ratios (this run): pipeline / lower bound {ratios['cpi_over_lower_bound']:.2f}, pipeline / scripted "
        f"{ratios['cpi_over_scripted']:.2f}, create_stemcell / lower bound {ratios['cpi_call_over_lower_bound']:.2f}, "
        f"create_stemcell / scripted {ratios['cpi_call_over_scripted']:.2f}, sink: pipeline / scripted "
        f"{ratios['cpi_sink_over_scripted_sink']:.2f}; peak RSS {ing['sizes']['large_vhd'] >> 20} MiB / "
        f"{ing['sizes']['small_vhd'] >> 20} MiB fixture {ratios['rss_large_over_small']:.2f}.",
        "", "| gunzip decoder (output dropped) | Seconds |", "|---|---|",
    ]  # fmt: skip
    lines += [f"| {name} | {_n(value, 's', 2)} |" for name, value in ing["gunzip_s"].items()]
    return [*lines, ""]


def _cpu_share(pipes: dict[str, Any]) -> list[str]:
    """The machine's CPU split between uploader and server in the Azurite runs: a floor the lower bound ignores."""
    cores = os.cpu_count() or 1
    parts = []
    for name, label in (("cpi", "upload pipeline"), ("probe", "Put Page probe")):
        p = pipes.get(name, {})
        if "server_cpu_s" not in p or "cpu_s" not in p:
            return []
        client, server = p["cpu_s"]["median"], p["server_cpu_s"]["median"]
        parts.append(
            f"{label}: client {client:.1f} s + Azurite and relay {server:.1f} s of CPU in "
            f"{p['seconds']['median']:.1f} s wall, so >= {(client + server) / cores:.1f} s on {cores} cores"
        )
    return [f"- CPU (medians): {'; '.join(parts)}. Both sides share the cores, which the lower bound leaves out."]


def _per_request(pipes: dict[str, Any]) -> str:
    """Cost per Put Page of the CPI pipeline (sink run: no server cost mixed in) and Azure's request-rate floor."""
    p = pipes["cpi_sink"]
    requests = p["requests"]["median"]
    return (
        f"- Per request of the CPI pipeline (sink run): {1000 * p['cpu_s']['median'] / requests:.2f} ms of uploader "
        f"CPU, {p['body_bytes']['median'] / requests / 1024:.0f} KiB average body. Azure's target for one page blob "
        f"is 500 requests/s and 60 MiB/s (learn.microsoft.com/azure/storage/blobs/scalability-targets): "
        f"{requests:.0f} requests alone take >= {requests / 500:.0f} s there, their bytes "
        f"{p['body_bytes']['median'] / (60 << 20):.0f} s."
    )


def _startup_md(st: dict[str, Any]) -> list[str]:
    has_vm = st["has_vm"]
    outcome = has_vm["error"] or f"result {json.dumps(has_vm['result'])}"
    return [
        "## 2. Start-up (Director's environment: PATH, TMPDIR, HOME only)", "",
        "| Process | Median | Runs |", "|---|---|---|",
        f"| `bin/cpi` answering `info` | {st['info_ms']['median']:.1f} ms | {st['info_ms']['n']} |",
        f"| `.venv/bin/python -c pass` | {st['venv_python_ms']['median']:.1f} ms | {st['venv_python_ms']['n']} |",
        f"| `{st['system_python']} -c pass` | {st['system_python_ms']['median']:.1f} ms "
        f"| {st['system_python_ms']['n']} |",
        f"| `bin/cpi` `has_vm` (missing VM) against the ARM emulator | {has_vm['ms']['median']:.1f} ms "
        f"| {has_vm['ms']['n']} |",
        "", f"`info` / bare interpreter: {st['info_over_venv_python']:.2f}. `has_vm` outcome: {outcome}.", "",
    ]  # fmt: skip


def _arm_md(arm: dict[str, Any]) -> list[str]:
    lines = [
        "## 3. ARM requests per CPI call (emulator request log; LRO polls and token requests listed apart)", "",
        "| Call | ARM requests | Polls | Token requests | Requests |", "|---|---|---|---|---|",
    ]  # fmt: skip
    for name, call in arm["calls"].items():
        if "not_available" in call:
            lines.append(f"| {name} | not available: {call['not_available']} | | | |")
            continue
        routes = "<br>".join(call["routes"]) + (f"<br>**error**: {call['error']}" if "error" in call else "")
        lines.append(f"| {name} | {call['arm_requests']} | {call['polls']} | {call['token_requests']} | {routes} |")
    return [*lines, ""]


def _concurrency_md(conc: dict[str, Any]) -> list[str]:
    head = [f"## 4. Concurrency: {conc.get('processes')} concurrent `create_vm` into a region without replica", ""]
    if "not_available" in conc:
        return [*head, f"Not available: {conc['not_available']}", ""]
    errors = "".join(f"\n  - {e}" for e in conc["errors"])
    return [
        *head,
        f"- Gallery image version updates: **{conc['gallery_version_updates']}**; failed calls: "
        f"**{conc['failures']}**{errors}",
        f"- Total wall time {conc['total_s']:.1f} s; per call {_n(conc['call_s'])} (max {conc['call_s']['max']:.1f} s);"
        f" {conc['arm_requests']} ARM requests and {conc['polls']} polls in all.", "",
    ]  # fmt: skip


def render_markdown(results: dict[str, Any]) -> str:
    """RESULTS.md: run facts, machine, fixture, the target table, then every figure."""
    meta, machine, fx = results["meta"], results["machine"], results["fixture"]
    pkgs = ", ".join(f"{k} {v}" for k, v in machine["packages"].items())
    lines = [
        "# Benchmark results", "",
        f"Generated by `{meta['command']}` on {meta['date']} in {meta['duration_s'] / 60:.1f} min ({meta['mode']}). "
        "Medians of repeated runs; all ratios come from this one run.", "",
        "| Machine | |", "|---|---|",
        f"| CPU | {machine['cores']} cores, {machine['cpu_model']} |", f"| RAM | {machine['ram_gib']} GiB |",
        f"| Load average at start / end | {meta['load_start']} / {machine['load_average']} |",
        f"| Kernel, Python | {machine['kernel']}, Python {machine['python']} |", f"| Packages | {pkgs} |",
        f"| Node, Azurite | {machine['node']}, Azurite {machine['azurite']} (in memory) |", "",
        "| Fixture | |", "|---|---|",
        f"| root.vhd | {_mib(fx['vhd_size'])} (fixed VHD, ext4, {fx['file_count']} files) |",
        f"| image (gzip tar) / stemcell tarball | {_mib(fx['image_size'])} / {_mib(fx['tarball_size'])} |",
        f"| Non-zero bytes | {_mib(fx['nonzero_block_bytes'])} in 4 KiB blocks holding a non-zero byte (the "
        f"definition used for 'bytes sent': the CPI skips zeros per ext4 block); {_mib(fx['nonzero_sector_bytes'])} "
        f"in 512-byte sectors holding a non-zero byte (used for the lower bound); {_mib(fx['nonzero_bytes'])} "
        "literal non-zero bytes |", "",
        "## Targets", "", "| Target | Goal | Measured | Status |", "|---|---|---|---|",
    ]  # fmt: skip
    lines += [f"| {r['target']} | {r['goal']} | {r['measured']} | **{r['status']}** |" for r in results["targets"]]
    lines.append("")
    if "ingestion" in results:
        lines += _ingestion_md(results["ingestion"])
    lines += _startup_md(results["startup"]) + _arm_md(results["arm_requests"])
    lines += _concurrency_md(results["concurrency"])
    return "\n".join(lines)
