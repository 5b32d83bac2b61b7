"""Agent settings in custom data: the exact document of cpi-protocol.md §9, compact base64 JSON, the size limit."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest

from bosh_azure_cpi.errors import InvalidArgument
from bosh_azure_cpi.models.agent_settings import AgentSettings, check_fits, disk_hint

AGENT = "5f0a2a4e-8f6c-4a43-9b0e-3f9d2c8e1a11"
CID = f"agent_id:{AGENT};resource_group_name:rg-bosh"
GUID = "{f8b3781b-1e82-4818-a1c3-63d806ec15bb}"
NETWORK = {
    "type": "manual",
    "ip": "10.0.16.7",
    "prefix": "32",
    "netmask": "255.255.240.0",
    "gateway": "10.0.16.1",
    "dns": ["168.63.129.16"],
    "default": ["dns", "gateway"],
    "cloud_properties": {"virtual_network_name": "vnet", "subnet_name": "bosh"},
}
ENV = {
    "bosh": {
        "mbus": {"cert": {"ca": "fake-ca", "certificate": "fake-cert", "private_key": "fake-key"}},
        "blobstores": [{"provider": "dav", "options": {"endpoint": "https://10.0.16.6:25250"}}],
        "group": "fake-group",
        "groups": ["fake-director", "fake-deployment"],
    }
}
AGENT_CONFIG = {"mbus": "nats://10.0.16.6:4222", "ntp": []}


def settings(**overrides: Any) -> AgentSettings:
    values: dict[str, Any] = {
        "vm_cid": CID,
        "vm_name": AGENT,
        "agent_id": AGENT,
        "networks": {"default": NETWORK},
        "dns": ("168.63.129.16",),
        "env": ENV,
        "agent_config": AGENT_CONFIG,
    }
    return AgentSettings(**(values | overrides))


def test_the_document_of_the_protocol_reference_key_by_key_and_in_order():
    doc = settings().document()
    assert doc == {
        "server": {"name": CID},
        "dns": {"nameserver": ["168.63.129.16"]},
        "vm": {"name": AGENT},
        "agent_id": AGENT,
        "networks": {"default": {**NETWORK, "use_dhcp": True}},
        "disks": {"system": "/dev/sda", "persistent": {}, "ephemeral": {"lun": "0", "host_device_id": GUID}},
        "env": ENV,
        "mbus": "nats://10.0.16.6:4222",
        "ntp": [],
    }
    assert list(doc) == ["server", "dns", "vm", "agent_id", "networks", "disks", "env", "mbus", "ntp"]
    assert list(doc["networks"]["default"])[-1] == "use_dhcp"


def test_custom_data_is_base64_of_compact_json():
    data = settings().custom_data()
    raw = base64.b64decode(data, validate=True)
    assert json.loads(raw) == settings().document()
    assert raw == json.dumps(settings().document(), separators=(",", ":")).encode()
    assert b": " not in raw
    assert b", " not in raw


def test_every_network_gets_use_dhcp_and_the_input_is_not_changed():
    networks = {"a": dict(NETWORK), "b": {"type": "dynamic", "use_dhcp": False, "cloud_properties": {}}}
    before = copy.deepcopy(networks)
    doc = settings(networks=networks).document()
    assert doc["networks"] == {"a": {**NETWORK, "use_dhcp": True}, "b": {**before["b"], "use_dhcp": True}}
    assert networks == before


def test_networks_of_a_nic_group_get_their_interface_alias():
    networks = {
        "v4": {**NETWORK, "nic_group": "1"},
        "v6": {"type": "manual", "ip": "fd00::5", "nic_group": "1"},
        "other": {"type": "dynamic"},
        "unknown": {"type": "dynamic", "nic_group": "9"},
    }
    doc = settings(networks=networks, aliases={"1": "eth0"}).document()
    assert doc["networks"]["v4"] == {**NETWORK, "nic_group": "1", "use_dhcp": True, "alias": "eth0"}
    assert doc["networks"]["v6"] == {
        "type": "manual",
        "ip": "fd00::5",
        "nic_group": "1",
        "use_dhcp": True,
        "alias": "eth0",
    }
    assert doc["networks"]["other"] == {"type": "dynamic", "use_dhcp": True}
    assert doc["networks"]["unknown"] == {"type": "dynamic", "nic_group": "9", "use_dhcp": True}


@pytest.mark.parametrize(("lun", "hint"), [(0, {"lun": "0", "host_device_id": GUID}), (None, None)])
def test_the_ephemeral_disk_hint_is_lun_zero_or_absent(lun, hint):
    disks = settings(ephemeral_lun=lun).document()["disks"]
    assert disks.get("ephemeral") == hint
    assert ("ephemeral" in disks) == (hint is not None)
    assert (disks["system"], disks["persistent"]) == ("/dev/sda", {})


def test_disk_hints_carry_the_lun_as_a_string():
    assert disk_hint(3) == {"lun": "3", "host_device_id": GUID}


def test_dns_only_when_set():
    assert "dns" not in settings(dns=()).document()
    assert settings(dns=("10.0.0.2", "10.0.0.3")).document()["dns"] == {"nameserver": ["10.0.0.2", "10.0.0.3"]}


def test_env_verbatim_or_absent():
    env = {"bosh": {"password": "$6$fake", "tags": {"a": 1}, "nested": [{"x": None}]}, "persistent_disk_fs": "ext4"}
    assert settings(env=env).document()["env"] == env
    assert "env" not in settings(env={}).document()


def test_the_agent_config_is_merged_last_and_wins():
    config = {"mbus": "https://mbus:fake@0.0.0.0:6868", "ntp": ["fake-ntp"], "blobstore": {"provider": "local"}}
    doc = settings(agent_config=config | {"agent_id": "from-config"}).document()
    assert list(doc)[-3:] == ["mbus", "ntp", "blobstore"]
    assert (doc["mbus"], doc["ntp"], doc["blobstore"]) == (config["mbus"], ["fake-ntp"], {"provider": "local"})
    assert doc["agent_id"] == "from-config"


def test_windows_names_the_server_by_its_computer_name():
    doc = settings(windows_computer_name="fake-computer").document()
    assert list(doc)[:3] == ["instance-id", "server", "dns"]
    assert (doc["instance-id"], doc["server"]) == (CID, {"name": "fake-computer"})


def padded(size: int) -> AgentSettings:
    """Settings whose compact JSON is exactly ``size`` bytes."""
    base = len(json.dumps(settings(env={"pad": ""}).document(), separators=(",", ":")))
    return settings(env={"pad": "x" * (size - base)})


def test_custom_data_up_to_65535_bytes_is_accepted():
    assert len(base64.b64decode(padded(65535).custom_data())) == 65535


def test_custom_data_over_65535_bytes_is_refused():
    with pytest.raises(InvalidArgument) as caught:
        padded(65536).custom_data()
    assert caught.value.message == (
        "The agent settings are 65536 bytes, over Azure's custom data limit of 65535 bytes; reduce the size of "
        "'env' (for example certificates or blobstore options)"
    )


def test_env_and_networks_over_the_limit_are_refused_before_the_full_document_exists():
    check_fits({"pad": "x" * 60_000}, {"net": {"ip": "10.0.0.4"}})
    with pytest.raises(InvalidArgument, match="are 65[0-9]{3} bytes or more, over Azure's custom data limit"):
        check_fits({"pad": "x" * 65_500}, {"net": {"ip": "10.0.0.4"}})
