"""The storage fault proxy in front of Azurite, driven by azure-storage-blob (api_version 2025-11-05)."""

from __future__ import annotations

import hashlib
import http.client
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from azure.core.exceptions import ServiceRequestError, ServiceResponseError
from azure.storage.blob import BlobServiceClient, LinearRetry

from arm_emulator import FaultRule, Reset, Respond
from arm_emulator.blobs import BLOB_API_VERSION
from arm_emulator.httpserver import read_body
from arm_emulator.storage_proxy import StorageFaultProxy
from tests.peers import STORAGE_ACCOUNT, STORAGE_KEY, Peers, blob_service

MIB = 1024 * 1024
PUT_PAGE = {"comp": "page"}


def _client(peers: Peers, **kwargs: object) -> BlobServiceClient:
    credential = {"account_name": STORAGE_ACCOUNT, "account_key": STORAGE_KEY}
    retry = LinearRetry(backoff=0, random_jitter_range=0, retry_total=int(str(kwargs.pop("retry_total", 3))))
    return BlobServiceClient(
        peers.account_url(), credential=credential, api_version=BLOB_API_VERSION, retry_policy=retry, **kwargs
    )


def _ranges(blob: Any) -> list[tuple[int, int]]:
    return [(r.start, r.end) for r in blob.list_page_ranges() if not r.cleared]


@pytest.fixture(autouse=True)
def _clean_proxy(peers: Peers) -> None:
    peers.proxy.faults.clear()


def test_pages_pass_through_unchanged(peers: Peers, name: str) -> None:
    data = os.urandom(4 * MIB)
    mark = peers.proxy.requests.mark()
    with blob_service(peers) as service:
        blob = service.get_blob_client("bosh", f"{name}.vhd")
        blob.create_page_blob(8 * MIB)
        blob.upload_page(data, offset=4 * MIB, length=4 * MIB)
        assert blob.download_blob(offset=4 * MIB, length=4 * MIB).readall() == data
        assert _ranges(blob) == [(4 * MIB, 8 * MIB - 1)]
    puts = [e for e in peers.proxy.requests.since(mark) if "comp=page" in e.query.split("&")]
    assert [(e.method, e.status) for e in puts] == [("PUT", 201)]


def test_injected_server_busy_on_put_page_is_retried(peers: Peers, name: str) -> None:
    busy = Respond(503, "ServerBusy", "The server is busy.", retry_after=0)
    peers.proxy.faults.add(FaultRule(busy, method="PUT", query=PUT_PAGE, name="busy"))
    mark = peers.proxy.requests.mark()
    with _client(peers) as service:
        blob = service.get_blob_client("bosh", f"{name}.vhd")
        blob.create_page_blob(MIB)
        blob.upload_page(b"\x07" * MIB, offset=0, length=MIB)
    pages = [(e.status, e.fault) for e in peers.proxy.requests.since(mark) if "comp=page" in e.query.split("&")]
    assert pages == [(503, "busy"), (201, None)]


def test_reset_in_the_middle_of_a_put_page_upload(peers: Peers, name: str) -> None:
    peers.proxy.faults.add(FaultRule(Reset(mid_response=True), method="PUT", query=PUT_PAGE, times=None))
    with _client(peers, retry_total=0) as service:
        blob = service.get_blob_client("bosh", f"{name}.vhd")
        blob.create_page_blob(4 * MIB)
        with pytest.raises((ServiceRequestError, ServiceResponseError)):
            blob.upload_page(b"\x07" * (4 * MIB), offset=0, length=4 * MIB)
        peers.proxy.faults.clear()
        assert _ranges(blob) == []  # nothing reached Azurite


def test_single_reset_is_survived_by_the_sdk_retry(peers: Peers, name: str) -> None:
    peers.proxy.faults.add(FaultRule(Reset(mid_response=True), method="PUT", query=PUT_PAGE, times=1))
    mark = peers.proxy.requests.mark()
    with _client(peers) as service:
        blob = service.get_blob_client("bosh", f"{name}.vhd")
        blob.create_page_blob(4 * MIB)
        blob.upload_page(b"\x07" * (4 * MIB), offset=0, length=4 * MIB)
        assert _ranges(blob) == [(0, 4 * MIB - 1)]
    statuses = [e.status for e in peers.proxy.requests.since(mark) if "comp=page" in e.query.split("&")]
    assert statuses == [0, 201]


class _Echo(BaseHTTPRequestHandler):
    """Upstream stand-in: answers with the body it received and how it was framed."""

    protocol_version = "HTTP/1.1"

    def do_PUT(self) -> None:
        body = read_body(self.rfile, self.headers)
        framing = "chunked" if "chunked" in self.headers.get("Transfer-Encoding", "") else "length"
        answer = f"{framing}:{len(body)}:{hashlib.sha256(body).hexdigest()}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base class signature
        pass


def test_chunked_and_sized_bodies_stream_through() -> None:
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=upstream.serve_forever, daemon=True)
    thread.start()
    body = os.urandom(300 * 1024)
    try:
        with StorageFaultProxy(f"http://127.0.0.1:{upstream.server_address[1]}") as proxy:
            conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
            conn.request("PUT", "/acct/c/b", body=iter([body[:100_000], body[100_000:]]), encode_chunked=True)
            chunked = conn.getresponse().read().decode()
            conn.request("PUT", "/acct/c/b", body=body)
            sized = conn.getresponse().read().decode()
            conn.close()
    finally:
        upstream.shutdown()
        upstream.server_close()
    digest = hashlib.sha256(body).hexdigest()
    assert chunked == f"chunked:{len(body)}:{digest}"
    assert sized == f"length:{len(body)}:{digest}"
