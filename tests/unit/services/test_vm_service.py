"""VmService against autospec'd SDK operations: reads, writes, ETag-guarded updates, availability sets."""

from __future__ import annotations

from typing import Any

import pytest
from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.mgmt.compute import models as m

from bosh_azure_cpi.errors import AzureError, DeadlineExceeded, VMNotFound
from bosh_azure_cpi.models.deadline import Deadline
from bosh_azure_cpi.models.vm_props import AvailabilitySetSpec
from bosh_azure_cpi.services.vm import UPDATE_ATTEMPTS, VmService
from tests.fakes.config import RESOURCE_GROUP, SUBSCRIPTION, fake_azure_config
from tests.fakes.fake_vm_sdk import FakeComputeClient, calls, http_error
from tests.fakes.pollers import FakeClock, FakePoller

RG = RESOURCE_GROUP
SET_ID = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RG}/providers/Microsoft.Compute/availabilitySets/fake-set"


def service(deadline: Deadline | None = None) -> tuple[VmService, FakeComputeClient]:
    client = FakeComputeClient()
    return VmService(client, fake_azure_config(), deadline or Deadline(600)), client  # type: ignore[arg-type]


def vm(etag: str, **tags: str) -> m.VirtualMachine:
    return m.VirtualMachine({"location": "eastus", "etag": etag, "tags": tags})


def test_find_returns_the_vm_or_none():
    vms, client = service()
    found = vm('"1"')
    client.virtual_machines.get.side_effect = [
        found,
        ResourceNotFoundError(message="gone"),
        http_error(404, "NotFound"),
    ]
    assert vms.find(RG, "fake-vm", instance_view=True) is found
    assert vms.find(RG, "fake-vm") is None
    assert vms.find(RG, "fake-vm") is None
    assert calls(client.virtual_machines.get) == [
        (RG, "fake-vm", {"expand": "instanceView"}),
        (RG, "fake-vm", {"expand": None}),
        (RG, "fake-vm", {"expand": None}),
    ]


def test_find_reports_other_failures():
    vms, client = service()
    client.virtual_machines.get.side_effect = http_error(403, "AuthorizationFailed", "no read permission")
    with pytest.raises(AzureError) as caught:
        vms.find(RG, "fake-vm")
    assert caught.value.message == "Getting VM 'fake-vm': AuthorizationFailed: no read permission"
    assert (caught.value.status, caught.value.ok_to_retry) == (403, False)


def test_create_waits_for_the_vm():
    vms, client = service()
    body = m.VirtualMachine(location="eastus")
    created = vm('"1"')
    poller = FakePoller(created, polls=2)
    client.virtual_machines.begin_create_or_update.return_value = poller
    vms.create(RG, "fake-vm", body)
    assert poller.done()
    assert client.virtual_machines.begin_create_or_update.call_args.args == (RG, "fake-vm", body)


def test_a_failed_create_is_an_azure_error_naming_the_vm():
    vms, client = service()
    error = http_error(409, "SkuNotAvailable", "The requested VM size is not available")
    client.virtual_machines.begin_create_or_update.return_value = FakePoller(error=error)
    with pytest.raises(AzureError) as caught:
        vms.create(RG, "fake-vm", m.VirtualMachine(location="eastus"))
    assert caught.value.message == "Creating VM 'fake-vm': SkuNotAvailable: The requested VM size is not available"
    assert caught.value.ok_to_retry is False


def test_a_create_that_outlives_the_deadline():
    clock = FakeClock()
    vms, client = service(Deadline(30, clock))
    client.virtual_machines.begin_create_or_update.return_value = FakePoller(polls=10, clock=clock)
    with pytest.raises(DeadlineExceeded, match="Creating VM 'fake-vm' did not finish within 30s"):
        vms.create(RG, "fake-vm", m.VirtualMachine(location="eastus"))


def test_delete_and_restart():
    vms, client = service()
    client.virtual_machines.begin_delete.side_effect = [FakePoller(), ResourceNotFoundError(message="gone")]
    client.virtual_machines.begin_restart.return_value = FakePoller()
    assert vms.delete(RG, "fake-vm") is True
    assert vms.delete(RG, "fake-vm") is False
    vms.restart(RG, "fake-vm")
    assert calls(client.virtual_machines.begin_restart) == [(RG, "fake-vm")]


def test_restarting_a_missing_vm_reports_404():
    vms, client = service()
    client.virtual_machines.begin_restart.side_effect = http_error(
        404, "ResourceNotFound", "gone", ResourceNotFoundError
    )
    with pytest.raises(AzureError) as caught:
        vms.restart(RG, "fake-vm")
    assert (caught.value.status, caught.value.message) == (404, "Restarting VM 'fake-vm': ResourceNotFound: gone")


def update_calls(client: FakeComputeClient) -> list[tuple[Any, ...]]:
    return [
        (call.args[0], call.args[1], call.args[2].as_dict(), call.kwargs)
        for call in client.virtual_machines.begin_update.call_args_list
    ]


def guarded(etag: str) -> dict[str, Any]:
    return {"etag": etag, "match_condition": MatchConditions.IfNotModified}


def test_set_tags_patches_with_the_etag():
    vms, client = service()
    client.virtual_machines.get.return_value = vm('"1"', a="1")
    client.virtual_machines.begin_update.return_value = FakePoller(vm('"2"', a="1", b="2"))
    updated = vms.set_tags(RG, "fake-vm", lambda tags: {**tags, "b": "2"})
    assert updated.tags == {"a": "1", "b": "2"}
    assert update_calls(client) == [(RG, "fake-vm", {"tags": {"a": "1", "b": "2"}}, guarded('"1"'))]


@pytest.mark.parametrize(
    "conflict",
    [
        http_error(412, "PreconditionFailed", kind=ResourceModifiedError),
        http_error(409, "ConflictingConcurrentWriteNotAllowed", kind=ResourceExistsError),
    ],
)
@pytest.mark.parametrize("in_poller", [False, True])
def test_a_concurrent_write_is_retried_with_a_fresh_read(conflict, in_poller):
    vms, client = service()
    client.virtual_machines.get.side_effect = [vm('"1"', a="1"), vm('"2"', a="1", other="writer")]
    failing = FakePoller(error=conflict) if in_poller else conflict
    client.virtual_machines.begin_update.side_effect = [failing, FakePoller(vm('"3"'))]
    vms.set_tags(RG, "fake-vm", lambda tags: {**tags, "b": "2"})
    assert update_calls(client) == [
        (RG, "fake-vm", {"tags": {"a": "1", "b": "2"}}, guarded('"1"')),
        (RG, "fake-vm", {"tags": {"a": "1", "other": "writer", "b": "2"}}, guarded('"2"')),
    ]
    assert client.virtual_machines.get.call_count == 2


def test_modify_gives_up_after_its_attempts():
    vms, client = service()
    client.virtual_machines.get.return_value = vm('"1"')
    client.virtual_machines.begin_update.side_effect = [
        http_error(412, "PreconditionFailed", "changed", kind=ResourceModifiedError) for _ in range(UPDATE_ATTEMPTS)
    ]
    with pytest.raises(AzureError) as caught:
        vms.set_tags(RG, "fake-vm", dict)
    assert caught.value.message == "Updating the tags of VM 'fake-vm': PreconditionFailed: changed"
    assert client.virtual_machines.begin_update.call_count == UPDATE_ATTEMPTS == 6


@pytest.mark.parametrize("in_poller", [False, True])
def test_other_update_failures_are_not_retried(in_poller):
    vms, client = service()
    client.virtual_machines.get.return_value = vm('"1"')
    error = http_error(400, "InvalidParameter", "bad tag")
    client.virtual_machines.begin_update.side_effect = [FakePoller(error=error) if in_poller else error]
    with pytest.raises(AzureError, match="InvalidParameter: bad tag"):
        vms.set_tags(RG, "fake-vm", dict)
    assert client.virtual_machines.begin_update.call_count == 1


def test_modify_of_a_missing_vm_and_with_nothing_to_do():
    vms, client = service()
    client.virtual_machines.get.side_effect = [ResourceNotFoundError(message="gone"), vm('"1"')]
    with pytest.raises(VMNotFound) as caught:
        vms.set_tags(RG, "fake-vm", dict)
    assert caught.value.message == f"VM 'fake-vm' in resource group '{RG}' cannot be found"
    current = vms.modify(RG, "fake-vm", lambda _: None, "nothing")
    assert current.etag == '"1"'
    assert client.virtual_machines.begin_update.call_count == 0


def test_ensure_availability_set_puts_an_aligned_set():
    vms, client = service()
    client.availability_sets.create_or_update.return_value = m.AvailabilitySet({"id": SET_ID, "location": "eastus"})
    spec = AvailabilitySetSpec(name="fake-set", update_domains=3, fault_domains=2)
    assert vms.ensure_availability_set(RG, spec, "eastus") == SET_ID
    ((group, name, body),) = calls(client.availability_sets.create_or_update)
    assert (group, name, body.as_dict()) == (
        RG,
        "fake-set",
        {
            "location": "eastus",
            "tags": {"user-agent": "bosh"},
            "sku": {"name": "Aligned"},
            "properties": {"platformUpdateDomainCount": 3, "platformFaultDomainCount": 2},
        },
    )
    assert vms.availability_set_id(RG, "fake-set") == SET_ID


@pytest.mark.parametrize(
    ("current", "deleted"),
    [
        (None, False),
        ({"tags": {}}, False),  # not the CPI's
        ({"tags": {"user-agent": "bosh"}, "properties": {"virtualMachines": [{"id": "fake-vm-id"}]}}, False),
        ({"tags": {"user-agent": "bosh"}}, True),
        ({"tags": {"user-agent": "bosh"}, "properties": {"virtualMachines": []}}, True),
    ],
)
def test_an_availability_set_is_deleted_only_when_the_cpis_and_empty(current, deleted):
    vms, client = service()
    client.availability_sets.get.side_effect = (
        [ResourceNotFoundError(message="gone")]
        if current is None
        else [m.AvailabilitySet({"location": "eastus", **current})]
    )
    assert vms.delete_availability_set_if_empty(RG, "fake-set") is deleted
    assert calls(client.availability_sets.delete) == ([(RG, "fake-set")] if deleted else [])


def test_an_availability_set_that_gained_a_vm_meanwhile_is_kept():
    vms, client = service()
    client.availability_sets.get.return_value = m.AvailabilitySet(
        {"location": "eastus", "tags": {"user-agent": "bosh"}}
    )
    client.availability_sets.delete.side_effect = http_error(
        409, "OperationNotAllowed", "in use", kind=ResourceExistsError
    )
    assert vms.delete_availability_set_if_empty(RG, "fake-set") is False


def test_other_availability_set_delete_failures_are_raised():
    vms, client = service()
    client.availability_sets.get.return_value = m.AvailabilitySet(
        {"location": "eastus", "tags": {"user-agent": "bosh"}}
    )
    client.availability_sets.delete.side_effect = http_error(500, "InternalServerError", "oops")
    with pytest.raises(AzureError, match="Deleting empty availability set 'fake-set': InternalServerError: oops"):
        vms.delete_availability_set_if_empty(RG, "fake-set")


def test_delete_disk_ignores_missing_disks():
    vms, client = service()
    client.disks.begin_delete.side_effect = [FakePoller(), ResourceNotFoundError(message="gone")]
    assert vms.delete_disk(RG, "bosh-disk-os-fake") is True
    assert vms.delete_disk(RG, "bosh-disk-os-fake") is False
    assert calls(client.disks.begin_delete) == [(RG, "bosh-disk-os-fake")] * 2


@pytest.mark.parametrize(
    ("iops", "mbps", "properties"),
    [
        (3000, 125, {"diskIOPSReadWrite": 3000, "diskMBpsReadWrite": 125}),
        (3000, None, {"diskIOPSReadWrite": 3000}),
        (None, 200, {"diskMBpsReadWrite": 200}),
    ],
)
def test_set_disk_performance_patches_the_disk(iops, mbps, properties):
    vms, client = service()
    client.disks.begin_update.return_value = FakePoller()
    vms.set_disk_performance(RG, "fake-disk", iops, mbps)
    ((group, name, body),) = calls(client.disks.begin_update)
    assert (group, name, body.as_dict()) == (RG, "fake-disk", {"properties": properties})


def test_list_skus_of_a_location():
    vms, client = service()
    skus = [m.ResourceSku({"name": "Standard_D2s_v5"})]
    client.resource_skus.list.return_value = iter(skus)
    assert vms.list_skus("eastus") == skus
    assert calls(client.resource_skus.list) == [({"filter": "location eq 'eastus'"},)]
