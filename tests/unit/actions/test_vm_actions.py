"""The VM actions over a recording VmOperations fake: argument parsing, result shapes, precise refusals."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from bosh_azure_cpi.actions.calculate_vm_cloud_properties import calculate_vm_cloud_properties
from bosh_azure_cpi.actions.create_vm import create_vm
from bosh_azure_cpi.actions.delete_vm import delete_vm
from bosh_azure_cpi.actions.get_disks import get_disks
from bosh_azure_cpi.actions.has_vm import has_vm
from bosh_azure_cpi.actions.reboot_vm import reboot_vm
from bosh_azure_cpi.actions.set_vm_metadata import set_vm_metadata
from bosh_azure_cpi.config import CpiConfig
from bosh_azure_cpi.errors import InvalidArgument, NotSupported, VMCreationFailed
from bosh_azure_cpi.models.cids import DiskCid, VmCid
from bosh_azure_cpi.models.deadline import Deadline
from bosh_azure_cpi.models.vm_props import AvailabilitySetSpec
from bosh_azure_cpi.models.vm_spec import VmRequest
from bosh_azure_cpi.services.interfaces import Call
from tests.fakes.config import RESOURCE_GROUP
from tests.fakes.fake_vm import MANUAL, STEMCELL, cpi_config

AGENT = "5f0a2a4e-8f6c-4a43-9b0e-3f9d2c8e1a11"
CID = f"agent_id:{AGENT};resource_group_name:fake-vm-rg"
DISK = "bosh-disk-data-0b9a1f3e-5c1d-4d8e-a2b7-6f0e8d9c1b22"
NETWORKS = {"private": MANUAL}
PROPS = {"instance_type": "Standard_D2s_v5"}


class FakeVms:
    """VmOperations stand-in recording (method, argument) pairs."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def create(self, request: VmRequest) -> VmCid:
        self.calls.append(("create", request))
        return VmCid(agent_id=request.agent_id, resource_group_name=request.props.resource_group_name or RESOURCE_GROUP)

    def delete(self, cid: VmCid) -> None:
        self.calls.append(("delete", cid))

    def exists(self, cid: VmCid) -> bool:
        self.calls.append(("exists", cid))
        return True

    def reboot(self, cid: VmCid) -> None:
        self.calls.append(("reboot", cid))

    def set_metadata(self, cid: VmCid, metadata: dict[str, str]) -> None:
        self.calls.append(("set_metadata", (cid, metadata)))

    def disks(self, cid: VmCid) -> list[str]:
        self.calls.append(("disks", cid))
        return ["fake-disk-cid"]

    def instance_types(self, cpu: int, ram_mib: int) -> list[str]:
        self.calls.append(("instance_types", (cpu, ram_mib)))
        return ["Standard_F2s_v2", "Standard_B2s"]


@dataclasses.dataclass
class Services:
    vms: FakeVms

    @property
    def stemcells(self) -> Any:
        raise AssertionError("VM actions must not touch the stemcell service")


def call(api_version: int = 2, config: CpiConfig | None = None) -> tuple[Call, FakeVms]:
    vms = FakeVms()
    services = Services(vms)
    return Call(method="fake", api_version=api_version, config=config or cpi_config(), services=services,  # type: ignore[arg-type]
                deadline=Deadline(600)), vms  # fmt: skip


def created(vms: FakeVms) -> VmRequest:
    ((method, request),) = vms.calls
    assert method == "create"
    return request  # type: ignore[no-any-return]


def test_create_vm_v1_returns_the_cid():
    c, vms = call(api_version=1)
    assert (
        create_vm(c, AGENT, STEMCELL, PROPS, NETWORKS, [], {})
        == f"agent_id:{AGENT};resource_group_name:{RESOURCE_GROUP}"
    )
    assert created(vms).agent_id == AGENT


def test_create_vm_v2_returns_the_cid_and_the_networks():
    c, _ = call(api_version=2)
    result = create_vm(c, AGENT, STEMCELL, PROPS | {"resource_group_name": "fake-vm-rg"}, NETWORKS, None, None)
    assert result == [CID, NETWORKS]


def test_create_vm_parses_everything_it_receives():
    c, vms = call()
    env = {"bosh": {"group": "fake-director-fake-deployment-fake-job", "tags": {"a": "b"}}}
    disk_cids = [f"caching:ReadOnly;disk_name:{DISK};resource_group_name:fake-disk-rg", f"{DISK}-None"]
    create_vm(c, AGENT, STEMCELL, PROPS, NETWORKS, disk_cids, env)
    request = created(vms)
    assert (str(request.stemcell), request.networks, request.env) == (STEMCELL, NETWORKS, env)
    assert request.props.availability_set == AvailabilitySetSpec(name="fake-director-fake-deployment-fake-job")
    assert request.plan.primary.ip == "10.0.16.7"
    assert request.disk_cids == (
        DiskCid(disk_name=DISK, caching="ReadOnly", resource_group_name="fake-disk-rg"),
        DiskCid(disk_name=f"{DISK}-None", caching="None", resource_group_name=RESOURCE_GROUP, plain=True),
    )


@pytest.mark.parametrize("environment", [None, {}, {"bosh": None}, {"bosh": "x"}, {"bosh": {"group": None}}])
def test_create_vm_without_a_group_has_no_availability_set(environment):
    c, vms = call()
    create_vm(c, AGENT, STEMCELL, PROPS, NETWORKS, None, environment)
    request = created(vms)
    assert request.props.availability_set is None
    assert request.env == (environment or {})


def refused(config: CpiConfig | None = None, **arguments: Any) -> VMCreationFailed:
    c, vms = call(config=config)
    values: dict[str, Any] = {
        "agent_id": AGENT,
        "stemcell_cid": STEMCELL,
        "cloud_properties": PROPS,
        "networks": NETWORKS,
        "disk_cids": [],
        "environment": {},
    }
    with pytest.raises(VMCreationFailed) as caught:
        create_vm(c, **(values | arguments))
    assert vms.calls == []
    assert caught.value.ok_to_retry is False
    assert caught.value.wire_type == "Bosh::Clouds::VMCreationFailed"
    return caught.value


def test_stemcell_api_versions_below_2_are_refused():
    error = refused(cpi_config(vm={"stemcell": {"api_version": 1}}))
    assert error.message == "Stemcell must support api version 2 or higher"


def test_unmanaged_disks_are_refused():
    config = cpi_config()
    config = dataclasses.replace(config, azure=dataclasses.replace(config.azure, use_managed_disks=False))
    assert refused(config).message == "Unmanaged disks are not supported: set 'azure.use_managed_disks: true'"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"agent_id": ""}, "Invalid agent_id '': must be 1 to 64 characters"),
        ({"agent_id": "a" * 65}, f"Invalid agent_id '{'a' * 65}': must be 1 to 64 characters"),
        (
            {"stemcell_cid": "ami-123"},
            "Invalid stemcell id 'ami-123': expected 'bosh-stemcell-<uuid>' or 'bosh-light-stemcell-<uuid>'",
        ),
        ({"cloud_properties": {}}, "You need to specify one of 'vm_type/instance_type' or 'vm_resources'"),
        ({"cloud_properties": None}, "You need to specify one of 'vm_type/instance_type' or 'vm_resources'"),
        (
            {"cloud_properties": PROPS | {"availability_zone": "4"}},
            "'vm_type.cloud_properties.availability_zone' '4' is not a valid zone. Available zones are: 1, 2, 3",
        ),
        ({"networks": {}}, "At least one dynamic or manual network must be defined"),
        ({"networks": []}, "'networks' must be an object, got array"),
        (
            {"networks": {"n": {"type": "manual", "cloud_properties": MANUAL["cloud_properties"]}}},
            "ip address required for manual network 'n'",
        ),
        ({"disk_cids": ["not-a-disk"]}, "Invalid disk id (plain) 'not-a-disk'"),
        (
            {"disk_cids": ["bosh-data-fakeaccount-0b9a1f3e-None"]},
            "Disk 'bosh-data-fakeaccount-0b9a1f3e-None' is an unmanaged (blob) disk; this CPI supports managed disks "
            "only (migrate it to a managed disk first)",
        ),
    ],
)
def test_bad_create_vm_inputs_are_not_retriable(arguments, message):
    assert refused(**arguments).message == message


def test_the_parse_error_is_the_cause():
    error = refused(agent_id="")
    assert isinstance(error.__cause__, Exception)
    assert error.__cause__.__class__.__name__ == "CpiError"


def test_delete_vm_refuses_unmanaged_vms():
    c, vms = call()
    delete_vm(c, CID)
    assert vms.calls == [("delete", VmCid(agent_id=AGENT, resource_group_name="fake-vm-rg"))]
    with pytest.raises(NotSupported, match="uses unmanaged disks"):
        delete_vm(c, f"fakeaccount-{AGENT}")


@pytest.mark.parametrize(
    ("cid", "expected"),
    [
        (CID, VmCid(agent_id=AGENT, resource_group_name="fake-vm-rg")),
        (AGENT, VmCid(agent_id=AGENT, resource_group_name=RESOURCE_GROUP, plain=True)),
    ],
)
def test_vm_cids_reach_the_service(cid, expected):
    c, vms = call()
    assert has_vm(c, cid) is True
    reboot_vm(c, cid)
    assert get_disks(c, cid) == ["fake-disk-cid"]
    assert vms.calls == [("exists", expected), ("reboot", expected), ("disks", expected)]


def test_invalid_vm_cids_are_refused_before_any_request():
    c, vms = call()
    for action in (has_vm, reboot_vm, get_disks, delete_vm):
        with pytest.raises(InvalidArgument):
            action(c, "not-a-vm")
    assert vms.calls == []


def test_set_vm_metadata_stringifies_values():
    c, vms = call()
    set_vm_metadata(c, CID, {"index": 0, "bootstrap": True, "name": "fake/0"})
    ((_, (cid, tags)),) = vms.calls
    assert cid == VmCid(agent_id=AGENT, resource_group_name="fake-vm-rg")
    assert tags == {"index": "0", "bootstrap": "true", "name": "fake/0"}


def test_set_vm_metadata_needs_an_object():
    c, _ = call()
    with pytest.raises(InvalidArgument) as caught:
        set_vm_metadata(c, CID, ["a"])  # type: ignore[arg-type]
    assert caught.value.message == "'metadata' must be an object, got array"


@pytest.mark.parametrize(("disk", "rounded"), [(1, 1024), (1024, 1024), (1025, 2048), (10240, 10240), (10241, 11264)])
def test_calculate_vm_cloud_properties_rounds_the_ephemeral_disk_up_to_gib(disk, rounded):
    c, vms = call()
    result = calculate_vm_cloud_properties(c, {"cpu": 2, "ram": 4096, "ephemeral_disk_size": disk})
    assert result == {"instance_types": ["Standard_F2s_v2", "Standard_B2s"], "ephemeral_disk": {"size": rounded}}
    assert vms.calls == [("instance_types", (2, 4096))]


@pytest.mark.parametrize(
    ("resources", "message"),
    [
        ({}, "Missing VM cloud properties: 'cpu', 'ram', 'ephemeral_disk_size'"),
        ({"cpu": 2, "ephemeral_disk_size": 1024}, "Missing VM cloud properties: 'ram'"),
        ({"cpu": None, "ram": 1024}, "Missing VM cloud properties: 'cpu', 'ephemeral_disk_size'"),
        ({"cpu": 0, "ram": 1024, "ephemeral_disk_size": 1024}, "'vm_resources.cpu' must be at least 1, got 0"),
        ({"cpu": 1.5, "ram": 1024, "ephemeral_disk_size": 1024}, "'vm_resources.cpu' must be an integer, got number"),
        ({"cpu": 1, "ram": "lots", "ephemeral_disk_size": 1024}, "'vm_resources.ram' must be an integer, got string"),
        ("big", "'vm_resources' must be an object, got string"),
    ],
)
def test_calculate_vm_cloud_properties_refusals(resources, message):
    c, vms = call()
    with pytest.raises(InvalidArgument) as caught:
        calculate_vm_cloud_properties(c, resources)
    assert caught.value.message == message
    assert vms.calls == []
