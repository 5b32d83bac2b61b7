"""Wire-level instruments for the ingestion benchmark: a request counter, a discard sink and a counting relay.

* :class:`DiscardSink` — a local HTTP endpoint speaking just enough of the Blob API for a page-blob upload
  (Put Blob of a page blob, Put Page, Get Page Ranges, Set Metadata, Lease acquire/renew/release/break, Create
  Container, Delete Blob): it reads every body, drops it, remembers only the written page ranges (so an uploader
  that verifies them passes) and counts what it received.
* :class:`CountingRelay` — a TCP relay in front of Azurite that parses only request heads (method, target,
  ``Content-Length`` or chunked framing) to count request bytes per request; responses pass through untouched.

Both record every request into a :class:`WireLog`: arrival time, method, kind (``create``, ``page``, ``pagelist``,
``metadata``, ``lease``, ``container``, ``delete``, ``other``), head bytes and body bytes — measured on the
wire, independent of what the uploader reports about itself.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

_BUFFER = 1 << 20
_MAX_LINE = 65536


@dataclass(frozen=True, slots=True)
class WireRequest:
    """One request as seen on the wire."""

    at: float  # time.monotonic() when its head had arrived
    method: str
    kind: str
    head_bytes: int
    body_bytes: int


@dataclass(frozen=True, slots=True)
class WireTotals:
    """Sums over a span of a :class:`WireLog`; ``window_s``: first blob create to the last metadata write."""

    requests: int
    head_bytes: int
    body_bytes: int
    page_requests: int
    page_bytes: int
    window_s: float | None

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


class WireLog:
    """Thread-safe, append-only list of :class:`WireRequest`; ``mark()`` + ``totals(since)`` scope a step."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[WireRequest] = []

    def add(self, entry: WireRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def mark(self) -> int:
        with self._lock:
            return len(self._entries)

    def entries(self, since: int = 0) -> list[WireRequest]:
        with self._lock:
            return self._entries[since:]

    def totals(self, since: int = 0) -> WireTotals:
        entries = self.entries(since)
        pages = [e for e in entries if e.kind == "page"]
        creates = [e.at for e in entries if e.kind == "create"]
        ends = [e.at for e in entries if e.kind == "metadata"]
        window = max(ends) - min(creates) if creates and ends and max(ends) >= min(creates) else None
        return WireTotals(
            requests=len(entries),
            head_bytes=sum(e.head_bytes for e in entries),
            body_bytes=sum(e.body_bytes for e in entries),
            page_requests=len(pages),
            page_bytes=sum(e.body_bytes for e in pages),
            window_s=window,
        )


def classify(method: str, target: str, headers: Mapping[str, str]) -> str:
    """The Blob API operation of a request (``headers`` keys lower-cased)."""
    query = parse_qs(urlsplit(target).query)
    comp = (query.get("comp") or [""])[0]
    if method == "DELETE":
        return "delete"
    if (query.get("restype") or [""])[0] == "container":
        return "container"
    if method == "PUT" and comp in ("page", "metadata", "lease"):
        return comp
    if method == "PUT" and not comp and "x-ms-blob-type" in headers:
        return "create"
    if method == "GET" and comp == "pagelist":
        return "pagelist"
    return "other"


# ---- discard sink -------------------------------------------------------------------------------------------


class _Blob:
    def __init__(self, size: int) -> None:
        self.size = size
        self.ranges: list[tuple[int, int]] = []


class DiscardSink:
    """``with DiscardSink() as sink:`` — account URL ``sink.url + "/devstoreaccount1"``; ``sink.log`` counts."""

    def __init__(self) -> None:
        self.log = WireLog()
        self.blobs: dict[str, _Blob] = {}
        self.lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _SinkHandler)
        self._server.daemon_threads = True
        self._server.sink = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, name="discard-sink", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> DiscardSink:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> DiscardSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _SinkHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
        return

    def _serve(self) -> None:
        at = time.monotonic()
        sink: DiscardSink = self.server.sink  # type: ignore[attr-defined]
        headers = {k.lower(): v for k, v in self.headers.items()}
        kind = classify(self.command, self.path, headers)
        body = _discard(self.rfile, int(headers.get("content-length") or 0))
        head = len(self.raw_requestline) + sum(len(k) + len(v) + 4 for k, v in self.headers.items()) + 2
        sink.log.add(WireRequest(at, self.command, kind, head, body))
        status, extra, payload = self._answer(sink, kind, headers)
        self.send_response(status)
        for name, value in {**_common(headers), **extra}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _answer(self, sink: DiscardSink, kind: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if kind == "lease":
            return _lease(headers)
        if kind in ("metadata", "container"):
            return (200 if kind == "metadata" else 201), {}, b""
        name = urlsplit(self.path).path
        with sink.lock:
            if kind == "create":
                sink.blobs[name] = _Blob(int(headers.get("x-ms-blob-content-length") or 0))
                return 201, {}, b""
            if kind == "delete":
                sink.blobs.pop(name, None)
                return 202, {}, b""
            blob = sink.blobs.get(name)
            if blob is None:
                return 404, {"x-ms-error-code": "BlobNotFound"}, b""
            return _blob_answer(blob, kind, headers)

    do_GET = do_PUT = do_DELETE = do_HEAD = do_POST = _serve  # noqa: N815


def _discard(rfile: IO[bytes], length: int) -> int:
    buffer = bytearray(min(length, _BUFFER))
    view, left = memoryview(buffer), length
    while left > 0:
        got = rfile.readinto(view[: min(left, len(buffer))])  # type: ignore[attr-defined]
        if not got:
            break
        left -= got
    return length - left


def _common(headers: Mapping[str, str]) -> dict[str, str]:
    return {
        "x-ms-request-id": str(uuid.uuid4()),
        "x-ms-version": headers.get("x-ms-version", "2025-11-05"),
        "ETag": '"0x8DC0000000000001"',
        "Last-Modified": formatdate(usegmt=True),
        "Date": formatdate(usegmt=True),
        "x-ms-request-server-encrypted": "true",
    }


def _range(headers: Mapping[str, str]) -> tuple[int, int]:
    spec = headers.get("x-ms-range") or headers.get("range") or "bytes=0-0"
    first, last = spec.removeprefix("bytes=").split("-")
    return int(first), int(last)


def _page_list(ranges: list[tuple[int, int]]) -> bytes:
    merged: list[list[int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    rows = "".join(f"<PageRange><Start>{s}</Start><End>{e - 1}</End></PageRange>" for s, e in merged)
    return f'<?xml version="1.0" encoding="utf-8"?><PageList>{rows}<NextMarker /></PageList>'.encode()


def _lease(headers: Mapping[str, str]) -> tuple[int, dict[str, str], bytes]:
    action = headers.get("x-ms-lease-action", "")
    lease_id = headers.get("x-ms-proposed-lease-id") or headers.get("x-ms-lease-id") or str(uuid.uuid4())
    if action == "acquire":
        return 201, {"x-ms-lease-id": lease_id}, b""
    if action == "break":
        return 202, {"x-ms-lease-time": "0"}, b""
    return 200, ({"x-ms-lease-id": lease_id} if action == "renew" else {}), b""


def _blob_answer(blob: _Blob, kind: str, headers: Mapping[str, str]) -> tuple[int, dict[str, str], bytes]:
    """Put Page (remembers the range) and Get Page Ranges (the merged ranges) of an existing blob."""
    if kind == "page":
        start, end = _range(headers)
        if headers.get("x-ms-page-write", "update") == "update":
            blob.ranges.append((start, end + 1))
        md5 = {"Content-MD5": headers["content-md5"]} if "content-md5" in headers else {}
        return 201, {"x-ms-blob-sequence-number": "0", **md5}, b""
    if kind == "pagelist":
        xml = {"Content-Type": "application/xml", "x-ms-blob-content-length": str(blob.size)}
        return 200, xml, _page_list(blob.ranges)
    return 400, {"x-ms-error-code": "UnsupportedBySink"}, b""


# ---- counting relay -----------------------------------------------------------------------------------------


class CountingRelay:
    """``CountingRelay("http://127.0.0.1:10000").start()``: ``url`` forwards to the upstream, ``log`` counts."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        if parts.hostname is None or parts.port is None:
            raise ValueError(f"upstream must be http://host:port, got {upstream!r}")
        self._upstream = (parts.hostname, parts.port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.log = WireLog()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def start(self) -> CountingRelay:
        threading.Thread(target=self._accept, name="relay-accept", daemon=True).start()
        return self

    def stop(self) -> None:
        self._listener.close()
        with self._lock:
            for sock in list(self._open):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> CountingRelay:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), name="relay-conn", daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self._upstream)
        except OSError:
            client.close()
            return
        with self._lock:
            self._open.update((client, upstream))
        for sock in (client, upstream):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        back = threading.Thread(target=_pump, args=(upstream, client), name="relay-back", daemon=True)
        back.start()
        reader = client.makefile("rb", buffering=_BUFFER)
        try:
            while _forward_request(reader, upstream, self.log):
                pass
        except (OSError, ValueError):
            pass
        finally:
            with contextlib.suppress(OSError):
                upstream.shutdown(socket.SHUT_WR)
            back.join(timeout=30)
            with self._lock:
                self._open.difference_update((client, upstream))
            reader.close()
            client.close()
            upstream.close()


def _forward_request(reader: IO[bytes], upstream: socket.socket, log: WireLog) -> bool:
    """Relay one request (head and body); False at the end of the client's stream."""
    lines: list[bytes] = []
    while (line := reader.readline(_MAX_LINE)) not in (b"\r\n", b"\n"):
        if not line:
            return False
        lines.append(line)
    at = time.monotonic()
    head = b"".join(lines) + b"\r\n"
    method, target = lines[0].decode("latin-1").split(" ")[:2]
    headers = {}
    for raw in lines[1:]:
        name, _, value = raw.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    upstream.sendall(head)
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _relay_chunked(reader, upstream)
    else:
        body = _relay_exact(reader, upstream, int(headers.get("content-length") or 0))
    log.add(WireRequest(at, method, classify(method, target, headers), len(head), body))
    return True


def _relay_exact(reader: IO[bytes], upstream: socket.socket, length: int) -> int:
    left = length
    while left > 0:
        data = reader.read(min(left, _BUFFER))
        if not data:
            break
        upstream.sendall(data)
        left -= len(data)
    return length - left


def _relay_chunked(reader: IO[bytes], upstream: socket.socket) -> int:
    body = 0
    while True:
        size_line = reader.readline(_MAX_LINE)
        upstream.sendall(size_line)
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while (trailer := reader.readline(_MAX_LINE)) not in (b"\r\n", b"\n", b""):
                upstream.sendall(trailer)
            upstream.sendall(b"\r\n")
            return body
        body += _relay_exact(reader, upstream, size)
        upstream.sendall(reader.readline(_MAX_LINE))


def _pump(source: socket.socket, dest: socket.socket) -> None:
    buffer = bytearray(_BUFFER)
    view = memoryview(buffer)
    try:
        while count := source.recv_into(buffer):
            dest.sendall(view[:count])
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            dest.shutdown(socket.SHUT_WR)
