"""The ``networks`` of create_vm: types, required keys, primary network, DNS, NIC groups and the vip's NIC."""

from __future__ import annotations

from typing import Any

import pytest

from bosh_azure_cpi.errors import InvalidArgument
from bosh_azure_cpi.models.network import Network, NetworkPlan, VipNetwork
from bosh_azure_cpi.models.refs import SecurityGroupRef

CLOUD = {"virtual_network_name": "fake-vnet", "subnet_name": "fake-subnet"}


def manual(ip: str = "10.0.0.5", **extra: Any) -> dict[str, Any]:
    return {"type": "manual", "ip": ip, "cloud_properties": dict(CLOUD), **extra}


def dynamic(**extra: Any) -> dict[str, Any]:
    return {"type": "dynamic", "cloud_properties": dict(CLOUD), **extra}


def names(plan: NetworkPlan) -> list[list[str]]:
    return [[network.name for network in group] for group in plan.nics]


def error_of(networks: Any) -> str:
    with pytest.raises(InvalidArgument) as caught:
        NetworkPlan.from_dict(networks)
    return caught.value.message


def test_a_manual_network_with_every_key():
    spec = {
        "ip": "10.0.16.7",
        "netmask": "255.255.240.0",
        "gateway": "10.0.16.1",
        "dns": ["168.63.129.16", "8.8.8.8"],
        "default": ["dns", "gateway"],
        "nic_group": "fake-group",
        "cloud_properties": {
            "virtual_network_name": "fake-vnet",
            "subnet_name": "fake-subnet",
            "resource_group_name": "fake-network-rg",
            "security_group": {"name": "fake-nsg", "resource_group_name": "fake-nsg-rg"},
            "application_security_groups": ["fake-asg-1", "fake-asg-2"],
            "ip_forwarding": True,
            "accelerated_networking": "true",
        },
    }
    plan = NetworkPlan.from_dict({"private": spec})  # no "type": manual
    assert plan.primary == Network(
        name="private",
        type="manual",
        ip="10.0.16.7",
        virtual_network_name="fake-vnet",
        subnet_name="fake-subnet",
        resource_group_name="fake-network-rg",
        security_group=SecurityGroupRef(name="fake-nsg", resource_group_name="fake-nsg-rg"),
        application_security_groups=("fake-asg-1", "fake-asg-2"),
        ip_forwarding=True,
        accelerated_networking=True,
        nic_group="fake-group",
        dns=("168.63.129.16", "8.8.8.8"),
        defaults=("dns", "gateway"),
    )
    assert (plan.vip, plan.dns, plan.public_ip_nic, plan.nics) == (None, plan.primary.dns, 0, ((plan.primary,),))


def test_network_defaults():
    network = NetworkPlan.from_dict({"n": manual()}).primary
    assert (network.resource_group_name, network.security_group, network.application_security_groups) == ("", None, ())
    assert (network.ip_forwarding, network.accelerated_networking, network.nic_group) == (False, False, "")
    assert (network.dns, network.defaults, network.ipv6) == ((), (), False)


def test_a_dynamic_network_has_no_static_ip_even_when_the_director_knows_it():
    network = NetworkPlan.from_dict({"d": dynamic(ip="10.0.0.9", netmask="255.255.255.0")}).primary
    assert (network.type, network.ip) == ("dynamic", "")


def test_a_string_security_group_on_a_network():
    network = NetworkPlan.from_dict({"n": manual(cloud_properties={**CLOUD, "security_group": "fake-nsg"})}).primary
    assert network.security_group == SecurityGroupRef(name="fake-nsg")


def test_a_vip_network_names_an_existing_public_ip():
    plan = NetworkPlan.from_dict(
        {
            "n": manual(),
            "public": {"type": "vip", "ip": "20.1.2.3", "cloud_properties": {"resource_group_name": "fake-pip-rg"}},
        }
    )
    assert plan.vip == VipNetwork(name="public", ip="20.1.2.3", resource_group_name="fake-pip-rg")
    assert names(plan) == [["n"]]


def test_a_vip_without_cloud_properties_searches_the_global_group():
    plan = NetworkPlan.from_dict({"n": manual(), "public": {"type": "vip", "ip": "20.1.2.3"}})
    assert plan.vip == VipNetwork(name="public", ip="20.1.2.3")


@pytest.mark.parametrize(
    ("networks", "message"),
    [
        ({"n": manual(), "p": {"type": "vip"}}, "'networks.p.ip' is required"),
        (
            {"n": manual(), "v1": {"type": "vip", "ip": "1.1.1.1"}, "v2": {"type": "vip", "ip": "2.2.2.2"}},
            "More than one vip network for 'v2'",
        ),
        (
            {"n": {**manual(), "type": "floating"}},
            "Invalid network type 'floating' for Azure, can only handle 'dynamic', 'vip', or 'manual' network types",
        ),
        ({"v": {"type": "vip", "ip": "1.1.1.1"}}, "At least one dynamic or manual network must be defined"),
        ({}, "At least one dynamic or manual network must be defined"),
        ({"n": {"type": "manual", "ip": "10.0.0.5"}}, "cloud_properties required for manual network 'n'"),
        ({"d": {"type": "dynamic", "cloud_properties": {}}}, "cloud_properties required for dynamic network 'd'"),
        ({"n": {**manual(), "ip": None}}, "ip address required for manual network 'n'"),
        ({"n": {**manual(), "ip": ""}}, "ip address required for manual network 'n'"),
        (
            {"n": manual(cloud_properties={"subnet_name": "s"})},
            "'networks.n.cloud_properties.virtual_network_name' is required",
        ),
        (
            {"d": dynamic(cloud_properties={"virtual_network_name": "v"})},
            "'networks.d.cloud_properties.subnet_name' is required",
        ),
        (
            {"n": manual(cloud_properties={**CLOUD, "security_group": ""})},
            "'networks.n.cloud_properties.security_group' cannot be an empty string (network security group name)",
        ),
        ({"n": manual(dns="8.8.8.8")}, "'networks.n.dns' must be an array, got string"),
        ({"n": "manual"}, "'networks.n' must be an object, got string"),
        (["n"], "'networks' must be an object, got array"),
    ],
)
def test_invalid_networks(networks, message):
    assert error_of(networks) == message


def test_the_default_gateway_network_is_primary():
    plan = NetworkPlan.from_dict(
        {
            "a": manual("10.0.0.5", dns=["10.0.0.2"]),
            "b": dynamic(default=["gateway"], dns=["10.1.0.2"]),
            "c": manual("10.2.0.5", dns=["10.2.0.2"], default=["dns"]),
        }
    )
    assert names(plan) == [["b"], ["a"], ["c"]]
    assert plan.primary.name == "b"
    assert plan.dns == ("10.2.0.2",)  # from the default-for-dns network, not from the primary


def test_without_default_gateway_the_first_network_is_primary_and_gives_the_dns():
    plan = NetworkPlan.from_dict({"a": manual("10.0.0.5", dns=["10.0.0.2"]), "b": manual("10.1.0.5", dns=["10.1.0.2"])})
    assert names(plan) == [["a"], ["b"]]
    assert plan.dns == ("10.0.0.2",)


def test_without_default_dns_the_primary_networks_dns_is_used():
    plan = NetworkPlan.from_dict(
        {"a": manual(dns=["10.0.0.2"]), "b": manual("10.1.0.5", dns=["10.1.0.2"], default=["gateway"])}
    )
    assert plan.dns == ("10.1.0.2",)


def test_no_dns_anywhere():
    assert NetworkPlan.from_dict({"a": dynamic()}).dns == ()


def test_networks_of_one_nic_group_share_a_nic_ipv4_first():
    plan = NetworkPlan.from_dict(
        {
            "v6": manual("fd00::5", nic_group="1", default=["dns", "gateway"]),
            "other": dynamic(),
            "v4": manual("10.0.0.5", nic_group="1"),
            "v6b": manual("fd00::6", nic_group="1"),
            "v4b": manual("10.0.0.6", nic_group="1"),
        }
    )
    assert names(plan) == [["v4", "v4b", "v6", "v6b"], ["other"]]
    assert [n.ipv6 for n in plan.nics[0]] == [False, False, True, True]
    assert plan.primary.name == "v4"


def test_networks_of_one_nic_group_must_share_a_subnet():
    message = error_of(
        {
            "a": manual(nic_group="g"),
            "b": manual("10.1.0.5", nic_group="g", cloud_properties={**CLOUD, "subnet_name": "other"}),
        }
    )
    assert message == "Networks 'a' and 'b' share nic_group 'g' but are in different subnets"


def test_networks_without_nic_group_get_a_nic_each_even_with_the_same_subnet():
    assert names(NetworkPlan.from_dict({"a": manual(), "b": manual("10.0.0.6")})) == [["a"], ["b"]]


def test_aliases_map_explicit_nic_groups_to_their_interface():
    # The Ruby CPI's _build_nic_groups_to_iface: [[g1 v4, g1 v6], [ungrouped], [g2]] -> {"1": "eth0", "2": "eth2"}
    plan = NetworkPlan.from_dict(
        {
            "g1v4": manual("10.0.0.5", nic_group="1", default=["gateway"]),
            "g1v6": manual("fd00::5", nic_group="1"),
            "ungrouped": dynamic(),
            "g2": manual("10.0.1.5", nic_group="2"),
        }
    )
    assert plan.aliases() == {"1": "eth0", "2": "eth2"}
    assert NetworkPlan.from_dict({"a": manual()}).aliases() == {}


@pytest.mark.parametrize(
    ("vip_group", "expected"),
    [(None, 0), ("1", 0), ("2", 1), ("plain", 2)],  # "plain" has no nic_group: its name counts (Ruby's default)
)
def test_the_public_ip_goes_on_the_nic_of_the_vips_nic_group(vip_group, expected):
    vip = {"type": "vip", "ip": "20.1.2.3"} | ({"nic_group": vip_group} if vip_group else {})
    plan = NetworkPlan.from_dict(
        {
            "a": manual("10.0.0.5", nic_group="1"),
            "b": manual("10.0.1.5", nic_group="2"),
            "plain": dynamic(),
            "public": vip,
        }
    )
    assert plan.public_ip_nic == expected


def test_a_vip_nic_group_that_names_no_nic_is_an_error():
    message = error_of(
        {"a": manual(nic_group="1"), "public": {"type": "vip", "ip": "20.1.2.3", "nic_group": "missing"}}
    )
    assert message == "Cannot find nic_group 'missing' referenced by the vip network"
