"""ARM's front door: authentication, api-version and subscription checks, routing to the generic operations.

Order of checks, as ARM applies them: bearer token (401), ``api-version`` present (400
``MissingApiVersionParameter``) and well-formed (400 ``InvalidApiVersionParameter``), subscription known
(404 ``SubscriptionNotFound``), namespace known (400 ``InvalidResourceNamespace``), type known (400
``InvalidResourceType``), api-version served for the type (400 ``NoRegisteredProviderFound``), then the
operation itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from arm_emulator import faults, ids, lro
from arm_emulator.auth import Directory
from arm_emulator.crud import ResourceOperations, not_found
from arm_emulator.ids import ArmPath, PathKind
from arm_emulator.listing import compile_filter, generic_item, page
from arm_emulator.requestlog import ARM, POLL
from arm_emulator.types.base import Ctx, ResourceType
from arm_emulator.types.resource_groups import RESOURCES_API_VERSIONS
from arm_emulator.wire import ArmError, Reply, Request

_API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-(preview|privatepreview|alpha|beta))?$")
RG_KEY = "microsoft.resources/resourcegroups"


class ArmService:
    """Handles one ARM request at a time (the caller holds the emulator lock)."""

    def __init__(
        self,
        ctx: Ctx,
        directory: Directory,
        audiences: Callable[[], Iterable[str]],
        subscriptions: Callable[[], set[str]],
    ) -> None:
        self.ctx = ctx
        self.directory = directory
        self.audiences = audiences
        self.subscriptions = subscriptions
        self.resources = ResourceOperations(ctx, ctx.operations)

    def classify(self, request: Request) -> str:
        """``poll`` for operation-status URLs, ``arm`` for everything else."""
        path = ids.parse(request.path)
        return POLL if path is not None and self._operation_id(path) is not None else ARM

    def handle(self, request: Request, fault: faults.OperationFault | None = None, authenticate: bool = True) -> Reply:
        try:
            return self._handle(request, fault, authenticate)
        except ArmError as exc:
            return exc.reply()

    def _handle(self, request: Request, fault: faults.OperationFault | None, authenticate: bool) -> Reply:
        if authenticate:
            self.directory.check_bearer(request.headers, self.audiences())
        path = ids.parse(request.path)
        if path is None:
            raise ArmError(404, "NotFound", f"The requested path '{request.path}' was not found.")
        api_version = _api_version(request)
        if path.subscription.lower() not in self.subscriptions():
            raise ArmError(404, "SubscriptionNotFound", f"The subscription '{path.subscription}' could not be found.")
        op_id = self._operation_id(path)
        if op_id is not None:
            return self._poll(op_id, path, request)
        if path.kind is PathKind.GENERIC_LIST:
            _check_api_version(api_version, RESOURCES_API_VERSIONS, "resources", "global")
            return self._generic_list(path, request)
        return self._provider(path, request, api_version, fault)

    # ---- operations ---------------------------------------------------------------------------------------

    def _operation_id(self, path: ArmPath) -> str | None:
        if path.kind is PathKind.SUBSCRIPTION_OPERATION:
            return path.names[0]
        is_op = (
            path.kind is PathKind.PROVIDER
            and path.resource_group is None
            and len(path.types) == 2
            and len(path.names) == 2
            and path.types[0].lower() == "locations"
            and path.types[1].lower() in self.ctx.registry.operation_segments()
        )
        return path.names[1] if is_op else None

    def _poll(self, op_id: str, path: ArmPath, request: Request) -> Reply:
        if request.method != "GET":
            raise ArmError(
                405, "MethodNotAllowed", f"The requested resource does not support http method '{request.method}'."
            )
        op = self.ctx.operations.poll(op_id)
        if op is None:
            raise ArmError(404, "NotFound", f"The operation '{op_id}' was not found.")
        retry = self.ctx.knobs.retry_after
        monitor = (
            request.query.get("monitor", "").lower() == "true"
            or path.kind is PathKind.SUBSCRIPTION_OPERATION
            or path.types[-1].lower() in self.ctx.registry.monitor_segments()
        )
        return lro.monitor_reply(op, request.base_url, retry) if monitor else lro.status_reply(op, retry)

    # ---- generic listing ---------------------------------------------------------------------------------

    def _generic_list(self, path: ArmPath, request: Request) -> Reply:
        if request.method != "GET":
            raise ArmError(
                405, "MethodNotAllowed", f"The requested resource does not support http method '{request.method}'."
            )
        if path.resource_group is not None:
            self.resources.require_group(path)
        resource_filter = compile_filter(request.query.get("$filter"))
        expand = request.query.get("$expand", "")
        items = []
        for record in self.ctx.store.in_scope(path.subscription, path.resource_group):
            rtype = self.ctx.registry.get(record.type_key)
            if rtype is None or not rtype.tracked or record.type_key == RG_KEY:
                continue
            if resource_filter.accepts(record):
                items.append(generic_item(record, resource_filter.hides_tags, expand))
        return page(items, request, self.ctx.knobs.page_size)

    # ---- provider paths ----------------------------------------------------------------------------------

    def _provider(
        self, path: ArmPath, request: Request, api_version: str, fault: faults.OperationFault | None
    ) -> Reply:
        assert path.namespace is not None
        if not self.ctx.registry.knows_namespace(path.namespace):
            raise ArmError(400, "InvalidResourceNamespace", f"The resource namespace '{path.namespace}' is invalid.")
        if request.method == "POST" and path.is_collection:
            return self._post(path, request, api_version, fault)
        rtype = self._type(path, path.types, api_version)
        _check_api_version(api_version, rtype.api_versions, "/".join(rtype.segments), self._location_hint(path))
        canonical = path.with_types(rtype.segments, rtype.namespace)
        return self._dispatch(canonical, rtype, request, fault)

    def _dispatch(
        self, path: ArmPath, rtype: ResourceType, request: Request, fault: faults.OperationFault | None
    ) -> Reply:
        method = request.method
        if rtype.virtual:
            if method != "GET" or not (path.is_collection or path.is_instance):
                raise ArmError(
                    405, "MethodNotAllowed", f"The requested resource does not support http method '{method}'."
                )
            if path.is_collection:
                return rtype.virtual_list(self.ctx, path, request)
            return rtype.virtual_get(self.ctx, path, request)
        if path.is_collection and method == "GET":
            return self.resources.list(path, rtype, request)
        if not path.is_instance:
            raise ArmError(404, "NotFound", f"The requested path '{request.path}' was not found.")
        handlers = {
            "GET": lambda: self.resources.get(path, rtype, request),
            "HEAD": lambda: self.resources.head(path, rtype),
            "PUT": lambda: self.resources.put(path, rtype, request, fault),
            "PATCH": lambda: self.resources.patch(path, rtype, request, fault),
            "DELETE": lambda: self.resources.delete(path, rtype, request, fault),
        }
        if method not in handlers:
            raise ArmError(405, "MethodNotAllowed", f"The requested resource does not support http method '{method}'.")
        return handlers[method]()

    def _post(self, path: ArmPath, request: Request, api_version: str, fault: faults.OperationFault | None) -> Reply:
        action = path.types[-1].lower()
        if len(path.types) == 1:
            rtype = self.ctx.registry.provider_action(path.namespace or "", action)
            if rtype is None or path.resource_group is not None:
                raise _invalid_type(path, api_version)
            _check_api_version(api_version, rtype.api_versions, action, "global")
            return rtype.provider_post(self.ctx, path, action, request)
        owner = path.parent()
        assert owner is not None
        rtype = self._type(owner, owner.types, api_version)
        _check_api_version(api_version, rtype.api_versions, "/".join(rtype.segments), self._location_hint(owner))
        if action not in rtype.actions:
            raise _invalid_type(path, api_version)
        canonical = owner.with_types(rtype.segments, rtype.namespace)
        self.resources.require_group(canonical)
        record = self.ctx.store.get(canonical.resource_id())
        if record is None:
            raise not_found(canonical)
        return rtype.post(self.ctx, record, action, request, fault)

    def _type(self, path: ArmPath, types: tuple[str, ...], api_version: str) -> ResourceType:
        rtype = self.ctx.registry.get(ids.type_key(path.namespace or "", types))
        if rtype is None:
            raise _invalid_type(path, api_version)
        return rtype

    def _location_hint(self, path: ArmPath) -> str:
        if path.is_instance:
            record = self.ctx.store.get(path.resource_id())
            if record is not None:
                return str(record.body.get("location", "global")).replace(" ", "").lower()
        return "global"


def _api_version(request: Request) -> str:
    value = request.query.get("api-version")
    if value is None or value == "":
        raise ArmError(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
    if not _API_VERSION.match(value):
        raise ArmError(
            400,
            "InvalidApiVersionParameter",
            f"The api-version '{value}' is invalid. The supported versions are '2026-03-03,2025-04-01'.",
        )
    return value


def _check_api_version(value: str, supported: frozenset[str], type_label: str, location: str) -> None:
    """ARM's answer to a well-formed api-version a provider does not serve for the type."""
    if value in supported:
        return
    listing = ",".join(sorted(supported, reverse=True))
    raise ArmError(
        400,
        "NoRegisteredProviderFound",
        f"No registered resource provider found for location '{location}' and API version '{value}' for type "
        f"'{type_label}'. The supported api-versions are '{listing}'. The supported locations are "
        "'eastus,eastus2,westus,westus2,westeurope,northeurope'.",
    )


def _invalid_type(path: ArmPath, api_version: str) -> ArmError:
    return ArmError(
        400,
        "InvalidResourceType",
        f"The resource type '{'/'.join(path.types)}' could not be found in the namespace '{path.namespace}' for "
        f"api version '{api_version}'.",
    )
