"""Virtual machines: operation shapes, disks and NICs a VM creates or attaches, power actions, instance view,
deletion with deleteOptions, data disks by PATCH and PUT, ETags, injected failures."""

from __future__ import annotations

from typing import Any

import pytest
from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceModifiedError, ResourceNotFoundError
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.network import NetworkManagementClient

from arm_emulator import ArmEmulator, FailOperation, FaultRule, Respond, capacity
from arm_emulator.faults import action_from_json
from tests.emulator.compute_support import (
    COMPUTE_API,
    DISK_API,
    create_vm,
    disk_id,
    fresh,
    gallery_version,
    make_nic,
    network,
    vm_body,
    vm_id,
)
from tests.emulator.conftest import Raw
from tests.peers import LOCATION, RESOURCE_GROUP, SUBSCRIPTION_ID

__all__ = ["gallery_version", "network"]


def _empty_disk(compute: ComputeManagementClient, size: int = 10, **extra: Any) -> Any:
    """A fresh unattached disk; ``extra`` adds top-level fields (``sku``, ``zones``)."""
    body = {
        "location": LOCATION,
        "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": size},
        **extra,
    }
    return compute.disks.begin_create_or_update(RESOURCE_GROUP, fresh("data"), body).result()


def _statuses(vm: Any) -> list[str]:
    """Status codes of a VM fetched with ``$expand=instanceView`` or of an instance view."""
    view = getattr(vm, "instance_view", None) or vm
    return [s.code for s in view.statuses]


def test_vm_put_and_delete_shapes(raw: Raw, arm: ArmEmulator, network: NetworkManagementClient) -> None:
    name = fresh("vm")
    response = raw("PUT", vm_id(name), api_version=COMPUTE_API, json=vm_body([make_nic(network)]))
    assert response.status_code == 201
    body = response.json()
    assert body["properties"]["provisioningState"] == "Creating"
    assert response.headers["ETag"] == body["etag"] == '"1"'
    operation = response.headers["Azure-AsyncOperation"]
    assert f"/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.Compute/locations/eastus/operations/" in operation
    assert "Location" not in response.headers
    assert "customData" not in body["properties"]["osProfile"]
    assert raw("GET", operation, api_version=None).json()["status"] == "InProgress"
    assert raw("GET", operation, api_version=None).json()["status"] == "Succeeded"
    deleting = raw("DELETE", vm_id(name), api_version=COMPUTE_API)
    assert (deleting.status_code, deleting.content) == (202, b"")
    assert "monitor=true" in deleting.headers["Location"]
    arm.complete_operations()
    assert raw("GET", vm_id(name), api_version=COMPUTE_API).status_code == 404
    assert raw("DELETE", vm_id(name), api_version=COMPUTE_API).status_code == 204


def test_vm_from_gallery_version_creates_its_disks_and_links(
    compute: ComputeManagementClient, network: NetworkManagementClient, gallery_version: str
) -> None:
    data = _empty_disk(compute)
    nic = make_nic(network)
    storage = {
        "osDisk": {
            "createOption": "FromImage",
            "name": fresh("os"),
            "diskSizeGB": 30,
            "managedDisk": {"storageAccountType": "Premium_LRS"},
        },
        "dataDisks": [
            {"lun": 0, "createOption": "Empty", "name": fresh("eph"), "diskSizeGB": 64, "caching": "ReadWrite"},
            {"lun": 1, "createOption": "Attach", "managedDisk": {"id": data.id}},
        ],
    }
    _, vm = create_vm(
        compute, network, nics=[nic], image={"id": gallery_version}, storage=storage, tags={"user-agent": "bosh"}
    )
    assert (vm.provisioning_state, vm.tags, vm.hardware_profile.vm_size) == (
        "Succeeded",
        {"user-agent": "bosh"},
        "Standard_D2s_v5",
    )
    os_disk = vm.storage_profile.os_disk
    assert (
        f"/resourceGroups/{RESOURCE_GROUP.upper()}/providers/Microsoft.Compute/disks/{os_disk.name}"
        in os_disk.managed_disk.id
    )
    disk = compute.disks.get(RESOURCE_GROUP, os_disk.name)
    assert (disk.managed_by, disk.disk_state, disk.disk_size_gb, disk.sku.name) == (
        vm.id,
        "Attached",
        30,
        "Premium_LRS",
    )
    assert disk.creation_data.gallery_image_reference.id == gallery_version
    empty = compute.disks.get(RESOURCE_GROUP, vm.storage_profile.data_disks[0].name)
    assert (empty.disk_size_gb, empty.managed_by, empty.creation_data.create_option) == (64, vm.id, "Empty")
    assert compute.disks.get(RESOURCE_GROUP, data.name).disk_state == "Attached"
    attached_nic = network.network_interfaces.get(RESOURCE_GROUP, nic.rsplit("/", 1)[-1])
    assert (attached_nic.virtual_machine.id, attached_nic.primary) == (vm.id, True)
    assert [d.lun for d in vm.storage_profile.data_disks] == [0, 1]


def test_instance_view_and_power_actions(compute: ComputeManagementClient, network: NetworkManagementClient) -> None:
    name, _ = create_vm(compute, network)
    vm = compute.virtual_machines.get(RESOURCE_GROUP, name, expand="instanceView")
    assert _statuses(vm) == ["ProvisioningState/succeeded", "PowerState/running"]
    assert vm.instance_view.computer_name == "bosh-vm"
    compute.virtual_machines.begin_restart(RESOURCE_GROUP, name).result()
    assert _statuses(compute.virtual_machines.instance_view(RESOURCE_GROUP, name))[1] == "PowerState/running"
    compute.virtual_machines.begin_power_off(RESOURCE_GROUP, name).result()
    assert _statuses(compute.virtual_machines.instance_view(RESOURCE_GROUP, name))[1] == "PowerState/stopped"
    compute.virtual_machines.begin_deallocate(RESOURCE_GROUP, name).result()
    view = compute.virtual_machines.instance_view(RESOURCE_GROUP, name)
    assert _statuses(view)[1] == "PowerState/deallocated"
    os_disk = compute.virtual_machines.get(RESOURCE_GROUP, name).storage_profile.os_disk.name
    assert compute.disks.get(RESOURCE_GROUP, os_disk).disk_state == "Reserved"
    with pytest.raises(HttpResponseError) as caught:
        compute.virtual_machines.begin_restart(RESOURCE_GROUP, name)
    assert (caught.value.status_code, caught.value.error.code) == (409, "OperationNotAllowed")  # type: ignore[union-attr]
    compute.virtual_machines.begin_start(RESOURCE_GROUP, name).result()
    assert _statuses(compute.virtual_machines.instance_view(RESOURCE_GROUP, name))[1] == "PowerState/running"
    assert compute.disks.get(RESOURCE_GROUP, os_disk).disk_state == "Attached"


def test_power_action_shape_and_transitional_state(
    raw: Raw, arm: ArmEmulator, network: NetworkManagementClient, compute: ComputeManagementClient
) -> None:
    name, _ = create_vm(compute, network)
    response = raw("POST", f"{vm_id(name)}/powerOff", api_version=COMPUTE_API)
    assert (response.status_code, response.content) == (202, b"")
    assert "Azure-AsyncOperation" in response.headers and "monitor=true" in response.headers["Location"]
    view = raw("GET", f"{vm_id(name)}/instanceView", api_version=COMPUTE_API).json()
    assert view["statuses"][1]["code"] == "PowerState/stopping"
    busy = raw("POST", f"{vm_id(name)}/start", api_version=COMPUTE_API)
    assert (busy.status_code, busy.json()["error"]["code"]) == (409, "OperationNotAllowed")
    arm.complete_operations()
    assert raw("GET", response.headers["Location"], api_version=None).status_code == 200


def test_delete_honours_delete_options(compute: ComputeManagementClient, network: NetworkManagementClient) -> None:
    keep_nic, drop_nic = make_nic(network), make_nic(network)
    data = _empty_disk(compute)
    storage = {
        "osDisk": {"createOption": "FromImage", "deleteOption": "Delete"},
        "dataDisks": [
            {"lun": 0, "createOption": "Attach", "managedDisk": {"id": data.id}, "deleteOption": "Detach"},
            {"lun": 1, "createOption": "Empty", "diskSizeGB": 5, "name": fresh("gone"), "deleteOption": "Delete"},
        ],
    }
    body = vm_body([keep_nic, drop_nic], storage=storage)
    body["properties"]["networkProfile"]["networkInterfaces"][1]["properties"]["deleteOption"] = "Delete"
    name = fresh("vm")
    vm = compute.virtual_machines.begin_create_or_update(RESOURCE_GROUP, name, body).result()
    os_name, gone = vm.storage_profile.os_disk.name, vm.storage_profile.data_disks[1].name
    compute.virtual_machines.begin_delete(RESOURCE_GROUP, name).result()
    for missing in (os_name, gone):
        with pytest.raises(ResourceNotFoundError):
            compute.disks.get(RESOURCE_GROUP, missing)
    kept = compute.disks.get(RESOURCE_GROUP, data.name)
    assert (kept.disk_state, kept.managed_by) == ("Unattached", None)
    nic = network.network_interfaces.get(RESOURCE_GROUP, keep_nic.rsplit("/", 1)[-1])
    assert nic.virtual_machine is None
    with pytest.raises(ResourceNotFoundError):
        network.network_interfaces.get(RESOURCE_GROUP, drop_nic.rsplit("/", 1)[-1])
    network.network_interfaces.begin_delete(RESOURCE_GROUP, nic.name).result()


def test_data_disks_attach_and_detach_by_patch_and_put(
    compute: ComputeManagementClient, network: NetworkManagementClient
) -> None:
    name, vm = create_vm(compute, network)
    first, second = _empty_disk(compute), _empty_disk(compute, 20)
    attach = {"lun": 0, "createOption": "Attach", "managedDisk": {"id": first.id}, "caching": "ReadOnly"}
    patch = {"properties": {"storageProfile": {"dataDisks": [attach]}}}
    patched = compute.virtual_machines.begin_update(RESOURCE_GROUP, name, patch).result()
    assert [(d.lun, d.caching, d.create_option) for d in patched.storage_profile.data_disks] == [
        (0, "ReadOnly", "Attach")
    ]
    assert compute.disks.get(RESOURCE_GROUP, first.name).managed_by == vm.id
    current = compute.virtual_machines.get(RESOURCE_GROUP, name)
    current.storage_profile.data_disks.append({"lun": 1, "createOption": "Attach", "managedDisk": {"id": second.id}})
    put = compute.virtual_machines.begin_create_or_update(RESOURCE_GROUP, name, current).result()
    assert [d.name for d in put.storage_profile.data_disks] == [first.name, second.name]
    assert put.storage_profile.data_disks[1].disk_size_gb == 20
    put.storage_profile.data_disks[0].to_be_detached = True
    detached = compute.virtual_machines.begin_create_or_update(RESOURCE_GROUP, name, put).result()
    assert [d.name for d in detached.storage_profile.data_disks] == [second.name]
    assert compute.disks.get(RESOURCE_GROUP, first.name).disk_state == "Unattached"
    emptied = compute.virtual_machines.begin_update(
        RESOURCE_GROUP, name, {"properties": {"storageProfile": {"dataDisks": []}}}
    ).result()
    assert emptied.storage_profile.data_disks == []
    assert compute.disks.get(RESOURCE_GROUP, second.name).managed_by is None
    tagged = compute.virtual_machines.begin_update(RESOURCE_GROUP, name, {"tags": {"disk-id-x": "y"}}).result()
    assert tagged.tags == {"disk-id-x": "y"}


def test_if_match_on_vms(compute: ComputeManagementClient, network: NetworkManagementClient) -> None:
    name, vm = create_vm(compute, network)
    assert vm.etag == '"1"'
    updated = compute.virtual_machines.begin_update(
        RESOURCE_GROUP, name, {"tags": {"a": "1"}}, etag=vm.etag, match_condition=MatchConditions.IfNotModified
    ).result()
    assert updated.etag == '"2"'
    with pytest.raises(ResourceModifiedError) as caught:
        compute.virtual_machines.begin_update(
            RESOURCE_GROUP, name, {"tags": {"a": "2"}}, etag=vm.etag, match_condition=MatchConditions.IfNotModified
        )
    assert (caught.value.status_code, caught.value.error.code) == (412, "PreconditionFailed")  # type: ignore[union-attr]
    with pytest.raises(HttpResponseError) as caught_new:
        compute.virtual_machines.begin_create_or_update(
            RESOURCE_GROUP, name, vm_body([make_nic(network)]), match_condition=MatchConditions.IfMissing
        )
    assert caught_new.value.status_code == 412


def test_failed_create_leaves_a_failed_vm_with_its_disk(
    compute: ComputeManagementClient, network: NetworkManagementClient, arm: ArmEmulator
) -> None:
    name = fresh("vm")
    arm.faults.add(FaultRule(capacity("ZonalAllocationFailed"), method="PUT", path=f"/virtualMachines/{name}$"))
    poller = compute.virtual_machines.begin_create_or_update(
        RESOURCE_GROUP, name, {**vm_body([make_nic(network)]), "zones": ["1"]}
    )
    with pytest.raises(HttpResponseError) as caught:
        poller.result()
    assert "ZonalAllocationFailed" in str(caught.value)
    vm = compute.virtual_machines.get(RESOURCE_GROUP, name, expand="instanceView")
    assert vm.provisioning_state == "Failed"
    assert vm.instance_view.statuses[0].code == "ProvisioningState/failed/ZonalAllocationFailed"
    assert compute.disks.get(RESOURCE_GROUP, vm.storage_profile.os_disk.name).managed_by == vm.id
    compute.virtual_machines.begin_delete(RESOURCE_GROUP, name).result()


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [("QuotaExceeded", 409, "OperationNotAllowed"), ("SkuNotAvailable", 409, "SkuNotAvailable")],
)
def test_capacity_answers_to_the_put(
    compute: ComputeManagementClient,
    network: NetworkManagementClient,
    arm: ArmEmulator,
    kind: str,
    status: int,
    code: str,
) -> None:
    name = fresh("vm")
    arm.faults.add(FaultRule(capacity(kind), method="PUT", path=f"/virtualMachines/{name}$"))
    with pytest.raises(HttpResponseError) as caught:
        compute.virtual_machines.begin_create_or_update(RESOURCE_GROUP, name, vm_body([make_nic(network)]))
    assert (caught.value.status_code, caught.value.error.code) == (status, code)  # type: ignore[union-attr]
    with pytest.raises(ResourceNotFoundError):
        compute.virtual_machines.get(RESOURCE_GROUP, name)


def test_failed_restart_keeps_the_power_state(
    compute: ComputeManagementClient, network: NetworkManagementClient, arm: ArmEmulator
) -> None:
    name, _ = create_vm(compute, network)
    arm.faults.add(FaultRule(FailOperation("InternalExecutionError"), method="POST", path=f"/{name}/restart$"))
    with pytest.raises(HttpResponseError):
        compute.virtual_machines.begin_restart(RESOURCE_GROUP, name).result()
    assert _statuses(compute.virtual_machines.instance_view(RESOURCE_GROUP, name))[1] == "PowerState/running"


def test_vm_listings(compute: ComputeManagementClient, network: NetworkManagementClient, raw: Raw) -> None:
    name, vm = create_vm(compute, network)
    assert vm.id in [v.id for v in compute.virtual_machines.list(RESOURCE_GROUP)]
    assert vm.id in [v.id for v in compute.virtual_machines.list_all()]
    sizes = {s.name for s in compute.virtual_machines.list_available_sizes(RESOURCE_GROUP, name)}
    assert "Standard_D4s_v5" in sizes
    disk = raw("GET", disk_id(vm.storage_profile.os_disk.name), api_version=DISK_API).json()
    assert disk["managedBy"] == vm.id


def test_attached_disk_changes_follow_the_deallocation_rule(
    compute: ComputeManagementClient, network: NetworkManagementClient
) -> None:
    data = _empty_disk(compute, 10, sku={"name": "PremiumV2_LRS"}, zones=["1"])
    attach = [{"lun": 0, "createOption": "Attach", "managedDisk": {"id": data.id}}]
    name, _ = create_vm(compute, network, zones=["1"], storage={"dataDisks": attach})
    disks = compute.disks
    for patch, expected in (
        ({"properties": {"diskSizeGB": 20}}, (409, "Conflict")),
        ({"sku": {"name": "Premium_LRS"}}, (409, "OperationNotAllowed")),
    ):
        with pytest.raises(HttpResponseError) as caught:
            disks.begin_update(RESOURCE_GROUP, data.name, patch)
        assert (caught.value.status_code, caught.value.error.code) == expected  # type: ignore[union-attr]
    faster = disks.begin_update(RESOURCE_GROUP, data.name, {"properties": {"diskIOPSReadWrite": 4000}}).result()
    assert faster.disk_iops_read_write == 4000
    snapshot = {
        "location": LOCATION,
        "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": data.id}, "incremental": True},
    }
    assert compute.snapshots.begin_create_or_update(RESOURCE_GROUP, fresh("snap"), snapshot).result().incremental
    compute.virtual_machines.begin_deallocate(RESOURCE_GROUP, name).result()
    assert disks.get(RESOURCE_GROUP, data.name).disk_state == "Reserved"
    grown = disks.begin_update(RESOURCE_GROUP, data.name, {"properties": {"diskSizeGB": 20}}).result()
    assert grown.disk_size_gb == 20
    vm = compute.virtual_machines.get(RESOURCE_GROUP, name)
    assert vm.storage_profile.data_disks[0].disk_size_gb == 20


def test_identity_and_pass_through_profiles(compute: ComputeManagementClient, network: NetworkManagementClient) -> None:
    user_identity = f"{RESOURCE_GROUP}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/bosh-id"
    user_identity = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{user_identity}"
    group = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{RESOURCE_GROUP}/providers/Microsoft.Compute"
    _, vm = create_vm(
        compute,
        network,
        identity={"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {user_identity: {}}},
        securityProfile={
            "securityType": "TrustedLaunch",
            "uefiSettings": {"secureBootEnabled": True, "vTpmEnabled": True},
        },
        diagnosticsProfile={"bootDiagnostics": {"enabled": True}},
        capacityReservation={"capacityReservationGroup": {"id": f"{group}/capacityReservationGroups/crg"}},
    )
    assert vm.identity.type == "SystemAssigned, UserAssigned"
    assert vm.identity.principal_id and vm.identity.tenant_id
    assert vm.identity.user_assigned_identities[user_identity].client_id
    assert vm.security_profile.security_type == "TrustedLaunch"
    assert vm.diagnostics_profile.boot_diagnostics.enabled is True
    assert vm.capacity_reservation.capacity_reservation_group.id.endswith("/crg")


@pytest.mark.parametrize("kind", ["AllocationFailed", "OverconstrainedAllocationRequest"])
def test_allocation_failures_end_the_operation(
    compute: ComputeManagementClient, network: NetworkManagementClient, arm: ArmEmulator, kind: str
) -> None:
    name = fresh("vm")
    arm.faults.add(FaultRule(capacity(kind), method="PUT", path=f"/virtualMachines/{name}$"))
    with pytest.raises(HttpResponseError) as caught:
        compute.virtual_machines.begin_create_or_update(RESOURCE_GROUP, name, vm_body([make_nic(network)])).result()
    assert kind in str(caught.value)
    assert compute.virtual_machines.get(RESOURCE_GROUP, name).provisioning_state == "Failed"


def test_capacity_faults_from_the_control_api_json() -> None:
    zonal = action_from_json({"kind": "capacity", "code": "ZonalAllocationFailed"})
    assert isinstance(zonal, FailOperation)
    assert zonal.message.startswith(
        "Allocation failed. We do not have sufficient capacity for the requested VM size in this zone."
    )
    quota = action_from_json({"kind": "capacity", "code": "QuotaExceeded", "location": "westus2"})
    assert isinstance(quota, Respond)
    assert (quota.status, quota.code) == (409, "OperationNotAllowed")
    assert "Location: westus2" in quota.message
    with pytest.raises(ValueError, match="unknown capacity error"):
        action_from_json({"kind": "capacity", "code": "Nope"})
