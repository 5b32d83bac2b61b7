"""VmCreator and VmAssembly against fakes: the create_vm sequence, exact rollback, retry flags, references."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from bosh_azure_cpi.errors import AzureError, DeadlineExceeded, InvalidArgument
from bosh_azure_cpi.models.cids import DiskCid
from bosh_azure_cpi.models.images import VmImage
from tests.fakes.config import RESOURCE_GROUP, SUBSCRIPTION
from tests.fakes.fake_network import FakeNetworkService
from tests.fakes.fake_vm import AGENT, MANUAL, vm_request
from tests.fakes.fake_vm_world import azure_error, world

RG = RESOURCE_GROUP
OS_DISK = f"bosh-disk-os-{AGENT}"
EPHEMERAL = f"bosh-disk-os-{AGENT}-ephemeral-disk"
DYNAMIC = {"type": "dynamic", "cloud_properties": {"virtual_network_name": "fake-vnet", "subnet_name": "fake-dyn"}}
PROPS = {"instance_type": "Standard_D2s_v5", "assign_dynamic_public_ip": True, "availability_set": "fake-set"}
TWO_NICS = {"fake-net": MANUAL, "fake-dyn": DYNAMIC}
DELETES = ("delete_vm", "delete_disk", "delete_nic", "delete_public_ip", "delete_availability_set_if_empty")


def test_create_sends_each_request_once_in_order():
    w = world()
    cid = w.create(vm_request(PROPS, TWO_NICS))
    assert cid == f"agent_id:{AGENT};resource_group_name:{RG}"
    writes = w.log.writes()
    assert sorted(writes[:2]) == [
        ("create_public_ip", RG, AGENT, "eastus", ""),
        ("ensure_availability_set", RG, "fake-set", "eastus"),
    ]
    assert writes[2:] == [("create_nic", RG, f"{AGENT}-0"), ("create_nic", RG, f"{AGENT}-1"), ("create_vm", RG, AGENT)]
    assert "vnet_location" not in [call[0] for call in w.log]  # the configured location is used
    assert w.log.named("resolve") == [("resolve", "bosh-stemcell-0b9a1f3e-5c1d-4d8e-a2b7-6f0e8d9c1b22", "eastus")]


def test_the_vm_body_references_what_was_prepared():
    w = world()
    w.create(vm_request(PROPS, TWO_NICS, env={"bosh": {"tags": {"deployment": "fake-dep"}}}))
    body = w.vms.bodies[0].as_dict()
    props = body["properties"]
    assert body["location"] == "eastus"
    assert body["tags"] == {"user-agent": "bosh", "deployment": "fake-dep"}
    assert props["availabilitySet"]["id"].endswith("/availabilitySets/fake-set")
    assert [nic["id"].rsplit("/", 1)[1] for nic in props["networkProfile"]["networkInterfaces"]] == [
        f"{AGENT}-0",
        f"{AGENT}-1",
    ]
    assert props["storageProfile"]["imageReference"] == {"id": w.stemcells.image.image_id}
    assert props["storageProfile"]["osDisk"]["managedDisk"] == {"storageAccountType": "Premium_LRS"}
    assert props["storageProfile"]["dataDisks"][0]["name"] == EPHEMERAL
    assert props["osProfile"]["adminUsername"] == "vcap"


def test_the_agent_settings_in_custom_data():
    w = world()
    w.create(vm_request(PROPS, TWO_NICS, env={"bosh": {"group": "g", "password": "fake-secret"}}))
    settings = w.settings()
    assert settings["server"] == {"name": f"agent_id:{AGENT};resource_group_name:{RG}"}
    assert (settings["agent_id"], settings["vm"], settings["dns"]) == (
        AGENT,
        {"name": AGENT},
        {"nameserver": MANUAL["dns"]},
    )
    assert settings["networks"] == {"fake-net": {**MANUAL, "use_dhcp": True}, "fake-dyn": {**DYNAMIC, "use_dhcp": True}}
    assert settings["disks"]["ephemeral"] == {"lun": "0", "host_device_id": "{f8b3781b-1e82-4818-a1c3-63d806ec15bb}"}
    assert settings["env"] == {"bosh": {"group": "g", "password": "fake-secret"}}
    assert (settings["mbus"], settings["ntp"]) == ("nats://fake-director:4222", ["fake-ntp"])


def test_no_ephemeral_hint_when_the_root_disk_is_used():
    w = world()
    w.create(vm_request({"instance_type": "Standard_D2_v5", "ephemeral_disk": {"use_root_disk": True}}))
    assert "ephemeral" not in w.settings()["disks"]
    assert w.vms.bodies[0].as_dict()["properties"]["storageProfile"]["dataDisks"] == []


def test_nics_primary_first_with_pip_pools_and_the_availability_set_tag():
    w = world()
    props = PROPS | {"load_balancer": "fake-lb", "application_gateway": {"name": "fake-agw", "backend_pool_name": "p"}}
    w.create(vm_request(props, TWO_NICS))
    first, second = w.network.nic_specs
    assert first.public_ip_id.endswith(f"/publicIPAddresses/{AGENT}")
    assert (first.backend_pool_ids, first.nat_rule_ids) == (("lb-pool:fake-lb/first",), ("nat:fake-lb",))
    assert first.gateway_pool_ids == ("agw-pool:fake-agw/p",)
    assert first.tags == {"user-agent": "bosh", "availability_set": "fake-set"}
    assert (first.location, first.subnet_ids) == ("eastus", ("subnet:fake-vnet/fake-subnet",))
    assert (second.public_ip_id, second.backend_pool_ids, second.nat_rule_ids, second.gateway_pool_ids) == (
        "",
        (),
        (),
        (),
    )
    assert second.tags == {"user-agent": "bosh"}
    assert second.networks[0].name == "fake-dyn"


def test_a_vip_is_looked_up_not_created_and_goes_on_its_nic_group():
    w = world()
    networks = {
        "a": {**MANUAL, "nic_group": "1"},
        "b": {**DYNAMIC, "nic_group": "2"},
        "public": {"type": "vip", "ip": "20.1.2.3", "nic_group": "2"},
    }
    w.create(vm_request(PROPS, networks))
    assert [spec.public_ip_id for spec in w.network.nic_specs] == ["", "pip-of:20.1.2.3"]
    assert w.log.named("create_public_ip") == []
    assert w.log.named("public_ip_id_by_address") == [("public_ip_id_by_address", "20.1.2.3", "")]
    assert w.settings()["networks"]["a"]["alias"] == "eth0"
    assert w.settings()["networks"]["b"]["alias"] == "eth1"


@pytest.mark.parametrize(
    ("props", "network", "default", "expected"),
    [
        ({}, {}, None, []),
        ({}, {"security_group": "fake-net-nsg"}, "fake-default", [("fake-net-nsg", "", RG)]),
        ({"security_group": "fake-vm-nsg"}, {"security_group": "fake-net-nsg"}, None, [("fake-vm-nsg", "", RG)]),
        ({}, {}, "fake-default", [("fake-default", "", RG)]),
        ({"security_group": {"name": "n", "resource_group_name": "r"}}, {}, None, [("n", "r", RG)]),
        ({}, {"resource_group_name": "fake-net-rg", "security_group": "n"}, None, [("n", "", "fake-net-rg")]),
    ],
)
def test_security_group_precedence(props, network, default, expected):
    w = world(default_security_group=default)
    cloud = {**MANUAL["cloud_properties"], **network}
    w.create(vm_request({"instance_type": "Standard_D2_v5", **props}, {"n": {**MANUAL, "cloud_properties": cloud}}))
    assert [call[1:] for call in w.log.named("security_group_id")] == expected
    nsg = w.network.nic_specs[0].security_group_id
    assert nsg == (f"nsg:{expected[0][1] or expected[0][2]}/{expected[0][0]}" if expected else "")


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({}, ("asg:fake-rg/fake-net-asg",)),
        ({"application_security_groups": ["fake-vm-asg"]}, ("asg:fake-rg/fake-vm-asg",)),
        ({"application_security_groups": []}, ()),
    ],
)
def test_vm_type_application_security_groups_replace_the_networks(props, expected):
    w = world()
    cloud = {**MANUAL["cloud_properties"], "application_security_groups": ["fake-net-asg"]}
    w.create(vm_request({"instance_type": "Standard_D2_v5", **props}, {"n": {**MANUAL, "cloud_properties": cloud}}))
    assert w.network.nic_specs[0].application_security_group_ids == expected


@pytest.mark.parametrize(("vm", "network", "expected"), [(None, True, True), (False, True, False), (True, False, True)])
def test_ip_forwarding_and_accelerated_networking_vm_type_wins(vm, network, expected):
    w = world()
    cloud = {**MANUAL["cloud_properties"], "ip_forwarding": network, "accelerated_networking": network}
    props: dict[str, Any] = {"instance_type": "Standard_D2_v5"}
    if vm is not None:
        props |= {"ip_forwarding": vm, "accelerated_networking": vm}
    w.create(vm_request(props, {"n": {**MANUAL, "cloud_properties": cloud}}))
    spec = w.network.nic_specs[0]
    assert (spec.ip_forwarding, spec.accelerated_networking) == (expected, expected)


def test_the_location_comes_from_the_virtual_network_when_not_configured():
    w = world(location=None, compute_gallery_name=None)
    w.create(vm_request(PROPS | {"availability_zone": "2", "availability_set": None}))
    assert w.log.named("vnet_location") == [("vnet_location", RG, "fake-vnet")]
    assert w.vms.bodies[0].as_dict()["location"] == "westeurope"
    assert w.vms.bodies[0].as_dict()["zones"] == ["2"]
    assert w.log.named("create_public_ip") == [("create_public_ip", RG, AGENT, "westeurope", "2")]
    assert w.log.named("ensure_availability_set") == []


def test_the_vm_resource_group_of_the_vm_type():
    w = world()
    cid = w.create(vm_request(PROPS | {"resource_group_name": "fake-vm-rg"}))
    assert cid == f"agent_id:{AGENT};resource_group_name:fake-vm-rg"
    assert {call[1] for call in w.log.writes()} == {"fake-vm-rg"}


def test_attached_disks_identity_reservation_encryption_and_tags():
    w = world(default_managed_identity={"type": "UserAssigned", "user_assigned_identity_name": "fake-id"})
    props = {
        "instance_type": "Standard_D2_v5",
        "resource_group_name": "fake-vm-rg",
        "capacity_reservation_group": "fake-crg",
        "root_disk": {"disk_encryption_set_name": "fake-des"},
        "tags": {"deployment": "from-vm-type"},
    }
    disks = (
        DiskCid(disk_name="bosh-disk-data-a", caching="ReadOnly", resource_group_name="fake-disk-rg"),
        DiskCid(disk_name="bosh-disk-data-b", caching="None", resource_group_name=""),
    )
    w.create(vm_request(props, env={"bosh": {"tags": {"deployment": "d", "team": "t"}}}, disk_cids=disks))
    body = w.vms.bodies[0].as_dict()
    sub = f"/subscriptions/{SUBSCRIPTION}/resourceGroups"
    assert [
        (d.get("lun"), d["managedDisk"].get("id"), d["caching"])
        for d in body["properties"]["storageProfile"]["dataDisks"]
    ] == [
        (0, None, "ReadWrite"),
        (1, f"{sub}/fake-disk-rg/providers/Microsoft.Compute/disks/bosh-disk-data-a", "ReadOnly"),
        (2, f"{sub}/fake-vm-rg/providers/Microsoft.Compute/disks/bosh-disk-data-b", "None"),
    ]
    assert body["identity"] == {
        "type": "UserAssigned",
        "userAssignedIdentities": {
            f"{sub}/fake-vm-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/fake-id": {}
        },
    }
    assert body["properties"]["capacityReservation"]["capacityReservationGroup"]["id"] == (
        f"{sub}/fake-vm-rg/providers/Microsoft.Compute/capacityReservationGroups/fake-crg"
    )
    assert body["properties"]["storageProfile"]["osDisk"]["managedDisk"]["diskEncryptionSet"]["id"] == (
        f"{sub}/{RG}/providers/Microsoft.Compute/diskEncryptionSets/fake-des"
    )
    assert body["tags"] == {"user-agent": "bosh", "deployment": "from-vm-type", "team": "t"}


def test_the_vm_types_identity_wins_and_system_assigned_has_no_ids():
    w = world(default_managed_identity={"type": "UserAssigned", "user_assigned_identity_name": "fake-id"})
    w.create(vm_request({"instance_type": "Standard_D2_v5", "managed_identity": {"type": "SystemAssigned"}}))
    assert w.vms.bodies[0].as_dict()["identity"] == {"type": "SystemAssigned"}


@pytest.mark.parametrize(
    ("ephemeral", "update"),
    [({"iops": 3000, "mbps": 125}, (3000, 125)), ({"mbps": 125}, (None, 125)), ({}, None)],
)
def test_ephemeral_disk_performance_is_set_after_the_vm_is_created(ephemeral, update):
    w = world()
    w.create(vm_request({"instance_type": "Standard_D2s_v5", "ephemeral_disk": {"type": "PremiumV2_LRS", **ephemeral}}))
    expected = [("set_disk_performance", RG, EPHEMERAL, *update)] if update else []
    assert w.log.writes()[-len(expected) - 1 :] == [("create_vm", RG, AGENT), *expected]


ROLLBACK_ALL = [
    ("delete_vm", RG, AGENT),
    ("delete_disk", RG, EPHEMERAL),
    ("delete_disk", RG, OS_DISK),
    ("delete_nic", RG, f"{AGENT}-1"),
    ("delete_nic", RG, f"{AGENT}-0"),
    ("delete_public_ip", RG, AGENT),
    ("delete_availability_set_if_empty", RG, "fake-set"),
]


@pytest.mark.parametrize(
    ("method", "name", "deleted"),
    [
        ("resolve", None, ROLLBACK_ALL[-2:]),  # the other preparations ran to their end
        ("ensure_availability_set", None, ROLLBACK_ALL[-2:]),  # recorded before its request: it may exist
        ("create_public_ip", None, ROLLBACK_ALL[-2:]),
        ("create_nic", f"{AGENT}-0", ROLLBACK_ALL[-3:]),
        ("create_nic", f"{AGENT}-1", ROLLBACK_ALL[-4:]),
        ("create_vm", None, ROLLBACK_ALL),
        ("set_disk_performance", None, ROLLBACK_ALL),
    ],
)
def test_a_failure_deletes_exactly_what_was_created_newest_first(method, name, deleted):
    w = world()
    w.faults.add(method, azure_error(500, "InternalServerError", "fake-boom"), name=name)
    props = PROPS | {"ephemeral_disk": {"type": "PremiumV2_LRS", "iops": 3000}}
    error = w.fail(vm_request(props, TWO_NICS))
    assert error.message.endswith("InternalServerError: fake-boom")
    assert w.log.named(*DELETES) == deleted
    kinds = [call[0] for call in deleted]  # every NIC and VM request made is undone, nothing else
    assert len(w.log.named("create_nic")) == kinds.count("delete_nic")
    assert len(w.log.named("create_vm")) == kinds.count("delete_vm")


@pytest.mark.parametrize("keep", [False, True])
def test_without_anything_created_nothing_is_deleted_and_the_message_is_kept(keep):
    w = world(keep_failed_vms=keep)
    w.faults.add("resolve", InvalidArgument("fake-bad-stemcell"))
    error = w.fail(vm_request({"instance_type": "Standard_D2_v5"}))
    assert (error.message, error.ok_to_retry) == ("fake-bad-stemcell", False)
    assert w.log.named(*DELETES) == []


def test_rollback_goes_on_when_a_delete_fails():
    w = world()
    w.faults.add("create_vm", azure_error(500, "InternalServerError"))
    w.faults.add("delete_vm", azure_error(500, "InternalServerError"))
    w.faults.add("delete_nic", azure_error(409, "NicInUse"))
    w.fail(vm_request(PROPS, TWO_NICS))
    assert w.log.named(*DELETES) == ROLLBACK_ALL


def test_preparation_tasks_are_all_awaited_before_the_rollback():
    gate = threading.Event()

    class SlowNetwork(FakeNetworkService):
        def create_public_ip(self, group: str, name: str, location: str, zone: str) -> str:
            assert gate.wait(5), "the image failure never happened"
            return super().create_public_ip(group, name, location, zone)

    w = world(network=SlowNetwork())
    w.stemcells.before_error = gate.set
    w.faults.add("resolve", azure_error(404, "NotFound", "fake-no-image"))
    w.fail(vm_request(PROPS))
    calls = [call[0] for call in w.log]
    assert calls.index("create_public_ip") < calls.index("delete_public_ip")
    assert w.log.named(*DELETES) == [
        ("delete_public_ip", RG, AGENT),
        ("delete_availability_set_if_empty", RG, "fake-set"),
    ]


def test_keep_failed_vms_keeps_everything_and_names_it():
    w = world(keep_failed_vms=True)
    w.faults.add("create_vm", azure_error(409, "OperationNotAllowed", "fake-quota"))
    error = w.fail(vm_request(PROPS, TWO_NICS))
    assert w.log.named(*DELETES) == []
    assert error.message == (
        f"Creating VM '{AGENT}': OperationNotAllowed: fake-quota (kept for troubleshooting: availability_set 'fake-set', public_ip '{AGENT}', "
        f"nic '{AGENT}-0', nic '{AGENT}-1', disk '{OS_DISK}', disk '{EPHEMERAL}', vm '{AGENT}')"
    )


@pytest.mark.parametrize(
    ("error", "retry"),
    [
        (azure_error(429, "TooManyRequests"), True),
        (azure_error(500, "InternalServerError"), True),
        (azure_error(503, "ServerBusy"), True),
        (azure_error(409, "RetryableErrorDueToAnotherOperation"), True),
        (DeadlineExceeded("Creating VM did not finish within 60s"), True),
        (AzureError("Creating VM: cannot reach Azure: reset", ok_to_retry=True), True),
        (azure_error(409, "SkuNotAvailable"), False),
        (azure_error(409, "ZonalAllocationFailed"), False),
        (azure_error(200, "ZonalAllocationFailed"), False),  # an LRO that ended Failed
        (azure_error(409, "QuotaExceeded"), False),
        (azure_error(503, "QuotaExceeded"), False),
        (azure_error(400, "InvalidParameter"), False),
        (InvalidArgument("fake-bad-input"), False),
        (ValueError("fake-bug\nwith a traceback"), False),
    ],
)
def test_vm_creation_failed_is_retriable_only_when_waiting_can_help(error, retry):
    w = world()
    w.faults.add("create_vm", error)
    failure = w.fail(vm_request(PROPS))
    assert failure.ok_to_retry is retry
    assert failure.__cause__ is error
    assert failure.wire_type == "Bosh::Clouds::VMCreationFailed"


def test_the_message_names_instance_type_not_vm_size_and_unexpected_errors_are_one_line():
    w = world()
    w.faults.add(
        "create_vm", azure_error(409, "SkuNotAvailable", "The requested vmSize 'Standard_D2s_v5' is unavailable")
    )
    assert w.fail(vm_request(PROPS)).message == (
        f"Creating VM '{AGENT}': SkuNotAvailable: The requested instance_type 'Standard_D2s_v5' is unavailable"
    )
    w = world()
    w.faults.add("create_vm", ValueError("fake-bug\nwith a traceback"))
    assert w.fail(vm_request(PROPS)).message == "ValueError: fake-bug"


def test_custom_data_over_the_limit_fails_before_the_vm_request():
    w = world()
    error = w.fail(vm_request(PROPS, env={"bosh": {"pad": "x" * 70000}}))
    assert error.ok_to_retry is False
    assert error.message.startswith("The agent settings are ")
    assert w.log.named("create_vm") == []
    assert w.log.named(*DELETES) == [
        ("delete_nic", RG, f"{AGENT}-0"),
        ("delete_public_ip", RG, AGENT),
        ("delete_availability_set_if_empty", RG, "fake-set"),
    ]


def test_windows_stemcells_are_refused_after_cleaning_up():
    w = world(image=VmImage(image_id="fake-windows", os_type="Windows"))
    error = w.fail(vm_request({"instance_type": "Standard_D2_v5"}))
    assert error.message == "Stemcells with os_type 'Windows' are not supported by this CPI (Linux only)"
    assert w.log.named(*DELETES) == [("delete_nic", RG, f"{AGENT}-0")]


VANISHED = AzureError(
    f"Creating VM '{AGENT}': NotFound: Availability set /subscriptions/{SUBSCRIPTION}/resourceGroups/{RG}/"
    "providers/Microsoft.Compute/availabilitySets/fake-set was not found",
    code="NotFound",
    status=404,
)


@pytest.mark.parametrize("times", [1, 2])
def test_a_vanished_availability_set_is_recreated_once(times):
    w = world()
    w.faults.add("create_vm", VANISHED, times=times)
    if times == 1:
        w.create(vm_request(PROPS))
    else:
        w.fail(vm_request(PROPS))
    writes = [call[0] for call in w.log.writes()]
    first = writes.index("create_vm")
    assert writes[first : first + 3] == ["create_vm", "ensure_availability_set", "create_vm"]
    assert len(w.log.named("create_vm")) == 2
    assert w.log.named("delete_vm") == ([] if times == 1 else [("delete_vm", RG, AGENT)])


def test_other_not_found_errors_are_not_retried():
    w = world()
    w.faults.add("create_vm", AzureError("Creating VM: NotFound: image gone", code="NotFound", status=404))
    w.fail(vm_request(PROPS))
    assert len(w.log.named("create_vm")) == 1
    assert len(w.log.named("ensure_availability_set")) == 1


def test_an_interrupt_still_rolls_back_and_propagates():
    w = world()
    w.faults.add("create_vm", KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        w.creator().create(vm_request(PROPS, TWO_NICS))
    assert w.log.named(*DELETES) == ROLLBACK_ALL


def test_a_capacity_reservation_group_id_is_used_verbatim():
    w = world()
    crg = "/subscriptions/fake-other-sub/resourceGroups/r/providers/Microsoft.Compute/capacityReservationGroups/c"
    w.create(vm_request({"instance_type": "Standard_D2_v5", "capacity_reservation_group_id": crg}))
    assert w.vms.bodies[0].as_dict()["properties"]["capacityReservation"] == {"capacityReservationGroup": {"id": crg}}


def test_cleanup_after_a_deadline_gets_a_fresh_deadline():
    w = world()
    w.faults.add("create_vm", DeadlineExceeded("Creating VM x did not finish within 60s"))
    error = w.fail(vm_request())
    assert error.ok_to_retry
    assert w.vms.cleanup_deadline.remaining() > 60
    assert w.network.cleanup_deadline.remaining() > 60
