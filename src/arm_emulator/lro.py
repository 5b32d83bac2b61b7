"""Long-running operations: what ARM's ``Azure-AsyncOperation`` and ``Location`` URLs report.

An operation answers ``InProgress`` to its first ``polls_needed`` status requests and ends on the next one
(``Succeeded``, or ``Failed`` when a failure was planned); ``polls_needed=None`` never ends. Ending runs
the operation's ``on_done`` callback, which updates the resource (provisioningState, deletion). Polls
drive progress, not time, so tests are deterministic.

URL shapes (built from the request's scheme + Host):

* Compute: ``/subscriptions/S/providers/Microsoft.Compute/locations/L/<segment>/<id>?api-version=V``
  with ``segment`` ``capsOperations`` (galleries), ``operations`` (VMs), ``DiskOperations`` (disks);
  the ``Location`` monitor URL adds ``monitor=true``.
* Storage: ``/subscriptions/S/providers/Microsoft.Storage/locations/L/asyncoperations/<id>?monitor=true…``
* Network: ``…/providers/Microsoft.Network/locations/L/operations/<id>`` (``Azure-AsyncOperation``) and
  ``…/locations/L/operationResults/<id>`` (``Location``).
* Resource groups: ``/subscriptions/S/operationresults/<id>?api-version=V``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from arm_emulator.wire import Reply, iso_time, utc_now

IN_PROGRESS = "InProgress"
SUCCEEDED = "Succeeded"
FAILED = "Failed"


@dataclass(frozen=True, slots=True)
class PlannedFailure:
    """How a failing operation ends: error code/message, and the HTTP status a Location monitor returns."""

    code: str
    message: str
    http_status: int = 500


@dataclass(frozen=True, slots=True)
class LroStyle:
    """How a resource type's long-running operations look on the wire.

    ``segment`` is the path segment under ``providers/<namespace>/locations/<loc>/``; ``async_header``
    says whether ``Azure-AsyncOperation`` is sent (Compute) or only ``Location`` (Storage);
    ``location_on_delete`` adds a ``Location`` monitor URL to DELETE answers (Compute does);
    ``location_on_write`` adds it to PUT/PATCH answers too (DiskRP); ``monitor_segment`` puts the
    ``Location`` URL under another segment (Network: ``operationResults``) instead of ``?monitor=true``.
    ``create_status``/``create_body``: a new resource is answered 201 with the body (Compute) or 202
    without one (Storage); ``write_status`` overrides the status of every long-running write (DiskRP:
    202); ``output_in_status``: a succeeded status document carries ``properties.output`` (the resource,
    as DiskRP reports it); ``lro_on_create``/``lro_on_update``/``lro_on_delete``: which writes are
    long-running (resource groups: only deletion).
    """

    namespace: str
    segment: str
    async_header: bool = True
    location_on_delete: bool = True
    create_status: int = 201
    create_body: bool = True
    lro_on_create: bool = True
    lro_on_update: bool = True
    lro_on_delete: bool = True
    location_on_write: bool = False
    monitor_segment: str | None = None
    write_status: int | None = None
    output_in_status: bool = False


@dataclass(slots=True)
class Operation:
    """One long-running operation and its progress."""

    id: str
    url_path: str
    api_version: str
    resource_id: str
    polls_needed: int | None
    failure: PlannedFailure | None = None
    on_done: Callable[[Operation], None] | None = None
    final_reply: Callable[[], Reply] | None = None
    output: Callable[[], Any] | None = None
    monitor_path: str = ""
    polls_seen: int = 0
    status: str = IN_PROGRESS
    started: datetime = field(default_factory=utc_now)
    ended: datetime | None = None

    @property
    def done(self) -> bool:
        return self.status != IN_PROGRESS

    def document(self) -> dict[str, Any]:
        """The operation status document: ``{"startTime", "status", "name"[, "endTime"][, "error"]}``."""
        doc: dict[str, Any] = {"startTime": iso_time(self.started), "status": self.status, "name": self.id}
        if self.ended is not None:
            doc["endTime"] = iso_time(self.ended)
        if self.status == FAILED and self.failure is not None:
            doc["error"] = {"code": self.failure.code, "message": self.failure.message}
        if self.status == SUCCEEDED and self.output is not None:
            output = self.output()
            if output is not None:
                doc["properties"] = {"output": output}
        return doc


class OperationBook:
    """All operations of one emulator, by lower-cased id."""

    def __init__(self) -> None:
        self._ops: dict[str, Operation] = {}

    def start(self, op: Operation) -> Operation:
        self._ops[op.id.lower()] = op
        return op

    def get(self, op_id: str) -> Operation | None:
        return self._ops.get(op_id.lower())

    def poll(self, op_id: str) -> Operation | None:
        """Count one status request; end the operation when its polls are used up."""
        op = self.get(op_id)
        if op is None or op.done:
            return op
        op.polls_seen += 1
        if op.polls_needed is not None and op.polls_seen > op.polls_needed:
            finish(op)
        return op

    def running(self) -> list[Operation]:
        return [op for op in self._ops.values() if not op.done]

    def complete_all(self) -> int:
        """End every running operation now (planned failures still fail); return how many ended."""
        ops = self.running()
        for op in ops:
            finish(op)
        return len(ops)

    def clear(self) -> None:
        self._ops.clear()


def finish(op: Operation) -> None:
    """End ``op`` as planned and run its callback."""
    op.status = FAILED if op.failure is not None else SUCCEEDED
    op.ended = utc_now()
    if op.on_done is not None:
        op.on_done(op)


def new_operation_id() -> str:
    return str(uuid.uuid4())


def operation_path(subscription: str, style: LroStyle, location: str, op_id: str, segment: str | None = None) -> str:
    """``/subscriptions/S/providers/<ns>/locations/<loc>/<segment>/<id>`` (location normalised), or
    ``/subscriptions/S/operationresults/<id>`` for Microsoft.Resources (resource group deletion)."""
    if style.namespace.lower() == "microsoft.resources":
        return f"/subscriptions/{subscription}/operationresults/{op_id}"
    loc = location.replace(" ", "").lower()
    seg = segment or style.segment
    return f"/subscriptions/{subscription}/providers/{style.namespace}/locations/{loc}/{seg}/{op_id}"


def async_url(base_url: str, op: Operation) -> str:
    return f"{base_url}{op.url_path}?api-version={op.api_version}"


def monitor_url(base_url: str, op: Operation) -> str:
    """The ``Location`` URL: the monitor segment's URL when the style has one, else ``?monitor=true``."""
    if op.monitor_path:
        return f"{base_url}{op.monitor_path}?api-version={op.api_version}"
    return f"{base_url}{op.url_path}?monitor=true&api-version={op.api_version}"


def status_reply(op: Operation, retry_after: int) -> Reply:
    """Answer to a GET on the ``Azure-AsyncOperation`` URL (always 200 with the status document)."""
    headers = {} if op.done else {"Retry-After": str(retry_after)}
    return Reply(status=200, body=op.document(), headers=headers)


def monitor_reply(op: Operation, base_url: str, retry_after: int) -> Reply:
    """Answer to a GET on the ``Location`` URL: 202 while running, then the final result or the error."""
    if not op.done:
        return Reply(
            status=202,
            headers={"Location": monitor_url(base_url, op), "Retry-After": str(retry_after)},
        )
    if op.status == FAILED and op.failure is not None:
        body = {"error": {"code": op.failure.code, "message": op.failure.message}}
        return Reply(status=op.failure.http_status, body=body)
    if op.final_reply is not None:
        return op.final_reply()
    return Reply(status=200)
