"""Shared pieces of the Microsoft.Network types (shaped after azure-mgmt-network 33.1.0, api 2026-03-01;
no spec is vendored, so Network traffic is not checked by oav).

Network resource provider behaviour modelled here:

* writes are long-running: PUT answers 201 (new) / 200 with the resource in ``provisioningState:
  Updating`` and ``Azure-AsyncOperation: …/providers/Microsoft.Network/locations/<loc>/operations/<id>``;
  DELETE answers 202 with that URL and ``Location: …/locations/<loc>/operationResults/<id>``;
* sub-resources inside a body (ip configurations, backend pools, NAT rules, security rules …) get
  ``id``, ``type``, ``etag`` and ``provisioningState`` filled in;
* a reference to a resource that does not exist, or lies in another region, is refused with 400
  ``InvalidResourceReference`` "Resource <id> referenced by resource <id> was not found. Please make sure
  that the referenced resource exists, and that both resources are in the same region."
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from arm_emulator import regions
from arm_emulator.ids import parse_resource_id
from arm_emulator.lro import LroStyle
from arm_emulator.store import Record
from arm_emulator.types.base import Ctx, ResourceType
from arm_emulator.wire import ArmError

NETWORK_API_VERSIONS = frozenset(
    {
        "2020-11-01", "2021-02-01", "2021-03-01", "2021-05-01", "2021-08-01", "2022-01-01",
        "2022-05-01", "2022-07-01", "2022-09-01", "2022-11-01", "2023-02-01", "2023-04-01",
        "2023-05-01", "2023-06-01", "2023-09-01", "2023-11-01", "2024-01-01", "2024-03-01",
        "2024-05-01", "2024-07-01", "2024-10-01", "2025-01-01", "2025-03-01", "2025-05-01",
        "2025-07-01", "2026-01-01", "2026-03-01",
    }
)  # fmt: skip
NETWORK_LRO = LroStyle(namespace="Microsoft.Network", segment="operations", monitor_segment="operationResults")
NIC_KEY = "microsoft.network/networkinterfaces"
PIP_KEY = "microsoft.network/publicipaddresses"
SUBNET_KEY = "microsoft.network/virtualnetworks/subnets"


class NetworkType(ResourceType):
    """Defaults of Network resource types: long-running writes, ``Updating`` while they run."""

    api_versions = NETWORK_API_VERSIONS
    lro = NETWORK_LRO
    creating_state = "Updating"


def new_etag() -> str:
    return f'W/"{uuid.uuid4()}"'


def invalid_reference(referenced: str, referrer: str) -> ArmError:
    return ArmError(
        400,
        "InvalidResourceReference",
        f"Resource {referenced} referenced by resource {referrer} was not found. Please make sure that the "
        "referenced resource exists, and that both resources are in the same region.",
    )


def fill_children(owner_id: str, owner_type: str, items: Any, key: str) -> list[dict[str, Any]]:
    """Sub-resources of a body with ``id``/``type``/``etag``/``provisioningState`` filled in."""
    filled = []
    for item in items if isinstance(items, list) else []:
        entry = dict(item) if isinstance(item, dict) else {}
        name = str(entry.get("name", ""))
        entry["id"] = f"{owner_id}/{key}/{name}"
        entry["etag"] = new_etag()
        entry["type"] = f"{owner_type}/{key}"
        props = dict(entry.get("properties") or {})
        props["provisioningState"] = "Succeeded"
        entry["properties"] = props
        filled.append(entry)
    return filled


def ref_id(value: Any) -> str | None:
    """The ``id`` of a ``{"id": …}`` reference, or None."""
    if isinstance(value, dict) and isinstance(value.get("id"), str) and value["id"]:
        return str(value["id"])
    return None


def resolve(ctx: Ctx, resource_id: str) -> tuple[Record, dict[str, Any] | None] | None:
    """The record an id names, or (parent record, sub-resource) for ids like ``…/loadBalancers/L/
    backendAddressPools/P``; None when nothing matches."""
    record = ctx.store.get(resource_id)
    if record is not None:
        return record, None
    path = parse_resource_id(resource_id)
    parent_path = path.parent() if path is not None else None
    if path is None or parent_path is None:
        return None
    parent = ctx.store.get(parent_path.resource_id())
    if parent is None:
        return None
    for key, items in parent.properties().items():
        if key.lower() != path.types[-1].lower() or not isinstance(items, list):
            continue
        for item in items:
            if isinstance(item, dict) and str(item.get("name", "")).lower() == path.name.lower():
                return parent, item
    return None


def require_ref(ctx: Ctx, resource_id: str, referrer: str, location: str, type_key: str | None = None) -> Record:
    """The record (or sub-resource owner) ``resource_id`` names, in ``location``; else 400."""
    found = resolve(ctx, resource_id)
    if found is None:
        raise invalid_reference(resource_id, referrer)
    record, item = found
    if type_key is not None and item is None and record.type_key != type_key:
        raise invalid_reference(resource_id, referrer)
    if regions.normalize(_region(ctx, record)) != regions.normalize(location):
        raise invalid_reference(resource_id, referrer)
    return record


def _region(ctx: Ctx, record: Record) -> str:
    """A resource's region; child resources (subnets) are in their parent's region."""
    if "location" in record.body:
        return str(record.body["location"])
    parent = ctx.store.get(record.parent_key) if record.parent_key else None
    return str(parent.body.get("location", "")) if parent is not None else ""


@dataclass(frozen=True, slots=True)
class IpConfig:
    """One NIC ip configuration as stored: its id, NIC record and properties."""

    id: str
    nic: Record
    props: dict[str, Any]


def ip_configs(ctx: Ctx, subscription: str) -> Iterator[IpConfig]:
    """Every NIC ip configuration of the subscription."""
    for nic in ctx.store.in_scope(subscription, None, NIC_KEY):
        for config in nic.properties().get("ipConfigurations", []):
            yield IpConfig(str(config.get("id", "")), nic, dict(config.get("properties") or {}))


def configs_referencing(ctx: Ctx, subscription: str, key: str, target_id: str) -> list[str]:
    """Ids of ip configurations whose ``key`` reference (or list of references) names ``target_id``."""
    found = []
    for config in ip_configs(ctx, subscription):
        value = config.props.get(key)
        refs = value if isinstance(value, list) else [value]
        if any((ref_id(r) or "").lower() == target_id.lower() for r in refs):
            found.append(config.id)
    return found
