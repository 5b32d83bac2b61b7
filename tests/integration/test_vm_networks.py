"""create_vm network types and placement through bin/cpi against the ARM emulator: each VM goes through
create_vm → has_vm → reboot_vm → set_vm_metadata → delete_vm → has_vm and leaves nothing behind.

Networks: dynamic, manual + vip, two NICs (primary = the default gateway's), assign_dynamic_public_ip, load
balancer / application gateway pools, security group precedence (vm_type > network > global default), ASGs,
accelerated networking. Placement: zones, availability sets (default name, long names hashed, deleted with the
last VM), a per-VM resource group, a VM in another region (gallery replication).
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import pytest

from tests import peers as P  # noqa: N812 - short alias for the harness
from tests import peers_seed as S  # noqa: N812
from tests.integration import vm_support as V  # noqa: N812

SIZE = "Standard_D2s_v5"


@pytest.fixture(scope="module")
def stemcell(peers, cpi_config_path):
    return V.shared_stemcell(peers, cpi_config_path)


def ipconfigs(nic: dict[str, Any]) -> list[dict[str, Any]]:
    return [c["properties"] for c in nic["properties"]["ipConfigurations"]]


def ids(refs: list[dict[str, Any]] | None) -> list[str]:
    return sorted(r["id"].lower() for r in refs or [])


def nsg_of(nic: dict[str, Any]) -> str:
    return str((nic["properties"].get("networkSecurityGroup") or {}).get("id", "")).lower()


# ---- network types -----------------------------------------------------------------------------------------------


def test_dynamic_network(cpi, peers, stemcell):
    networks = {"dyn": V.dynamic()}
    vm = V.create_vm(cpi, peers, stemcell, {"instance_type": SIZE}, networks)
    [config] = ipconfigs(vm.nic(peers, 0))
    assert config["privateIPAllocationMethod"] == "Dynamic"
    assert config["privateIPAddress"].startswith("10.0.1.")
    assert V.same_id(config["subnet"]["id"], V.network_id("virtualNetworks", "boshnet/subnets/dyn"))
    settings = V.custom_data(V.vm_request(peers, vm.agent_id))
    assert settings["networks"] == {"dyn": {**networks["dyn"], "use_dhcp": True}}
    assert settings["dns"] == {"nameserver": ["10.0.0.2"]}
    V.finish_cycle(cpi, peers, vm)


def test_manual_network_with_a_vip(cpi, peers, stemcell):
    networks = {"private": V.manual("10.0.0.160"), "public": V.vip()}
    vm = V.create_vm(cpi, peers, stemcell, {"instance_type": SIZE}, networks)
    [config] = ipconfigs(vm.nic(peers, 0))
    assert V.same_id(config["publicIPAddress"]["id"], V.network_id("publicIPAddresses", S.VIP))
    assert config["privateIPAddress"] == "10.0.0.160"
    assert set(V.custom_data(V.vm_request(peers, vm.agent_id))["networks"]) == {"private", "public"}
    V.finish_cycle(cpi, peers, vm)
    vip = V.resource(peers, V.network_id("publicIPAddresses", S.VIP))
    assert vip is not None and "ipConfiguration" not in vip["properties"]  # kept, released


def test_two_nics_the_primary_is_the_default_gateway_network(cpi, peers, stemcell):
    networks = {"first": V.manual("10.0.0.161", default=False), "second": V.dynamic()}
    vm = V.create_vm(cpi, peers, stemcell, {"instance_type": SIZE}, networks)
    refs = vm.body(peers)["properties"]["networkProfile"]["networkInterfaces"]
    assert [(r["id"].rsplit("/", 1)[-1], r["properties"]["primary"]) for r in refs] == [
        (f"{vm.agent_id}-0", True),
        (f"{vm.agent_id}-1", False),
    ]
    assert ipconfigs(vm.nic(peers, 0))[0]["privateIPAllocationMethod"] == "Dynamic"  # "second": the gateway
    assert ipconfigs(vm.nic(peers, 1))[0]["privateIPAddress"] == "10.0.0.161"
    settings = V.custom_data(V.vm_request(peers, vm.agent_id))
    assert settings["dns"] == {"nameserver": ["10.0.0.2"]}
    assert all(n["use_dhcp"] is True for n in settings["networks"].values())
    V.finish_cycle(cpi, peers, vm)


def test_assign_dynamic_public_ip_creates_a_standard_static_ip_deleted_with_the_vm(cpi, peers, stemcell):
    props = {"instance_type": SIZE, "assign_dynamic_public_ip": True}
    vm = V.create_vm(cpi, peers, stemcell, props, {"private": V.manual("10.0.0.162")})
    pip = V.resource(peers, V.network_id("publicIPAddresses", vm.agent_id))
    assert pip is not None
    assert pip["sku"]["name"] == "Standard"
    assert pip["properties"]["publicIPAllocationMethod"] == "Static"
    assert pip["properties"]["idleTimeoutInMinutes"] == 4
    assert "zones" not in pip or not pip["zones"]
    [config] = ipconfigs(vm.nic(peers, 0))
    assert V.same_id(config["publicIPAddress"]["id"], pip["id"])
    V.finish_cycle(cpi, peers, vm)


def test_load_balancer_and_application_gateway_pools(cpi, peers, stemcell):
    props = {
        "instance_type": SIZE,
        "load_balancer": {"name": S.LOAD_BALANCER, "backend_pool_name": "pool-b"},
        "application_gateway": S.APP_GATEWAY,
    }
    vm = V.create_vm(cpi, peers, stemcell, props, {"private": V.manual("10.0.0.163")})
    [config] = ipconfigs(vm.nic(peers, 0))
    lb = V.network_id("loadBalancers", S.LOAD_BALANCER)
    assert ids(config.get("loadBalancerBackendAddressPools")) == [f"{lb}/backendAddressPools/pool-b".lower()]
    assert ids(config.get("loadBalancerInboundNatRules")) == [f"{lb}/inboundNatRules/{S.LB_NAT_RULE}".lower()]
    agw = V.network_id("applicationGateways", S.APP_GATEWAY)
    assert ids(config.get("applicationGatewayBackendAddressPools")) == [
        f"{agw}/backendAddressPools/{S.AGW_POOL}".lower()
    ]
    V.finish_cycle(cpi, peers, vm)


OTHER_NSG = {"name": S.OTHER_NSG, "resource_group_name": S.NETWORK_RG}


def test_security_groups_network_level_then_global_default_and_asgs(cpi, peers, stemcell):
    with_default = cpi.with_config(default_security_group=S.NSG)
    networks = {
        "first": V.manual("10.0.0.164", security_group=OTHER_NSG, application_security_groups=[S.ASG]),
        "second": V.dynamic(default=False),
    }
    vm = V.create_vm(with_default, peers, stemcell, {"instance_type": SIZE}, networks)
    first, second = vm.nic(peers, 0), vm.nic(peers, 1)
    assert nsg_of(first) == V.network_id("networkSecurityGroups", S.OTHER_NSG, S.NETWORK_RG).lower()
    assert nsg_of(second) == V.network_id("networkSecurityGroups", S.NSG).lower()
    assert ids(ipconfigs(first)[0].get("applicationSecurityGroups")) == [
        V.network_id("applicationSecurityGroups", S.ASG).lower()
    ]
    assert ids(ipconfigs(second)[0].get("applicationSecurityGroups")) == []
    V.finish_cycle(with_default, peers, vm)


def test_vm_type_security_group_asgs_ip_forwarding_and_accelerated_networking_win(cpi, peers, stemcell):
    with_default = cpi.with_config(default_security_group=S.NSG)
    props = {
        "instance_type": SIZE,
        "security_group": OTHER_NSG,
        "application_security_groups": [S.ASG],
        "ip_forwarding": True,
        "accelerated_networking": True,
    }
    networks = {"private": V.manual("10.0.0.165", security_group=S.NSG, accelerated_networking=False)}
    vm = V.create_vm(with_default, peers, stemcell, props, networks)
    nic = vm.nic(peers, 0)
    assert nsg_of(nic) == V.network_id("networkSecurityGroups", S.OTHER_NSG, S.NETWORK_RG).lower()
    assert ids(ipconfigs(nic)[0].get("applicationSecurityGroups")) == [
        V.network_id("applicationSecurityGroups", S.ASG).lower()
    ]
    assert nic["properties"]["enableAcceleratedNetworking"] is True
    assert nic["properties"]["enableIPForwarding"] is True
    V.finish_cycle(with_default, peers, vm)


def test_accelerated_networking_on_a_size_without_it_fails_and_leaves_nothing(cpi, peers, stemcell):
    before = V.snapshot(peers)
    props = {"instance_type": "Standard_B2s", "accelerated_networking": True}
    response = cpi("create_vm", str(uuid.uuid4()), stemcell, props, {"p": V.manual("10.0.0.166")}, [], V.ENV)
    error_type, message, retry = V.error_of(response)
    assert (error_type, retry) == ("Bosh::Clouds::VMCreationFailed", False)
    assert "VMSizeIsNotPermittedToEnableAcceleratedNetworking" in message
    assert V.left_behind(peers, before) == []


# ---- placement ---------------------------------------------------------------------------------------------------


def test_availability_zone_makes_the_vm_its_disks_and_public_ip_zonal(cpi, peers, stemcell):
    props = {"instance_type": SIZE, "availability_zone": "2", "assign_dynamic_public_ip": True}
    vm = V.create_vm(cpi, peers, stemcell, props, {"private": V.manual("10.0.0.167")})
    body = vm.body(peers)
    assert body["zones"] == ["2"]
    assert "availabilitySet" not in body["properties"]
    for disk in (f"bosh-disk-os-{vm.agent_id}", f"bosh-disk-os-{vm.agent_id}-ephemeral-disk"):
        stored = V.resource(peers, V.compute_id("disks", disk))
        assert stored is not None and stored["zones"] == ["2"], disk
    pip = V.resource(peers, V.network_id("publicIPAddresses", vm.agent_id))
    assert pip is not None and pip["zones"] == ["2"]
    assert cpi("delete_vm", vm.cid).unwrap() is None
    assert V.left_behind(peers, vm.before) == []


def test_zone_and_availability_set_together_are_refused(cpi, peers, stemcell):
    before = V.snapshot(peers)
    props = {"instance_type": SIZE, "availability_zone": "1", "availability_set": "my-set"}
    response = cpi("create_vm", str(uuid.uuid4()), stemcell, props, {"p": V.manual("10.0.0.168")}, [], V.ENV)
    error_type, message, retry = V.error_of(response)
    assert (error_type, retry) == ("Bosh::Clouds::VMCreationFailed", False)
    assert "availability_zone" in message and "availability_set" in message
    assert V.left_behind(peers, before) == []


def availability_set(peers: P.Peers, name: str) -> dict[str, Any] | None:
    return V.resource(peers, V.compute_id("availabilitySets", name))


def test_availability_set_from_env_group_is_deleted_with_its_last_vm(cpi, peers, stemcell):
    group = f"bosh-dep-{uuid.uuid4().hex[:8]}"
    env = {"bosh": {"group": group, "groups": [group]}}
    first = V.create_vm(cpi, peers, stemcell, {"instance_type": SIZE}, {"p": V.manual("10.0.0.169")}, env=env)
    second = V.create_vm(cpi, peers, stemcell, {"instance_type": SIZE}, {"p": V.manual("10.0.0.170")}, env=env)
    stored = availability_set(peers, group)
    assert stored is not None
    assert stored["sku"]["name"] == "Aligned"
    assert stored["tags"] == {"user-agent": "bosh"}
    props = stored["properties"]
    assert (props["platformFaultDomainCount"], props["platformUpdateDomainCount"]) == (2, 5)
    assert sorted(r["id"].rsplit("/", 1)[-1].lower() for r in props["virtualMachines"]) == sorted(
        [first.agent_id, second.agent_id]
    )
    assert cpi("delete_vm", first.cid).unwrap() is None
    assert availability_set(peers, group) is not None
    assert cpi("delete_vm", second.cid).unwrap() is None
    assert availability_set(peers, group) is None
    assert V.left_behind(peers, first.before) == []


def test_a_group_over_80_characters_names_the_set_like_the_ruby_cpi(cpi, peers, stemcell):
    group = "director-" + "x" * 70 + uuid.uuid4().hex
    expected = f"az-{hashlib.md5(group.encode()).hexdigest()}-{group[-40:]}"
    env = {"bosh": {"group": group}}
    vm = V.create_vm(cpi, peers, stemcell, {"instance_type": SIZE}, {"p": V.manual("10.0.0.171")}, env=env)
    assert availability_set(peers, expected) is not None
    assert V.same_id(vm.body(peers)["properties"]["availabilitySet"]["id"], V.compute_id("availabilitySets", expected))
    assert cpi("delete_vm", vm.cid).unwrap() is None
    assert V.left_behind(peers, vm.before) == []


def test_a_per_vm_resource_group(cpi, peers, stemcell):
    group = f"bosh-vm-rg-{uuid.uuid4().hex[:8]}"
    props = {"instance_type": SIZE, "resource_group_name": group, "assign_dynamic_public_ip": True}
    vm = V.create_vm(cpi, peers, stemcell, props, {"p": V.manual("10.0.0.172")}, group=group)
    assert V.rg_exists(peers, group)
    for kind, name in (("networkInterfaces", f"{vm.agent_id}-0"), ("publicIPAddresses", vm.agent_id)):
        assert V.resource(peers, V.network_id(kind, name, group)) is not None, kind
    for kind, name in (("disks", f"bosh-disk-os-{vm.agent_id}"), ("availabilitySets", V.GROUP)):
        assert V.resource(peers, V.compute_id(kind, name, group)) is not None, kind
    V.finish_cycle(cpi, peers, vm)


def test_a_vm_in_another_region_replicates_the_image_once(cpi, peers):
    west = cpi.with_config(location=S.WEST_LOCATION)  # the location must match the vnet's (as in the Ruby CPI)
    stemcell, version = V.new_stemcell(peers, cpi.config_path, "96.1")
    mark = peers.emulator.requests.mark()
    networks = {"p": V.manual("10.1.0.10", virtual_network_name=S.WEST_VNET)}
    vm = V.create_vm(west, peers, stemcell, {"instance_type": SIZE}, networks)
    assert vm.body(peers)["location"] == S.WEST_LOCATION
    regions = sorted(
        t["name"].replace(" ", "").lower()
        for t in V.resource(peers, version)["properties"]["publishingProfile"]["targetRegions"]
    )
    assert regions == ["eastus", "westus2"]
    version_path = version.replace("/", r"\/") + "$"
    assert peers.emulator.requests.count("PATCH", version_path, since=mark) == 1
    assert peers.emulator.requests.count("PUT", version_path, since=mark) == 0
    assert west("delete_vm", vm.cid).unwrap() is None
    assert V.left_behind(peers, vm.before) == []
    assert cpi("delete_stemcell", stemcell).unwrap() is None
