"""HTTP/1.1 plumbing shared by the ARM emulator and the storage fault proxy.

:class:`TlsThreadingServer` wraps each accepted connection in TLS on the connection's own thread (a slow
handshake never blocks ``accept``), tracks open connections so ``stop()`` can cut keep-alive clients, and
serves on a daemon thread. :func:`reset_connection` closes a socket with a TCP RST (``SO_LINGER`` 0).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import struct
import threading
from http.server import ThreadingHTTPServer
from typing import Any

logger = logging.getLogger(__name__)


class TlsThreadingServer(ThreadingHTTPServer):
    """A threading HTTP server, optionally TLS, that can be stopped with connections still open."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: Any, tls: ssl.SSLContext | None) -> None:
        super().__init__(address, handler)
        self.tls = tls
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        raw: socket.socket = request
        with self._conns_lock:
            self._conns.add(raw)
        try:
            if self.tls is not None:
                try:
                    request = self.tls.wrap_socket(raw, server_side=True)
                except (ssl.SSLError, OSError) as exc:
                    logger.debug("TLS handshake with %s failed: %s", client_address, exc)
                    self.shutdown_request(raw)
                    return
            super().process_request_thread(request, client_address)
        finally:
            with self._conns_lock:
                self._conns.discard(raw)

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("connection from %s ended with an error", client_address, exc_info=True)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, name=f"http-{self.port}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, cut open connections and close the listening socket."""
        self.shutdown()
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def reset_connection(sock: socket.socket) -> None:
    """Abort the connection with a TCP RST instead of an orderly FIN."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


def read_body(rfile: Any, headers: Any) -> bytes:
    """Read a request body by ``Content-Length`` or chunked transfer encoding."""
    if "chunked" in str(headers.get("Transfer-Encoding", "")).lower():
        chunks: list[bytes] = []
        while True:
            size = int(rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                rfile.readline()
                return b"".join(chunks)
            chunks.append(rfile.read(size))
            rfile.readline()
    length = int(headers.get("Content-Length") or 0)
    return rfile.read(length) if length > 0 else b""
