"""Tables: a VmSpec -> the exact wire body of the VM PUT (ComputeRP), and availability set / data disk bodies."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest

from bosh_azure_cpi.models.images import VmImage
from bosh_azure_cpi.models.vm_props import AvailabilitySetSpec
from bosh_azure_cpi.models.vm_spec import AttachedDisk, DataDiskSpec, OsDiskSpec, VmSpec
from bosh_azure_cpi.services.params.vm import build_availability_set_params, build_vm_params, data_disk_attachment

SUB = "/subscriptions/fake-subscription/resourceGroups/fake-rg/providers"
GALLERY_IMAGE = f"{SUB}/Microsoft.Compute/galleries/fake-gallery/images/fake-stemcell/versions/1.2.0"
NIC0 = f"{SUB}/Microsoft.Network/networkInterfaces/fake-vm-0"
NIC1 = f"{SUB}/Microsoft.Network/networkInterfaces/fake-vm-1"
SET = f"{SUB}/Microsoft.Compute/availabilitySets/fake-set"
DISK = f"{SUB}/Microsoft.Compute/disks/bosh-disk-data-fake"
DES = f"{SUB}/Microsoft.Compute/diskEncryptionSets/fake-des"
MARKET = {"publisher": "fake-pub", "offer": "fake-offer", "sku": "fake-sku", "version": "1.2.3"}

SPEC = VmSpec(
    name="fake-vm",
    resource_group="fake-rg",
    location="eastus",
    size="Standard_D2s_v5",
    image=VmImage(image_id=GALLERY_IMAGE),
    os_disk=OsDiskSpec(name="bosh-disk-os-fake-vm", size_gib=None, type="Premium_LRS", caching="ReadWrite"),
    ephemeral_disk=DataDiskSpec(
        name="bosh-disk-os-fake-vm-ephemeral-disk", lun=0, size_gib=30, type="Premium_LRS", caching="ReadWrite"
    ),
    nic_ids=(NIC0,),
    admin_user="vcap",
    ssh_public_key="ssh-rsa fake",
    custom_data="e30=",
    tags={"user-agent": "bosh", "deployment": "fake"},
)

OS_DISK = {
    "name": "bosh-disk-os-fake-vm",
    "osType": "Linux",
    "createOption": "FromImage",
    "caching": "ReadWrite",
    "managedDisk": {"storageAccountType": "Premium_LRS"},
    "deleteOption": "Delete",
}
EPHEMERAL = {
    "lun": 0,
    "name": "bosh-disk-os-fake-vm-ephemeral-disk",
    "createOption": "Empty",
    "diskSizeGB": 30,
    "caching": "ReadWrite",
    "managedDisk": {"storageAccountType": "Premium_LRS"},
    "deleteOption": "Delete",
}
BODY: dict[str, Any] = {
    "location": "eastus",
    "tags": {"user-agent": "bosh", "deployment": "fake"},
    "properties": {
        "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
        "storageProfile": {"imageReference": {"id": GALLERY_IMAGE}, "osDisk": OS_DISK, "dataDisks": [EPHEMERAL]},
        "osProfile": {
            "computerName": "fake-vm",
            "adminUsername": "vcap",
            "customData": "e30=",
            "linuxConfiguration": {
                "disablePasswordAuthentication": True,
                "ssh": {"publicKeys": [{"path": "/home/vcap/.ssh/authorized_keys", "keyData": "ssh-rsa fake"}]},
            },
        },
        "networkProfile": {
            "networkInterfaces": [{"id": NIC0, "properties": {"primary": True, "deleteOption": "Delete"}}]
        },
    },
}


def body(*changes: tuple[str, Any]) -> dict[str, Any]:
    """BODY with ``("properties.storageProfile.osDisk", value)`` changes; a None value removes the key."""
    result = copy.deepcopy(BODY)
    for path, value in changes:
        *parents, last = path.split(".")
        node = result
        for key in parents:
            node = node.setdefault(key, {})
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return result


def spec(**changes: Any) -> VmSpec:
    return dataclasses.replace(SPEC, **changes)


@pytest.mark.parametrize(
    ("vm", "expected"),
    [
        (SPEC, BODY),
        (  # a light stemcell: marketplace image reference (no plan)
            spec(image=VmImage(marketplace=MARKET)),
            body(("properties.storageProfile.imageReference", MARKET)),
        ),
        (  # a marketplace image that needs a purchase plan
            spec(image=VmImage(marketplace={**MARKET, "plan": "yes"})),
            body(
                ("properties.storageProfile.imageReference", MARKET),
                ("plan", {"name": "fake-sku", "publisher": "fake-pub", "product": "fake-offer"}),
            ),
        ),
        (spec(zone="2"), body(("zones", ["2"]))),
        (spec(availability_set_id=SET), body(("properties.availabilitySet", {"id": SET}))),
        (
            spec(
                os_disk=OsDiskSpec(
                    name="bosh-disk-os-fake-vm",
                    size_gib=40,
                    type="Standard_LRS",
                    caching="ReadOnly",
                    ephemeral_placement="ResourceDisk",
                )
            ),
            body(
                (
                    "properties.storageProfile.osDisk",
                    OS_DISK
                    | {
                        "caching": "ReadOnly",
                        "diskSizeGB": 40,
                        "diffDiskSettings": {"option": "Local", "placement": "ResourceDisk"},
                        "managedDisk": {"storageAccountType": "Standard_LRS"},
                    },
                )
            ),
        ),
        (
            spec(os_disk=dataclasses.replace(SPEC.os_disk, type="", disk_encryption_set_id=DES)),
            body(("properties.storageProfile.osDisk.managedDisk", {"diskEncryptionSet": {"id": DES}})),
        ),
        (spec(identity_type="SystemAssigned"), body(("identity", {"type": "SystemAssigned"}))),
        (
            spec(identity_type="UserAssigned", user_identity_ids=("fake-identity-id",)),
            body(("identity", {"type": "UserAssigned", "userAssignedIdentities": {"fake-identity-id": {}}})),
        ),
        (spec(security_type="TrustedLaunch"), body(("properties.securityProfile", {"securityType": "TrustedLaunch"}))),
        (
            spec(security_type="TrustedLaunch", secure_boot=True, vtpm=False),
            body(
                (
                    "properties.securityProfile",
                    {
                        "securityType": "TrustedLaunch",
                        "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": False},
                    },
                )
            ),
        ),
        (
            spec(capacity_reservation_group_id="fake-crg-id"),
            body(("properties.capacityReservation", {"capacityReservationGroup": {"id": "fake-crg-id"}})),
        ),
        (
            spec(boot_diagnostics_uri="https://fakediag.blob.core.windows.net/"),
            body(
                (
                    "properties.diagnosticsProfile",
                    {"bootDiagnostics": {"enabled": True, "storageUri": "https://fakediag.blob.core.windows.net/"}},
                )
            ),
        ),
        (spec(tags={}), body(("tags", {}))),
    ],
)
def test_vm_bodies(vm, expected):
    assert build_vm_params(vm).as_dict() == expected


def test_the_cpis_disks_are_deleted_with_the_vm_and_attached_disks_only_detached():
    vm = spec(
        ephemeral_disk=dataclasses.replace(SPEC.ephemeral_disk, type="PremiumV2_LRS", caching="None", iops=3000),
        attached=(AttachedDisk(id=DISK, lun=1, caching="ReadOnly"), AttachedDisk(id=DISK + "2", lun=2, caching="None")),
    )
    assert build_vm_params(vm).as_dict()["properties"]["storageProfile"]["dataDisks"] == [
        EPHEMERAL | {"caching": "None", "managedDisk": {"storageAccountType": "PremiumV2_LRS"}},
        {
            "lun": 1,
            "createOption": "Attach",
            "caching": "ReadOnly",
            "managedDisk": {"id": DISK},
            "deleteOption": "Detach",
        },
        {
            "lun": 2,
            "createOption": "Attach",
            "caching": "None",
            "managedDisk": {"id": DISK + "2"},
            "deleteOption": "Detach",
        },
    ]


def test_without_ephemeral_disk_there_are_no_data_disks():
    assert build_vm_params(spec(ephemeral_disk=None)).as_dict()["properties"]["storageProfile"]["dataDisks"] == []


def test_the_first_nic_is_primary_and_every_nic_is_deleted_with_the_vm():
    nics = build_vm_params(spec(nic_ids=(NIC0, NIC1))).as_dict()["properties"]["networkProfile"]["networkInterfaces"]
    assert nics == [
        {"id": NIC0, "properties": {"primary": True, "deleteOption": "Delete"}},
        {"id": NIC1, "properties": {"primary": False, "deleteOption": "Delete"}},
    ]


def test_ephemeral_disk_encryption_set():
    vm = spec(ephemeral_disk=dataclasses.replace(SPEC.ephemeral_disk, disk_encryption_set_id=DES))
    disks = build_vm_params(vm).as_dict()["properties"]["storageProfile"]["dataDisks"]
    assert disks[0]["managedDisk"] == {"storageAccountType": "Premium_LRS", "diskEncryptionSet": {"id": DES}}


@pytest.mark.parametrize(
    ("set_spec", "counts"),
    [
        (AvailabilitySetSpec(name="fake-set"), {"platformUpdateDomainCount": 5, "platformFaultDomainCount": 2}),
        (
            AvailabilitySetSpec(name="fake-set", update_domains=1, fault_domains=3),
            {"platformUpdateDomainCount": 1, "platformFaultDomainCount": 3},
        ),
    ],
)
def test_availability_sets_are_managed_and_tagged(set_spec, counts):
    assert build_availability_set_params(set_spec, "westeurope").as_dict() == {
        "location": "westeurope",
        "tags": {"user-agent": "bosh"},
        "sku": {"name": "Aligned"},
        "properties": counts,
    }


def test_attaching_a_disk_detaches_it_on_vm_deletion():
    assert data_disk_attachment(DISK, 3, "ReadWrite").as_dict() == {
        "lun": 3,
        "createOption": "Attach",
        "caching": "ReadWrite",
        "managedDisk": {"id": DISK},
        "deleteOption": "Detach",
    }
