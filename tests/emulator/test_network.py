"""Microsoft.Network: seeded environment, subnets, NIC IP allocation, references, public IPs, NSGs, LROs."""

from __future__ import annotations

from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.network import NetworkManagementClient

from arm_emulator import ArmEmulator
from tests.emulator.compute_support import (
    NETWORK,
    NETWORK_API,
    SUBNET_ID,
    WEST_SUBNET_ID,
    fresh,
    make_nic,
    network,
)
from tests.emulator.conftest import Raw
from tests.peers import LOCATION, RESOURCE_GROUP, SUBSCRIPTION_ID
from tests.peers_seed import (
    AGW_POOL,
    APP_GATEWAY,
    ASG,
    LB_NAT_RULE,
    LB_POOLS,
    LOAD_BALANCER,
    NETWORK_RG,
    NSG,
    OTHER_NSG,
    VIP,
    VIP_ADDRESS,
    VNET,
)

__all__ = ["network"]


def _code(exc: HttpResponseError) -> str:
    assert exc.error is not None
    return str(exc.error.code)


@pytest.fixture
def small_subnet(network: NetworkManagementClient) -> str:
    """A fresh vnet with a /28 subnet (11 usable addresses: .4-.14); returns the subnet id."""
    name = fresh("vnet")
    body = {
        "location": LOCATION,
        "properties": {
            "addressSpace": {"addressPrefixes": ["172.16.0.0/24"]},
            "subnets": [{"name": "tiny", "properties": {"addressPrefix": "172.16.0.0/28"}}],
        },
    }
    network.virtual_networks.begin_create_or_update(RESOURCE_GROUP, name, body).result()
    return f"{NETWORK}/virtualNetworks/{name}/subnets/tiny"


def _static_nic(network: NetworkManagementClient, subnet: str, address: str) -> Any:
    config = {"subnet": {"id": subnet}, "privateIPAllocationMethod": "Static", "privateIPAddress": address}
    body = {"location": LOCATION, "properties": {"ipConfigurations": [{"name": "ipconfig1", "properties": config}]}}
    return network.network_interfaces.begin_create_or_update(RESOURCE_GROUP, fresh("nic"), body).result()


def test_seeded_network(network: NetworkManagementClient) -> None:
    vnet = network.virtual_networks.get(RESOURCE_GROUP, VNET)
    assert {s.name: s.address_prefix for s in vnet.subnets} == {"bosh": "10.0.0.0/24", "dyn": "10.0.1.0/24"}
    assert network.subnets.get(RESOURCE_GROUP, VNET, "bosh").address_prefix == "10.0.0.0/24"
    assert network.network_security_groups.get(NETWORK_RG, OTHER_NSG).location == LOCATION
    assert len(network.network_security_groups.get(RESOURCE_GROUP, NSG).default_security_rules) == 6
    assert network.application_security_groups.get(RESOURCE_GROUP, ASG).provisioning_state == "Succeeded"
    vip = network.public_ip_addresses.get(RESOURCE_GROUP, VIP)
    assert (vip.ip_address, vip.sku.name, vip.public_ip_allocation_method) == (VIP_ADDRESS, "Standard", "Static")
    lb = network.load_balancers.get(RESOURCE_GROUP, LOAD_BALANCER)
    assert [p.name for p in lb.backend_address_pools] == list(LB_POOLS)
    assert lb.inbound_nat_rules[0].name == LB_NAT_RULE
    assert lb.backend_address_pools[0].id == f"{lb.id}/backendAddressPools/{LB_POOLS[0]}"
    assert network.application_gateways.get(RESOURCE_GROUP, APP_GATEWAY).backend_address_pools[0].name == AGW_POOL


def test_public_ip_is_found_by_address_in_the_group_listing(network: NetworkManagementClient) -> None:
    found = [p for p in network.public_ip_addresses.list(RESOURCE_GROUP) if p.ip_address == VIP_ADDRESS]
    assert [p.name for p in found] == [VIP]


def test_nic_create_is_long_running_under_network_operations(raw: Raw, arm: ArmEmulator) -> None:
    path = f"{NETWORK}/networkInterfaces/{fresh('nic')}"
    body = {
        "location": LOCATION,
        "properties": {"ipConfigurations": [{"name": "c", "properties": {"subnet": {"id": SUBNET_ID}}}]},
    }
    created = raw("PUT", path, api_version=NETWORK_API, json=body)
    assert created.status_code == 201
    assert created.json()["properties"]["provisioningState"] == "Updating"
    operation = created.headers["Azure-AsyncOperation"]
    assert f"/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.Network/locations/eastus/operations/" in operation
    assert raw("GET", operation, api_version=None).json()["status"] == "InProgress"
    assert raw("GET", operation, api_version=None).json()["status"] == "Succeeded"
    deleting = raw("DELETE", path, api_version=NETWORK_API)
    assert deleting.status_code == 202
    assert "/providers/Microsoft.Network/locations/eastus/operationResults/" in deleting.headers["Location"]
    assert raw("GET", deleting.headers["Location"], api_version=None).status_code == 202
    assert raw("GET", deleting.headers["Location"], api_version=None).status_code == 200
    assert raw("GET", path, api_version=NETWORK_API).status_code == 404


def test_dynamic_addresses_skip_the_reserved_ones_and_stay(network: NetworkManagementClient, small_subnet: str) -> None:
    first = network.network_interfaces.get(RESOURCE_GROUP, make_nic(network, small_subnet).rsplit("/", 1)[-1])
    config = first.ip_configurations[0]
    assert (config.private_ip_address, config.private_ip_allocation_method) == ("172.16.0.4", "Dynamic")
    second = make_nic(network, small_subnet)
    assert (
        network.network_interfaces.get(RESOURCE_GROUP, second.rsplit("/", 1)[-1])
        .ip_configurations[0]
        .private_ip_address
        == "172.16.0.5"
    )
    first.tags = {"k": "v"}
    updated = network.network_interfaces.begin_create_or_update(RESOURCE_GROUP, first.name, first).result()
    assert updated.ip_configurations[0].private_ip_address == "172.16.0.4"


def test_subnet_runs_full(network: NetworkManagementClient, small_subnet: str) -> None:
    vnet = small_subnet.split("/")[-3]
    tiny = {"properties": {"addressPrefix": "172.16.0.248/29"}}
    subnet = network.subnets.begin_create_or_update(RESOURCE_GROUP, vnet, "full", tiny).result()
    addresses = [
        network.network_interfaces.get(RESOURCE_GROUP, make_nic(network, subnet.id).rsplit("/", 1)[-1])
        .ip_configurations[0]
        .private_ip_address
        for _ in range(3)
    ]
    assert addresses == ["172.16.0.252", "172.16.0.253", "172.16.0.254"]
    with pytest.raises(HttpResponseError) as caught:
        make_nic(network, subnet.id)
    assert _code(caught.value) == "SubnetIsFull"


@pytest.mark.parametrize(
    ("address", "code"),
    [
        ("172.16.0.3", "PrivateIPAddressInReservedRange"),
        ("172.16.0.15", "PrivateIPAddressInReservedRange"),
        ("172.16.0.16", "PrivateIPAddressNotInSubnet"),
    ],
)
def test_static_address_rules(network: NetworkManagementClient, small_subnet: str, address: str, code: str) -> None:
    with pytest.raises(HttpResponseError) as caught:
        _static_nic(network, small_subnet, address)
    assert caught.value.status_code == 400
    assert _code(caught.value) == code


def test_static_address_in_use(network: NetworkManagementClient, small_subnet: str) -> None:
    holder = _static_nic(network, small_subnet, "172.16.0.10")
    assert holder.ip_configurations[0].private_ip_address == "172.16.0.10"
    with pytest.raises(HttpResponseError) as caught:
        _static_nic(network, small_subnet, "172.16.0.10")
    assert _code(caught.value) == "PrivateIPAddressInUse"
    assert holder.ip_configurations[0].id in str(caught.value.error.message)  # type: ignore[union-attr]
    dynamic = make_nic(network, small_subnet)
    address = network.network_interfaces.get(RESOURCE_GROUP, dynamic.rsplit("/", 1)[-1]).ip_configurations[0]
    assert address.private_ip_address == "172.16.0.4"


@pytest.mark.parametrize(
    "reference",
    [
        {"applicationSecurityGroups": [{"id": f"{NETWORK}/applicationSecurityGroups/missing"}]},
        {"loadBalancerBackendAddressPools": [{"id": f"{NETWORK}/loadBalancers/{LOAD_BALANCER}/backendAddressPools/x"}]},
        {"publicIPAddress": {"id": f"{NETWORK}/publicIPAddresses/missing"}},
        {"subnet": {"id": f"{NETWORK}/virtualNetworks/{VNET}/subnets/missing"}},
        {"subnet": {"id": WEST_SUBNET_ID}},
    ],
)
def test_references_must_exist(network: NetworkManagementClient, reference: dict[str, Any]) -> None:
    config = {"subnet": {"id": SUBNET_ID}, **reference}
    body = {"location": LOCATION, "properties": {"ipConfigurations": [{"name": "c", "properties": config}]}}
    with pytest.raises(HttpResponseError) as caught:
        network.network_interfaces.begin_create_or_update(RESOURCE_GROUP, fresh("nic"), body)
    assert _code(caught.value) == "InvalidResourceReference"


def test_nic_back_references_and_public_ip_rules(network: NetworkManagementClient) -> None:
    pip = network.public_ip_addresses.begin_create_or_update(
        RESOURCE_GROUP, fresh("pip"), {"location": LOCATION, "properties": {"publicIPAllocationMethod": "Dynamic"}}
    ).result()
    assert pip.ip_address is None
    lb_id = f"{NETWORK}/loadBalancers/{LOAD_BALANCER}"
    config = {
        "subnet": {"id": SUBNET_ID},
        "publicIPAddress": {"id": pip.id},
        "loadBalancerBackendAddressPools": [{"id": f"{lb_id}/backendAddressPools/{LB_POOLS[1]}"}],
        "loadBalancerInboundNatRules": [{"id": f"{lb_id}/inboundNatRules/{LB_NAT_RULE}"}],
        "applicationSecurityGroups": [{"id": f"{NETWORK}/applicationSecurityGroups/{ASG}"}],
        "applicationGatewayBackendAddressPools": [
            {"id": f"{NETWORK}/applicationGateways/{APP_GATEWAY}/backendAddressPools/{AGW_POOL}"}
        ],
    }
    body = {
        "location": LOCATION,
        "properties": {
            "ipConfigurations": [{"name": "c", "properties": config}],
            "networkSecurityGroup": {"id": f"{NETWORK}/networkSecurityGroups/{NSG}"},
        },
    }
    nic = network.network_interfaces.begin_create_or_update(RESOURCE_GROUP, fresh("nic"), body).result()
    config_id = nic.ip_configurations[0].id
    attached = network.public_ip_addresses.get(RESOURCE_GROUP, pip.name)
    assert attached.ip_address is not None
    assert attached.ip_configuration.id == config_id
    pool = network.load_balancers.get(RESOURCE_GROUP, LOAD_BALANCER).backend_address_pools[1]
    assert config_id in [c.id for c in pool.backend_ip_configurations]
    nat = network.load_balancers.get(RESOURCE_GROUP, LOAD_BALANCER).inbound_nat_rules[0]
    assert nat.backend_ip_configuration.id == config_id
    agw_pool = network.application_gateways.get(RESOURCE_GROUP, APP_GATEWAY).backend_address_pools[0]
    assert config_id in [c.id for c in agw_pool.backend_ip_configurations]
    nsg = network.network_security_groups.get(RESOURCE_GROUP, NSG)
    assert nic.id in [n.id for n in nsg.network_interfaces]
    second = {
        "location": LOCATION,
        "properties": {
            "ipConfigurations": [
                {"name": "c", "properties": {"subnet": {"id": SUBNET_ID}, "publicIPAddress": {"id": pip.id}}}
            ]
        },
    }
    with pytest.raises(HttpResponseError) as caught:
        network.network_interfaces.begin_create_or_update(RESOURCE_GROUP, fresh("nic"), second)
    assert _code(caught.value) == "PublicIPAddressInUse"
    with pytest.raises(HttpResponseError) as caught:
        network.public_ip_addresses.begin_delete(RESOURCE_GROUP, pip.name)
    assert _code(caught.value) == "PublicIPAddressCannotBeDeleted"
    with pytest.raises(HttpResponseError) as caught:
        network.network_security_groups.begin_delete(RESOURCE_GROUP, NSG)
    assert _code(caught.value) == "InUseNetworkSecurityGroupCannotBeDeleted"
    network.network_interfaces.begin_delete(RESOURCE_GROUP, nic.name).result()
    network.public_ip_addresses.begin_delete(RESOURCE_GROUP, pip.name).result()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (
            {"sku": {"name": "Standard"}, "properties": {"publicIPAllocationMethod": "Dynamic"}},
            "StandardSkuPublicIPAddressesMustBeStatic",
        ),
        ({"properties": {"idleTimeoutInMinutes": 31}}, "PublicIPIdleTimeoutIsOutOfRange"),
        ({"properties": {"idleTimeoutInMinutes": 3}}, "PublicIPIdleTimeoutIsOutOfRange"),
    ],
)
def test_public_ip_validation(network: NetworkManagementClient, body: dict[str, Any], code: str) -> None:
    with pytest.raises(HttpResponseError) as caught:
        network.public_ip_addresses.begin_create_or_update(RESOURCE_GROUP, fresh("pip"), {"location": LOCATION, **body})
    assert _code(caught.value) == code


def test_static_public_ips_get_distinct_addresses(network: NetworkManagementClient) -> None:
    body = {
        "location": LOCATION,
        "sku": {"name": "Standard"},
        "properties": {"publicIPAllocationMethod": "Static"},
        "zones": ["1"],
    }
    first = network.public_ip_addresses.begin_create_or_update(RESOURCE_GROUP, fresh("pip"), body).result()
    second = network.public_ip_addresses.begin_create_or_update(RESOURCE_GROUP, fresh("pip"), body).result()
    assert first.ip_address != second.ip_address
    assert first.ip_address.startswith("20.120.")
    assert (first.zones, first.idle_timeout_in_minutes) == (["1"], 4)


def test_subnet_rules(network: NetworkManagementClient, small_subnet: str) -> None:
    vnet_name = small_subnet.split("/")[-3]
    outside = {"properties": {"addressPrefix": "10.9.0.0/24"}}
    with pytest.raises(HttpResponseError) as caught:
        network.subnets.begin_create_or_update(RESOURCE_GROUP, vnet_name, "out", outside)
    assert _code(caught.value) == "NetcfgSubnetRangeOutsideVnet"
    with pytest.raises(HttpResponseError) as caught:
        network.subnets.begin_create_or_update(
            RESOURCE_GROUP, vnet_name, "over", {"properties": {"addressPrefix": "172.16.0.8/29"}}
        )
    assert _code(caught.value) == "NetcfgSubnetRangesOverlap"
    network.subnets.begin_create_or_update(
        RESOURCE_GROUP, vnet_name, "more", {"properties": {"addressPrefix": "172.16.0.16/28"}}
    ).result()
    assert {s.name for s in network.virtual_networks.get(RESOURCE_GROUP, vnet_name).subnets} == {"tiny", "more"}
    make_nic(network, small_subnet)
    assert len(network.subnets.get(RESOURCE_GROUP, vnet_name, "tiny").ip_configurations) == 1
    with pytest.raises(HttpResponseError) as caught:
        network.subnets.begin_delete(RESOURCE_GROUP, vnet_name, "tiny")
    assert _code(caught.value) == "InUseSubnetCannotBeDeleted"
    with pytest.raises(HttpResponseError) as caught:
        network.virtual_networks.begin_delete(RESOURCE_GROUP, vnet_name)
    assert _code(caught.value) == "InUseSubnetCannotBeDeleted"
    network.subnets.begin_delete(RESOURCE_GROUP, vnet_name, "more").result()
    assert [s.name for s in network.virtual_networks.get(RESOURCE_GROUP, vnet_name).subnets] == ["tiny"]
