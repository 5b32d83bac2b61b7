"""Network security groups, application security groups, load balancers and application gateways.

Bodies keep what the caller sent, with sub-resources (security rules, frontends, backend pools, NAT
rules …) given ids; back-references are computed when read: an NSG's ``networkInterfaces``/``subnets``,
a backend pool's ``backendIPConfigurations``, a NAT rule's ``backendIPConfiguration``, a frontend's
``inboundNatRules``/``loadBalancingRules``. Load-balancer
frontends must reference existing public IPs that no NIC uses (400 ``PublicIPAddressInUse``); deleting
an NSG still associated → 400 ``InUseNetworkSecurityGroupCannotBeDeleted``.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any, ClassVar

from arm_emulator.store import Record
from arm_emulator.types.base import Ctx, Write
from arm_emulator.types.compute_common import as_object
from arm_emulator.types.network_common import (
    NIC_KEY,
    PIP_KEY,
    SUBNET_KEY,
    NetworkType,
    configs_referencing,
    fill_children,
    new_etag,
    ref_id,
    require_ref,
)
from arm_emulator.wire import ArmError

_VNET, _LB = "VirtualNetwork", "AzureLoadBalancer"
# name, description, source, destination, access, priority, direction
_DEFAULT_RULES = (
    ("AllowVnetInBound", "Allow inbound traffic from all VMs in VNET", _VNET, _VNET, "Allow", 65000, "Inbound"),
    ("AllowAzureLoadBalancerInBound", "Allow inbound traffic from azure load balancer", _LB, "*", "Allow", 65001,
     "Inbound"),
    ("DenyAllInBound", "Deny all inbound traffic", "*", "*", "Deny", 65500, "Inbound"),
    ("AllowVnetOutBound", "Allow outbound traffic from all VMs to all VMs in VNET", _VNET, _VNET, "Allow", 65000,
     "Outbound"),
    ("AllowInternetOutBound", "Allow outbound traffic from all VMs to Internet", "*", "Internet", "Allow", 65001,
     "Outbound"),
    ("DenyAllOutBound", "Deny all outbound traffic", "*", "*", "Deny", 65500, "Outbound"),
)  # fmt: skip


class _ChildrenType(NetworkType):
    """A Network type whose body lists sub-resources under ``children`` keys."""

    children: ClassVar[tuple[str, ...]] = ()

    def build(self, ctx: Ctx, write: Write) -> dict[str, Any]:
        props = copy.deepcopy(as_object(write.body.get("properties"), "properties"))
        props.pop("provisioningState", None)
        owner = write.existing.id if write.existing is not None else write.path.resource_id()
        for key in self.children:
            props[key] = fill_children(owner, self.type_name, props.get(key), key)
        old = write.existing.properties() if write.existing is not None else {}
        props["resourceGuid"] = old.get("resourceGuid") or str(uuid.uuid4())
        body: dict[str, Any] = {"etag": new_etag(), "properties": props}
        if isinstance(write.body.get("sku"), dict):
            body["sku"] = copy.deepcopy(write.body["sku"])
        return body


class NetworkSecurityGroups(_ChildrenType):
    type_name = "Microsoft.Network/networkSecurityGroups"
    children = ("securityRules",)

    def build(self, ctx: Ctx, write: Write) -> dict[str, Any]:
        body = super().build(ctx, write)
        owner = write.existing.id if write.existing is not None else write.path.resource_id()
        defaults = [
            {
                "name": name,
                "properties": {
                    "description": text, "protocol": "*", "sourcePortRange": "*", "destinationPortRange": "*",
                    "sourceAddressPrefix": source, "destinationAddressPrefix": target, "access": access,
                    "priority": priority, "direction": direction,
                },
            }
            for name, text, source, target, access, priority, direction in _DEFAULT_RULES
        ]  # fmt: skip
        body["properties"]["defaultSecurityRules"] = fill_children(
            owner, self.type_name, defaults, "defaultSecurityRules"
        )
        return body

    def render(self, ctx: Ctx, record: Record, query: Any) -> dict[str, Any]:
        body = record.snapshot()
        nics, subnets = _nsg_users(ctx, record)
        if nics:
            body["properties"]["networkInterfaces"] = [{"id": i} for i in nics]
        if subnets:
            body["properties"]["subnets"] = [{"id": i} for i in subnets]
        return body

    def check_delete(self, ctx: Ctx, record: Record) -> None:
        nics, subnets = _nsg_users(ctx, record)
        if nics or subnets:
            raise ArmError(
                400,
                "InUseNetworkSecurityGroupCannotBeDeleted",
                f"Network security group {record.id} cannot be deleted because it is in use by the following "
                f"resources: {', '.join(nics + subnets)}. In order to delete the Network security group, remove the "
                "association with the resource(s). To learn how to do this, see aka.ms/deletensg.",
            )


def _nsg_users(ctx: Ctx, record: Record) -> tuple[list[str], list[str]]:
    def uses(other: Record) -> bool:
        return (ref_id(other.properties().get("networkSecurityGroup")) or "").lower() == record.key

    nics = [r.id for r in ctx.store.in_scope(record.subscription, None, NIC_KEY) if uses(r)]
    subnets = [r.id for r in ctx.store.in_scope(record.subscription, None, SUBNET_KEY) if uses(r)]
    return nics, subnets


class ApplicationSecurityGroups(_ChildrenType):
    type_name = "Microsoft.Network/applicationSecurityGroups"


class LoadBalancers(_ChildrenType):
    type_name = "Microsoft.Network/loadBalancers"
    children = (
        "frontendIPConfigurations", "backendAddressPools", "inboundNatRules", "loadBalancingRules", "probes",
        "outboundRules",
    )  # fmt: skip

    def validate(self, ctx: Ctx, write: Write) -> None:
        owner = write.existing.id if write.existing is not None else write.path.resource_id()
        for frontend in as_object(write.body.get("properties"), "properties").get("frontendIPConfigurations") or []:
            props = as_object(as_object(frontend, "frontendIPConfigurations").get("properties"), "properties")
            pip = ref_id(props.get("publicIPAddress"))
            if pip is not None:
                require_ref(ctx, pip, owner, write.location, PIP_KEY)
                users = configs_referencing(ctx, write.path.subscription, "publicIPAddress", pip)
                if users:
                    raise ArmError(400, "PublicIPAddressInUse", f"Public IP address {pip} is in use by {users[0]}.")
            subnet = ref_id(props.get("subnet"))
            if subnet is not None:
                require_ref(ctx, subnet, owner, write.location, SUBNET_KEY)

    def build(self, ctx: Ctx, write: Write) -> dict[str, Any]:
        body = super().build(ctx, write)
        body.setdefault("sku", {"name": "Basic", "tier": "Regional"})
        return body

    def render(self, ctx: Ctx, record: Record, query: Any) -> dict[str, Any]:
        body = record.snapshot()
        props = body["properties"]
        for pool in props.get("backendAddressPools", []):
            users = configs_referencing(ctx, record.subscription, "loadBalancerBackendAddressPools", pool["id"])
            if users:
                pool["properties"]["backendIPConfigurations"] = [{"id": u} for u in users]
        for rule in props.get("inboundNatRules", []):
            users = configs_referencing(ctx, record.subscription, "loadBalancerInboundNatRules", rule["id"])
            if users:
                rule["properties"]["backendIPConfiguration"] = {"id": users[0]}
        _frontend_rule_references(props)
        return body


def _frontend_rule_references(props: dict[str, Any]) -> None:
    """A frontend's read-only ``inboundNatRules``/``loadBalancingRules``: the rules that use it (REST spec,
    ``FrontendIPConfigurationPropertiesFormat``: "An array of references to inbound rules that use this frontend
    IP.")."""
    for frontend in props.get("frontendIPConfigurations", []):
        for kind in ("inboundNatRules", "loadBalancingRules"):
            users = [
                {"id": rule["id"]}
                for rule in props.get(kind, [])
                if str(ref_id(rule.get("properties", {}).get("frontendIPConfiguration")) or "").lower()
                == str(frontend.get("id", "")).lower()
            ]
            if users:
                frontend.setdefault("properties", {})[kind] = users


class ApplicationGateways(_ChildrenType):
    type_name = "Microsoft.Network/applicationGateways"
    children = (
        "gatewayIPConfigurations", "frontendIPConfigurations", "frontendPorts", "backendAddressPools",
        "backendHttpSettingsCollection", "httpListeners", "requestRoutingRules", "probes",
    )  # fmt: skip

    def build(self, ctx: Ctx, write: Write) -> dict[str, Any]:
        body = super().build(ctx, write)
        props = body["properties"]
        props.setdefault("sku", {"name": "Standard_v2", "tier": "Standard_v2", "capacity": 1})
        props["operationalState"] = "Running"
        return body

    def render(self, ctx: Ctx, record: Record, query: Any) -> dict[str, Any]:
        body = record.snapshot()
        for pool in body["properties"].get("backendAddressPools", []):
            users = configs_referencing(ctx, record.subscription, "applicationGatewayBackendAddressPools", pool["id"])
            if users:
                pool["properties"]["backendIPConfigurations"] = [{"id": u} for u in users]
        return body
