"""Fault injection by rule: match method + path regex (+ query), then answer with a fault.

Actions:

* :class:`Respond` — answer immediately with a status and ARM error body (429 + ``Retry-After``, 500, 503,
  409 …) instead of handling the request;
* :class:`Reset` — close the connection abruptly (TCP RST) before answering, or in the middle of the
  response body (``mid_response=True``);
* :class:`FailOperation`, :class:`SlowOperation`, :class:`StuckOperation` — handle the request normally
  but make the long-running operation it starts end ``Failed``, take N polls, or never end.

Capacity errors with the service's codes and messages (:func:`capacity`): ``AllocationFailed``,
``ZonalAllocationFailed`` and ``OverconstrainedAllocationRequest`` fail the VM operation (the VM ends
``Failed``, as Azure reports allocation failures through the operation); ``SkuNotAvailable`` and
``QuotaExceeded`` (409 ``OperationNotAllowed`` with the quota message) answer the PUT itself.

A rule fires on matching requests number ``after+1``, ``after+1+every``, … and at most ``times`` times
(``None`` = unlimited). Rules are checked in insertion order; the first that fires wins.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
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


_ALLOCATION_GUIDANCE = "Read more about improving likelihood of allocation success at http://aka.ms/allocation-guidance"


def capacity(
    kind: str, *, family: str = "standardDSv5Family", location: str = "eastus", size: str = "Standard_D2s_v5"
) -> FaultAction:
    """A capacity error as Azure returns it; ``kind`` is ``AllocationFailed``, ``ZonalAllocationFailed``,
    ``OverconstrainedAllocationRequest``, ``SkuNotAvailable`` or ``QuotaExceeded``."""
    if kind == "AllocationFailed":
        return FailOperation(
            kind,
            "Allocation failed. We do not have sufficient capacity for the requested VM size in this region. "
            + _ALLOCATION_GUIDANCE,
            200,
        )
    if kind == "ZonalAllocationFailed":
        return FailOperation(
            kind,
            "Allocation failed. We do not have sufficient capacity for the requested VM size in this zone. "
            + _ALLOCATION_GUIDANCE,
            200,
        )
    if kind == "OverconstrainedAllocationRequest":
        return FailOperation(
            kind,
            "Allocation failed. VM(s) with the following constraints cannot be allocated, because the condition is "
            "too restrictive. Please remove some constraints and try again. Constraints applied are:\n  - "
            "Networking Constraints (such as Accelerated Networking or IPv6)\n  - VM Size\n",
            200,
        )
    if kind == "SkuNotAvailable":
        return Respond(
            409,
            kind,
            f"The requested VM size for resource 'Following SKUs have failed for Capacity Restrictions: "
            f"{size}' is currently not available in location '{location}'. Please try another size or deploy "
            "to a different location or zones. See https://aka.ms/azureskunotavailable for details.",
        )
    if kind == "QuotaExceeded":
        return Respond(
            409,
            "OperationNotAllowed",
            f"Operation could not be completed as it results in exceeding approved {family} Cores quota. Additional "
            f"details - Deployment Model: Resource Manager, Location: {location}, Current Limit: 10, Current Usage: "
            "10, Additional Required: 2, (Minimum) New Limit Required: 12. Setup Alerts when Quota reaches threshold. "
            "Learn more at https://aka.ms/quotamonitoringalerting . Submit a request for Quota increase at "
            "https://aka.ms/ProdportalCRP/#blade/Microsoft_Azure_Capacity/UsageAndQuota.ReactView/Parameters/ by "
            "specifying parameters listed in the 'Details' section for deployment to succeed.",
        )
    raise ValueError(f"unknown capacity error {kind!r}")


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


def _respond_from_json(spec: Mapping[str, object]) -> FaultAction:
    retry = spec.get("retry_after")
    return Respond(
        int(str(spec["status"])),
        str(spec.get("code", "InjectedFault")),
        str(spec.get("message", "Injected fault.")),
        int(str(retry)) if retry is not None else None,
    )


_FROM_JSON: dict[str, Callable[[Mapping[str, object]], FaultAction]] = {
    "respond": _respond_from_json,
    "throttle": lambda spec: throttle(int(str(spec.get("retry_after", 1)))),
    "reset": lambda spec: Reset(mid_response=bool(spec.get("mid_response", False))),
    "fail_operation": lambda spec: FailOperation(
        str(spec["code"]), str(spec.get("message", "Injected operation failure."))
    ),
    "slow_operation": lambda spec: SlowOperation(int(str(spec["polls"]))),
    "stuck_operation": lambda spec: StuckOperation(),
    "capacity": lambda spec: capacity(str(spec["code"]), location=str(spec.get("location", "eastus"))),
}


def action_from_json(spec: Mapping[str, object]) -> FaultAction:
    """Build an action from the control endpoint's JSON: ``{"kind": "respond"|"reset"|…, …}``."""
    kind = str(spec.get("kind", ""))
    builder = _FROM_JSON.get(kind)
    if builder is None:
        raise ValueError(f"unknown fault kind {kind!r}")
    return builder(spec)
