"""IP address rules of Azure virtual networks ("IP addressing" and "Private IP addresses" on Microsoft
Learn; error codes from "Troubleshoot common Azure deployment errors"):

* Azure reserves the first four addresses and the last address of every subnet: a static address there →
  400 ``PrivateIPAddressInReservedRange``; outside the subnet → 400 ``PrivateIPAddressNotInSubnet``; held
  by another ip configuration → 400 ``PrivateIPAddressInUse``;
* ``Dynamic`` allocation takes the lowest free address from the fifth one on; a full subnet → 400
  ``SubnetIsFull``;
* public addresses come from a fake public range (``20.120.0.0/16``), lowest free first.
Message texts follow answers seen from the service where known; they are the emulator's otherwise.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from arm_emulator.types.base import Ctx
from arm_emulator.types.network_common import PIP_KEY, ip_configs, ref_id
from arm_emulator.wire import ArmError

PUBLIC_POOL = ipaddress.ip_network("20.120.0.0/16")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def prefixes(subnet_props: dict[str, Any]) -> list[str]:
    if subnet_props.get("addressPrefix"):
        return [str(subnet_props["addressPrefix"])]
    return [str(p) for p in subnet_props.get("addressPrefixes") or []]


def parse_prefix(text: str) -> Network:
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        raise ArmError(
            400, "InvalidAddressPrefixFormat", f"Address prefix {text} does not have a valid format."
        ) from exc


def networks(subnet_props: dict[str, Any]) -> list[Network]:
    return [parse_prefix(p) for p in prefixes(subnet_props)]


def _reserved(net: Network, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    offset = int(ip) - int(net.network_address)
    return offset < 4 or ip == net.broadcast_address


def used_addresses(ctx: Ctx, subscription: str, subnet_id: str, skip_nic: str | None) -> dict[str, str]:
    """Private addresses in use in a subnet → the ip configuration holding them (``skip_nic`` excluded)."""
    used = {}
    for config in ip_configs(ctx, subscription):
        if skip_nic is not None and config.nic.key == skip_nic.lower():
            continue
        if (ref_id(config.props.get("subnet")) or "").lower() == subnet_id.lower() and config.props.get(
            "privateIPAddress"
        ):
            used[str(config.props["privateIPAddress"])] = config.id
    return used


def check_static(address: Any, subnet_props: dict[str, Any], used: dict[str, str], config_id: str) -> str:
    """The static address, or 400 with the service's code for why it cannot be used."""
    try:
        ip = ipaddress.ip_address(str(address))
    except ValueError as exc:
        raise ArmError(
            400, "PrivateIPAddressInvalid", f"Private static IP address {address} is not a valid IP address."
        ) from exc
    nets = networks(subnet_props)
    inside = [n for n in nets if ip in n]
    if not inside:
        raise ArmError(
            400,
            "PrivateIPAddressNotInSubnet",
            f"Private static IP address {ip} does not belong to the range of subnet prefix "
            f"{','.join(str(n) for n in nets)}.",
        )
    if _reserved(inside[0], ip):
        raise ArmError(
            400,
            "PrivateIPAddressInReservedRange",
            f"Private static IP address {ip} falls within reserved IP range of subnet prefix {inside[0]}.",
        )
    holder = used.get(str(ip))
    if holder is not None and holder.lower() != config_id.lower():
        raise ArmError(
            400,
            "PrivateIPAddressInUse",
            f"IP configuration {config_id} is using the private IP address {ip} which is already allocated to "
            f"resource {holder}.",
        )
    return str(ip)


def next_free(subnet_name: str, subnet_props: dict[str, Any], used: dict[str, str]) -> str:
    """The lowest free, unreserved address of the subnet."""
    for net in networks(subnet_props):
        for offset in range(4, net.num_addresses - 1):
            candidate = str(net.network_address + offset)
            if candidate not in used:
                return candidate
    raise ArmError(
        400,
        "SubnetIsFull",
        f"Subnet {subnet_name} with address prefix {','.join(prefixes(subnet_props))} does not have enough capacity "
        "for 1 IP addresses.",
    )


def next_public_address(ctx: Ctx) -> str:
    """The lowest address of the fake public range no public IP holds."""
    taken = {str(r.properties().get("ipAddress")) for r in ctx.store.all() if r.type_key == PIP_KEY}
    for offset in range(4, PUBLIC_POOL.num_addresses - 1):
        candidate = str(PUBLIC_POOL.network_address + offset)
        if candidate not in taken:
            return candidate
    raise ArmError(409, "PublicIPCountLimitReached", "The emulator's public address range is exhausted.")
