"""VmLifecycle against fakes: delete with leftovers, exists, reboot, metadata, attached disks, instance types."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from azure.mgmt.compute import models as m
from azure.mgmt.network import models as n

from bosh_azure_cpi.errors import AzureError, CloudError, VMNotFound
from bosh_azure_cpi.models.cids import VmCid
from bosh_azure_cpi.services.vm_lifecycle import VmLifecycle
from tests.fakes.config import RESOURCE_GROUP, SUBSCRIPTION
from tests.fakes.fake_network import FakeNetworkService
from tests.fakes.fake_vm import AGENT, CallLog, FakeVmService, Faults, cpi_config, disk_id, sdk_vm

RG = RESOURCE_GROUP
CID = VmCid(agent_id=AGENT, resource_group_name=RG)
OS_DISK = f"bosh-disk-os-{AGENT}"
EPHEMERAL = f"bosh-disk-os-{AGENT}-ephemeral-disk"
NET = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{{}}/providers/Microsoft.Network/networkInterfaces/{{}}"
SET_ID = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RG}/providers/Microsoft.Compute/availabilitySets/fake-set"
PERSISTENT = "bosh-disk-data-0b9a1f3e-5c1d-4d8e-a2b7-6f0e8d9c1b22"
DELETES = ("delete_vm", "delete_disk", "delete_nic", "delete_public_ip", "delete_availability_set_if_empty")


class Creator:
    def __init__(self) -> None:
        self.requests: list[Any] = []

    def create(self, request: Any) -> VmCid:
        self.requests.append(request)
        return CID


def lifecycle(**azure: Any) -> tuple[VmLifecycle, FakeVmService, FakeNetworkService, CallLog]:
    log, faults = CallLog(), Faults()
    vms, network = FakeVmService(log, faults), FakeNetworkService(log, faults)
    creator = Creator()
    lifecycle = VmLifecycle(vms, lambda: network, lambda: creator, cpi_config(**azure))  # type: ignore[arg-type,return-value]
    return lifecycle, vms, network, log


def nic_ref(name: str, group: str = RG, delete_option: str | None = None) -> dict[str, Any]:
    ref: dict[str, Any] = {"id": NET.format(group, name)}
    if delete_option:
        ref["properties"] = {"deleteOption": delete_option}
    return ref


def data_disk(
    name: str, lun: int, group: str = RG, caching: str = "None", delete_option: str | None = None
) -> dict[str, Any]:
    disk: dict[str, Any] = {"lun": lun, "name": name, "caching": caching, "managedDisk": {"id": disk_id(name, group)}}
    if delete_option:
        disk["deleteOption"] = delete_option
    return disk


def our_vm() -> m.VirtualMachine:
    """A VM as this CPI creates it: its NICs and disks go with it."""
    return sdk_vm(
        networkProfile={"networkInterfaces": [nic_ref(f"{AGENT}-0", delete_option="Delete")]},
        storageProfile={
            "osDisk": {"name": OS_DISK, "deleteOption": "Delete"},
            "dataDisks": [
                data_disk(EPHEMERAL, 0, delete_option="Delete"),
                data_disk(PERSISTENT, 1, delete_option="Detach"),
            ],
        },
        availabilitySet={"id": SET_ID},
    )


def ruby_vm(**storage: Any) -> m.VirtualMachine:
    """A VM as the Ruby CPI created it: no delete options, NICs possibly in another group."""
    return sdk_vm(
        networkProfile={"networkInterfaces": [nic_ref(f"{AGENT}-0"), nic_ref(f"{AGENT}-1", "fake-other-rg")]},
        storageProfile={"osDisk": {"name": OS_DISK}, "dataDisks": [data_disk(EPHEMERAL, 0), data_disk(PERSISTENT, 1)]}
        | storage,
    )


def test_deleting_our_vm_leaves_its_parts_to_azure():
    life, vms, network, log = lifecycle()
    vms.vms[(RG, AGENT)] = our_vm()
    network.public_ips[(RG, AGENT)] = n.PublicIPAddress({"name": AGENT, "tags": {"user-agent": "bosh"}})
    life.delete(CID)
    assert log.named(*DELETES) == [
        ("delete_vm", RG, AGENT),
        ("delete_public_ip", RG, AGENT),
        ("delete_availability_set_if_empty", RG, "fake-set"),
    ]


def test_deleting_a_vm_of_the_ruby_cpi_deletes_its_leftovers_but_not_persistent_disks():
    life, vms, _, log = lifecycle()
    vms.vms[(RG, AGENT)] = ruby_vm()
    life.delete(CID)
    assert log.named(*DELETES) == [
        ("delete_vm", RG, AGENT),
        ("delete_nic", RG, f"{AGENT}-0"),
        ("delete_nic", "fake-other-rg", f"{AGENT}-1"),
        ("delete_disk", RG, OS_DISK),
        ("delete_disk", RG, EPHEMERAL),
    ]


def test_an_ephemeral_os_disk_is_not_a_leftover():
    life, vms, _, log = lifecycle()
    vms.vms[(RG, AGENT)] = ruby_vm(osDisk={"name": OS_DISK, "diffDiskSettings": {"option": "Local"}}, dataDisks=[])
    life.delete(CID)
    assert log.named("delete_disk") == []


def test_deleting_a_vanished_vm_cleans_by_name():
    life, _, network, log = lifecycle()
    for name, tags in [
        (f"{AGENT}-1", {"user-agent": "bosh"}),  # listed first, without the set's tag
        (f"{AGENT}-0", {"user-agent": "bosh", "availability_set": "fake-set"}),
        (f"{AGENT}x-0", {}),
        (f"other-{AGENT}-0", {}),
    ]:
        network.nics[(RG, name)] = n.NetworkInterface({"name": name, "tags": tags})
    network.nics[("fake-other-rg", f"{AGENT}-2")] = n.NetworkInterface({"name": f"{AGENT}-2"})
    life.delete(CID)
    assert log.named(*DELETES) == [
        ("delete_nic", RG, f"{AGENT}-1"),
        ("delete_nic", RG, f"{AGENT}-0"),
        ("delete_disk", RG, OS_DISK),
        ("delete_disk", RG, EPHEMERAL),
        ("delete_availability_set_if_empty", RG, "fake-set"),
    ]
    assert log.named("nics_named") == [("nics_named", RG, f"{AGENT}-")]


def test_deleting_twice_succeeds():
    life, vms, _, log = lifecycle()
    vms.vms[(RG, AGENT)] = our_vm()
    life.delete(CID)
    life.delete(CID)
    assert log.named("delete_vm") == [("delete_vm", RG, AGENT)]


@pytest.mark.parametrize(
    ("public_ip", "deleted"),
    [
        (None, False),
        ({"tags": {"user-agent": "bosh"}}, True),
        ({"tags": {"user-agent": "bosh"}, "properties": {"ipConfiguration": {"id": "x"}}}, True),
        ({}, True),  # created by the Ruby CPI: untagged, and no longer attached
        ({"tags": {}, "properties": {"ipAddress": "20.1.2.3"}}, True),
        ({"properties": {"ipConfiguration": {"id": "fake-other-nic-ipconfig"}}}, False),  # in use elsewhere
        ({"tags": {"owner": "someone"}}, False),
    ],
)
def test_the_public_ip_named_after_the_vm(public_ip, deleted):
    life, _, network, log = lifecycle()
    if public_ip is not None:
        network.public_ips[(RG, AGENT)] = n.PublicIPAddress({"name": AGENT, **public_ip})
    life.delete(CID)
    assert log.named("delete_public_ip") == ([("delete_public_ip", RG, AGENT)] if deleted else [])


@pytest.mark.parametrize(
    ("vm", "exists"),
    [
        (None, False),
        (sdk_vm(provisioningState="Deleting"), False),
        (sdk_vm(provisioningState="Succeeded"), True),
        (sdk_vm(provisioningState="Failed"), True),
        (sdk_vm(), True),
        (m.VirtualMachine({"location": "eastus"}), True),
    ],
)
def test_exists(vm, exists):
    life, vms, _, _ = lifecycle()
    if vm is not None:
        vms.vms[(RG, AGENT)] = vm
    assert life.exists(CID) is exists


def test_reboot():
    life, _, _, log = lifecycle()
    life.reboot(CID)
    assert log == [("restart", RG, AGENT)]


def test_rebooting_a_missing_vm_is_vm_not_found():
    life, vms, _, _ = lifecycle()
    vms.faults.add("restart", AzureError("Restarting VM: ResourceNotFound: gone", code="ResourceNotFound", status=404))
    with pytest.raises(VMNotFound) as caught:
        life.reboot(CID)
    assert caught.value.message == f"VM 'agent_id:{AGENT};resource_group_name:{RG}' cannot be found"


def test_other_reboot_failures_pass_through():
    life, vms, _, _ = lifecycle()
    error = AzureError("Restarting VM: Conflict: busy", code="OperationNotAllowed", status=409)
    vms.faults.add("restart", error)
    with pytest.raises(AzureError) as caught:
        life.reboot(CID)
    assert caught.value is error


def test_set_metadata_merges_truncates_and_keeps_the_user_agent():
    life, vms, _, log = lifecycle()
    vms.vms[(RG, AGENT)] = sdk_vm(tags={"user-agent": "bosh", "director": "d", "deployment": "old"})
    life.set_metadata(CID, {"deployment": "new", "job": "j" * 300, "user-agent": "someone"})
    assert vms.vms[(RG, AGENT)].tags == {"user-agent": "bosh", "director": "d", "deployment": "new", "job": "j" * 256}
    assert log.named("set_tags") == [("set_tags", RG, AGENT)]


def test_set_metadata_of_a_missing_vm():
    life, _, _, log = lifecycle()
    with pytest.raises(VMNotFound):
        life.set_metadata(CID, {"a": "b"})
    assert log.named("set_tags") == []


def test_disks_lists_persistent_disks_with_their_cids():
    life, vms, _, _ = lifecycle()
    tagged = "caching:ReadOnly;disk_name:bosh-disk-data-tagged;resource_group_name:fake-rg"
    vms.vms[(RG, AGENT)] = sdk_vm(
        tags={"disk-id-bosh-disk-data-tagged": tagged, "disk-id-elsewhere": "x"},
        storageProfile={
            "dataDisks": [
                data_disk(EPHEMERAL, 0, caching="ReadWrite"),
                data_disk("bosh-disk-data-tagged", 1, caching="None"),
                data_disk("bosh-disk-data-b", 2, "fake-disk-rg", caching="ReadOnly"),
                {"lun": 3, "name": "bosh-disk-data-c", "createOption": "Attach"},
            ]
        },
    )
    assert life.disks(CID) == [
        tagged,  # the tag written at attach time wins
        "caching:ReadOnly;disk_name:bosh-disk-data-b;resource_group_name:fake-disk-rg",
        f"caching:None;disk_name:bosh-disk-data-c;resource_group_name:{RG}",
    ]


def test_disks_of_a_vm_without_data_disks_and_of_a_missing_vm():
    life, vms, _, _ = lifecycle()
    vms.vms[(RG, AGENT)] = sdk_vm(storageProfile={})
    assert life.disks(CID) == []
    with pytest.raises(VMNotFound):
        life.disks(VmCid(agent_id="fake-other", resource_group_name=RG))


def test_create_is_the_creators():
    life, _, _, _ = lifecycle()
    assert life.create("fake-request") == CID  # type: ignore[arg-type]


def resource_sku(name: str, cpus: str = "2", memory: str = "8", premium: str = "True", **extra: Any) -> m.ResourceSku:
    capabilities = [{"name": "vCPUs", "value": cpus}, {"name": "MemoryGB", "value": memory}]
    if premium:
        capabilities.append({"name": "PremiumIO", "value": premium})
    return m.ResourceSku({"name": name, "resourceType": "virtualMachines", "capabilities": capabilities} | extra)


SKUS = [
    resource_sku("Standard_D2s_v5"),
    resource_sku("Standard_D2_v5", premium="False"),
    resource_sku("Standard_B2s", memory="4"),
    resource_sku("Standard_F2s_v2", memory="4", restrictions=[{"type": "Location", "values": ["eastus"]}]),
    resource_sku("Standard_D4s_v5", cpus="4", memory="16", premium=""),
    resource_sku("Standard_LRS", resourceType="disks"),
    m.ResourceSku({"name": "Standard_E2s_v5", "resourceType": "virtualMachines", "capabilities": []}),
    resource_sku("Standard_E2s_v5", memory="0.5"),
]


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    if Path("/var/vcap/sys/run/azure_cpi/cache").is_dir():  # pragma: no cover - a BOSH VM
        pytest.skip("the BOSH job's cache directory exists here")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path / "bosh-azure-cpi-cache"


def test_instance_types_filter_rank_and_cache_the_skus(cache_dir):
    life, vms, _, log = lifecycle()
    vms.skus = SKUS
    expected = ["Standard_B2s", "Standard_D2s_v5", "Standard_D2_v5", "Standard_D4s_v5"]
    assert life.instance_types(2, 2048) == expected
    cached = json.loads((cache_dir / "skus-eastus.json").read_text())
    assert [item["name"] for item in cached] == [
        "Standard_D2s_v5",
        "Standard_D2_v5",
        "Standard_B2s",
        "Standard_D4s_v5",
        "Standard_E2s_v5",
    ]
    assert cached[0] == {"name": "Standard_D2s_v5", "cpus": 2, "memory_mib": 8192, "premium_io": True}
    vms.skus = []
    assert life.instance_types(2, 2048) == expected  # from the cache
    assert log.named("list_skus") == [("list_skus", "eastus")]


def test_a_day_old_cache_is_refreshed(cache_dir):
    life, vms, _, log = lifecycle()
    vms.skus = SKUS
    life.instance_types(1, 1024)
    old = time.time() - 24 * 3600 - 1
    os.utime(cache_dir / "skus-eastus.json", (old, old))
    vms.skus = [resource_sku("Standard_A2_v2", premium="False")]
    assert life.instance_types(1, 1024) == ["Standard_A2_v2"]
    assert len(log.named("list_skus")) == 2


def test_a_corrupt_cache_is_ignored(cache_dir):
    cache_dir.mkdir()
    (cache_dir / "skus-eastus.json").write_text('[{"name": "x"}]')
    life, vms, _, _ = lifecycle()
    vms.skus = SKUS
    assert life.instance_types(4, 1024) == ["Standard_D4s_v5"]


def test_an_unwritable_cache_only_warns(tmp_path, monkeypatch, caplog):
    if Path("/var/vcap/sys/run/azure_cpi/cache").is_dir():  # pragma: no cover - a BOSH VM
        pytest.skip("the BOSH job's cache directory exists here")
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setattr(tempfile, "tempdir", str(blocker))
    life, vms, _, _ = lifecycle()
    vms.skus = SKUS
    with caplog.at_level(logging.WARNING):
        assert life.instance_types(4, 1024) == ["Standard_D4s_v5"]
    assert "Cannot write the cache file" in caplog.text


def test_instance_types_need_the_global_location():
    life, _, _, _ = lifecycle(location=None, compute_gallery_name=None)
    with pytest.raises(CloudError) as caught:
        life.instance_types(2, 4096)
    assert caught.value.message == "Missing the property 'location' in the global configuration"
