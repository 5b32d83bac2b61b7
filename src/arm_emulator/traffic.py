"""Traffic recording for ``oav validate-traffic``: one JSON file per Microsoft.Compute exchange.

Format (spec-validation.md): ``{"liveRequest": {"method", "url", "headers", "body"?},
"liveResponse": {"statusCode": "201", "headers", "body"?}}``. Bodies are the decoded JSON of exactly
the bytes that went over the wire; ``body`` is omitted when empty. Recorded: any request whose path
contains ``/providers/Microsoft.Compute/`` except operation-status polls (``…/locations/<loc>/…``),
which no spec operation describes.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_COMPUTE = re.compile(r"/providers/microsoft\.compute/", re.IGNORECASE)
_COMPUTE_POLL = re.compile(
    r"/providers/microsoft\.compute/locations/[^/]+/(capsoperations|operations|diskoperations)/[^/]+$",
    re.IGNORECASE,
)
_KEPT_HEADERS = {"content-type", "azure-asyncoperation", "location", "retry-after", "etag"}


def should_record(path: str) -> bool:
    """True for Microsoft.Compute resource operations (not operation polls)."""
    return bool(_COMPUTE.search(path)) and not _COMPUTE_POLL.search(path)


def _decode(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body.decode("utf-8", "replace")


def _headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() in _KEPT_HEADERS}


@dataclass(frozen=True, slots=True, kw_only=True)
class Exchange:
    """One request/response pair exactly as sent (bodies are the raw bytes)."""

    method: str
    url: str
    request_headers: Mapping[str, str]
    request_body: bytes
    status: int
    response_headers: Mapping[str, str]
    response_body: bytes


class TrafficRecorder:
    """Writes ``<NNNNNN>-<METHOD>.json`` files into ``directory`` (created on first use)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self._prefix = secrets.token_hex(3)  # several recorders may share a directory

    def record(self, exchange: Exchange) -> Path:
        live_request: dict[str, Any] = {
            "method": exchange.method,
            "url": exchange.url,
            "headers": _headers(exchange.request_headers),
        }
        decoded = _decode(exchange.request_body)
        if decoded is not None:
            live_request["body"] = decoded
        live_response: dict[str, Any] = {
            "statusCode": str(exchange.status),
            "headers": _headers(exchange.response_headers),
        }
        decoded = _decode(exchange.response_body)
        if decoded is not None:
            live_response["body"] = decoded
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self.directory / f"{self._prefix}-{next(self._counter):06d}-{exchange.method}.json"
            path.write_text(json.dumps({"liveRequest": live_request, "liveResponse": live_response}, indent=1))
        return path
