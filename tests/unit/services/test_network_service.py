"""NetworkService against autospec'd SDK operations: ids without lookups, lookups network RG -> global RG,
public IPs, load balancer and application gateway pools, NICs; errors name the resource."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.core.polling.arm_polling import ARMPolling
from azure.mgmt.network import models as n

from bosh_azure_cpi.errors import AzureError, CloudError
from bosh_azure_cpi.models.deadline import Deadline
from bosh_azure_cpi.models.network import Network
from bosh_azure_cpi.models.refs import SecurityGroupRef
from bosh_azure_cpi.models.vm_props import PoolRef
from bosh_azure_cpi.services.network import NetworkService
from bosh_azure_cpi.services.params.network import NicSpec
from tests.fakes.config import RESOURCE_GROUP, SUBSCRIPTION, fake_azure_config
from tests.fakes.fake_vm_sdk import FakeNetworkClient, calls, http_error
from tests.fakes.pollers import FakePoller

RG = RESOURCE_GROUP
NET = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{{}}/providers/Microsoft.Network"
NETWORK = Network(name="n", type="manual", ip="10.0.0.5", virtual_network_name="fake-vnet", subnet_name="fake-subnet",
                  resource_group_name="")  # fmt: skip
IN_NET_RG = dataclasses.replace(NETWORK, resource_group_name="fake-net-rg")
MISSING = ResourceNotFoundError(message="not found")


def service(**azure: Any) -> tuple[NetworkService, FakeNetworkClient]:
    client = FakeNetworkClient()
    return NetworkService(client, fake_azure_config(**azure), Deadline(600)), client  # type: ignore[arg-type]


def test_subnet_ids_are_built_in_the_networks_group_or_the_global_one():
    network, client = service()
    assert network.group_of(NETWORK) == RG
    assert network.group_of(IN_NET_RG) == "fake-net-rg"
    assert network.subnet_id(NETWORK) == f"{NET.format(RG)}/virtualNetworks/fake-vnet/subnets/fake-subnet"
    assert network.subnet_id(IN_NET_RG) == f"{NET.format('fake-net-rg')}/virtualNetworks/fake-vnet/subnets/fake-subnet"
    assert client.virtual_networks.get.call_count == 0


def test_the_location_of_the_virtual_network():
    network, client = service()
    client.virtual_networks.get.side_effect = [n.VirtualNetwork({"location": "westeurope"}), MISSING]
    assert network.vnet_location(IN_NET_RG) == "westeurope"
    assert calls(client.virtual_networks.get) == [("fake-net-rg", "fake-vnet")]
    with pytest.raises(CloudError) as caught:
        network.vnet_location(NETWORK)
    assert caught.value.message == f"Cannot find the virtual network 'fake-vnet' under resource group '{RG}'"


@pytest.mark.parametrize(
    ("ref", "network_group", "found_in", "expected_group", "gets"),
    [
        (SecurityGroupRef(name="nsg", resource_group_name="fake-nsg-rg"), "fake-net-rg", [], "fake-nsg-rg", []),
        (SecurityGroupRef(name="nsg"), RG, [], RG, []),  # one candidate group: no lookup
        (SecurityGroupRef(name="nsg"), "fake-net-rg", ["fake-net-rg"], "fake-net-rg", ["fake-net-rg"]),
        (SecurityGroupRef(name="nsg"), "fake-net-rg", [RG], RG, ["fake-net-rg", RG]),
        (SecurityGroupRef(name="nsg"), "fake-net-rg", ["fake-net-rg", RG], "fake-net-rg", ["fake-net-rg"]),
    ],
)
def test_security_groups_are_looked_up_in_the_network_group_then_the_global_one(
    ref, network_group, found_in, expected_group, gets
):
    network, client = service()
    client.network_security_groups.get.side_effect = lambda group, name: (
        n.NetworkSecurityGroup({"name": name}) if group in found_in else (_ for _ in ()).throw(MISSING)
    )
    assert network.security_group_id(ref, network_group) == f"{NET.format(expected_group)}/networkSecurityGroups/nsg"
    assert calls(client.network_security_groups.get) == [(group, "nsg") for group in gets]


def test_a_missing_security_group_is_named():
    network, client = service()
    client.network_security_groups.get.side_effect = MISSING
    with pytest.raises(CloudError) as caught:
        network.security_group_id(SecurityGroupRef(name="nsg"), "fake-net-rg")
    assert caught.value.message == f"Cannot find the network security group 'nsg' in resource groups fake-net-rg, {RG}"


def test_application_security_groups():
    network, client = service()
    client.application_security_groups.get.side_effect = lambda group, name: (
        n.ApplicationSecurityGroup({"name": name})
        if (group, name) != ("fake-net-rg", "b")
        else (_ for _ in ()).throw(MISSING)
    )
    assert network.application_security_group_ids(("a", "b"), "fake-net-rg") == (
        f"{NET.format('fake-net-rg')}/applicationSecurityGroups/a",
        f"{NET.format(RG)}/applicationSecurityGroups/b",
    )
    assert network.application_security_group_ids(("a",), RG) == (f"{NET.format(RG)}/applicationSecurityGroups/a",)
    assert network.application_security_group_ids((), "fake-net-rg") == ()
    assert calls(client.application_security_groups.get) == [("fake-net-rg", "a"), ("fake-net-rg", "b"), (RG, "b")]
    client.application_security_groups.get.side_effect = MISSING
    with pytest.raises(CloudError, match="Cannot find the application security group 'c' in resource groups"):
        network.application_security_group_ids(("c",), "fake-net-rg")


def public_ip(name: str, address: str | None) -> n.PublicIPAddress:
    return n.PublicIPAddress({"id": f"{NET.format(RG)}/publicIPAddresses/{name}", "properties": {"ipAddress": address}})


@pytest.mark.parametrize(("group", "searched"), [("", RG), ("fake-pip-rg", "fake-pip-rg")])
def test_a_vip_is_found_by_its_address(group, searched):
    network, client = service()
    client.public_ip_addresses.list.return_value = iter(
        [public_ip("a", None), public_ip("b", "20.1.2.4"), public_ip("c", "20.1.2.3")]
    )
    assert network.public_ip_id_by_address("20.1.2.3", group) == f"{NET.format(RG)}/publicIPAddresses/c"
    assert calls(client.public_ip_addresses.list) == [(searched,)]


def test_a_vip_that_does_not_exist():
    network, client = service()
    client.public_ip_addresses.list.return_value = iter([public_ip("a", "20.1.2.4")])
    with pytest.raises(CloudError) as caught:
        network.public_ip_id_by_address("20.1.2.3", "")
    assert caught.value.message == f"Cannot find the public IP address '20.1.2.3' in the resource group '{RG}'"


def test_create_public_ip_uses_the_configured_idle_timeout():
    network, client = service(pip_idle_timeout_in_minutes=17)
    pip_id = f"{NET.format(RG)}/publicIPAddresses/fake-vm"
    client.public_ip_addresses.begin_create_or_update.return_value = FakePoller(n.PublicIPAddress({"id": pip_id}))
    assert network.create_public_ip(RG, "fake-vm", "eastus", "3") == pip_id
    ((group, name, body),) = calls(client.public_ip_addresses.begin_create_or_update)
    assert (group, name, body.as_dict()) == (
        RG,
        "fake-vm",
        {
            "location": "eastus",
            "zones": ["3"],
            "tags": {"user-agent": "bosh"},
            "sku": {"name": "Standard"},
            "properties": {"publicIPAllocationMethod": "Static", "idleTimeoutInMinutes": 17},
        },
    )


LB = n.LoadBalancer(
    {
        "properties": {
            "backendAddressPools": [{"name": "Pool-A", "id": "pool-a"}, {"name": "pool-b", "id": "pool-b"}],
            "frontendIPConfigurations": [
                {"properties": {"inboundNatRules": [{"id": "nat-1"}, {"id": "nat-2"}]}},
                {"properties": {"inboundNatRules": [{"id": "nat-other"}]}},
            ],
        }
    }
)


@pytest.mark.parametrize(
    ("ref", "group", "pools"),
    [
        (PoolRef(name="lb"), RG, ["pool-a"]),
        (PoolRef(name="lb", backend_pool_name="POOL-B"), RG, ["pool-b"]),  # case-insensitive
        (PoolRef(name="lb", resource_group_name="fake-lb-rg", backend_pool_name="pool-a"), "fake-lb-rg", ["pool-a"]),
    ],
)
def test_load_balancer_pools_and_the_nat_rules_of_the_first_frontend(ref, group, pools):
    network, client = service()
    client.load_balancers.get.return_value = LB
    assert network.load_balancer_pools(ref) == (pools, ["nat-1", "nat-2"])
    assert calls(client.load_balancers.get) == [(group, "lb")]


def test_a_load_balancer_without_frontends_has_no_nat_rules():
    network, client = service()
    client.load_balancers.get.return_value = n.LoadBalancer({"properties": {"backendAddressPools": [{"id": "p"}]}})
    assert network.load_balancer_pools(PoolRef(name="lb")) == (["p"], [])


@pytest.mark.parametrize(
    ("lb", "ref", "message"),
    [
        (MISSING, PoolRef(name="lb"), f"Cannot find the load balancer 'lb' in the resource group '{RG}'"),
        (n.LoadBalancer({"properties": {}}), PoolRef(name="lb"), "The load balancer 'lb' has no backend address pool"),
        (
            LB,
            PoolRef(name="lb", backend_pool_name="pool-c"),
            "'lb' does not have a backend_pool named 'pool-c': Pool-A, pool-b",
        ),
    ],
)
def test_load_balancer_errors_name_it(lb, ref, message):
    network, client = service()
    client.load_balancers.get.side_effect = [lb]
    with pytest.raises(CloudError) as caught:
        network.load_balancer_pools(ref)
    assert caught.value.message == message


AGW = n.ApplicationGateway(
    {"properties": {"backendAddressPools": [{"name": "web", "id": "agw-web"}, {"name": "Api", "id": "agw-api"}]}}
)


def test_application_gateway_pools_are_matched_exactly():
    network, client = service()
    client.application_gateways.get.return_value = AGW
    assert network.gateway_pools(PoolRef(name="agw")) == ["agw-web"]
    assert network.gateway_pools(PoolRef(name="agw", resource_group_name="fake-agw-rg", backend_pool_name="Api")) == [
        "agw-api"
    ]
    assert calls(client.application_gateways.get) == [(RG, "agw"), ("fake-agw-rg", "agw")]
    with pytest.raises(CloudError) as caught:
        network.gateway_pools(PoolRef(name="agw", backend_pool_name="api"))
    assert caught.value.message == "'agw' does not have a backend_pool named 'api': web, Api"


def test_a_missing_application_gateway_is_named():
    network, client = service()
    client.application_gateways.get.side_effect = MISSING
    with pytest.raises(CloudError) as caught:
        network.gateway_pools(PoolRef(name="agw", resource_group_name="fake-agw-rg"))
    assert caught.value.message == "Cannot find the application gateway 'agw' in the resource group 'fake-agw-rg'"


def test_create_nic_sends_the_built_body_and_returns_its_id():
    network, client = service()
    nic_id = f"{NET.format(RG)}/networkInterfaces/fake-vm-0"
    status_document = n.NetworkInterface({"id": "fake-operation-status-id"})  # no final GET: result() is not the NIC
    client.network_interfaces.begin_create_or_update.return_value = FakePoller(status_document)
    spec = NicSpec(name="fake-vm-0", location="eastus", networks=(NETWORK,), subnet_ids=("fake-subnet-id",))
    assert network.create_nic(RG, spec) == nic_id
    assert isinstance(client.network_interfaces.begin_create_or_update.call_args.kwargs["polling"], ARMPolling)
    group, name, body = client.network_interfaces.begin_create_or_update.call_args.args
    assert (group, name) == (RG, "fake-vm-0")
    assert body.as_dict()["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"] == "10.0.0.5"


def test_a_failed_nic_creation_names_the_nic():
    network, client = service()
    client.network_interfaces.begin_create_or_update.side_effect = http_error(
        400, "PrivateIPAddressInUse", "IP 10.0.0.5 is in use"
    )
    spec = NicSpec(name="fake-vm-0", location="eastus", networks=(NETWORK,), subnet_ids=("fake-subnet-id",))
    with pytest.raises(AzureError) as caught:
        network.create_nic(RG, spec)
    assert (
        caught.value.message == "Creating network interface 'fake-vm-0': PrivateIPAddressInUse: IP 10.0.0.5 is in use"
    )


def test_deletes_ignore_missing_resources():
    network, client = service()
    client.network_interfaces.begin_delete.side_effect = [FakePoller(), MISSING]
    client.public_ip_addresses.begin_delete.side_effect = [MISSING, FakePoller()]
    assert (network.delete_nic(RG, "fake-vm-0"), network.delete_nic(RG, "fake-vm-0")) == (True, False)
    assert (network.delete_public_ip(RG, "fake-vm"), network.delete_public_ip(RG, "fake-vm")) == (False, True)
    assert calls(client.network_interfaces.begin_delete) == [(RG, "fake-vm-0")] * 2


def test_a_failed_delete_names_the_resource():
    network, client = service()
    client.network_interfaces.begin_delete.side_effect = http_error(400, "NicInUse", "attached to a VM")
    with pytest.raises(AzureError, match="Deleting network interface 'fake-vm-0': NicInUse: attached to a VM"):
        network.delete_nic(RG, "fake-vm-0")


def test_find_public_ip_and_nics_by_prefix():
    network, client = service()
    pip = public_ip("fake-vm", "20.1.2.3")
    client.public_ip_addresses.get.side_effect = [pip, MISSING]
    assert network.find_public_ip(RG, "fake-vm") is pip
    assert network.find_public_ip(RG, "fake-vm") is None
    client.network_interfaces.list.return_value = iter(
        [n.NetworkInterface({"name": name}) for name in ("fake-vm-0", "fake-vm-1", "fake-vmx-0", "other-fake-vm-0")]
        + [n.NetworkInterface({})]
    )
    assert [nic.name for nic in network.nics_named(RG, "fake-vm-")] == ["fake-vm-0", "fake-vm-1"]
    assert calls(client.network_interfaces.list) == [(RG,)]
