"""A streaming HTTP reverse proxy in front of Azurite that injects storage faults by rule.

Everything is forwarded unchanged (method, path, query, headers, body) over one upstream keep-alive
connection per client connection; bodies stream through in 64 KiB chunks in both directions, so a 4 MiB
Put Page is never held in memory whole. Rules (:class:`arm_emulator.faults.FaultRule`, matching method,
path regex and query such as ``{"comp": "page"}``, with ``times``/``every``/``after``) can answer instead
of Azurite:

* :class:`~arm_emulator.faults.Respond` — a storage error (XML body ``<Error><Code>…``, header
  ``x-ms-error-code``, optional ``Retry-After``), e.g. 500 ``InternalError``, 503 ``ServerBusy``, 429;
* :class:`~arm_emulator.faults.Reset` — TCP reset right after the request head, or with
  ``mid_response=True`` after half of the request body arrived (a reset in the middle of a Put Page upload);
  nothing reaches Azurite in either case.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from xml.sax.saxutils import escape

from arm_emulator.faults import FaultInjector, Reset, Respond
from arm_emulator.httpserver import TlsThreadingServer, reset_connection
from arm_emulator.requestlog import RequestLog

logger = logging.getLogger(__name__)
CHUNK = 64 * 1024
UPSTREAM_IDLE_LIMIT = 2.0  # seconds; below Node's 5 s keep-alive timeout
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}


class StorageFaultProxy:
    """``StorageFaultProxy(upstream="http://127.0.0.1:10000").start()``; ``url`` is the proxy's base URL."""

    def __init__(self, upstream: str, port: int = 0) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or parts.hostname is None or parts.port is None:
            raise ValueError(f"upstream must be http://host:port, got {upstream!r}")
        self.upstream_host, self.upstream_port = parts.hostname, parts.port
        self.faults = FaultInjector()
        self.requests = RequestLog()
        self._server = TlsThreadingServer(("127.0.0.1", port), _ProxyHandler, None)
        self._server.proxy = self  # type: ignore[attr-defined]

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> StorageFaultProxy:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> StorageFaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def storage_error(action: Respond) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and XML body of a storage service error."""
    body = (
        '<?xml version="1.0" encoding="utf-8"?><Error>'
        f"<Code>{escape(action.code)}</Code><Message>{escape(action.message)}</Message></Error>"
    ).encode()
    headers = {"Content-Type": "application/xml", "x-ms-error-code": action.code}
    if action.retry_after is not None:
        headers["Retry-After"] = str(action.retry_after)
    return action.status, headers, body


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "storage-fault-proxy"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        self._upstream: http.client.HTTPConnection | None = None
        self._last_used = 0.0

    def finish(self) -> None:
        if self._upstream is not None:
            self._upstream.close()
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
        logger.debug("%s %s", self.address_string(), format % args)

    def _serve(self) -> None:
        proxy: StorageFaultProxy = self.server.proxy  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        query = {k.lower(): v for k, v in parse_qsl(parts.query, keep_blank_values=True)}
        rule = proxy.faults.pick(self.command, parts.path, query)
        action = rule.action if rule is not None else None
        label = (rule.name or type(action).__name__) if rule is not None else None

        def log(status: int) -> None:
            # Logged before the client sees the answer, so tests can rely on the log right after a call.
            proxy.requests.add(
                method=self.command,
                path=parts.path,
                query=parts.query,
                status=status,
                kind="storage",
                client_request_id=self.headers.get("x-ms-client-request-id"),
                fault=label,
            )

        if isinstance(action, Reset):
            log(0)
            self._reset(action)
        elif isinstance(action, Respond):
            self._drain()
            status, headers, body = storage_error(action)
            log(status)
            self._send(status, headers, body)
        else:
            self._forward(proxy, log)

    def _length(self) -> int:
        return int(self.headers.get("Content-Length") or 0)

    def _chunked(self) -> bool:
        return "chunked" in str(self.headers.get("Transfer-Encoding", "")).lower()

    def _body_chunks(self, limit: int | None = None) -> Iterator[bytes]:
        """The request body in pieces of at most CHUNK bytes (``limit``: stop after that many bytes)."""
        if self._chunked():
            yield from self._decoded_chunks()
            return
        remaining = self._length() if limit is None else limit
        while remaining > 0:
            chunk = self.rfile.read(min(CHUNK, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk

    def _decoded_chunks(self) -> Iterator[bytes]:
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return
            while size > 0:
                piece = self.rfile.read(min(CHUNK, size))
                if not piece:
                    return
                size -= len(piece)
                yield piece
            self.rfile.readline()

    def _drain(self) -> None:
        for _ in self._body_chunks():
            pass

    def _reset(self, action: Reset) -> None:
        if action.mid_response:
            for _ in self._body_chunks(self._length() // 2):
                pass
        self.close_connection = True
        reset_connection(self.connection)

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _connection(self, proxy: StorageFaultProxy) -> http.client.HTTPConnection:
        """The upstream connection; a connection idle for a while is replaced (Node closes idle keep-alive
        connections after 5 s, and a request sent into a closing connection fails half-way)."""
        now = time.monotonic()
        if self._upstream is not None and now - self._last_used > UPSTREAM_IDLE_LIMIT:
            self._upstream.close()
            self._upstream = None
        if self._upstream is None:
            self._upstream = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=120)
        self._last_used = now
        return self._upstream

    def _forward(self, proxy: StorageFaultProxy, log: Callable[[int], None]) -> None:
        try:
            response = self._exchange(self._connection(proxy))
        except (http.client.HTTPException, OSError) as exc:
            logger.warning("storage proxy: upstream failed for %s %s: %s", self.command, self.path, exc)
            if self._upstream is not None:
                self._upstream.close()
                self._upstream = None
            self.close_connection = True
            log(502)
            self._send(502, {"Content-Type": "text/plain"}, b"bad gateway")
            return
        log(response.status)
        self._relay(response)
        self._last_used = time.monotonic()

    def _exchange(self, conn: http.client.HTTPConnection) -> http.client.HTTPResponse:
        conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        chunked = self._chunked()
        for name, value in self.headers.items():
            if name.lower() not in _HOP_BY_HOP:
                conn.putheader(name, value)
        if chunked:
            conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        for chunk in self._body_chunks():
            conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
        if chunked:
            conn.send(b"0\r\n\r\n")
        return conn.getresponse()

    def _relay(self, response: http.client.HTTPResponse) -> None:
        self.send_response(response.status, response.reason)
        length = response.getheader("Content-Length")
        for name, value in response.getheaders():
            if name.lower() not in _HOP_BY_HOP and name.lower() not in ("content-length", "server", "date"):
                self.send_header(name, value)
        chunked = length is None and self.command != "HEAD" and response.status not in (204, 304)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        elif length is not None:
            self.send_header("Content-Length", length)
        self.end_headers()
        while True:
            chunk = response.read(CHUNK)
            if not chunk:
                break
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
        if response.will_close:
            self.close_connection = True

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve  # noqa: N815
