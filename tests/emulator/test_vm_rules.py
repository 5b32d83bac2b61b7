"""VM validation: every rule that refuses a VM write, with the status and code Azure answers."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.network import NetworkManagementClient

from tests.emulator.compute_support import (
    UBUNTU_GEN1,
    WEST_LOCATION,
    WEST_SUBNET_ID,
    create_vm,
    fresh,
    gallery_version,
    make_nic,
    network,
    vm_body,
)
from tests.peers import LOCATION, RESOURCE_GROUP

__all__ = ["gallery_version", "network"]


def _refused(compute: ComputeManagementClient, body: dict[str, Any], name: str | None = None) -> tuple[int, str, str]:
    with pytest.raises(HttpResponseError) as caught:
        compute.virtual_machines.begin_create_or_update(RESOURCE_GROUP, name or fresh("vm"), body).result()
    error = caught.value.error
    assert error is not None
    return caught.value.status_code or 0, str(error.code), str(error.message)


def _disk(compute: ComputeManagementClient, **extra: Any) -> Any:
    body = {"location": LOCATION, "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 4}, **extra}
    return compute.disks.begin_create_or_update(RESOURCE_GROUP, fresh("d"), body).result()


def test_size_rules(compute: ComputeManagementClient, network: NetworkManagementClient) -> None:
    nic = make_nic(network)
    status, code, message = _refused(compute, vm_body([nic], size="Standard_Bogus_v9"))
    assert (status, code) == (400, "InvalidParameter")
    assert message.startswith("The requested VM size Standard_Bogus_v9 is not available in the current region.")
    status, code, message = _refused(compute, vm_body([nic], size="Standard_L8s_v3"))
    assert (status, code) == (409, "SkuNotAvailable")
    assert "is currently not available in location 'eastus' zones ''" in message
    status, code, _ = _refused(compute, {**vm_body([nic], size="Standard_E4s_v5"), "zones": ["3"]})
    assert (status, code) == (409, "SkuNotAvailable")
    _, vm = create_vm(compute, network, size="Standard_E4s_v5", zones=["1"])
    assert vm.zones == ["1"]


def test_generation_architecture_and_nvme(compute: ComputeManagementClient, network: NetworkManagementClient) -> None:
    nic = make_nic(network)
    status, code, message = _refused(compute, vm_body([nic], image=UBUNTU_GEN1, size="Standard_D2s_v6"))
    assert (status, code) == (400, "BadRequest")
    assert message.startswith("The selected VM size 'Standard_D2s_v6' cannot boot Hypervisor Generation '1'.")
    status, code, _ = _refused(compute, vm_body([nic], size="Standard_A2_v2"))
    assert (status, code) == (400, "BadRequest")
    status, code, _ = _refused(compute, vm_body([nic], size="Standard_D2ps_v5"))
    assert (status, code) == (400, "BadRequest")
    bosh = {"publisher": "pivotal", "offer": "bosh-ubuntu-jammy", "sku": "jammy", "version": "1.200.0"}
    _, vm = create_vm(compute, network, image=bosh, size="Standard_A2_v2")
    assert vm.storage_profile.image_reference.exact_version == "1.200.0"
    _, v6 = create_vm(compute, network, size="Standard_D2s_v6")
    assert v6.storage_profile.disk_controller_type == "NVMe"


def test_image_rules(compute: ComputeManagementClient, network: NetworkManagementClient, gallery_version: str) -> None:
    nic = make_nic(network)
    missing = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "1.2.3"}
    status, code, _ = _refused(compute, vm_body([nic], image=missing))
    assert (status, code) == (404, "PlatformImageNotFound")
    west_nic = make_nic(network, WEST_SUBNET_ID, WEST_LOCATION)
    status, code, message = _refused(
        compute, vm_body([west_nic], image={"id": gallery_version}, location=WEST_LOCATION)
    )
    assert (status, code) == (404, "GalleryImageNotFound")
    assert message == (
        f"The gallery image {gallery_version} is not available in westus2 region. Please contact image owner to "
        "replicate to this region, or change your requested region."
    )
    definition = gallery_version.rsplit("/versions/", 1)[0]
    _, vm = create_vm(compute, network, image={"id": definition})
    assert vm.storage_profile.image_reference.id == definition
    plan_image = {"publisher": "bitnami", "offer": "nginxstack", "sku": "1-9", "version": "latest"}
    status, code, message = _refused(compute, vm_body([nic], image=plan_image))
    assert (status, code) == (400, "VMMarketplaceInvalidInput")
    assert "requires Plan information" in message
    plan = {"name": "1-9", "publisher": "bitnami", "product": "nginxstack"}
    _, with_plan = create_vm(compute, network, image=plan_image, plan=plan)
    assert with_plan.plan.product == "nginxstack"
    status, code, _ = _refused(compute, vm_body([nic], plan=plan))
    assert (status, code) == (400, "VMMarketplaceInvalidInput")


def test_os_disk_rules(compute: ComputeManagementClient, network: NetworkManagementClient) -> None:
    nic = make_nic(network)

    def with_os(size: str = "Standard_D2s_v5", **os_disk: Any) -> dict[str, Any]:
        return vm_body([nic], size=size, storage={"osDisk": {"createOption": "FromImage", **os_disk}})

    status, code, message = _refused(compute, with_os(diskSizeGB=16))
    assert (status, code) == (409, "OperationNotAllowed")
    assert "smaller than the size of the corresponding disk in the VM image: 30 GB" in message
    status, code, _ = _refused(
        compute, with_os(size="Standard_D2_v5", managedDisk={"storageAccountType": "Premium_LRS"})
    )
    assert (status, code) == (400, "BadRequest")
    ephemeral = {"diffDiskSettings": {"option": "Local"}, "caching": "ReadOnly"}
    status, code, message = _refused(compute, with_os(**ephemeral))
    assert (status, code, message) == (
        400,
        "InvalidParameter",
        "The Virtual Machine size Standard_D2s_v5 does not support Ephemeral OS disk.",
    )
    status, code, message = _refused(compute, with_os(size="Standard_D2ds_v5", **ephemeral))
    assert "when the DiffDiskPlacement is CacheDisk" in message
    resource = {"diffDiskSettings": {"option": "Local", "placement": "ResourceDisk"}, "caching": "ReadOnly"}
    name, vm = create_vm(
        compute, network, size="Standard_D2ds_v5", storage={"osDisk": {"createOption": "FromImage", **resource}}
    )
    assert vm.storage_profile.os_disk.managed_disk.id is None
    with pytest.raises(HttpResponseError) as caught:
        compute.virtual_machines.begin_deallocate(RESOURCE_GROUP, name)
    assert caught.value.status_code == 409
    taken = _disk(compute)
    status, code, _ = _refused(compute, with_os(name=taken.name))
    assert (status, code) == (409, "ConflictingUserInput")


def test_data_disk_rules(compute: ComputeManagementClient, network: NetworkManagementClient) -> None:
    nic = make_nic(network)

    def with_data(
        *disks: dict[str, Any], size: str = "Standard_D2s_v5", zones: list[str] | None = None
    ) -> dict[str, Any]:
        body = vm_body([nic], size=size, storage={"dataDisks": list(disks)})
        return {**body, "zones": zones} if zones else body

    empty = {"createOption": "Empty", "diskSizeGB": 1}
    status, code, message = _refused(compute, with_data({"lun": 0, **empty}, {"lun": 0, **empty}))
    assert (status, code, message) == (400, "InvalidParameter", "A disk at LUN 0 already exists.")
    status, code, _ = _refused(compute, with_data({"lun": 64, **empty}))
    assert (status, code) == (400, "InvalidParameter")
    five = [{"lun": n, **empty} for n in range(5)]
    status, code, message = _refused(compute, with_data(*five))
    assert (status, code) == (409, "OperationNotAllowed")
    assert message == "The maximum number of data disks allowed to be attached to a VM of this size is 4."
    zonal = _disk(compute, zones=["2"])
    attach = {"lun": 0, "createOption": "Attach", "managedDisk": {"id": zonal.id}}
    status, code, message = _refused(compute, with_data(attach, zones=["1"]))
    assert (status, code) == (400, "BadRequest")
    assert message.endswith("VM zone: '1'. Disk zone: '2'.")
    status, code, _ = _refused(compute, with_data({**attach, "managedDisk": {"id": zonal.id + "x"}}))
    assert (status, code) == (404, "NotFound")
    owned = _disk(compute)
    create_vm(
        compute, network, storage={"dataDisks": [{"lun": 0, "createOption": "Attach", "managedDisk": {"id": owned.id}}]}
    )
    status, code, message = _refused(compute, with_data({**attach, "managedDisk": {"id": owned.id}}))
    assert (status, code) == (409, "ConflictingUserInput")
    assert "is already owned by VM" in message
    ultra = {"lun": 0, "createOption": "Empty", "diskSizeGB": 8, "managedDisk": {"storageAccountType": "UltraSSD_LRS"}}
    status, code, _ = _refused(compute, with_data(ultra, zones=["1"]))
    assert (status, code) == (400, "InvalidParameter")
    with pytest.raises(HttpResponseError) as caught:
        compute.disks.begin_delete(RESOURCE_GROUP, owned.name)
    assert (caught.value.status_code, caught.value.error.code) == (409, "OperationNotAllowed")  # type: ignore[union-attr]


def test_os_profile_rules(compute: ComputeManagementClient, network: NetworkManagementClient) -> None:
    nic = make_nic(network)
    body = vm_body([nic])
    body["properties"]["osProfile"]["customData"] = base64.b64encode(b"x" * 65536).decode()
    status, code, message = _refused(compute, body)
    assert (status, code) == (400, "InvalidParameter")
    assert (
        message == "Custom data in OSProfile must be in Base64 encoding and with a maximum length of 87380 characters."
    )
    body["properties"]["osProfile"]["customData"] = "not base64!"
    assert _refused(compute, body)[1] == "InvalidParameter"
    body = vm_body([nic])
    body["properties"]["osProfile"]["adminUsername"] = "root"
    assert _refused(compute, body)[2] == "The Admin Username specified is not allowed."
    body = vm_body([nic])
    body["properties"]["osProfile"]["linuxConfiguration"]["ssh"]["publicKeys"][0]["path"] = "/root/.ssh/authorized_keys"
    assert "Destination path for Ssh public keys" in _refused(compute, body)[2]
    limit = vm_body([nic])
    limit["properties"]["osProfile"]["customData"] = base64.b64encode(b"y" * 65535).decode()
    name = fresh("vm")
    vm = compute.virtual_machines.begin_create_or_update(RESOURCE_GROUP, name, limit).result()
    assert vm.os_profile.custom_data is None
    same = compute.virtual_machines.begin_create_or_update(RESOURCE_GROUP, name, limit).result()
    assert same.provisioning_state == "Succeeded"
    limit["properties"]["osProfile"]["customData"] = base64.b64encode(b"other").decode()
    status, code, message = _refused(compute, limit, name)
    assert (status, code, message) == (
        409,
        "PropertyChangeNotAllowed",
        "Changing property 'customData' is not allowed.",
    )


def test_network_rules(compute: ComputeManagementClient, network: NetworkManagementClient) -> None:
    status, code, _ = _refused(compute, vm_body([make_nic(network, WEST_SUBNET_ID, WEST_LOCATION)]))
    assert (status, code) == (400, "InvalidResourceReference")
    two = vm_body([make_nic(network), make_nic(network)])
    for ref in two["properties"]["networkProfile"]["networkInterfaces"]:
        ref["properties"]["primary"] = True
    assert _refused(compute, two)[1] == "InvalidParameter"
    fast = make_nic(network, enableAcceleratedNetworking=True)
    status, code, _ = _refused(compute, vm_body([fast], size="Standard_A2_v2", image=UBUNTU_GEN1))
    assert (status, code) == (400, "VMSizeIsNotPermittedToEnableAcceleratedNetworking")
    _, owner = create_vm(compute, network, nics=[fast])
    status, code, message = _refused(compute, vm_body([fast]))
    assert (status, code) == (400, "NicInUse")
    assert owner.id in message


def test_updates_that_are_not_allowed(compute: ComputeManagementClient, network: NetworkManagementClient) -> None:
    name, _ = create_vm(compute, network, zones=["2"])
    resize = compute.virtual_machines.begin_update(
        RESOURCE_GROUP, name, {"properties": {"hardwareProfile": {"vmSize": "Standard_D4s_v5"}}}
    )
    assert resize.result().hardware_profile.vm_size == "Standard_D4s_v5"
    for patch, code in (
        ({"zones": ["3"]}, "PropertyChangeNotAllowed"),
        ({"properties": {"osProfile": {"computerName": "other"}}}, "PropertyChangeNotAllowed"),
        ({"properties": {"storageProfile": {"imageReference": UBUNTU_GEN1}}}, "PropertyChangeNotAllowed"),
        ({"properties": {"hardwareProfile": {"vmSize": "Standard_A2_v2"}}}, "BadRequest"),
    ):
        with pytest.raises(HttpResponseError) as caught:
            compute.virtual_machines.begin_update(RESOURCE_GROUP, name, patch)
        assert caught.value.error.code == code  # type: ignore[union-attr]
    poller = compute.virtual_machines.begin_delete(RESOURCE_GROUP, name)
    with pytest.raises(HttpResponseError) as caught:
        compute.virtual_machines.begin_update(RESOURCE_GROUP, name, {"tags": {"a": "b"}})
    assert (caught.value.status_code, caught.value.error.code) == (409, "OperationNotAllowed")  # type: ignore[union-attr]
    poller.result()


def test_resize_keeps_the_data_disks_within_the_new_size(
    compute: ComputeManagementClient, network: NetworkManagementClient
) -> None:
    disks = [{"lun": n, "createOption": "Empty", "diskSizeGB": 1, "deleteOption": "Delete"} for n in range(5)]
    name, _ = create_vm(compute, network, size="Standard_D4s_v5", storage={"dataDisks": disks})
    smaller = {"properties": {"hardwareProfile": {"vmSize": "Standard_D2s_v5"}}}
    with pytest.raises(HttpResponseError) as caught:
        compute.virtual_machines.begin_update(RESOURCE_GROUP, name, smaller)
    assert (caught.value.status_code, caught.value.error.code) == (409, "OperationNotAllowed")  # type: ignore[union-attr]
    bigger = {"properties": {"hardwareProfile": {"vmSize": "Standard_D8s_v5"}}}
    assert compute.virtual_machines.begin_update(RESOURCE_GROUP, name, bigger).result().hardware_profile.vm_size == (
        "Standard_D8s_v5"
    )
