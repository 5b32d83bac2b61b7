"""ARM URL paths: parsing into subscription / resource group / provider / type segments / names.

A provider path alternates type and name segments after ``providers/<Namespace>``:
``/subscriptions/S/resourceGroups/R/providers/Microsoft.Compute/galleries/G/images/I`` has types
``(galleries, images)`` and names ``(G, I)``. When there is one name fewer than types the path names
a collection (``…/galleries/G/images``) or, for POST, an action on the parent (``…/accounts/A/listKeys``).
Resource groups are modelled as the type ``Microsoft.Resources/resourceGroups``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

RESOURCES_NAMESPACE = "Microsoft.Resources"
RESOURCE_GROUPS = "resourceGroups"


class PathKind(Enum):
    """What an ARM path addresses."""

    PROVIDER = "provider"  # a resource, a collection, an action or a provider-level action
    GENERIC_LIST = "generic_list"  # /subscriptions/S[/resourceGroups/R]/resources
    SUBSCRIPTION_OPERATION = "subscription_operation"  # /subscriptions/S/operationresults/<id>


@dataclass(frozen=True, slots=True)
class ArmPath:
    """A parsed ARM path; names keep the caller's casing."""

    kind: PathKind
    subscription: str
    resource_group: str | None = None
    namespace: str | None = None
    types: tuple[str, ...] = ()
    names: tuple[str, ...] = ()

    @property
    def is_instance(self) -> bool:
        return bool(self.types) and len(self.names) == len(self.types)

    @property
    def is_collection(self) -> bool:
        return bool(self.types) and len(self.names) == len(self.types) - 1

    @property
    def type_key(self) -> str:
        """Lower-cased full type, e.g. ``microsoft.compute/galleries/images``."""
        return type_key(self.namespace or "", self.types)

    @property
    def name(self) -> str:
        return self.names[-1]

    @property
    def is_resource_group(self) -> bool:
        return self.type_key == "microsoft.resources/resourcegroups"

    def parent(self) -> ArmPath | None:
        """The parent resource of a nested instance or collection (None for top-level types)."""
        if len(self.types) < 2:
            return None
        keep = len(self.types) - 1
        return ArmPath(
            kind=self.kind,
            subscription=self.subscription,
            resource_group=self.resource_group,
            namespace=self.namespace,
            types=self.types[:keep],
            names=self.names[:keep],
        )

    def with_types(self, canonical: tuple[str, ...], namespace: str) -> ArmPath:
        """The same path with the registry's canonical casing of namespace and type segments."""
        return ArmPath(
            kind=self.kind,
            subscription=self.subscription,
            resource_group=self.resource_group,
            namespace=namespace,
            types=canonical,
            names=self.names,
        )

    def resource_id(self) -> str:
        """The resource id of an instance path (names as given, namespace/types as in ``self``)."""
        if self.is_resource_group:
            return resource_group_id(self.subscription, self.names[0])
        scope = f"/subscriptions/{self.subscription}"
        if self.resource_group is not None:
            scope += f"/resourceGroups/{self.resource_group}"
        tail = "/".join(f"{t}/{n}" for t, n in zip(self.types, self.names, strict=False))
        return f"{scope}/providers/{self.namespace}/{tail}"


def type_key(namespace: str, types: tuple[str, ...] | list[str]) -> str:
    return "/".join([namespace, *types]).lower()


def resource_group_id(subscription: str, resource_group: str) -> str:
    return f"/subscriptions/{subscription}/resourceGroups/{resource_group}"


def parse(path: str) -> ArmPath | None:
    """Parse an ARM URL path; None when it is not under ``/subscriptions/<id>/…``."""
    segs = [s for s in path.split("/") if s]
    if len(segs) < 3 or segs[0].lower() != "subscriptions":
        return None
    sub, rest = segs[1], segs[2:]
    head = rest[0].lower()
    if head == "resourcegroups":
        return _parse_in_group(sub, rest)
    if head == "providers" and len(rest) >= 3:
        return _provider_path(sub, None, rest[1], rest[2:])
    if head == "resources" and len(rest) == 1:
        return ArmPath(kind=PathKind.GENERIC_LIST, subscription=sub)
    if head == "operationresults" and len(rest) == 2:
        return ArmPath(kind=PathKind.SUBSCRIPTION_OPERATION, subscription=sub, names=(rest[1],))
    return None


def _parse_in_group(sub: str, rest: list[str]) -> ArmPath | None:
    if len(rest) <= 2:
        names = tuple(rest[1:2])
        return ArmPath(
            kind=PathKind.PROVIDER,
            subscription=sub,
            resource_group=names[0] if names else None,
            namespace=RESOURCES_NAMESPACE,
            types=(RESOURCE_GROUPS,),
            names=names,
        )
    group, tail = rest[1], rest[2:]
    if tail[0].lower() == "resources" and len(tail) == 1:
        return ArmPath(kind=PathKind.GENERIC_LIST, subscription=sub, resource_group=group)
    if tail[0].lower() == "providers" and len(tail) >= 3:
        return _provider_path(sub, group, tail[1], tail[2:])
    return None


def _provider_path(sub: str, group: str | None, namespace: str, segs: list[str]) -> ArmPath:
    return ArmPath(
        kind=PathKind.PROVIDER,
        subscription=sub,
        resource_group=group,
        namespace=namespace,
        types=tuple(segs[0::2]),
        names=tuple(segs[1::2]),
    )


def parse_resource_id(resource_id: str) -> ArmPath | None:
    """Parse a resource id (an instance path); None when it does not name a resource."""
    parsed = parse(resource_id)
    if parsed is None or parsed.kind is not PathKind.PROVIDER or not parsed.is_instance:
        return None
    return parsed
