"""Tables: NicSpec -> the NIC body (static/dynamic, IPv6, public IP and pools on the first IP configuration),
and the public IP the CPI creates."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from bosh_azure_cpi.models.network import Network
from bosh_azure_cpi.services.params.network import NicSpec, build_nic_params, build_public_ip_params

SUBNET = "/fake/virtualNetworks/fake-vnet/subnets/fake-subnet"
V4 = Network(name="v4", type="manual", ip="10.0.0.5", virtual_network_name="fake-vnet", subnet_name="fake-subnet",
             resource_group_name="")  # fmt: skip
V6 = dataclasses.replace(V4, name="v6", ip="fd00::5")
DYN = dataclasses.replace(V4, name="dyn", type="dynamic", ip="")
NIC = NicSpec(name="fake-vm-0", location="eastus", networks=(V4,), subnet_ids=(SUBNET,))


def ipconfig(index: int, **properties: Any) -> dict[str, Any]:
    return {"name": f"ipconfig{index}", "properties": {"primary": index == 0, "subnet": {"id": SUBNET}, **properties}}


STATIC = {"privateIPAllocationMethod": "Static", "privateIPAddress": "10.0.0.5", "privateIPAddressVersion": "IPv4"}
STATIC6 = {"privateIPAllocationMethod": "Static", "privateIPAddress": "fd00::5", "privateIPAddressVersion": "IPv6"}
DYNAMIC = {"privateIPAllocationMethod": "Dynamic", "privateIPAddressVersion": "IPv4"}
FLAGS = {"enableIPForwarding": False, "enableAcceleratedNetworking": False}


@pytest.mark.parametrize(
    ("nic", "expected"),
    [
        (NIC, {"location": "eastus", "properties": {"ipConfigurations": [ipconfig(0, **STATIC)], **FLAGS}}),
        (
            dataclasses.replace(NIC, networks=(DYN,), tags={"user-agent": "bosh"}),
            {
                "location": "eastus",
                "tags": {"user-agent": "bosh"},
                "properties": {"ipConfigurations": [ipconfig(0, **DYNAMIC)], **FLAGS},
            },
        ),
        (
            dataclasses.replace(NIC, networks=(V4, V6), subnet_ids=(SUBNET, SUBNET)),
            {
                "location": "eastus",
                "properties": {"ipConfigurations": [ipconfig(0, **STATIC), ipconfig(1, **STATIC6)], **FLAGS},
            },
        ),
        (
            dataclasses.replace(NIC, security_group_id="fake-nsg-id", ip_forwarding=True, accelerated_networking=True),
            {
                "location": "eastus",
                "properties": {
                    "ipConfigurations": [ipconfig(0, **STATIC)],
                    "networkSecurityGroup": {"id": "fake-nsg-id"},
                    "enableIPForwarding": True,
                    "enableAcceleratedNetworking": True,
                },
            },
        ),
    ],
)
def test_nic_bodies(nic, expected):
    assert build_nic_params(nic).as_dict() == expected


def test_public_ip_pools_and_nat_rules_go_on_the_first_ip_configuration_asgs_on_all():
    nic = dataclasses.replace(
        NIC,
        networks=(V4, V6),
        subnet_ids=(SUBNET, SUBNET),
        public_ip_id="fake-pip-id",
        backend_pool_ids=("fake-lb-pool-1", "fake-lb-pool-2"),
        nat_rule_ids=("fake-nat",),
        gateway_pool_ids=("fake-agw-pool",),
        application_security_group_ids=("fake-asg-1", "fake-asg-2"),
    )
    asgs = [{"id": "fake-asg-1"}, {"id": "fake-asg-2"}]
    assert build_nic_params(nic).as_dict()["properties"]["ipConfigurations"] == [
        ipconfig(
            0,
            **STATIC,
            publicIPAddress={"id": "fake-pip-id"},
            applicationSecurityGroups=asgs,
            loadBalancerBackendAddressPools=[{"id": "fake-lb-pool-1"}, {"id": "fake-lb-pool-2"}],
            loadBalancerInboundNatRules=[{"id": "fake-nat"}],
            applicationGatewayBackendAddressPools=[{"id": "fake-agw-pool"}],
        ),
        ipconfig(1, **STATIC6, applicationSecurityGroups=asgs),
    ]


def test_every_network_needs_its_subnet():
    with pytest.raises(ValueError, match="zip"):
        build_nic_params(dataclasses.replace(NIC, networks=(V4, V6)))


@pytest.mark.parametrize(("zone", "timeout", "zones"), [("", 4, None), ("3", 30, ["3"]), ("1", 15, ["1"])])
def test_public_ips_are_standard_static_and_zonal_with_the_vm(zone, timeout, zones):
    expected: dict[str, Any] = {
        "location": "eastus",
        "tags": {"user-agent": "bosh"},
        "sku": {"name": "Standard"},
        "properties": {"publicIPAllocationMethod": "Static", "idleTimeoutInMinutes": timeout},
    }
    if zones:
        expected["zones"] = zones
    assert build_public_ip_params("eastus", zone, timeout).as_dict() == expected
