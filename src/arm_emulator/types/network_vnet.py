"""Microsoft.Network/virtualNetworks and their subnets (also addressable as ``…/virtualNetworks/V/subnets/S``).

Subnets are stored as child resources; a virtual network's body lists them (``properties.subnets``) and
a PUT of the network replaces the whole list, as the service does (a subnet left out is deleted).
Errors (codes from "Troubleshoot common Azure deployment errors" and service answers):

* a subnet outside the network's address space → 400 ``NetcfgSubnetRangeOutsideVnet``; overlapping
  subnets → 400 ``NetcfgSubnetRangesOverlap``; a malformed prefix → 400 ``InvalidAddressPrefixFormat``;
* deleting a subnet (or the network) while ip configurations use it → 400 ``InUseSubnetCannotBeDeleted``.
A subnet's ``ipConfigurations`` lists the NIC ip configurations in it.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from arm_emulator.store import Record
from arm_emulator.types.base import Ctx, Write
from arm_emulator.types.compute_common import as_object
from arm_emulator.types.network_common import SUBNET_KEY, NetworkType, configs_referencing, new_etag
from arm_emulator.types.network_ip import Network, networks, parse_prefix
from arm_emulator.wire import ArmError, missing_parameter

SUBNET_TYPE = "Microsoft.Network/virtualNetworks/subnets"


def _space(vnet_props: dict[str, Any]) -> list[Network]:
    space = as_object(vnet_props.get("addressSpace"), "properties.addressSpace")
    return [parse_prefix(str(p)) for p in space.get("addressPrefixes") or []]


def _check_subnet(name: str, props: dict[str, Any], space: list[Network], others: dict[str, list[Network]]) -> None:
    """Prefixes inside the network's space and not overlapping the other subnets (by name)."""
    vnet = "the virtual network"
    nets = networks(props)
    if not nets:
        raise missing_parameter(f"subnets[{name}].properties.addressPrefix")
    for net in nets:
        if not any(net.version == s.version and net.subnet_of(s) for s in space):  # type: ignore[arg-type]
            raise ArmError(
                400,
                "NetcfgSubnetRangeOutsideVnet",
                f"Subnet '{name}' is not valid because its IP address range is outside the IP address range of {vnet}.",
            )
        for other, other_nets in others.items():
            if other.lower() != name.lower() and any(net.overlaps(o) for o in other_nets):
                raise ArmError(
                    400,
                    "NetcfgSubnetRangesOverlap",
                    f"Subnet '{name}' is not valid because its IP address range overlaps with that of an existing "
                    f"subnet in {vnet}.",
                )


def in_use_error(ctx: Ctx, subnet: Record) -> ArmError | None:
    users = configs_referencing(ctx, subnet.subscription, "subnet", subnet.id)
    if not users:
        return None
    return ArmError(
        400,
        "InUseSubnetCannotBeDeleted",
        f"Subnet {subnet.name} is in use by {users[0]} and cannot be deleted. In order to delete the subnet, delete "
        "all the resources within the subnet. See aka.ms/deletesubnet.",
    )


def subnet_body(subnet_id: str, name: str, given: dict[str, Any]) -> dict[str, Any]:
    props = {k: copy.deepcopy(v) for k, v in given.items() if k not in ("provisioningState", "ipConfigurations")}
    props.setdefault("privateEndpointNetworkPolicies", "Disabled")
    props.setdefault("privateLinkServiceNetworkPolicies", "Enabled")
    return {"name": name, "id": subnet_id, "etag": new_etag(), "type": SUBNET_TYPE, "properties": props}


class VirtualNetworks(NetworkType):
    type_name = "Microsoft.Network/virtualNetworks"

    def validate(self, ctx: Ctx, write: Write) -> None:
        props = as_object(write.body.get("properties"), "properties")
        space = _space(props)
        if not space:
            raise missing_parameter("properties.addressSpace.addressPrefixes")
        given = _given_subnets(props)
        nets = {name: networks(p) for name, p in given.items()}
        for name, subnet_props in given.items():
            _check_subnet(name, subnet_props, space, nets)
        if write.existing is not None:
            for child in ctx.store.children(write.existing.id, SUBNET_KEY):
                error = in_use_error(ctx, child)
                if child.name.lower() not in {n.lower() for n in given} and error is not None:
                    raise error

    def build(self, ctx: Ctx, write: Write) -> dict[str, Any]:
        props = copy.deepcopy(as_object(write.body.get("properties"), "properties"))
        props.pop("subnets", None)
        props.pop("provisioningState", None)
        old = write.existing.properties() if write.existing is not None else {}
        props["resourceGuid"] = old.get("resourceGuid") or str(uuid.uuid4())
        props.setdefault("enableDdosProtection", False)
        props.setdefault("virtualNetworkPeerings", [])
        return {"etag": new_etag(), "properties": props}

    def on_written(self, ctx: Ctx, record: Record, write: Write) -> None:
        given = _given_subnets(as_object(write.body.get("properties"), "properties"))
        wanted = {name.lower() for name in given}
        for child in ctx.store.children(record.id, SUBNET_KEY):
            if child.name.lower() not in wanted:
                ctx.store.remove_tree(child.id)
        for name, subnet_props in given.items():
            existing = next(
                (c for c in ctx.store.children(record.id, SUBNET_KEY) if c.name.lower() == name.lower()), None
            )
            subnet_id = existing.id if existing is not None else f"{record.id}/subnets/{name}"
            body = subnet_body(subnet_id, name, subnet_props)
            body["properties"]["provisioningState"] = "Succeeded"
            child = Record.create(subnet_id, body)
            ctx.store.put(child)

    def render(self, ctx: Ctx, record: Record, query: Any) -> dict[str, Any]:
        body = record.snapshot()
        subnets = ctx.registry.get(SUBNET_KEY)
        assert subnets is not None
        body["properties"]["subnets"] = [subnets.render(ctx, c, {}) for c in ctx.store.children(record.id, SUBNET_KEY)]
        return body

    def check_delete(self, ctx: Ctx, record: Record) -> None:
        for child in ctx.store.children(record.id, SUBNET_KEY):
            error = in_use_error(ctx, child)
            if error is not None:
                raise error


def _given_subnets(props: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for index, item in enumerate(props.get("subnets") or []):
        entry = as_object(item, f"properties.subnets[{index}]")
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            raise missing_parameter(f"properties.subnets[{index}].name")
        found[name] = as_object(entry.get("properties"), f"properties.subnets[{index}].properties")
    return found


class Subnets(NetworkType):
    type_name = SUBNET_TYPE
    tracked = False

    def validate(self, ctx: Ctx, write: Write) -> None:
        parent = write.path.parent()
        assert parent is not None
        vnet = ctx.store.get(parent.resource_id())
        assert vnet is not None
        props = as_object(write.body.get("properties"), "properties")
        others = {c.name: networks(c.properties()) for c in ctx.store.children(vnet.id, SUBNET_KEY)}
        _check_subnet(write.path.name, props, _space(vnet.properties()), others)

    def build(self, ctx: Ctx, write: Write) -> dict[str, Any]:
        body = subnet_body("", write.path.name, as_object(write.body.get("properties"), "properties"))
        return {"etag": body["etag"], "properties": body["properties"]}

    def render(self, ctx: Ctx, record: Record, query: Any) -> dict[str, Any]:
        body = record.snapshot()
        users = configs_referencing(ctx, record.subscription, "subnet", record.id)
        if users:
            body["properties"]["ipConfigurations"] = [{"id": u} for u in users]
        return body

    def check_delete(self, ctx: Ctx, record: Record) -> None:
        error = in_use_error(ctx, record)
        if error is not None:
            raise error
