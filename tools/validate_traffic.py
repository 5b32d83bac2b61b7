"""The oav traffic gate: validate recorded Microsoft.Compute exchanges against Microsoft's REST specs.

``python -m tools.validate_traffic [--traffic-dir .traffic] [--expected tools/expected_operations.txt]``

Runs ``oav validate-traffic <traffic dir> <spec dir> --report "" --jsonReport <tmp> -l error -f <tmp log>``
once over the vendored specs in ``tools/specs`` (GalleryRP 2026-03-03, DiskRP 2026-03-02, ComputeRP
2026-04-01 and the common-types they reference; oav loads every spec below the directory). Exit 1 when:

* the traffic directory is missing or holds no ``*.json`` file;
* oav reports validation errors (or exits non-zero, or hits a runtime exception);
* a spec fails to load (``Exception when loading spec`` in oav's output or log);
* recorded traffic matches no loaded operation (``Undefined operation``), unless its URL matches an
  ``allow-undefined <regex>`` line of the expected-operations file;
* an operation id listed in the expected-operations file was not exercised by the traffic.
Prints a short summary either way.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OAV = ROOT / "tools" / "node" / "node_modules" / ".bin" / "oav"
SPEC_DIR = (
    ROOT
    / "tools"
    / "specs"
    / "specification"
    / "compute"
    / "resource-manager"
    / "Microsoft.Compute"
    / "Compute"
    / "stable"
)
DEFAULT_TRAFFIC = ROOT / ".traffic"
DEFAULT_EXPECTED = ROOT / "tools" / "expected_operations.txt"
_UNDEFINED = re.compile(r"Undefined operation (\{.*\})")
_PAYLOAD = re.compile(r'"payloadFilePath":"([^"]+)"')


@dataclass(frozen=True, slots=True)
class Expectations:
    """Operation ids that must be covered, and URL regexes allowed to be undefined."""

    operations: tuple[str, ...]
    allow_undefined: tuple[re.Pattern[str], ...]


@dataclass(slots=True)
class Outcome:
    files: int
    covered: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)


def read_expectations(path: Path) -> Expectations:
    operations, allowed = [], []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("allow-undefined "):
            allowed.append(re.compile(line.removeprefix("allow-undefined ").strip(), re.IGNORECASE))
        else:
            operations.append(line)
    return Expectations(tuple(operations), tuple(allowed))


def run_oav(traffic_dir: Path, spec_dir: Path, work: Path) -> tuple[int, str, dict[str, Any]]:
    """Run oav once; return (exit code, combined console output + log text, JSON report)."""
    report, log = work / "report.json", work / "oav.log"
    command = [
        str(OAV), "validate-traffic", str(traffic_dir), str(spec_dir),
        "--report", "", "--jsonReport", str(report), "-l", "error", "-f", str(log),
    ]  # fmt: skip
    proc = subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=600, check=False)
    text = proc.stdout + proc.stderr + (log.read_text(errors="replace") if log.exists() else "")
    data = json.loads(report.read_text()) if report.exists() else {}
    return proc.returncode, text, data


def judge(rc: int, text: str, report: dict[str, Any], expected: Expectations, files: int) -> Outcome:
    outcome = Outcome(files=files)
    for entry in report.get("passedOperationsList", []):
        outcome.covered.update(entry.get("operationIds", []))
    outcome.errors = list(report.get("errors", []))
    outcome.covered.update(e["operationId"] for e in outcome.errors if e.get("operationId"))
    if not report:
        outcome.problems.append(f"oav wrote no JSON report (exit code {rc})")
    if "Exception when loading spec" in text:
        outcome.problems.append("a spec failed to load (oav: 'Exception when loading spec')")
    if outcome.errors:
        bad = sorted(set(_PAYLOAD.findall(text)))
        outcome.problems.append(f"{len(outcome.errors)} validation error(s) in {len(bad) or '?'} file(s): {bad}")
    elif rc != 0 or report.get("failedOperations", 0):
        outcome.problems.append(f"oav failed (exit code {rc}, failedOperations {report.get('failedOperations')})")
    for match in _UNDEFINED.finditer(text):
        request = json.loads(match.group(1)).get("validationRequest", {})
        method, path = request.get("requestMethod", "?").upper(), request.get("pathStr", "?")
        url = f"{method} {path} api-version={request.get('apiVersion')}"
        if not any(p.search(url) for p in expected.allow_undefined):
            outcome.problems.append(f"undefined operation (no loaded spec describes it): {url}")
    missing = [op for op in expected.operations if op not in outcome.covered]
    if missing:
        outcome.problems.append(f"expected operations not covered by the traffic: {', '.join(missing)}")
    return outcome


def validate(traffic_dir: Path, expected_path: Path, spec_dir: Path = SPEC_DIR) -> Outcome:
    files = sorted(traffic_dir.glob("**/*.json")) if traffic_dir.is_dir() else []
    if not files:
        return Outcome(files=0, problems=[f"traffic directory {traffic_dir} is missing or empty"])
    if not OAV.exists():
        return Outcome(files=len(files), problems=[f"{OAV} not found: run `make node`"])
    expected = read_expectations(expected_path)
    with tempfile.TemporaryDirectory(prefix="oav-") as work:
        rc, text, report = run_oav(traffic_dir, spec_dir, Path(work))
    return judge(rc, text, report, expected, len(files))


def print_summary(outcome: Outcome) -> None:
    print(f"oav traffic gate: {outcome.files} file(s) validated, {len(outcome.covered)} operation(s) covered")
    for op in sorted(outcome.covered):
        print(f"  covered: {op}")
    for error in outcome.errors:
        print(
            f"  ERROR {error.get('operationId')} [{error.get('issueSource')}] {error.get('errorCode')}: "
            f"{error.get('errorMessage')}"
        )
    for problem in outcome.problems:
        print(f"FAIL: {problem}")
    print("oav traffic gate: " + ("FAILED" if outcome.problems else "passed"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.validate_traffic", description=__doc__)
    parser.add_argument("--traffic-dir", type=Path, default=DEFAULT_TRAFFIC)
    parser.add_argument("--expected", type=Path, default=DEFAULT_EXPECTED)
    parser.add_argument("--spec-dir", type=Path, default=SPEC_DIR)
    args = parser.parse_args(argv)
    outcome = validate(args.traffic_dir.resolve(), args.expected, args.spec_dir)
    print_summary(outcome)
    return 1 if outcome.problems else 0


if __name__ == "__main__":
    sys.exit(main())
