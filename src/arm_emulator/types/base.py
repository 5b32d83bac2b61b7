"""The per-type rule interface of the generic ARM store, and the registry of types.

A resource type is a :class:`ResourceType` subclass: its class attributes say how the type behaves on
the wire (api-versions, long-running operation style, etag support), its hooks validate writes, fill
server-side properties, render GET bodies, guard deletion and run custom POST actions. The core
(:mod:`arm_emulator.crud`) does everything common: resource-group/parent checks, JSON parsing, location
rules, preconditions, ids, provisioningState, long-running operations, storage.

Adding a type: subclass, set ``type_name`` and ``api_versions``, override what differs, and add an
instance to :func:`arm_emulator.types.default_registry`. Types whose writes change other resources (a VM
attaches disks and NICs) do so in ``on_written``/``on_deleted``/``on_operation_done``/``post``; every
other hook only reads the store. ``virtual`` types answer GETs from a catalog instead of the store
(resource SKUs, platform images, VM sizes).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from arm_emulator.ids import ArmPath
from arm_emulator.lro import LroStyle, Operation, OperationBook
from arm_emulator.store import Record, ResourceStore
from arm_emulator.wire import ArmError, Reply, Request

if TYPE_CHECKING:
    from arm_emulator.blobs import StorageBackend
    from arm_emulator.faults import OperationFault

SUCCEEDED, FAILED = "Succeeded", "Failed"


@dataclass(slots=True)
class Knobs:
    """Latency and paging settings tests may change at any time (read under the emulator lock).

    ``default_polls``: InProgress answers before an operation ends; ``type_polls``: per lower-cased type
    key; ``replication_polls_per_region``: extra polls per gallery-image-version target region;
    ``retry_after``: the ``Retry-After`` seconds sent with operations; ``page_size``: items per list page.
    """

    default_polls: int = 1
    type_polls: dict[str, int] = field(default_factory=dict)
    replication_polls_per_region: int = 1
    retry_after: int = 0
    page_size: int = 100

    def polls_for(self, type_key: str) -> int:
        return self.type_polls.get(type_key.lower(), self.default_polls)


@dataclass(frozen=True, slots=True)
class Ctx:
    """What type rules may use: the store (write it only from the side-effect hooks), knobs, the blob
    backend, the registry and the operation book."""

    store: ResourceStore
    knobs: Knobs
    storage: StorageBackend
    registry: Registry
    operations: OperationBook


@dataclass(frozen=True, slots=True)
class Write:
    """A PUT (or a PATCH already merged into a full body) about to be applied.

    ``path`` has the registry's canonical casing of namespace and types and the caller's names;
    ``body`` is the full desired resource (request body for PUT, existing + patch for PATCH);
    ``resource_id`` is the id the resource has (or will get: stored casing of its group and parent).
    """

    path: ArmPath
    body: dict[str, Any]
    existing: Record | None
    method: str
    query: Mapping[str, str]
    resource_id: str = ""

    @property
    def properties(self) -> dict[str, Any]:
        props = self.body.get("properties")
        return props if isinstance(props, dict) else {}

    @property
    def location(self) -> str:
        return str(self.body.get("location", ""))


class ResourceType:
    """Default behaviour of a resource type; subclasses override what differs."""

    type_name: ClassVar[str] = ""
    api_versions: ClassVar[frozenset[str]] = frozenset()
    lro: ClassVar[LroStyle | None] = None
    supports_etag: ClassVar[bool] = False
    tracked: ClassVar[bool] = True
    actions: ClassVar[frozenset[str]] = frozenset()
    provider_actions: ClassVar[frozenset[str]] = frozenset()
    # provisioningState while a create runs (Compute: Creating; DiskRP and Network: Updating).
    creating_state: ClassVar[str] = "Creating"
    # Status of a synchronous create (availability sets answer 200).
    sync_create_status: ClassVar[int] = 201
    # Reads come from virtual_get/virtual_list, writes are refused.
    virtual: ClassVar[bool] = False
    # Whether the core maintains properties.provisioningState (availability sets have none).
    provisioning_state: ClassVar[bool] = True

    @property
    def namespace(self) -> str:
        return self.type_name.split("/", 1)[0]

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.type_name.split("/")[1:])

    @property
    def key(self) -> str:
        return self.type_name.lower()

    def validate_name(self, name: str) -> None:
        """Raise ArmError when ``name`` is not a valid resource name for this type."""

    def validate(self, ctx: Ctx, write: Write) -> None:
        """Raise ArmError when the write is not acceptable (runs for PUT and merged PATCH)."""

    def build(self, ctx: Ctx, write: Write) -> dict[str, Any]:
        """Type-specific top-level fields of the stored body (``properties``, ``sku``, ``kind`` …); may raise
        ArmError for checks that are done once, here (e.g. probing a VHD source).

        The core adds ``name``, ``id``, ``type``, ``location``, ``tags``, ``etag`` and maintains
        ``properties.provisioningState``.
        """
        return {"properties": copy.deepcopy(write.properties)}

    def merge_patch(self, existing: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
        """ARM PATCH: ``tags`` replace the old tags; objects merge recursively; arrays and scalars replace."""
        merged = copy.deepcopy(existing)
        for key, value in patch.items():
            if key == "tags":
                merged["tags"] = copy.deepcopy(value)
            else:
                merged[key] = deep_merge(merged.get(key), value)
        return merged

    def render(self, ctx: Ctx, record: Record, query: Mapping[str, str]) -> dict[str, Any]:
        """The GET body of ``record`` (``query`` carries ``$expand`` and friends)."""
        return record.snapshot()

    def initial_body(self, ctx: Ctx, record: Record, write: Write) -> dict[str, Any]:
        """The body of the answer to a write that started an operation (default: the resource)."""
        return self.render(ctx, record, {})

    def on_written(self, ctx: Ctx, record: Record, write: Write) -> None:
        """Side effects of an accepted write on other resources (runs after the record is stored)."""

    def on_deleted(self, ctx: Ctx, record: Record) -> None:
        """Side effects of a deletion on other resources (runs just before the record is removed)."""

    def virtual_get(self, ctx: Ctx, path: ArmPath, request: Request) -> Reply:
        """GET of one item of a virtual type."""
        raise ArmError(404, "NotFound", f"The requested path '{request.path}' was not found.")

    def virtual_list(self, ctx: Ctx, path: ArmPath, request: Request) -> Reply:
        """GET of a collection of a virtual type."""
        raise ArmError(404, "NotFound", f"The requested path '{request.path}' was not found.")

    def check_delete(self, ctx: Ctx, record: Record) -> None:
        """Raise ArmError when the resource may not be deleted now."""

    def location_conflict(self, record: Record, requested: str) -> ArmError:
        """ARM's answer to a PUT that moves an existing resource to another region."""
        return ArmError(
            409,
            "InvalidResourceLocation",
            f"The resource '{record.name}' already exists in location '{record.body.get('location')}' in "
            f"resource group '{record.resource_group}'. A resource with the same name cannot be created in "
            f"location '{requested}'. Please select a new resource name.",
        )

    def polls(self, ctx: Ctx, record: Record, method: str) -> int:
        """InProgress polls for an operation started by ``method`` on ``record``."""
        return ctx.knobs.polls_for(self.key)

    def on_operation_started(self, ctx: Ctx, record: Record, op: Operation, method: str) -> None:
        """Hook for bookkeeping tied to an operation (e.g. replication progress)."""

    def on_operation_done(self, ctx: Ctx, record: Record, op: Operation) -> None:
        """Default: provisioningState becomes Succeeded, or Failed when the operation failed."""
        if "properties" in record.body:
            record.properties()["provisioningState"] = FAILED if op.status == FAILED else SUCCEEDED

    def post(
        self, ctx: Ctx, record: Record, action: str, request: Request, fault: OperationFault | None = None
    ) -> Reply:
        """A POST action on a resource (``…/<resource>/<action>``); ``action`` is lower-cased; ``fault`` is
        the operation fault picked for the request (actions that start operations honour it)."""
        raise ArmError(404, "NotFound", f"The action '{action}' is not supported.")

    def provider_post(self, ctx: Ctx, path: ArmPath, action: str, request: Request) -> Reply:
        """A provider-level POST (``/subscriptions/S/providers/<ns>/<action>``)."""
        raise ArmError(404, "NotFound", f"The action '{action}' is not supported.")


def deep_merge(base: Any, patch: Any) -> Any:
    """Merge ``patch`` into ``base``: dicts recursively, anything else replaced."""
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = copy.deepcopy(base)
        for key, value in patch.items():
            merged[key] = deep_merge(merged.get(key), value)
        return merged
    return copy.deepcopy(patch)


class Registry:
    """Resource types by lower-cased type key; also answers provider-level questions."""

    def __init__(self, types: Iterable[ResourceType] = ()) -> None:
        self._types: dict[str, ResourceType] = {}
        for rtype in types:
            self.register(rtype)

    def register(self, rtype: ResourceType) -> None:
        self._types[rtype.key] = rtype

    def get(self, type_key: str) -> ResourceType | None:
        return self._types.get(type_key.lower())

    def all(self) -> list[ResourceType]:
        return list(self._types.values())

    def knows_namespace(self, namespace: str) -> bool:
        return any(t.namespace.lower() == namespace.lower() for t in self._types.values())

    def provider_action(self, namespace: str, action: str) -> ResourceType | None:
        """The type answering ``POST /subscriptions/S/providers/<namespace>/<action>``."""
        for rtype in self._types.values():
            if rtype.namespace.lower() == namespace.lower() and action.lower() in rtype.provider_actions:
                return rtype
        return None

    def operation_segments(self) -> set[str]:
        """Lower-cased path segments under which operations are polled (``capsoperations`` …)."""
        styles = [t.lro for t in self._types.values() if t.lro is not None]
        return {s.segment.lower() for s in styles} | self.monitor_segments()

    def monitor_segments(self) -> set[str]:
        """Lower-cased segments of ``Location`` monitor URLs that differ from the status URLs."""
        return {t.lro.monitor_segment.lower() for t in self._types.values() if t.lro and t.lro.monitor_segment}
