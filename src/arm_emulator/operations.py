"""Starting long-running operations for resources, and the headers that announce them.

Used by the generic writes (:mod:`arm_emulator.crud`) and by type rules that run POST actions as
operations (VM ``restart``, ``deallocate`` …). An operation ends by polls (:mod:`arm_emulator.lro`);
its ``on_done`` callback then updates the resource: a finished DELETE runs the type's ``on_deleted``
hook and removes the resource, anything else calls ``on_operation_done`` (or the given callback).
Only the latest write (``meta["operation"]``) or the latest action (``meta["action"]``) of a resource
ends it: an older operation superseded by a newer one of the same kind ends without effect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from arm_emulator import faults, lro
from arm_emulator.store import Record
from arm_emulator.types.base import Ctx, ResourceType
from arm_emulator.wire import Reply, Request

DoneHook = Callable[[Ctx, Record, lro.Operation], None]


@dataclass(frozen=True, slots=True)
class Call:
    """The request that starts an operation: ``method`` is PUT, PATCH, DELETE or POST; ``fault`` the
    operation fault picked for it."""

    request: Request
    method: str
    fault: faults.OperationFault | None


def start(ctx: Ctx, rtype: ResourceType, record: Record, call: Call, on_done: DoneHook | None = None) -> lro.Operation:
    """Start an operation on ``record`` honouring operation faults; ``on_done`` replaces the default ending."""
    request, method, fault = call.request, call.method, call.fault
    style = rtype.lro
    assert style is not None
    polls: int | None = rtype.polls(ctx, record, method)
    failure = None
    if isinstance(fault, faults.SlowOperation):
        polls = fault.polls
    elif isinstance(fault, faults.StuckOperation):
        polls = None
    elif isinstance(fault, faults.FailOperation):
        failure = lro.PlannedFailure(fault.code, fault.message, fault.http_status)
    op_id = lro.new_operation_id()
    location = str(record.body.get("location", "global"))
    op = lro.Operation(
        id=op_id,
        url_path=lro.operation_path(record.subscription, style, location, op_id),
        api_version=request.query.get("api-version", ""),
        resource_id=record.id,
        polls_needed=polls,
        failure=failure,
        on_done=_on_done(ctx, rtype, record.id, method, on_done),
        final_reply=_final_reply(ctx, rtype, record.id, method),
        output=_output(ctx, rtype, record.id) if style.output_in_status and method in ("PUT", "PATCH") else None,
        monitor_path=(
            lro.operation_path(record.subscription, style, location, op_id, style.monitor_segment)
            if style.monitor_segment
            else ""
        ),
    )
    record.meta[meta_key(method)] = op_id
    rtype.on_operation_started(ctx, record, op, method)
    return ctx.operations.start(op)


def meta_key(method: str) -> str:
    """Where a record keeps the id of its latest operation of this kind."""
    return "action" if method == "POST" else "operation"


def _on_done(
    ctx: Ctx, rtype: ResourceType, resource_id: str, method: str, hook: DoneHook | None
) -> Callable[[lro.Operation], None]:
    def done(op: lro.Operation) -> None:
        record = ctx.store.get(resource_id)
        if record is None or record.meta.get(meta_key(method)) != op.id:
            return
        if hook is not None:
            hook(ctx, record, op)
        elif method == "DELETE" and op.status == lro.SUCCEEDED:
            rtype.on_deleted(ctx, record)
            ctx.store.remove_tree(record.id)
        else:
            rtype.on_operation_done(ctx, record, op)

    return done


def _final_reply(ctx: Ctx, rtype: ResourceType, resource_id: str, method: str) -> Callable[[], Reply]:
    """What a finished ``Location`` monitor answers: the resource for PUT/PATCH, nothing otherwise."""

    def final() -> Reply:
        record = ctx.store.get(resource_id)
        if record is None or method not in ("PUT", "PATCH"):
            return Reply(status=200)
        return Reply(status=200, body=rtype.render(ctx, record, {}))

    return final


def _output(ctx: Ctx, rtype: ResourceType, resource_id: str) -> Callable[[], Any]:
    def output() -> Any:
        record = ctx.store.get(resource_id)
        return rtype.render(ctx, record, {}) if record is not None else None

    return output


def headers(style: lro.LroStyle, op: lro.Operation, base_url: str, method: str, ctx: Ctx) -> dict[str, str]:
    """``Azure-AsyncOperation`` and/or ``Location`` (+ ``Retry-After``) for an operation ``method`` started."""
    result = {"Retry-After": str(ctx.knobs.retry_after)}
    if style.async_header:
        result["Azure-AsyncOperation"] = lro.async_url(base_url, op)
    wants_location = (method == "DELETE" and style.location_on_delete) or method == "POST"
    if method in ("PUT", "PATCH") and style.location_on_write:
        wants_location = True
    if not style.async_header or wants_location:
        result["Location"] = lro.monitor_url(base_url, op)
    return result


def accepted(ctx: Ctx, rtype: ResourceType, op: lro.Operation, call: Call) -> Reply:
    """The 202 answer (no body) to the request that started ``op``."""
    assert rtype.lro is not None
    return Reply(status=202, headers=headers(rtype.lro, op, call.request.base_url, call.method, ctx))
