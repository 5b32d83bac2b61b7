"""The control API under ``/_emulator/`` (no authentication), for tests driving a subprocess emulator.

==========================================  ===============================================================
``GET /_emulator/health``                   ``{"ok": true}``
``GET|DELETE /_emulator/requests``          the request log (``{"requests": [...]}``) / clear it
``POST|DELETE /_emulator/faults``           add a rule (JSON below) / remove all rules
``GET|PUT /_emulator/knobs``                latency and paging knobs (``default_polls``, ``type_polls``,
                                            ``replication_polls_per_region``, ``retry_after``, ``page_size``)
``POST /_emulator/clients``                 register ``{tenant_id, client_id, client_secret?, certificate_pem?}``
``POST /_emulator/subscriptions``           register ``{subscription_id}``
``POST /_emulator/operations/complete``     end every running operation → ``{"completed": n}``
``GET /_emulator/resources``                every stored resource → ``{"value": [...]}``
==========================================  ===============================================================

Fault rule JSON: ``{"method": "PUT", "path": "regex", "query": {"comp": "page"}, "times": 1, "every": 1,
"after": 0, "action": {"kind": "respond", "status": 503, "code": "ServerBusy"}}``; action kinds:
``respond``, ``throttle`` (``retry_after``), ``reset`` (``mid_response``), ``fail_operation`` (``code``),
``slow_operation`` (``polls``), ``stuck_operation``, ``capacity`` (``code``: ``AllocationFailed``,
``ZonalAllocationFailed``, ``OverconstrainedAllocationRequest``, ``SkuNotAvailable``, ``QuotaExceeded``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from arm_emulator.auth import AppRegistration
from arm_emulator.faults import FaultRule, action_from_json
from arm_emulator.wire import ArmError, Reply, Request

if TYPE_CHECKING:
    from arm_emulator.server import ArmEmulator

PREFIX = "/_emulator/"


def handle(emulator: ArmEmulator, request: Request) -> Reply:
    try:
        return _route(emulator, request)
    except ArmError as exc:
        return exc.reply()
    except (KeyError, ValueError, TypeError) as exc:
        return ArmError(400, "InvalidControlRequest", f"{type(exc).__name__}: {exc}").reply()


def _route(emulator: ArmEmulator, request: Request) -> Reply:
    route = f"{request.method} {request.path.removeprefix(PREFIX).rstrip('/')}"
    handler = _ROUTES.get(route)
    if handler is None:
        raise ArmError(404, "NotFound", f"Unknown control route '{route}'.")
    return handler(emulator, request)


def _requests(emulator: ArmEmulator, request: Request) -> Reply:
    if request.method == "DELETE":
        emulator.requests.clear()
        return Reply(status=204)
    return Reply(status=200, body={"requests": [e.as_dict() for e in emulator.requests.entries()]})


def _clear_faults(emulator: ArmEmulator, request: Request) -> Reply:
    emulator.faults.clear()
    return Reply(status=204)


def _subscription(emulator: ArmEmulator, request: Request) -> Reply:
    emulator.add_subscription(str(_object(request)["subscription_id"]))
    return Reply(status=204)


def _object(request: Request) -> dict[str, Any]:
    body = request.json_body()
    if not isinstance(body, dict):
        raise ArmError(400, "InvalidControlRequest", "Expected a JSON object.")
    return body


def _add_fault(emulator: ArmEmulator, request: Request) -> Reply:
    spec = _object(request)
    times = spec.get("times", 1)
    rule = FaultRule(
        action=action_from_json(spec["action"]),
        method=str(spec.get("method", "*")),
        path=str(spec.get("path", ".*")),
        query={str(k): str(v) for k, v in dict(spec.get("query", {})).items()},
        times=None if times is None else int(times),
        every=int(spec.get("every", 1)),
        after=int(spec.get("after", 0)),
        name=str(spec.get("name", "")),
    )
    emulator.faults.add(rule)
    return Reply(status=201, body={"rules": len(emulator.faults.rules())})


def _knobs(emulator: ArmEmulator, request: Request) -> Reply:
    changes = _object(request) if request.method == "PUT" else {}
    knobs = emulator.knobs
    for name in ("default_polls", "replication_polls_per_region", "retry_after", "page_size"):
        if name in changes:
            setattr(knobs, name, int(changes[name]))
    if "type_polls" in changes:
        knobs.type_polls = {str(k).lower(): int(v) for k, v in dict(changes["type_polls"]).items()}
    return Reply(status=200, body=asdict(knobs))


def _client(emulator: ArmEmulator, request: Request) -> Reply:
    spec = _object(request)
    pem = spec.get("certificate_pem")
    emulator.register_client(
        AppRegistration(
            tenant_id=str(spec["tenant_id"]),
            client_id=str(spec["client_id"]),
            secret=spec.get("client_secret"),
            certificate_pem=pem.encode() if isinstance(pem, str) else None,
        )
    )
    return Reply(status=204)


_ROUTES: dict[str, Callable[[ArmEmulator, Request], Reply]] = {
    "GET health": lambda emulator, request: Reply(status=200, body={"ok": True}),
    "GET requests": _requests,
    "DELETE requests": _requests,
    "POST faults": _add_fault,
    "DELETE faults": _clear_faults,
    "GET knobs": _knobs,
    "PUT knobs": _knobs,
    "POST clients": _client,
    "POST subscriptions": _subscription,
    "POST operations/complete": lambda emulator, request: Reply(
        status=200, body={"completed": emulator.complete_operations()}
    ),
    "GET resources": lambda emulator, request: Reply(status=200, body={"value": emulator.resources()}),
}
