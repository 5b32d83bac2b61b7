"""Generic ARM resource operations (GET, HEAD, PUT, PATCH, DELETE, list) over the store and type rules.

Everything common to ARM resource types lives here: resource-group and parent checks, body parsing,
location rules, ``If-Match``/``If-None-Match`` (for types that support etags), ids with the caller's
name casing, ``provisioningState`` (``Creating``/``Updating``/``Deleting`` while an operation runs,
``Succeeded``/``Failed`` after), and long-running operation headers. Type rules supply the rest.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from arm_emulator import faults, lro, operations, regions
from arm_emulator.ids import ArmPath, resource_group_id
from arm_emulator.listing import page
from arm_emulator.store import Record
from arm_emulator.types.base import Ctx, ResourceType, Write
from arm_emulator.wire import ArmError, Reply, Request


class ResourceOperations:
    """The generic operations; every method runs under the emulator lock."""

    def __init__(self, ctx: Ctx, book: lro.OperationBook) -> None:
        self.ctx = ctx
        self.operations = book

    # ---- scope checks ---------------------------------------------------------------------------------

    def require_group(self, path: ArmPath) -> Record:
        """The resource group record of ``path``; 404 ResourceGroupNotFound when missing."""
        assert path.resource_group is not None
        group = self.ctx.store.get(resource_group_id(path.subscription, path.resource_group))
        if group is None:
            raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{path.resource_group}' could not be found.")
        return group

    def require_parent(self, path: ArmPath) -> Record | None:
        """The parent record of a nested path; 404 ParentResourceNotFound when missing."""
        parent = path.parent()
        if parent is None:
            return None
        record = self.ctx.store.get(parent.resource_id())
        if record is None:
            names = "/".join(parent.names)
            raise ArmError(
                404,
                "ParentResourceNotFound",
                f"Can not perform requested operation on nested resource. Parent resource '{names}' not found.",
            )
        return record

    def _scope(self, path: ArmPath) -> None:
        if path.resource_group is not None and not path.is_resource_group:
            self.require_group(path)
        self.require_parent(path)

    def _existing(self, path: ArmPath) -> Record:
        record = self.ctx.store.get(path.resource_id())
        if record is None:
            raise not_found(path)
        return record

    # ---- reads ------------------------------------------------------------------------------------------

    def get(self, path: ArmPath, rtype: ResourceType, request: Request) -> Reply:
        self._scope(path)
        record = self._existing(path)
        return Reply(status=200, body=rtype.render(self.ctx, record, request.query), headers=etag_header(rtype, record))

    def head(self, path: ArmPath, rtype: ResourceType) -> Reply:
        self._scope(path)
        return Reply(status=204 if self.ctx.store.get(path.resource_id()) else 404)

    def list(self, path: ArmPath, rtype: ResourceType, request: Request) -> Reply:
        """List a collection: children of a parent, a resource group's or a subscription's resources."""
        parent = path.parent()
        if parent is not None:
            self._scope(path)
            records = self.ctx.store.children(parent.resource_id(), rtype.key)
        elif path.resource_group is not None and not path.is_resource_group:
            self.require_group(path)
            records = self.ctx.store.in_scope(path.subscription, path.resource_group, rtype.key)
        else:
            records = self.ctx.store.in_scope(path.subscription, None, rtype.key)
        items = [rtype.render(self.ctx, r, {}) for r in records]
        return page(items, request, self.ctx.knobs.page_size)

    # ---- writes -----------------------------------------------------------------------------------------

    def put(self, path: ArmPath, rtype: ResourceType, request: Request, fault: faults.OperationFault | None) -> Reply:
        self._scope(path)
        rtype.validate_name(path.name)
        body = json_object(request)
        existing = self.ctx.store.get(path.resource_id())
        check_preconditions(rtype, existing, request)
        if rtype.tracked:
            self._check_location(rtype, body, existing)
        check_tags(body)
        rid = existing.id if existing is not None else self._canonical_id(path)
        write = Write(path=path, body=body, existing=existing, method="PUT", query=request.query, resource_id=rid)
        return self._apply(rtype, write, request, fault)

    def patch(self, path: ArmPath, rtype: ResourceType, request: Request, fault: faults.OperationFault | None) -> Reply:
        self._scope(path)
        existing = self._existing(path)
        patch = json_object(request)
        check_preconditions(rtype, existing, request)
        check_tags(patch)
        patch.pop("location", None)
        merged = rtype.merge_patch(existing.snapshot(), patch)
        write = Write(
            path=path, body=merged, existing=existing, method="PATCH", query=request.query, resource_id=existing.id
        )
        return self._apply(rtype, write, request, fault)

    def delete(
        self, path: ArmPath, rtype: ResourceType, request: Request, fault: faults.OperationFault | None
    ) -> Reply:
        if path.resource_group is not None and not path.is_resource_group:
            self.require_group(path)
        record = self.ctx.store.get(path.resource_id())
        if record is None:
            return Reply(status=204)
        check_preconditions(rtype, record, request)
        rtype.check_delete(self.ctx, record)
        style = rtype.lro
        if style is None or not style.lro_on_delete:
            rtype.on_deleted(self.ctx, record)
            self.ctx.store.remove_tree(record.id)
            return Reply(status=200)
        if "properties" in record.body:
            record.properties()["provisioningState"] = "Deleting"
        call = operations.Call(request, "DELETE", fault)
        return operations.accepted(self.ctx, rtype, operations.start(self.ctx, rtype, record, call), call)

    def _apply(self, rtype: ResourceType, write: Write, request: Request, fault: faults.OperationFault | None) -> Reply:
        rtype.validate(self.ctx, write)
        record = self._materialize(rtype, write)
        is_new = write.existing is None
        style = rtype.lro
        long_running = style is not None and (style.lro_on_create if is_new else style.lro_on_update)
        if "properties" in record.body and rtype.provisioning_state:
            state = (rtype.creating_state if is_new else "Updating") if long_running else "Succeeded"
            record.properties()["provisioningState"] = state
        self.ctx.store.put(record)
        rtype.on_written(self.ctx, record, write)
        if style is None or not long_running:
            status = rtype.sync_create_status if is_new and write.method == "PUT" else 200
            return Reply(status=status, body=rtype.render(self.ctx, record, {}), headers=etag_header(rtype, record))
        op = operations.start(self.ctx, rtype, record, operations.Call(request, write.method, fault))
        headers = operations.headers(style, op, request.base_url, write.method, self.ctx)
        headers.update(etag_header(rtype, record))
        if is_new and not style.create_body:
            return Reply(status=style.create_status, headers=headers)
        status = style.write_status or (style.create_status if is_new and write.method == "PUT" else 200)
        return Reply(status=status, body=rtype.initial_body(self.ctx, record, write), headers=headers)

    def _materialize(self, rtype: ResourceType, write: Write) -> Record:
        """The record to store: ids and common fields from the core, the rest from the type."""
        existing, path = write.existing, write.path
        rid = write.resource_id
        body: dict[str, Any] = {"name": rid.rsplit("/", 1)[-1], "id": rid, "type": rtype.type_name}
        if rtype.tracked:
            body["location"] = existing.body["location"] if existing is not None else write.location
        if isinstance(write.body.get("tags"), dict):
            body["tags"] = dict(write.body["tags"])
        etag = (existing.etag + 1) if existing is not None else 1
        if rtype.supports_etag:
            body["etag"] = f'"{etag}"'
        body.update(rtype.build(self.ctx, write))
        parent = path.parent()
        return Record(
            id=rid,
            type_key=rtype.key,
            body=body,
            subscription=path.subscription,
            resource_group=path.resource_group,
            parent_key=parent.resource_id().lower() if parent is not None else None,
            meta=existing.meta if existing is not None else {},
            etag=etag,
        )

    def _canonical_id(self, path: ArmPath) -> str:
        """The new resource's id: resource group and parent casing as stored, the new name as sent."""
        if path.is_resource_group:
            return path.resource_id()
        parent = path.parent()
        if parent is not None:
            parent_record = self.ctx.store.get(parent.resource_id())
            if parent_record is not None:
                return f"{parent_record.id}/{path.types[-1]}/{path.name}"
        assert path.resource_group is not None
        group = self.ctx.store.get(resource_group_id(path.subscription, path.resource_group))
        group_name = group.name if group is not None else path.resource_group
        return dataclasses.replace(path, resource_group=group_name).resource_id()

    def _check_location(self, rtype: ResourceType, body: dict[str, Any], existing: Record | None) -> None:
        location = body.get("location")
        if not isinstance(location, str) or not location:
            raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
        if not regions.is_known(location):
            available = ",".join(regions.normalize(r) for r in regions.known_regions())
            raise ArmError(
                400,
                "LocationNotAvailableForResourceType",
                f"The provided location '{location}' is not available for resource type '{rtype.type_name}'. "
                f"List of available regions for the resource type is '{available}'.",
            )
        if existing is not None:
            old = str(existing.body.get("location", ""))
            if regions.normalize(old) != regions.normalize(location):
                raise rtype.location_conflict(existing, location)


def not_found(path: ArmPath) -> ArmError:
    if path.is_resource_group:
        return ArmError(404, "ResourceGroupNotFound", f"Resource group '{path.name}' could not be found.")
    chain = "/".join(f"{t}/{n}" for t, n in zip(path.types, path.names, strict=False))
    return ArmError(
        404,
        "ResourceNotFound",
        f"The Resource '{path.namespace}/{chain}' under resource group '{path.resource_group}' was not found. "
        "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    )


def json_object(request: Request) -> dict[str, Any]:
    body = request.json_body()
    if not isinstance(body, dict):
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid: expected a JSON object.")
    return body


def check_tags(body: dict[str, Any]) -> None:
    tags = body.get("tags")
    if tags is None:
        return
    if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
        raise ArmError(
            400, "InvalidRequestContent", "The request content was invalid: 'tags' must map names to strings."
        )


def etag_header(rtype: ResourceType, record: Record) -> dict[str, str]:
    return {"ETag": f'"{record.etag}"'} if rtype.supports_etag else {}


def check_preconditions(rtype: ResourceType, existing: Record | None, request: Request) -> None:
    """``If-Match``/``If-None-Match`` for types with etags → 412 PreconditionFailed."""
    if not rtype.supports_etag:
        return
    current = f'"{existing.etag}"' if existing is not None else None
    if_match = request.headers.get("if-match")
    if_none = request.headers.get("if-none-match")
    failed = None
    if if_match is not None and (current is None or if_match.strip() not in ("*", current)):
        failed = f"If-Match = {if_match}"
    if if_none is not None and current is not None and if_none.strip() in ("*", current):
        failed = f"If-None-Match = {if_none}"
    if failed is not None:
        raise ArmError(412, "PreconditionFailed", f"The specified precondition '{failed}' failed.")
