"""The ``networks`` argument of ``create_vm``, read as the Ruby Azure CPI does.

``manual`` (the default type) and ``dynamic`` networks become NIC IP configurations; networks sharing a
``nic_group`` share one NIC, others get a NIC each. At most one ``vip`` network names an existing public IP; it
goes on the NIC of the vip's ``nic_group`` (matched against each NIC's first network: its ``nic_group``, else its
name, as the Ruby CPI does), else on the primary NIC.
The primary network (first NIC) is the one whose ``default`` includes ``gateway``, else the first one; the
agent's DNS servers come from the network whose ``default`` includes ``dns``, else from the primary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bosh_azure_cpi.errors import InvalidArgument
from bosh_azure_cpi.models.fields import Fields
from bosh_azure_cpi.models.refs import SecurityGroupRef, security_group_ref

NETWORK_TYPES = ("manual", "dynamic", "vip")


@dataclass(frozen=True, slots=True, kw_only=True)
class Network:
    """A manual or dynamic network: one IP configuration on a NIC."""

    name: str
    type: str
    ip: str  # static private IP for manual networks, "" for dynamic
    virtual_network_name: str
    subnet_name: str
    resource_group_name: str  # of the virtual network; "" means the global resource group
    security_group: SecurityGroupRef | None = None
    application_security_groups: tuple[str, ...] = ()
    ip_forwarding: bool = False
    accelerated_networking: bool = False
    nic_group: str = ""
    dns: tuple[str, ...] = ()
    defaults: tuple[str, ...] = ()

    @property
    def ipv6(self) -> bool:
        return ":" in self.ip


@dataclass(frozen=True, slots=True, kw_only=True)
class VipNetwork:
    name: str
    ip: str
    resource_group_name: str = ""
    nic_group: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class NetworkPlan:
    """NIC groups in order (group 0 is primary), the optional vip and the index of its NIC, and the agent's DNS
    servers."""

    nics: tuple[tuple[Network, ...], ...]
    vip: VipNetwork | None
    dns: tuple[str, ...]
    public_ip_nic: int = 0

    @property
    def primary(self) -> Network:
        return self.nics[0][0]

    def aliases(self) -> dict[str, str]:
        """``eth<index>`` of each NIC whose first network has an explicit ``nic_group``, by that group."""
        return {group[0].nic_group: f"eth{index}" for index, group in enumerate(self.nics) if group[0].nic_group}

    @classmethod
    def from_dict(cls, doc: Any) -> NetworkPlan:
        f = Fields(doc, "networks")
        networks: list[Network] = []
        vip: VipNetwork | None = None
        for name in f.doc:
            spec = f.obj(name)
            kind = spec.text("type", "manual")
            if kind not in NETWORK_TYPES:
                raise InvalidArgument(
                    f"Invalid network type '{kind}' for Azure, can only handle 'dynamic', 'vip', or 'manual' "
                    "network types"
                )
            if kind == "vip":
                if vip is not None:
                    raise InvalidArgument(f"More than one vip network for '{name}'")
                vip = _vip(name, spec)
            else:
                networks.append(_network(name, kind, spec))
        if not networks:
            raise InvalidArgument("At least one dynamic or manual network must be defined")
        ordered = sorted(networks, key=lambda n: "gateway" not in n.defaults)
        dns_source = next((n for n in ordered if "dns" in n.defaults), ordered[0])
        nics = _groups(ordered)
        return cls(nics=nics, vip=vip, dns=dns_source.dns, public_ip_nic=_public_ip_nic(nics, vip))


def _network(name: str, kind: str, spec: Fields) -> Network:
    props = spec.obj("cloud_properties")
    if not props.doc:
        raise InvalidArgument(f"cloud_properties required for {kind} network '{name}'")
    ip = spec.text("ip", "") if kind == "manual" else ""
    if kind == "manual" and not ip:
        raise InvalidArgument(f"ip address required for manual network '{name}'")
    return Network(
        name=name,
        type=kind,
        ip=ip,
        virtual_network_name=props.nonempty("virtual_network_name"),
        subnet_name=props.nonempty("subnet_name"),
        resource_group_name=props.text("resource_group_name", ""),
        security_group=security_group_ref(props, "security_group"),
        application_security_groups=tuple(props.text_list("application_security_groups", [])),
        ip_forwarding=props.flag("ip_forwarding", False),
        accelerated_networking=props.flag("accelerated_networking", False),
        nic_group=spec.text("nic_group", ""),
        dns=tuple(spec.text_list("dns", [])),
        defaults=tuple(spec.text_list("default", [])),
    )


def _vip(name: str, spec: Fields) -> VipNetwork:
    return VipNetwork(
        name=name,
        ip=spec.nonempty("ip"),
        resource_group_name=spec.obj("cloud_properties").text("resource_group_name", ""),
        nic_group=spec.text("nic_group", ""),
    )


def _public_ip_nic(nics: tuple[tuple[Network, ...], ...], vip: VipNetwork | None) -> int:
    if vip is None or not vip.nic_group:
        return 0
    for index, group in enumerate(nics):
        if (group[0].nic_group or group[0].name) == vip.nic_group:
            return index
    raise InvalidArgument(f"Cannot find nic_group '{vip.nic_group}' referenced by the vip network")


def _groups(networks: list[Network]) -> tuple[tuple[Network, ...], ...]:
    groups: dict[str, list[Network]] = {}
    for network in networks:
        key = network.nic_group or f"\0{network.name}"
        groups.setdefault(key, []).append(network)
    result = []
    for members in groups.values():
        first = members[0]
        for other in members[1:]:
            if (other.virtual_network_name, other.subnet_name) != (first.virtual_network_name, first.subnet_name):
                raise InvalidArgument(
                    f"Networks '{first.name}' and '{other.name}' share nic_group '{first.nic_group}' "
                    "but are in different subnets"
                )
        result.append(tuple(sorted(members, key=lambda n: n.ipv6)))
    return tuple(result)
