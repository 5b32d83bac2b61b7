"""Microsoft.Network/networkInterfaces.

* ``ipConfigurations`` (at least one; with several, exactly one ``primary``): ``subnet.id`` must exist,
  ``privateIPAllocationMethod`` ``Static`` (address checked, see :mod:`network_ip`) or ``Dynamic`` (the
  lowest free address; kept across updates while the subnet stays the same); ``privateIPAddress`` is
  reported either way;
* references — ``publicIPAddress``, ``loadBalancerBackendAddressPools``, ``loadBalancerInboundNatRules``,
  ``applicationGatewayBackendAddressPools``, ``applicationSecurityGroups``, ``networkSecurityGroup`` — must
  exist in the NIC's region (400 ``InvalidResourceReference``); a public IP already used by another ip
  configuration or a load balancer → 400 ``PublicIPAddressInUse``; a ``Dynamic`` public IP gets its address
  when a NIC first references it;
* ``virtualMachine`` and ``primary`` are set by VM create and cleared by VM delete/detach;
  ``enableAcceleratedNetworking`` is checked against the VM size when a VM is created;
* DELETE of a NIC a VM uses → 400 ``NicInUse`` "Network Interface <id> is used by existing resource <vm>.
  In order to delete the network interface, it must be dissociated from the resource. To learn more, see
  aka.ms/deletenic."
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from arm_emulator.store import Record
from arm_emulator.types.base import Ctx, Write
from arm_emulator.types.compute_common import as_object
from arm_emulator.types.network_common import (
    PIP_KEY,
    SUBNET_KEY,
    NetworkType,
    configs_referencing,
    fill_children,
    ref_id,
    require_ref,
)
from arm_emulator.types.network_ip import check_static, next_free, next_public_address, used_addresses
from arm_emulator.wire import ArmError, invalid_parameter

NIC_TYPE = "Microsoft.Network/networkInterfaces"
_LIST_REFS = (
    ("loadBalancerBackendAddressPools", None),
    ("loadBalancerInboundNatRules", None),
    ("applicationGatewayBackendAddressPools", None),
    ("applicationSecurityGroups", "microsoft.network/applicationsecuritygroups"),
)


def _configs(props: dict[str, Any]) -> list[dict[str, Any]]:
    configs = props.get("ipConfigurations")
    if not isinstance(configs, list) or not configs:
        raise ArmError(
            400, "NetworkInterfaceMustHaveAtLeastOneIpConfiguration", "A network interface needs an IP configuration."
        )
    entries = [as_object(c, f"properties.ipConfigurations[{i}]") for i, c in enumerate(configs)]
    primaries = [c for c in entries if as_object(c.get("properties"), "properties").get("primary")]
    if len(entries) > 1 and len(primaries) != 1:
        raise ArmError(
            400,
            "NetworkInterfaceMustHaveOnePrimaryIpConfiguration",
            "A network interface with several IP configurations needs exactly one with primary set to true.",
        )
    return entries


class NetworkInterfaces(NetworkType):
    type_name = NIC_TYPE

    def validate(self, ctx: Ctx, write: Write) -> None:
        props = as_object(write.body.get("properties"), "properties")
        nic_id = write.existing.id if write.existing is not None else write.path.resource_id()
        for config in _configs(props):
            cprops = as_object(config.get("properties"), "ipConfigurations.properties")
            config_id = f"{nic_id}/ipConfigurations/{config.get('name')}"
            subnet = ref_id(cprops.get("subnet"))
            if subnet is None:
                raise invalid_parameter("Every IP configuration needs a subnet.", "ipConfigurations.subnet")
            require_ref(ctx, subnet, nic_id, write.location, SUBNET_KEY)
            self._check_public_ip(ctx, cprops, nic_id, config_id, write.location)
            for key, type_key in _LIST_REFS:
                for ref in cprops.get(key) or []:
                    require_ref(ctx, ref_id(ref) or "", nic_id, write.location, type_key)
        nsg = ref_id(props.get("networkSecurityGroup"))
        if nsg is not None:
            require_ref(ctx, nsg, nic_id, write.location, "microsoft.network/networksecuritygroups")

    def _check_public_ip(self, ctx: Ctx, cprops: dict[str, Any], nic_id: str, config_id: str, location: str) -> None:
        pip = ref_id(cprops.get("publicIPAddress"))
        if pip is None:
            return
        require_ref(ctx, pip, nic_id, location, PIP_KEY)
        users = [u for u in configs_referencing(ctx, _sub(nic_id), "publicIPAddress", pip) if not _inside(u, nic_id)]
        users += lb_frontends_using(ctx, pip)
        if users:
            raise ArmError(
                400,
                "PublicIPAddressInUse",
                f"Public IP address {pip} is in use by {users[0]} and cannot be referenced by {config_id}.",
            )

    def build(self, ctx: Ctx, write: Write) -> dict[str, Any]:
        props = copy.deepcopy(as_object(write.body.get("properties"), "properties"))
        old = write.existing.properties() if write.existing is not None else {}
        nic_id = write.existing.id if write.existing is not None else write.path.resource_id()
        configs = _configs(props)
        _allocate(ctx, nic_id, configs, old.get("ipConfigurations") or [])
        props["ipConfigurations"] = fill_children(nic_id, NIC_TYPE, configs, "ipConfigurations")
        for key in ("provisioningState", "virtualMachine", "primary", "macAddress"):
            props.pop(key, None)
            if key in old and key != "provisioningState":
                props[key] = copy.deepcopy(old[key])
        props.setdefault("dnsSettings", {"dnsServers": [], "appliedDnsServers": []})
        props.setdefault("enableAcceleratedNetworking", False)
        props.setdefault("enableIPForwarding", False)
        props.setdefault("nicType", "Standard")
        props["resourceGuid"] = old.get("resourceGuid") or str(uuid.uuid4())
        return {"properties": props}

    def on_written(self, ctx: Ctx, record: Record, write: Write) -> None:
        for config in record.properties()["ipConfigurations"]:
            pip = ctx.store.get(ref_id(config["properties"].get("publicIPAddress")) or "")
            if pip is not None and not pip.properties().get("ipAddress"):
                pip.properties()["ipAddress"] = next_public_address(ctx)

    def check_delete(self, ctx: Ctx, record: Record) -> None:
        vm = ref_id(record.properties().get("virtualMachine"))
        if vm is not None:
            raise ArmError(
                400,
                "NicInUse",
                f"Network Interface {record.id} is used by existing resource {vm}. In order to delete the network "
                "interface, it must be dissociated from the resource. To learn more, see aka.ms/deletenic.",
            )


def _sub(resource_id: str) -> str:
    return resource_id.split("/")[2]


def _inside(child_id: str, parent_id: str) -> bool:
    return child_id.lower().startswith(parent_id.lower() + "/")


def lb_frontends_using(ctx: Ctx, pip_id: str) -> list[str]:
    """Ids of load-balancer frontend ip configurations that use the public IP."""
    found = []
    for record in ctx.store.in_scope(_sub(pip_id), None, "microsoft.network/loadbalancers"):
        for frontend in record.properties().get("frontendIPConfigurations", []):
            if (ref_id(frontend.get("properties", {}).get("publicIPAddress")) or "").lower() == pip_id.lower():
                found.append(str(frontend.get("id")))
    return found


def _allocate(ctx: Ctx, nic_id: str, configs: list[dict[str, Any]], old_configs: list[dict[str, Any]]) -> None:
    """Fill ``privateIPAddress`` (and defaults) of every ip configuration, in order."""
    previous = {str(c.get("name", "")).lower(): c.get("properties", {}) for c in old_configs}
    taken_here: dict[str, str] = {}
    for index, config in enumerate(configs):
        cprops = dict(as_object(config.get("properties"), "ipConfigurations.properties"))
        config_id = f"{nic_id}/ipConfigurations/{config.get('name')}"
        subnet_id = str(ref_id(cprops.get("subnet")))
        subnet = ctx.store.get(subnet_id)
        assert subnet is not None
        used = {**used_addresses(ctx, _sub(nic_id), subnet_id, nic_id), **taken_here}
        method = str(cprops.get("privateIPAllocationMethod") or "Dynamic")
        method = "Static" if method.lower() == "static" else "Dynamic"
        old = previous.get(str(config.get("name", "")).lower(), {})
        if method == "Static":
            address = check_static(cprops.get("privateIPAddress"), subnet.properties(), used, config_id)
        elif (ref_id(old.get("subnet")) or "").lower() == subnet_id.lower() and old.get("privateIPAddress"):
            address = str(old["privateIPAddress"])
        else:
            address = next_free(subnet.name, subnet.properties(), used)
        taken_here[address] = config_id
        cprops.update(privateIPAllocationMethod=method, privateIPAddress=address)
        cprops.setdefault("privateIPAddressVersion", "IPv4")
        cprops.setdefault("primary", index == 0 if len(configs) == 1 else bool(cprops.get("primary")))
        config["properties"] = cprops
