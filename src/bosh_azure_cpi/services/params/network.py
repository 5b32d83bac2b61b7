"""Request bodies for network interfaces and public IP addresses (Microsoft.Network)."""

from __future__ import annotations

from dataclasses import dataclass

from azure.mgmt.network import models as n

from bosh_azure_cpi.models.network import Network


@dataclass(frozen=True, slots=True, kw_only=True)
class NicSpec:
    """One NIC: its networks (one IP configuration each, IPv4 first) and everything it references by id."""

    name: str
    location: str
    networks: tuple[Network, ...]
    subnet_ids: tuple[str, ...]
    security_group_id: str = ""
    application_security_group_ids: tuple[str, ...] = ()
    public_ip_id: str = ""
    backend_pool_ids: tuple[str, ...] = ()
    nat_rule_ids: tuple[str, ...] = ()
    gateway_pool_ids: tuple[str, ...] = ()
    ip_forwarding: bool = False
    accelerated_networking: bool = False
    tags: dict[str, str] | None = None


def build_nic_params(spec: NicSpec) -> n.NetworkInterface:
    configs = [
        _ip_configuration(spec, index, network, subnet)
        for index, (network, subnet) in enumerate(zip(spec.networks, spec.subnet_ids, strict=True))
    ]
    return n.NetworkInterface(
        location=spec.location,
        tags=spec.tags,
        properties=n.NetworkInterfacePropertiesFormat(
            ip_configurations=configs,
            network_security_group=n.NetworkSecurityGroup(id=spec.security_group_id)
            if spec.security_group_id
            else None,
            enable_ip_forwarding=spec.ip_forwarding,
            enable_accelerated_networking=spec.accelerated_networking,
        ),
    )


def build_public_ip_params(location: str, zone: str, idle_timeout: int) -> n.PublicIPAddress:
    """A Standard static public IP (what the Ruby CPI creates for ``assign_dynamic_public_ip``)."""
    return n.PublicIPAddress(
        location=location,
        zones=[zone] if zone else None,
        tags={"user-agent": "bosh"},
        sku=n.PublicIPAddressSku(name="Standard"),
        properties=n.PublicIPAddressPropertiesFormat(
            public_ip_allocation_method="Static", idle_timeout_in_minutes=idle_timeout
        ),
    )


def _ip_configuration(spec: NicSpec, index: int, network: Network, subnet_id: str) -> n.NetworkInterfaceIPConfiguration:
    first = index == 0
    return n.NetworkInterfaceIPConfiguration(
        name=f"ipconfig{index}",
        properties=n.NetworkInterfaceIPConfigurationPropertiesFormat(
            primary=first,
            subnet=n.Subnet(id=subnet_id),
            private_ip_allocation_method="Static" if network.ip else "Dynamic",
            private_ip_address=network.ip or None,
            private_ip_address_version="IPv6" if network.ipv6 else "IPv4",
            public_ip_address=n.PublicIPAddress(id=spec.public_ip_id) if first and spec.public_ip_id else None,
            application_security_groups=[n.ApplicationSecurityGroup(id=i) for i in spec.application_security_group_ids]
            or None,
            load_balancer_backend_address_pools=[n.BackendAddressPool(id=i) for i in spec.backend_pool_ids] or None
            if first
            else None,
            load_balancer_inbound_nat_rules=[n.InboundNatRule(id=i) for i in spec.nat_rule_ids] or None
            if first
            else None,
            application_gateway_backend_address_pools=[
                n.ApplicationGatewayBackendAddressPool(id=i) for i in spec.gateway_pool_ids
            ]
            or None
            if first
            else None,
        ),
    )
