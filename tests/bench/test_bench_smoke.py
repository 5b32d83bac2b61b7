"""``make bench`` cannot rot: its smoke variant runs end to end into a temp folder, and the wire counters agree."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench.sink import CountingRelay, DiscardSink, classify

ROOT = Path(__file__).resolve().parents[2]
MIB = 1 << 20
PIPELINES = {"probe", "cpi", "scripted", "cpi_sink", "scripted_sink", "cpi_small", "cpi_large", "cpi_call"}
CALLS = {"create_stemcell", "create_vm", "create_vm_replicating", "delete_vm", "attach_disk"}


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    out = tmp_path_factory.mktemp("bench-smoke")
    committed = ROOT / "bench" / "RESULTS.md"
    before = committed.read_bytes() if committed.exists() else None
    result = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    assert (committed.read_bytes() if committed.exists() else None) == before, "smoke must not touch RESULTS.md"
    return json.loads((out / "latest.json").read_text()), (out / "RESULTS.md").read_text()


def test_smoke_results_have_every_section_and_target(smoke):
    results, markdown = smoke
    assert results["meta"]["mode"] == "smoke"
    machine = results["machine"]
    assert machine["cores"] >= 1 and machine["azurite"] != "?" and machine["node"].startswith("v")
    assert {"azure-storage-blob", "azure-core", "zlib-ng"} <= set(machine["packages"])
    assert results["fixture"]["vhd_size"] == 32 * MIB + 512
    assert set(results["ingestion"]["pipelines"]) == PIPELINES
    assert set(results["arm_requests"]["calls"]) == CALLS
    assert results["startup"]["info_ms"]["n"] >= 3
    assert len(results["targets"]) == 10
    assert {row["status"] for row in results["targets"]} <= {"PASS", "MISS", "N/A"}
    for heading in ("## Targets", "## 1. Stemcell ingestion", "## 2. Start-up", "## 3. ARM requests", "## 4. Concur"):
        assert heading in markdown
    assert all(f"| {row['target']} |" in markdown for row in results["targets"])


def test_smoke_wire_counts_agree_with_the_uploader_and_the_fixture(smoke):
    results, _ = smoke
    pipes = results["ingestion"]["pipelines"]
    blocks = results["fixture"]["nonzero_block_bytes"]  # counted while the fixture was packed
    for name in ("cpi", "cpi_sink"):
        assert pipes[name]["page_bytes"]["median"] == pipes[name]["reported_bytes_sent"]["median"]
        assert pipes[name]["page_requests"]["median"] == pipes[name]["reported_put_pages"]["median"]
        assert pipes[name]["body_bytes"]["median"] == blocks
    assert pipes["scripted"]["tmp_bytes"]["max"] >= 32 * MIB  # the extracted root.vhd
    assert pipes["cpi"]["tmp_bytes"]["max"] < MIB
    assert results["ingestion"]["lower_bound"]["seconds"] > 0


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_PUT(self) -> None:
        if "chunked" in self.headers.get("Transfer-Encoding", ""):
            while size := int(self.rfile.readline().strip(), 16):
                self.rfile.read(size + 2)
            self.rfile.readline()
        else:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(201)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        return


def test_relay_counts_request_bodies_of_both_framings():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with CountingRelay(f"http://127.0.0.1:{server.server_address[1]}") as relay:
            conn = http.client.HTTPConnection("127.0.0.1", int(relay.url.rsplit(":", 1)[1]))
            conn.request("PUT", "/a/c/b?comp=page", body=b"x" * 5000, headers={"x-ms-page-write": "update"})
            assert conn.getresponse().read() == b"ok"
            conn.request("PUT", "/a/c/b", body=iter([b"y" * 700, b"z" * 300]), headers={"x-ms-blob-type": "PageBlob"})
            assert conn.getresponse().read() == b"ok"
            conn.close()
        totals = relay.log.totals()
        assert (totals.requests, totals.body_bytes, totals.page_requests, totals.page_bytes) == (2, 6000, 1, 5000)
    finally:
        server.shutdown()
        server.server_close()


def test_sink_answers_page_ranges_it_was_given():
    with DiscardSink() as sink:
        conn = http.client.HTTPConnection("127.0.0.1", int(sink.url.rsplit(":", 1)[1]))
        conn.request("PUT", "/acct/c/b", headers={"x-ms-blob-type": "PageBlob", "x-ms-blob-content-length": "4096"})
        assert conn.getresponse().read() == b""
        for start in (0, 512, 2048):
            conn.request(
                "PUT", "/acct/c/b?comp=page", body=bytes(512), headers={"x-ms-range": f"bytes={start}-{start + 511}"}
            )
            response = conn.getresponse()
            assert (response.status, response.read()) == (201, b"")
        conn.request("GET", "/acct/c/b?comp=pagelist")
        body = conn.getresponse().read().decode()
        conn.close()
    assert "<Start>0</Start><End>1023</End>" in body and "<Start>2048</Start><End>2559</End>" in body
    assert sink.log.totals().page_bytes == 1536
    assert classify("PUT", "/a/c?restype=container", {}) == "container"
