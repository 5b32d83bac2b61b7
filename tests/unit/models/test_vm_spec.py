"""Disk planning of a VM (the Ruby CPI's rules): OS disk size, ephemeral OS disk, ephemeral data disk, disk types."""

from __future__ import annotations

from typing import Any

import pytest

from bosh_azure_cpi.models.images import VmImage
from bosh_azure_cpi.models.vm_props import VmProps
from bosh_azure_cpi.models.vm_spec import DataDiskSpec, OsDiskSpec, plan_ephemeral_disk, plan_os_disk, root_disk_type

VM = "fake-vm"
LINUX = VmImage(image_id="fake-image")  # 3072 MiB
WINDOWS = VmImage(image_id="fake-image", os_type="Windows", disk_mib=131072)


def props(instance_type: str = "Standard_D2_v5", **cloud: Any) -> VmProps:
    return VmProps.from_dict({"instance_type": instance_type, **cloud})


@pytest.mark.parametrize(
    ("cloud", "image_mib", "size"),
    [
        ({}, 3072, None),  # the image's size
        ({"root_disk": {"size": 30720}}, 3072, 30),
        ({"root_disk": {"size": 30721}}, 3072, 31),  # rounded up to GiB
        ({"root_disk": {"size": 1025}}, 3072, 3),  # never below the image
        ({"root_disk": {"size": 2048}}, 5000, 5),  # the image's 5000 MiB rounded up
        ({"ephemeral_disk": {"use_root_disk": True}}, 3072, 30),  # Linux minimum with the root disk as ephemeral
        ({"ephemeral_disk": {"use_root_disk": True}}, 40960, 40),
        ({"ephemeral_disk": {"use_root_disk": True}}, 40961, 41),
        ({"ephemeral_disk": {"use_root_disk": True}, "root_disk": {"size": 10240}}, 3072, 10),  # size wins
        ({"ephemeral_disk": {"size": 10240}}, 3072, None),  # an ephemeral data disk leaves the OS disk alone
    ],
)
def test_os_disk_size(cloud, image_mib, size):
    disk = plan_os_disk(props(**cloud), VmImage(image_id="i", disk_mib=image_mib), VM)
    assert disk == OsDiskSpec(name="bosh-disk-os-fake-vm", size_gib=size, type="Standard_LRS", caching="ReadWrite")


def test_windows_root_disk_minimum_is_128_gib():
    assert plan_os_disk(props(ephemeral_disk={"use_root_disk": True}), WINDOWS, VM).size_gib == 128


@pytest.mark.parametrize(
    ("cloud", "size"),
    [
        ({}, None),
        ({"root_disk": {"size": 20480}}, 20),
        ({"ephemeral_disk": {"use_root_disk": True}}, 30),
        ({"ephemeral_disk": {"use_root_disk": True, "size": 10240}}, 3 + 10),  # image + ephemeral size
        ({"ephemeral_disk": {"use_root_disk": True, "size": 11263}}, 3 + 10),  # ephemeral size rounded down
        ({"ephemeral_disk": {"use_root_disk": True, "size": 10240}, "root_disk": {"size": 30720}}, 30 + 10),
        ({"ephemeral_disk": {"size": 10240}}, None),  # without use_root_disk the size goes to the data disk
    ],
)
@pytest.mark.parametrize(("placement", "azure"), [("resource-disk", "ResourceDisk"), ("cache-disk", "CacheDisk")])
def test_ephemeral_os_disk(cloud, size, placement, azure):
    cloud = {**cloud, "root_disk": {**cloud.get("root_disk", {}), "placement": placement}, "caching": "None"}
    disk = plan_os_disk(props(**cloud), LINUX, VM)
    assert (disk.ephemeral_placement, disk.caching, disk.size_gib) == (azure, "ReadOnly", size)


def test_remote_placement_is_a_normal_managed_os_disk():
    disk = plan_os_disk(props(root_disk={"placement": "remote"}, caching="ReadOnly"), LINUX, VM, "fake-des-id")
    assert disk == OsDiskSpec(
        name="bosh-disk-os-fake-vm",
        size_gib=None,
        type="Standard_LRS",
        caching="ReadOnly",
        ephemeral_placement="",
        disk_encryption_set_id="fake-des-id",
    )


@pytest.mark.parametrize(
    ("instance_type", "cloud", "size"),
    [
        ("Standard_D2_v2", {}, 100),  # the size table
        ("standard_d2_v2", {}, 100),
        ("Standard_DS11", {}, 28),
        ("Standard_F2", {}, 32),
        ("Standard_G5", {}, 1000),
        ("Standard_D2s_v5", {}, 30),  # not in the table
        ("Standard_D2_v2", {"ephemeral_disk": {"size": 10240}}, 10),
        ("Standard_D2_v2", {"ephemeral_disk": {"size": 11263}}, 10),  # rounded down
        ("Standard_D2_v2", {"ephemeral_disk": {"size": 1024}}, 1),
    ],
)
def test_ephemeral_data_disk_size(instance_type, cloud, size):
    disk = plan_ephemeral_disk(props(instance_type, **cloud), VM)
    assert disk is not None
    assert (disk.size_gib, disk.lun, disk.name) == (size, 0, "bosh-disk-os-fake-vm-ephemeral-disk")


def test_no_ephemeral_data_disk_with_the_root_disk():
    assert plan_ephemeral_disk(props(ephemeral_disk={"use_root_disk": True, "size": 10240}), VM) is None


def test_ephemeral_data_disk_with_every_setting():
    cloud = {"ephemeral_disk": {"size": 65536, "type": "PremiumV2_LRS", "iops": 4000, "mbps": 150}}
    assert plan_ephemeral_disk(props("Standard_D4s_v5", **cloud), VM, "fake-des-id") == DataDiskSpec(
        name="bosh-disk-os-fake-vm-ephemeral-disk",
        lun=0,
        size_gib=64,
        type="PremiumV2_LRS",
        caching="None",
        iops=4000,
        mbps=150,
        disk_encryption_set_id="fake-des-id",
    )


@pytest.mark.parametrize(
    ("instance_type", "cloud", "expected"),
    [
        ("Standard_D2_v5", {}, "Standard_LRS"),
        ("Standard_D2s_v5", {}, "Premium_LRS"),
        ("Standard_DS2_v2", {}, "Premium_LRS"),
        ("Standard_D2s_v5", {"storage_account_type": "StandardSSD_LRS"}, "StandardSSD_LRS"),
        ("Standard_D2_v5", {"storage_account_type": "Premium_LRS"}, "Premium_LRS"),
        (
            "Standard_D2s_v5",
            {"storage_account_type": "Standard_LRS", "root_disk": {"type": "StandardSSD_ZRS"}},
            "StandardSSD_ZRS",
        ),
        ("Standard_D2_v5", {"root_disk": {"type": "Premium_ZRS"}}, "Premium_ZRS"),
    ],
)
def test_disk_type_precedence(instance_type, cloud, expected):
    vm_props = props(instance_type, **cloud)
    assert root_disk_type(vm_props) == expected
    assert plan_os_disk(vm_props, LINUX, VM).type == expected
    ephemeral = plan_ephemeral_disk(vm_props, VM)
    assert ephemeral is not None
    assert ephemeral.type == expected  # without ephemeral_disk.type the data disk follows the OS disk


def test_the_ephemeral_disk_type_wins_for_the_data_disk():
    vm_props = props("Standard_D2s_v5", root_disk={"type": "StandardSSD_LRS"}, ephemeral_disk={"type": "Standard_LRS"})
    ephemeral = plan_ephemeral_disk(vm_props, VM)
    assert ephemeral is not None
    assert (plan_os_disk(vm_props, LINUX, VM).type, ephemeral.type) == ("StandardSSD_LRS", "Standard_LRS")


def test_instance_types_use_the_first_for_disk_rules():
    vm_props = props("", instance_types=["Standard_D2_v2", "Standard_D2s_v5"])
    ephemeral = plan_ephemeral_disk(vm_props, VM)
    assert ephemeral is not None
    assert (ephemeral.size_gib, ephemeral.type) == (100, "Standard_LRS")
