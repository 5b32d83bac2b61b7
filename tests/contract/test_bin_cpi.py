"""bin/cpi as the Director runs it: a cleared environment, the request on stdin, one JSON object on stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DIRECTOR_ENV_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


def run_bin_cpi(config: Path, request: bytes, tmp_path: Path) -> tuple[int, bytes, bytes]:
    env = {"PATH": DIRECTOR_ENV_PATH, "TMPDIR": str(tmp_path), "HOME": str(tmp_path)}
    proc = subprocess.run(
        [str(ROOT / "bin" / "cpi"), str(config)], input=request, capture_output=True, env=env, timeout=60, check=False
    )
    return proc.returncode, proc.stdout, proc.stderr


def only_json_object(stdout: bytes) -> dict:
    text = stdout.decode("ascii")
    assert text.endswith("\n") and text.count("\n") == 1, text
    doc = json.loads(text)
    assert set(doc) == {"result", "error", "log"}
    return doc


def test_info_in_the_directors_environment(write_config, tmp_path):
    status, stdout, _ = run_bin_cpi(write_config(), b'{"method":"info","arguments":[],"context":{}}', tmp_path)
    assert status == 0
    doc = only_json_object(stdout)
    assert doc["result"] == {"api_version": 2, "stemcell_formats": ["azure-vhd", "azure-light"]}


def test_unknown_method_in_the_directors_environment(write_config, tmp_path):
    request = b'{"method":"frobnicate","arguments":[],"context":{"request_id":"cpi-1"}}'
    status, stdout, stderr = run_bin_cpi(write_config(), request, tmp_path)
    assert status == 0
    doc = only_json_object(stdout)
    assert doc["error"]["type"] == "Bosh::Clouds::NotImplemented"
    assert b"[req_id cpi-1]" in stderr


def test_malformed_input_gives_an_envelope_and_exit_zero(write_config, tmp_path):
    status, stdout, _ = run_bin_cpi(write_config(), b'{"method": "info", "argum', tmp_path)
    assert status == 0
    assert only_json_object(stdout)["error"]["type"] == "Bosh::Clouds::CpiError"


def test_info_imports_no_azure_module(write_config):
    code = (
        "import io, sys\n"
        "from bosh_azure_cpi import cli\n"
        "out = io.BytesIO()\n"
        'cli.main([sys.argv[1]], stdin=io.BytesIO(b\'{"method":"info","arguments":[]}\'), stdout=out, stderr=io.StringIO())\n'
        "assert b'api_version' in out.getvalue()\n"
        "print(sorted(m for m in sys.modules if m == 'azure' or m.startswith('azure.')))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(write_config())],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert proc.stdout.strip() == "[]"


def test_bin_cpi_works_through_a_symlink(write_config, tmp_path):
    link = tmp_path / "job-bin-cpi"
    link.symlink_to(ROOT / "bin" / "cpi")
    env = {"PATH": DIRECTOR_ENV_PATH, "TMPDIR": str(tmp_path), "HOME": str(tmp_path)}
    proc = subprocess.run(
        [str(link), str(write_config())],
        input=b'{"method":"info","arguments":[]}',
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert only_json_object(proc.stdout)["result"]["api_version"] == 2
