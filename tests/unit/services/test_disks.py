"""Disks (persistent disk methods) over the real DiskService and VmService with autospec'd SDK operations: the exact
requests for create, resize, update, snapshots and tags, the NotSupported fallbacks, and LUN choice on attach."""

from __future__ import annotations

import re
from typing import Any
from unittest.mock import create_autospec, patch

import pytest
from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.mgmt.compute import models as m
from azure.mgmt.compute.operations import SnapshotsOperations

from bosh_azure_cpi.errors import (
    AzureError,
    DiskNotAttached,
    DiskNotFound,
    InvalidArgument,
    NotSupported,
    VMNotFound,
)
from bosh_azure_cpi.models.cids import DiskCid, VmCid
from bosh_azure_cpi.models.deadline import Deadline
from bosh_azure_cpi.models.disk_props import DiskProps
from bosh_azure_cpi.services.disk import DiskService
from bosh_azure_cpi.services.disks import MAX_LUN, Disks, _free_lun
from bosh_azure_cpi.services.vm import VmService
from tests.fakes.config import RESOURCE_GROUP, SUBSCRIPTION, fake_azure_config
from tests.fakes.fake_vm_sdk import FakeComputeClient, calls, http_error
from tests.fakes.pollers import FakePoller

RG = RESOURCE_GROUP
VM_RG = "fake-vm-rg"
AGENT = "5f0a2a4e-8f6c-4a43-9b0e-3f9d2c8e1a11"
VM_CID = VmCid(agent_id=AGENT, resource_group_name=VM_RG)
NAME = "bosh-disk-data-0b9a1f3e-5c1d-4d8e-a2b7-6f0e8d9c1b22"
CID = DiskCid(disk_name=NAME, caching="None", resource_group_name=RG)
DISKS = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RG}/providers/Microsoft.Compute/disks"
DISK_ID = f"{DISKS}/{NAME}"
DES = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RG}/providers/Microsoft.Compute/diskEncryptionSets/fake-des"
NEW_NAME = re.compile(r"^bosh-disk-data-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$")
RESIZE_IN_USE = "Disk resizing is allowed only when creating a VM or when the VM is deallocated."
SKU_IN_USE = (f"Disk {NAME} is attached to VM fake-vm. Disks can be resized or account type changed only when they "
              "are unattached or the owner VM is deallocated.")  # fmt: skip
ULTRA_CONVERSION = "Changing a disk's account type from 'UltraSSD_LRS' to 'Premium_LRS' is not supported."


class Client(FakeComputeClient):
    def __init__(self) -> None:
        super().__init__()
        self.snapshots = create_autospec(SnapshotsOperations, instance=True)


def harness(**azure: Any) -> tuple[Disks, Client]:
    client = Client()
    config = fake_azure_config(**azure)
    deadline = Deadline(600)
    disks = Disks(DiskService(client, config, deadline), VmService(client, config, deadline), config)  # type: ignore[arg-type]
    client.disks.begin_create_or_update.return_value = FakePoller(m.Disk(location="eastus"))
    client.disks.begin_update.return_value = FakePoller(m.Disk(location="eastus"))
    client.snapshots.begin_create_or_update.return_value = FakePoller()
    client.virtual_machines.begin_update.side_effect = lambda *args, **kwargs: FakePoller(sdk_vm('"2"'))
    return disks, client


def sdk_disk(size_gb: int = 10, sku: str = "Standard_LRS", tags: dict[str, str] | None = None,
             location: str = "eastus", **properties: Any) -> m.Disk:  # fmt: skip
    return m.Disk({"id": DISK_ID, "name": NAME, "location": location, "sku": {"name": sku},
                   "tags": {"user-agent": "bosh", "caching": "None"} if tags is None else tags,
                   "properties": {"diskSizeGB": size_gb, **properties}})  # fmt: skip


def sdk_vm(etag: str = '"1"', size: str = "Standard_D2s_v5", zones: list[str] | None = None,
           data_disks: list[dict[str, Any]] | None = None, tags: dict[str, str] | None = None,
           location: str = "westus2") -> m.VirtualMachine:  # fmt: skip
    body: dict[str, Any] = {"location": location, "etag": etag, "tags": tags or {"user-agent": "bosh"},
                            "properties": {"hardwareProfile": {"vmSize": size},
                                           "storageProfile": {"dataDisks": data_disks or []}}}  # fmt: skip
    if zones:
        body["zones"] = zones
    return m.VirtualMachine(body)


def data_disk(lun: int, name: str, **extra: Any) -> dict[str, Any]:
    return {"lun": lun, "name": name, "createOption": "Attach", "caching": "None",
            "managedDisk": {"id": f"{DISKS}/{name}"}, **extra}  # fmt: skip


def put_body(client: Client) -> tuple[str, str, dict[str, Any]]:
    ((group, name, body),) = calls(client.disks.begin_create_or_update)
    return group, name, body.as_dict()


def patches(client: Client) -> list[tuple[str, str, dict[str, Any]]]:
    return [(c.args[0], c.args[1], c.args[2].as_dict()) for c in client.disks.begin_update.call_args_list]


def vm_patches(client: Client) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    return [(c.args[0], c.args[1], c.args[2], c.kwargs) for c in client.virtual_machines.begin_update.call_args_list]


def guarded(etag: str) -> dict[str, Any]:
    return {"etag": etag, "match_condition": MatchConditions.IfNotModified}


# ---- create ----------------------------------------------------------------------------------------------------------


def test_create_without_a_vm_uses_the_global_group_and_location_and_standard_lrs():
    disks, client = harness()
    cid = disks.create(1025, DiskProps(), None)
    assert (cid.caching, cid.resource_group_name, cid.storage_account_name, cid.plain) == ("None", RG, "", False)
    assert NEW_NAME.match(cid.disk_name)
    assert str(cid) == f"caching:None;disk_name:{cid.disk_name};resource_group_name:{RG}"
    assert put_body(client) == (
        RG,
        cid.disk_name,
        {"location": "eastus", "tags": {"user-agent": "bosh", "caching": "None"}, "sku": {"name": "Standard_LRS"},
         "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 2}},
    )  # fmt: skip
    assert client.virtual_machines.get.call_count == 0


def test_every_create_gets_a_new_name():
    disks, _ = harness()
    assert disks.create(1024, DiskProps(), None) != disks.create(1024, DiskProps(), None)


@pytest.mark.parametrize(("size_mib", "gib"), [(1024, 1), (1025, 2), (2048, 2), (2049, 3), (10240, 10), (10241, 11)])
def test_create_rounds_mib_up_to_whole_gib(size_mib, gib):
    disks, client = harness()
    disks.create(size_mib, DiskProps(), None)
    assert put_body(client)[2]["properties"]["diskSizeGB"] == gib


@pytest.mark.parametrize("size_mib", [1023, 0, True, 2048.5, "2048", 65536 * 1024 + 1])
def test_create_refuses_bad_sizes_before_any_request(size_mib):
    disks, client = harness()
    with pytest.raises(InvalidArgument):
        disks.create(size_mib, DiskProps(), VM_CID)
    assert client.virtual_machines.get.call_count == client.disks.begin_create_or_update.call_count == 0


def test_create_without_a_configured_location_uses_the_resource_groups():
    disks, client = harness(location=None, compute_gallery_name=None)
    with patch.object(VmService, "resource_group_location", autospec=True, return_value="northeurope") as located:
        disks.create(1024, DiskProps(), None)
    assert [c.args[1:] for c in located.call_args_list] == [(RG,)]
    assert put_body(client)[2]["location"] == "northeurope"


@pytest.mark.parametrize(
    ("size", "zones", "disk_type"),
    [
        ("Standard_D2s_v5", ["2"], "Premium_LRS"),  # premium-capable size
        ("Standard_E4ads_v5", None, "Premium_LRS"),
        ("Standard_D2_v5", ["1"], "Standard_LRS"),
        ("Standard_D4d_v5", None, "Standard_LRS"),
    ],
)
def test_create_next_to_a_vm_takes_its_group_location_zone_and_default_type(size, zones, disk_type):
    disks, client = harness()
    client.virtual_machines.get.return_value = sdk_vm(size=size, zones=zones)
    cid = disks.create(4096, DiskProps(caching="ReadOnly"), VM_CID)
    assert (cid.resource_group_name, cid.caching) == (VM_RG, "ReadOnly")
    assert calls(client.virtual_machines.get) == [(VM_RG, AGENT, {"expand": None})]
    expected: dict[str, Any] = {"location": "westus2", "tags": {"user-agent": "bosh", "caching": "ReadOnly"},
                                "sku": {"name": disk_type},
                                "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 4}}  # fmt: skip
    if zones:
        expected["zones"] = zones
    assert put_body(client) == (VM_RG, cid.disk_name, expected)


@pytest.mark.parametrize(
    "size", ["Standard_DS2_v2", "Standard_D2s_v3", "Standard_E4s_v3", "Standard_F4s_v2", "Standard_B2ms"]
)
def test_create_next_to_a_vm_of_a_size_the_sdk_knows_defaults_to_premium(size):
    disks, client = harness()
    client.virtual_machines.get.return_value = sdk_vm(size=size)
    disks.create(1024, DiskProps(), VM_CID)
    assert put_body(client)[2]["sku"] == {"name": "Premium_LRS"}


@pytest.mark.parametrize("vm_cid", [None, VM_CID])
def test_create_takes_storage_account_type_over_the_default(vm_cid):
    disks, client = harness()
    client.virtual_machines.get.return_value = sdk_vm(size="Standard_D2s_v5")
    disks.create(1024, DiskProps.from_dict({"storage_account_type": "standardssd_zrs"}), vm_cid)
    assert put_body(client)[2]["sku"] == {"name": "StandardSSD_ZRS"}


def test_create_a_premium_v2_disk_with_performance_and_an_encryption_set():
    disks, client = harness()
    client.virtual_machines.get.return_value = sdk_vm(zones=["3"])
    props = DiskProps.from_dict({"storage_account_type": "PremiumV2_LRS", "iops": 5000, "mbps": 250,
                                 "disk_encryption_set_name": "fake-des"})  # fmt: skip
    cid = disks.create(100 * 1024, props, VM_CID)
    # the encryption set lives in the global resource group even when the disk goes to the VM's
    assert put_body(client) == (
        VM_RG,
        cid.disk_name,
        {"location": "westus2", "tags": {"user-agent": "bosh", "caching": "None"}, "zones": ["3"],
         "sku": {"name": "PremiumV2_LRS"},
         "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 100, "diskIOPSReadWrite": 5000,
                        "diskMBpsReadWrite": 250,
                        "encryption": {"diskEncryptionSetId": DES, "type": "EncryptionAtRestWithCustomerKey"}}},
    )  # fmt: skip


def test_create_checks_iops_against_the_default_type():
    """iops without a type is accepted by the parser; the VM's default (Premium_LRS here) cannot take it."""
    disks, client = harness()
    client.virtual_machines.get.return_value = sdk_vm(size="Standard_D2s_v5")
    with pytest.raises(InvalidArgument) as caught:
        disks.create(1024, DiskProps.from_dict({"iops": 3000}), VM_CID)
    assert caught.value.message == "'iops' and 'mbps' can only be set for PremiumV2_LRS and UltraSSD_LRS disks"
    assert client.disks.begin_create_or_update.call_count == 0


def test_create_next_to_a_missing_vm():
    disks, client = harness()
    client.virtual_machines.get.side_effect = ResourceNotFoundError(message="gone")
    with pytest.raises(VMNotFound) as caught:
        disks.create(1024, DiskProps(), VM_CID)
    assert caught.value.message == f"VM '{VM_CID}' cannot be found"
    assert client.disks.begin_create_or_update.call_count == 0


def test_a_failed_create_is_an_azure_error_naming_the_disk():
    disks, client = harness()
    client.disks.begin_create_or_update.return_value = FakePoller(
        error=http_error(409, "OperationNotAllowed", "quota exceeded")
    )
    with pytest.raises(AzureError) as caught:
        disks.create(2048, DiskProps(), None)
    assert re.fullmatch(
        r"Creating disk 'bosh-disk-data-[0-9a-f-]{36}' \(2 GiB Standard_LRS\): OperationNotAllowed: quota exceeded",
        caught.value.message,
    )


# ---- has_disk / delete -------------------------------------------------------------------------------------------


def test_exists():
    disks, client = harness()
    client.disks.get.side_effect = [sdk_disk(), ResourceNotFoundError(message="gone"), http_error(404, "NotFound")]
    assert disks.exists(CID) is True
    assert disks.exists(CID) is False
    assert disks.exists(CID) is False
    assert calls(client.disks.get) == [(RG, NAME)] * 3


def test_exists_reports_other_failures():
    disks, client = harness()
    client.disks.get.side_effect = http_error(403, "AuthorizationFailed", "no read permission")
    with pytest.raises(AzureError) as caught:
        disks.exists(CID)
    assert caught.value.message == f"Getting disk '{NAME}': AuthorizationFailed: no read permission"


def test_delete_and_delete_snapshot_are_idempotent():
    disks, client = harness()
    client.disks.begin_delete.side_effect = [FakePoller(), ResourceNotFoundError(message="gone")]
    client.snapshots.begin_delete.side_effect = [FakePoller(), ResourceNotFoundError(message="gone")]
    for _ in range(2):
        assert disks.delete(CID) is None
        assert disks.delete_snapshot(CID) is None
    assert calls(client.disks.begin_delete) == calls(client.snapshots.begin_delete) == [(RG, NAME)] * 2


# ---- missing disks -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method",
    [
        lambda d: d.resize(CID, 2048),
        lambda d: d.update(CID, 2048, DiskProps()),
        lambda d: d.snapshot(CID, {}),
        lambda d: d.set_metadata(CID, {"a": "b"}),
        lambda d: d.attach(VM_CID, CID),
    ],
    ids=["resize", "update", "snapshot", "set_metadata", "attach"],
)
def test_a_missing_disk_is_disk_not_found(method):
    disks, client = harness()
    client.disks.get.side_effect = ResourceNotFoundError(message="gone")
    with pytest.raises(DiskNotFound) as caught:
        method(disks)
    assert caught.value.message == f"Disk '{CID}' cannot be found"
    assert caught.value.wire_type == "Bosh::Clouds::DiskNotFound"
    assert client.disks.begin_update.call_count == client.snapshots.begin_create_or_update.call_count == 0
    assert client.virtual_machines.get.call_count == 0


# ---- resize ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size_mib", [10240, 10239, 9217])  # all round up to the current 10 GiB
def test_resize_to_the_same_size_is_a_no_op(size_mib):
    disks, client = harness()
    client.disks.get.return_value = sdk_disk(size_gb=10)
    disks.resize(CID, size_mib)
    assert client.disks.begin_update.call_count == 0


@pytest.mark.parametrize(("size_mib", "gib"), [(9216, 9), (1024, 1)])
def test_resize_refuses_to_shrink(size_mib, gib):
    disks, client = harness()
    client.disks.get.return_value = sdk_disk(size_gb=10)
    with pytest.raises(NotSupported) as caught:
        disks.resize(CID, size_mib)
    assert caught.value.message == f"Disk '{NAME}' cannot shrink from 10 GiB to {gib} GiB"
    assert client.disks.begin_update.call_count == 0


@pytest.mark.parametrize(("size_mib", "gib"), [(10241, 11), (20480, 20)])
def test_resize_grows_with_a_patch_of_the_size_only(size_mib, gib):
    disks, client = harness()
    client.disks.get.return_value = sdk_disk(size_gb=10, sku="Premium_LRS")
    disks.resize(CID, size_mib)
    assert patches(client) == [(RG, NAME, {"properties": {"diskSizeGB": gib}})]


def test_resize_checks_the_size_argument():
    disks, client = harness()
    client.disks.get.return_value = sdk_disk(size_gb=10)
    with pytest.raises(InvalidArgument) as caught:
        disks.resize(CID, "20480")  # type: ignore[arg-type]
    assert caught.value.message == "The disk new size needs to be an integer number of MiB, got '20480'"


@pytest.mark.parametrize("in_poller", [False, True])
@pytest.mark.parametrize("message", [RESIZE_IN_USE, SKU_IN_USE])
def test_resize_of_a_disk_azure_cannot_change_while_in_use_is_not_supported(message, in_poller):
    disks, client = harness()
    client.disks.get.return_value = sdk_disk(size_gb=10)
    error = http_error(409, "OperationNotAllowed", message)
    if in_poller:
        client.disks.begin_update.return_value = FakePoller(error=error)
    else:
        client.disks.begin_update.side_effect = error
    with pytest.raises(NotSupported) as caught:
        disks.resize(CID, 20480)
    assert caught.value.message == (
        f"Azure cannot change the disk while it is in use: Resizing disk '{NAME}' to 20 GiB: OperationNotAllowed: "
        f"{message}"
    )
    assert isinstance(caught.value.__cause__, AzureError)


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (409, "Conflict", "Another operation is in progress"),  # 409 without the in-use wording
        (400, "BadRequest", RESIZE_IN_USE),  # the wording without the 409
        (500, "InternalServerError", "oops"),
        (400, "ResizeDiskError", "Disk size reduction is not supported."),  # 'not supported' but no account type
    ],
)
def test_other_resize_failures_stay_azure_errors(status, code, message):
    disks, client = harness()
    client.disks.get.return_value = sdk_disk(size_gb=10)
    client.disks.begin_update.side_effect = http_error(status, code, message)
    with pytest.raises(AzureError) as caught:
        disks.resize(CID, 20480)
    assert type(caught.value) is AzureError
    assert (caught.value.status, caught.value.message) == (
        status,
        f"Resizing disk '{NAME}' to 20 GiB: {code}: {message}",
    )


# ---- update ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "props",
    [
        {},
        {"storage_account_type": "Standard_LRS"},  # the disk's own type
        {"caching": "None"},  # the CID's own caching
        {"storage_account_type": "standard_lrs", "caching": "none"},
    ],
)
def test_update_with_nothing_to_change_is_a_no_op(props):
    disks, client = harness()
    client.disks.get.return_value = sdk_disk(size_gb=10, sku="Standard_LRS")
    disks.update(CID, 10240, DiskProps.from_dict(props))
    assert client.disks.begin_update.call_count == 0


@pytest.mark.parametrize(
    ("caching", "explicit"), [("ReadOnly", "None"), ("None", "ReadWrite"), ("ReadWrite", "ReadOnly")]
)
def test_update_refuses_a_caching_change(caching, explicit):
    disks, client = harness()
    client.disks.get.return_value = sdk_disk(size_gb=10)
    cid = DiskCid(disk_name=NAME, caching=caching, resource_group_name=RG)
    with pytest.raises(NotSupported) as caught:
        disks.update(cid, 20480, DiskProps.from_dict({"caching": explicit}))
    assert caught.value.message == "Disk caching cannot be modified"
    assert client.disks.begin_update.call_count == 0


def test_update_without_caching_keeps_the_disks():
    disks, client = harness()
    client.disks.get.return_value = sdk_disk(size_gb=10)
    cid = DiskCid(disk_name=NAME, caching="ReadOnly", resource_group_name=RG)
    disks.update(cid, 20480, DiskProps.from_dict({}))
    assert patches(client) == [(RG, NAME, {"properties": {"diskSizeGB": 20}})]


def test_update_refuses_to_shrink():
    disks, client = harness()
    client.disks.get.return_value = sdk_disk(size_gb=10)
    with pytest.raises(NotSupported) as caught:
        disks.update(CID, 9216, DiskProps.from_dict({"storage_account_type": "Premium_LRS"}))
    assert caught.value.message == "Disk size cannot be decreased"
    assert client.disks.begin_update.call_count == 0


@pytest.mark.parametrize(
    ("current", "size_mib", "props", "body"),
    [
        ("Standard_LRS", 10240, {"storage_account_type": "Premium_LRS"}, {"sku": {"name": "Premium_LRS"}}),
        ("Standard_LRS", 10241, {}, {"properties": {"diskSizeGB": 11}}),
        ("Standard_LRS", 20480, {"storage_account_type": "StandardSSD_ZRS"},
         {"sku": {"name": "StandardSSD_ZRS"}, "properties": {"diskSizeGB": 20}}),
        ("Premium_LRS", 10240, {"storage_account_type": "PremiumV2_LRS", "iops": 4000, "mbps": 200},
         {"sku": {"name": "PremiumV2_LRS"}, "properties": {"diskIOPSReadWrite": 4000, "diskMBpsReadWrite": 200}}),
        ("PremiumV2_LRS", 10240, {"iops": 6000}, {"properties": {"diskIOPSReadWrite": 6000}}),
        ("UltraSSD_LRS", 40960, {"mbps": 500}, {"properties": {"diskSizeGB": 40, "diskMBpsReadWrite": 500}}),
    ],
)  # fmt: skip
def test_update_patches_only_what_changes(current, size_mib, props, body):
    disks, client = harness()
    client.disks.get.return_value = sdk_disk(size_gb=10, sku=current)
    disks.update(CID, size_mib, DiskProps.from_dict(props))
    assert patches(client) == [(RG, NAME, body)]


def test_update_checks_iops_against_the_disks_current_type():
    disks, client = harness()
    client.disks.get.return_value = sdk_disk(size_gb=10, sku="Premium_LRS")
    with pytest.raises(InvalidArgument) as caught:
        disks.update(CID, 10240, DiskProps.from_dict({"iops": 3000}))
    assert caught.value.message == "'iops' and 'mbps' can only be set for PremiumV2_LRS and UltraSSD_LRS disks"
    assert client.disks.begin_update.call_count == 0


@pytest.mark.parametrize("in_poller", [False, True])
def test_update_an_account_type_conversion_azure_does_not_support_is_not_supported(in_poller):
    disks, client = harness()
    client.disks.get.return_value = sdk_disk(size_gb=10, sku="UltraSSD_LRS")
    error = http_error(409, "OperationNotAllowed", ULTRA_CONVERSION)
    if in_poller:
        client.disks.begin_update.return_value = FakePoller(error=error)
    else:
        client.disks.begin_update.side_effect = error
    with pytest.raises(NotSupported) as caught:
        disks.update(CID, 10240, DiskProps.from_dict({"storage_account_type": "Premium_LRS"}))
    assert caught.value.message == (
        f"Disk conversion is not supported: Updating disk '{NAME}': OperationNotAllowed: {ULTRA_CONVERSION}"
    )
    assert patches(client) == [(RG, NAME, {"sku": {"name": "Premium_LRS"}})]


@pytest.mark.parametrize(
    ("message", "props"),
    [(RESIZE_IN_USE, {}), (SKU_IN_USE, {"storage_account_type": "Premium_LRS"})],
)
def test_update_of_a_disk_in_use_is_not_supported(message, props):
    disks, client = harness()
    client.disks.get.return_value = sdk_disk(size_gb=10)
    client.disks.begin_update.side_effect = http_error(409, "OperationNotAllowed", message)
    with pytest.raises(NotSupported) as caught:
        disks.update(CID, 20480, DiskProps.from_dict(props))
    assert caught.value.message == (
        f"Azure cannot change the disk while it is in use: Updating disk '{NAME}': OperationNotAllowed: {message}"
    )


def test_other_update_failures_stay_azure_errors():
    disks, client = harness()
    client.disks.get.return_value = sdk_disk(size_gb=10)
    client.disks.begin_update.side_effect = http_error(400, "InvalidParameter", "iops too high")
    with pytest.raises(AzureError) as caught:
        disks.update(CID, 20480, DiskProps())
    assert type(caught.value) is AzureError
    assert caught.value.message == f"Updating disk '{NAME}': InvalidParameter: iops too high"


@pytest.mark.parametrize("target", ["PremiumV2_LRS", "UltraSSD_LRS"])
def test_update_to_a_performance_type_of_a_cached_disk_is_refused(target):
    disks, client = harness()
    client.disks.get.return_value = sdk_disk(size_gb=10, sku="Premium_LRS")
    cid = DiskCid(disk_name=NAME, caching="ReadWrite", resource_group_name=RG)
    with pytest.raises(NotSupported, match=f"has caching ReadWrite; {target} disks need None"):
        disks.update(cid, 10240, DiskProps.from_dict({"storage_account_type": target}))
    assert client.disks.begin_update.call_count == 0


def test_update_to_the_disks_current_performance_is_a_no_op():
    disks, client = harness()
    client.disks.get.return_value = sdk_disk(size_gb=10, sku="PremiumV2_LRS", diskIOPSReadWrite=3000,
                                             diskMBpsReadWrite=125)  # fmt: skip
    disks.update(CID, 10240, DiskProps.from_dict({"storage_account_type": "PremiumV2_LRS", "iops": 3000, "mbps": 125}))
    assert client.disks.begin_update.call_count == 0


# ---- snapshots and metadata ----------------------------------------------------------------------------------------


def test_snapshot_is_an_incremental_copy_tagged_with_metadata_and_the_original():
    disks, client = harness()
    client.disks.get.return_value = sdk_disk(location="westeurope")
    cid = DiskCid(disk_name=NAME, caching="ReadOnly", resource_group_name=RG)
    long = "x" * 300
    snapshot = disks.snapshot(cid, {"director": "fake", "deployment": long, "original": "overridden"})
    assert NEW_NAME.match(snapshot.disk_name) and snapshot.disk_name != NAME
    assert (snapshot.caching, snapshot.resource_group_name) == ("ReadOnly", RG)
    ((group, name, body),) = calls(client.snapshots.begin_create_or_update)
    assert (group, name, body.as_dict()) == (
        RG,
        snapshot.disk_name,
        {"location": "westeurope", "tags": {"director": "fake", "deployment": "x" * 256, "original": NAME},
         "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": DISK_ID}, "incremental": True}},
    )  # fmt: skip


def test_snapshot_of_a_disk_in_another_group():
    disks, client = harness()
    client.disks.get.return_value = sdk_disk()
    cid = DiskCid(disk_name=NAME, caching="None", resource_group_name=VM_RG)
    snapshot = disks.snapshot(cid, {})
    ((group, _, body),) = calls(client.snapshots.begin_create_or_update)
    assert (snapshot.resource_group_name, group) == (VM_RG, VM_RG)
    source = body.as_dict()["properties"]["creationData"]["sourceResourceId"]
    assert source == f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{VM_RG}/providers/Microsoft.Compute/disks/{NAME}"


@pytest.mark.parametrize(("length", "kept"), [(0, 0), (255, 255), (256, 256), (257, 256), (1000, 256)])
def test_set_metadata_truncates_tag_values_to_256_characters(length, kept):
    disks, client = harness()
    client.disks.get.return_value = sdk_disk(tags={"user-agent": "bosh", "caching": "None", "director": "old"})
    value = "".join(chr(ord("a") + i % 26) for i in range(length))
    disks.set_metadata(CID, {"director": "fake", "instance_group": value})
    assert patches(client) == [
        (
            RG,
            NAME,
            {"tags": {"user-agent": "bosh", "caching": "None", "director": "fake", "instance_group": value[:kept]}},
        )
    ]


def test_set_metadata_on_a_disk_without_tags():
    disks, client = harness()
    client.disks.get.return_value = sdk_disk(tags={})
    disks.set_metadata(CID, {"a": "b"})
    assert patches(client) == [(RG, NAME, {"tags": {"a": "b"}})]


# ---- LUN choice --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("used", "lun"),
    [
        ([], 0),
        ([0], 1),
        ([0, 1, 2], 3),
        ([1, 2], 0),
        ([0, 2, 3], 1),
        ([3, 0, 1, 5], 2),  # unordered
        (list(range(MAX_LUN)), MAX_LUN),
        ([*range(10), *range(11, 64)], 10),
    ],
)
def test_free_lun_is_the_lowest_unused(used, lun):
    assert _free_lun([{"lun": n} for n in used]) == lun


def test_free_lun_reads_string_luns():
    assert _free_lun([{"lun": "0"}, {"lun": "1"}]) == 2


def test_a_vm_with_64_data_disks_has_no_free_lun():
    assert MAX_LUN == 63
    with pytest.raises(NotSupported) as caught:
        _free_lun([{"lun": n} for n in range(64)])
    assert caught.value.message == "No free LUN: 64 data disks are attached"


# ---- attach / detach -----------------------------------------------------------------------------------------------


def entry(lun: int, caching: str = "None") -> dict[str, Any]:
    return {"lun": lun, "createOption": "Attach", "caching": caching, "deleteOption": "Detach",
            "managedDisk": {"id": DISK_ID}}  # fmt: skip


def test_attach_puts_the_disk_on_the_lowest_free_lun_and_tags_the_vm():
    disks, client = harness()
    client.disks.get.return_value = sdk_disk()
    ephemeral = data_disk(0, f"bosh-disk-os-{AGENT}-ephemeral-disk", diskIOPSReadWrite=500, diskMBpsReadWrite=60)
    other = data_disk(2, "bosh-disk-data-other-None")
    client.virtual_machines.get.return_value = sdk_vm(data_disks=[ephemeral, other], tags={"user-agent": "bosh"})
    cid = DiskCid(disk_name=NAME, caching="ReadOnly", resource_group_name=RG)
    assert disks.attach(VM_CID, cid) == 1
    read_only_dropped = {k: v for k, v in ephemeral.items() if k not in ("diskIOPSReadWrite", "diskMBpsReadWrite")}
    assert vm_patches(client) == [
        (
            VM_RG,
            AGENT,
            {"tags": {"user-agent": "bosh", f"disk-id-{NAME}": str(cid)},
             "properties": {"storageProfile": {"dataDisks": [read_only_dropped, other, entry(1, "ReadOnly")]}}},
            guarded('"1"'),
        )
    ]  # fmt: skip


def test_attach_to_a_vm_without_data_disks_uses_lun_0():
    disks, client = harness()
    client.disks.get.return_value = sdk_disk()
    client.virtual_machines.get.return_value = sdk_vm(data_disks=[])
    assert disks.attach(VM_CID, CID) == 0
    ((_, _, body, _),) = vm_patches(client)
    assert body["properties"]["storageProfile"]["dataDisks"] == [entry(0)]


def test_attaching_an_attached_disk_reports_its_lun_without_a_write():
    disks, client = harness()
    client.disks.get.return_value = sdk_disk()
    mine = data_disk(5, NAME)
    mine["managedDisk"]["id"] = DISK_ID.upper()  # Azure does not keep the id's case
    client.virtual_machines.get.return_value = sdk_vm(data_disks=[data_disk(0, "ephemeral-disk"), mine])
    assert disks.attach(VM_CID, CID) == 5
    assert client.virtual_machines.begin_update.call_count == 0


def test_attach_to_a_full_vm_fails_without_a_write():
    disks, client = harness()
    client.disks.get.return_value = sdk_disk()
    client.virtual_machines.get.return_value = sdk_vm(data_disks=[data_disk(n, f"disk-{n}") for n in range(64)])
    with pytest.raises(NotSupported) as caught:
        disks.attach(VM_CID, CID)
    assert caught.value.message == "No free LUN: 64 data disks are attached"
    assert client.virtual_machines.begin_update.call_count == 0


@pytest.mark.parametrize(
    "conflict",
    [
        http_error(412, "PreconditionFailed", kind=ResourceModifiedError),
        http_error(409, "ConflictingConcurrentWriteNotAllowed", kind=ResourceExistsError),
    ],
)
def test_a_concurrent_attach_makes_the_retry_choose_again(conflict):
    """Another attach took LUN 1 between our read and our write: the retry reads the VM again and takes LUN 2."""
    disks, client = harness()
    client.disks.get.return_value = sdk_disk()
    before = sdk_vm('"1"', data_disks=[data_disk(0, "ephemeral-disk")])
    after = sdk_vm('"2"', data_disks=[data_disk(0, "ephemeral-disk"), data_disk(1, "bosh-disk-data-other-None")],
                   tags={"user-agent": "bosh", "disk-id-bosh-disk-data-other-None": "other"})  # fmt: skip
    client.virtual_machines.get.side_effect = [before, after]
    client.virtual_machines.begin_update.side_effect = [conflict, FakePoller(after)]
    assert disks.attach(VM_CID, CID) == 2
    first, second = vm_patches(client)
    assert [d["lun"] for d in first[2]["properties"]["storageProfile"]["dataDisks"]] == [0, 1]
    assert [d["lun"] for d in second[2]["properties"]["storageProfile"]["dataDisks"]] == [0, 1, 2]
    assert (first[3], second[3]) == (guarded('"1"'), guarded('"2"'))
    assert second[2]["tags"] == {"user-agent": "bosh", "disk-id-bosh-disk-data-other-None": "other",
                                 f"disk-id-{NAME}": str(CID)}  # fmt: skip


def test_attach_to_a_missing_vm():
    disks, client = harness()
    client.disks.get.return_value = sdk_disk()
    client.virtual_machines.get.side_effect = ResourceNotFoundError(message="gone")
    with pytest.raises(VMNotFound):
        disks.attach(VM_CID, CID)


def test_detach_removes_the_disk_and_its_tag():
    disks, client = harness()
    other = data_disk(1, "bosh-disk-data-other-None")
    mine = data_disk(2, NAME)
    tags = {"user-agent": "bosh", f"disk-id-{NAME}": str(CID), "disk-id-bosh-disk-data-other-None": "other"}
    client.virtual_machines.get.return_value = sdk_vm(data_disks=[data_disk(0, "ephemeral-disk"), other, mine],
                                                      tags=tags)  # fmt: skip
    disks.detach(VM_CID, CID)
    assert vm_patches(client) == [
        (
            VM_RG,
            AGENT,
            {"tags": {"user-agent": "bosh", "disk-id-bosh-disk-data-other-None": "other"},
             "properties": {"storageProfile": {"dataDisks": [data_disk(0, "ephemeral-disk"), other]}}},
            guarded('"1"'),
        )
    ]  # fmt: skip
    assert client.disks.get.call_count == 0  # detach works even when the disk resource is gone


def test_detach_of_a_disk_that_is_not_attached():
    disks, client = harness()
    client.virtual_machines.get.return_value = sdk_vm(data_disks=[data_disk(0, "ephemeral-disk")])
    with pytest.raises(DiskNotAttached) as caught:
        disks.detach(VM_CID, CID)
    assert caught.value.message == f"The disk {CID} is not attached to the virtual machine {VM_CID}"
    assert client.virtual_machines.begin_update.call_count == 0
