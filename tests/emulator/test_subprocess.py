"""``python -m arm_emulator`` as a separate process, driven through the control API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from azure.identity import ClientSecretCredential
from azure.mgmt.compute import ComputeManagementClient

from tests.peers import ROOT

SUB = "00000000-0000-0000-0000-00000000beef"
TENANT, CLIENT, SECRET = "t-1", "c-1", "s-1"


@pytest.fixture
def process(tmp_path: Path) -> Iterator[tuple[str, str]]:
    ca_out = tmp_path / "ca.pem"
    command = [
        sys.executable, "-m", "arm_emulator", "--port", "0", "--ca-out", str(ca_out),
        "--subscription", SUB, "--client", f"{TENANT}:{CLIENT}:{SECRET}", "--no-verify-blobs",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().decode().strip().removeprefix("url=")
        ca = proc.stdout.readline().decode().strip().removeprefix("ca=")
        assert url.startswith("https://127.0.0.1:"), proc.stderr.read().decode() if proc.stderr else url
        assert ca == str(ca_out)
        yield url, ca
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    assert proc.returncode == 0


def test_subprocess_serves_arm_and_the_control_api(process: tuple[str, str]) -> None:
    url, ca = process
    with requests.Session() as control:
        assert control.get(f"{url}/_emulator/health", verify=ca, timeout=10).json() == {"ok": True}
        rule = {
            "method": "PUT",
            "path": "/resourceGroups/rg1$",
            "action": {"kind": "respond", "status": 503, "code": "ServerBusy"},
        }
        assert control.post(f"{url}/_emulator/faults", json=rule, verify=ca, timeout=10).status_code == 201
        assert (
            control.put(f"{url}/_emulator/knobs", json={"page_size": 7}, verify=ca, timeout=10).json()["page_size"] == 7
        )
        group = f"{url}/subscriptions/{SUB}/resourceGroups/rg1?api-version=2021-04-01"
        credential = ClientSecretCredential(
            TENANT, CLIENT, SECRET, authority=url, disable_instance_discovery=True, connection_verify=ca
        )
        token = credential.get_token(f"{url}/.default").token
        headers = {"Authorization": f"Bearer {token}"}
        busy = control.put(group, json={"location": "eastus"}, headers=headers, verify=ca, timeout=10)
        assert (busy.status_code, busy.json()["error"]["code"]) == (503, "ServerBusy")
        assert (
            control.put(group, json={"location": "eastus"}, headers=headers, verify=ca, timeout=10).status_code == 201
        )
        kwargs = {
            "base_url": url,
            "credential_scopes": [f"{url}/.default"],
            "connection_verify": ca,
            "polling_interval": 0,
        }
        with ComputeManagementClient(credential, SUB, **kwargs) as client:
            client.galleries.begin_create_or_update("rg1", "g1", {"location": "eastus"}).result()
        log = control.get(f"{url}/_emulator/requests", verify=ca, timeout=10).json()["requests"]
        assert [(e["method"], e["status"], e["fault"]) for e in log if e["path"].endswith("/rg1")] == [
            ("PUT", 503, "Respond"),
            ("PUT", 201, None),
        ]
        names = [r["name"] for r in control.get(f"{url}/_emulator/resources", verify=ca, timeout=10).json()["value"]]
        assert names == ["rg1", "g1"]
