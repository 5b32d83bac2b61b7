"""Fault injection by rule: match method + path regex (+ query), then answer with a fault.

Actions:

* :class:`Respond` — answer immediately with a status and ARM error body (429 + ``Retry-After``, 500, 503,
  409 …) instead of handling the request;
* :class:`Reset` — close the connection abruptly (TCP RST) before answering, or in the middle of the
  response body (``mid_response=True``);
* :class:`FailOperation`, :class:`SlowOperation`, :class:`StuckOperation` — handle the request normally
  but make the long-running operation it starts end ``Failed``, take N polls, or never end.

A rule fires on matching requests number ``after+1``, ``after+1+every``, … and at most ``times`` times
(``None`` = unlimited). Rules are checked in insertion order; the first that fires wins.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from arm_emulator.wire import ArmError, Reply

THROTTLE_MESSAGE = "Number of requests for subscription exceeded the limit. Please try again after {seconds} seconds."


@dataclass(frozen=True, slots=True)
class Respond:
    status: int
    code: str
    message: str = "Injected fault."
    retry_after: int | None = None

    def reply(self) -> Reply:
        headers = {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}
        return ArmError(self.status, self.code, self.message, headers=headers).reply()


@dataclass(frozen=True, slots=True)
class Reset:
    mid_response: bool = False


@dataclass(frozen=True, slots=True)
class FailOperation:
    code: str
    message: str = "Injected operation failure."
    http_status: int = 500


@dataclass(frozen=True, slots=True)
class SlowOperation:
    polls: int


@dataclass(frozen=True, slots=True)
class StuckOperation:
    """The operation never ends (e.g. replication that never completes)."""


FaultAction = Respond | Reset | FailOperation | SlowOperation | StuckOperation
OperationFault = FailOperation | SlowOperation | StuckOperation


def throttle(retry_after: int = 1, code: str = "SubscriptionRequestsThrottled") -> Respond:
    """ARM's throttling answer: 429 with ``Retry-After`` seconds."""
    return Respond(429, code, THROTTLE_MESSAGE.format(seconds=retry_after), retry_after)


def server_error(status: int = 500, code: str = "InternalServerError") -> Respond:
    return Respond(status, code, "Encountered internal server error. Diagnostic information: injected fault.")


@dataclass(slots=True)
class FaultRule:
    """Match ``method`` (``*`` = any) and ``path`` (regex searched in the URL path, case-insensitive)."""

    action: FaultAction
    method: str = "*"
    path: str = ".*"
    query: Mapping[str, str] = field(default_factory=dict)
    times: int | None = 1
    every: int = 1
    after: int = 0
    name: str = ""
    matched: int = 0
    fired: int = 0
    regex: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.regex = re.compile(self.path, re.IGNORECASE)

    def matches(self, method: str, path: str, query: Mapping[str, str]) -> bool:
        if self.method != "*" and self.method.upper() != method.upper():
            return False
        if not self.regex.search(path):
            return False
        return all(query.get(k.lower(), "").lower() == v.lower() for k, v in self.query.items())

    def count_match(self) -> bool:
        """Count one matching request; True when the rule is due to fire for it."""
        self.matched += 1
        if self.times is not None and self.fired >= self.times:
            return False
        position = self.matched - self.after
        return position > 0 and (position - 1) % max(self.every, 1) == 0


class FaultInjector:
    """Thread-safe ordered rule list."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def pick(self, method: str, path: str, query: Mapping[str, str]) -> FaultRule | None:
        """The first rule due to fire for this request; every matching rule counts the request, only the
        chosen one uses up one of its ``times``."""
        chosen: FaultRule | None = None
        with self._lock:
            for rule in self._rules:
                due = rule.matches(method, path, query) and rule.count_match()
                if due and chosen is None:
                    chosen = rule
                    rule.fired += 1
        return chosen


def action_from_json(spec: Mapping[str, object]) -> FaultAction:
    """Build an action from the control endpoint's JSON: ``{"kind": "respond"|"reset"|…, …}``."""
    kind = str(spec.get("kind", ""))
    if kind == "respond":
        retry = spec.get("retry_after")
        return Respond(
            int(str(spec["status"])),
            str(spec.get("code", "InjectedFault")),
            str(spec.get("message", "Injected fault.")),
            int(str(retry)) if retry is not None else None,
        )
    if kind == "throttle":
        return throttle(int(str(spec.get("retry_after", 1))))
    if kind == "reset":
        return Reset(mid_response=bool(spec.get("mid_response", False)))
    if kind == "fail_operation":
        return FailOperation(str(spec["code"]), str(spec.get("message", "Injected operation failure.")))
    if kind == "slow_operation":
        return SlowOperation(int(str(spec["polls"])))
    if kind == "stuck_operation":
        return StuckOperation()
    raise ValueError(f"unknown fault kind {kind!r}")
