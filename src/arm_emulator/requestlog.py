"""The request log: every request the emulator answered (or cut), in arrival order.

Entries classify each request so tests can count "ARM requests of a CPI call, polls excluded":
``kind`` is ``arm`` (resource operations), ``poll`` (GETs on operation URLs), ``token`` (Entra ID
discovery and token requests) or ``control`` (``/_emulator/…``).
"""

from __future__ import annotations

import re
import threading
from dataclasses import asdict, dataclass
from typing import Any

ARM, POLL, TOKEN, CONTROL = "arm", "poll", "token", "control"


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """One request; ``status`` 0 means the connection was reset before a status line was sent."""

    seq: int
    method: str
    path: str
    query: str
    status: int
    kind: str
    client_request_id: str | None
    fault: str | None = None

    @property
    def is_poll(self) -> bool:
        return self.kind == POLL

    @property
    def is_token(self) -> bool:
        return self.kind == TOKEN

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class RequestLog:
    """Append-only, thread-safe; ``mark()`` + ``since(mark)`` scope assertions to one step of a test."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[LoggedRequest] = []
        self._seq = 0

    def add(self, **fields: Any) -> LoggedRequest:
        with self._lock:
            self._seq += 1
            entry = LoggedRequest(seq=self._seq, **fields)
            self._entries.append(entry)
            return entry

    def entries(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def mark(self) -> int:
        """The sequence number of the latest entry (0 when empty)."""
        with self._lock:
            return self._seq

    def since(self, mark: int) -> list[LoggedRequest]:
        return [e for e in self.entries() if e.seq > mark]

    def select(
        self,
        method: str | None = None,
        path: str | None = None,
        kinds: tuple[str, ...] = (ARM,),
        since: int = 0,
    ) -> list[LoggedRequest]:
        """Entries of the given kinds (default: ARM resource requests only, no polls/tokens/control),
        optionally filtered by method and a case-insensitive path regex."""
        regex = re.compile(path, re.IGNORECASE) if path is not None else None
        return [
            e
            for e in self.since(since)
            if e.kind in kinds
            and (method is None or e.method == method.upper())
            and (regex is None or regex.search(e.path))
        ]

    def count(
        self,
        method: str | None = None,
        path: str | None = None,
        kinds: tuple[str, ...] = (ARM,),
        since: int = 0,
    ) -> int:
        return len(self.select(method, path, kinds, since))

    def counts_by_route(self, since: int = 0, kinds: tuple[str, ...] = (ARM,)) -> dict[str, int]:
        """``{"PUT /subscriptions/…/versions/1.0.0": 1, …}`` for the selected kinds."""
        counts: dict[str, int] = {}
        for entry in self.select(kinds=kinds, since=since):
            key = f"{entry.method} {entry.path}"
            counts[key] = counts.get(key, 0) + 1
        return counts
