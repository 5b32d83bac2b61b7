"""Persistent disks and snapshots through bin/cpi against the ARM emulator: the whole disk cycle on a zonal VM
(create → attach (hint) → get_disks → snapshot → set_disk_metadata → detach → resize → update → deletes),
concurrent attaches to one VM, the error types the Director maps, and legacy / unmanaged disk CIDs."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest

from tests import peers as P  # noqa: N812 - short alias for the harness
from tests.integration import vm_support as V  # noqa: N812

SIZE = "Standard_D4s_v5"  # premium-capable, 8 data disks (the ephemeral disk takes LUN 0)
ZONE = "2"
DISK_API = "2026-03-02"
NOT_FOUND = "Bosh::Clouds::DiskNotFound"
VM_NOT_FOUND = "Bosh::Clouds::VMNotFound"
NOT_ATTACHED = "Bosh::Clouds::DiskNotAttached"
NOT_SUPPORTED = "Bosh::Clouds::NotSupported"
CPI_ERROR = "Bosh::Clouds::CpiError"
MISSING_AGENT = str(uuid.uuid4())
MISSING_VM = V.vm_cid(MISSING_AGENT)
MISSING_DISK = f"caching:None;disk_name:bosh-disk-data-{uuid.uuid4()};resource_group_name:{V.RG}"

Runner = Callable[..., P.CpiResponse]


@pytest.fixture(scope="module")
def stemcell(peers, cpi_config_path):
    return V.shared_stemcell(peers, cpi_config_path)


@dataclass(frozen=True, slots=True)
class SharedVm:
    vm: V.CreatedVm
    loose_disk: str  # a detached disk next to the VM


@pytest.fixture(scope="module")
def shared(peers, cpi_config_path, stemcell, tmp_path_factory) -> Iterator[SharedVm]:
    """One zonal VM and one detached disk for the tests that leave the VM as they found it."""
    run = V.cpi_runner(cpi_config_path, tmp_path_factory.mktemp("disks"))
    vm = V.create_vm(run, peers, stemcell, {"instance_type": SIZE, "availability_zone": ZONE}, {"d": V.dynamic()})
    loose = run("create_disk", 1024, {}, vm.cid).unwrap()
    yield SharedVm(vm, loose)
    assert run("delete_vm", vm.cid).unwrap() is None
    assert run("delete_disk", loose).unwrap() is None
    assert V.left_behind(peers, vm.before) == []


def managed_cid(name: str, caching: str = "None") -> str:
    return f"caching:{caching};disk_name:{name};resource_group_name:{V.RG}"


def vm_patches(peers: P.Peers, vm: V.CreatedVm, since: int) -> int:
    return peers.emulator.requests.count("PATCH", f"/virtualMachines/{vm.agent_id}$", since=since)


def disk_writes(peers: P.Peers, name: str, since: int) -> int:
    return sum(peers.emulator.requests.count(m, f"/disks/{name}$", since=since) for m in ("PUT", "PATCH"))


# ---- the whole cycle ---------------------------------------------------------------------------------------------


def test_disk_cycle(cpi, peers, stemcell):
    vm = V.create_vm(cpi, peers, stemcell, {"instance_type": SIZE, "availability_zone": ZONE}, {"d": V.dynamic()})
    cid, name = create_next_to(cpi, peers, vm)
    attach(cpi, peers, vm, cid, name)
    snapshot = take_snapshot(cpi, peers, vm, cid, name)
    set_metadata(cpi, peers, cid, name)
    detach(cpi, peers, vm, cid, name)
    resize(cpi, peers, cid, name)
    update(cpi, peers, cid, name)

    for _ in range(2):
        assert cpi("delete_snapshot", snapshot).unwrap() is None
    assert V.resource(peers, V.compute_id("snapshots", V.disk_name(snapshot))) is None
    for _ in range(2):
        assert cpi("delete_disk", cid).unwrap() is None
    assert V.resource(peers, V.compute_id("disks", name)) is None
    assert cpi("has_disk", cid).unwrap() is False

    kept = keep_attached_disk_through_delete_vm(cpi, peers, vm)
    assert cpi("delete_disk", kept).unwrap() is None
    assert V.left_behind(peers, vm.before) == []


def create_next_to(cpi: Runner, peers: P.Peers, vm: V.CreatedVm) -> tuple[str, str]:
    """With a vm_cid the disk takes the VM's group, location and zone, and Premium_LRS (the size has PremiumIO);
    1500 MiB round up to 2 GiB."""
    cid = cpi("create_disk", 1500, {}, vm.cid).unwrap()
    name = V.disk_name(cid)
    assert re.fullmatch(r"bosh-disk-data-[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", name)
    assert cid == managed_cid(name)
    disk = V.disk(peers, name)
    assert (disk["location"], disk["zones"], disk["sku"]["name"]) == ("eastus", [ZONE], "Premium_LRS")
    assert disk["properties"]["diskSizeGB"] == 2
    assert disk["properties"]["creationData"]["createOption"] == "Empty"
    assert disk["tags"] == {"user-agent": "bosh", "caching": "None"}
    assert cpi("has_disk", cid).unwrap() is True
    assert cpi("get_disks", vm.cid).unwrap() == []
    return cid, name


def attach(cpi: Runner, peers: P.Peers, vm: V.CreatedVm, cid: str, name: str) -> None:
    """v2 answers the agent's hint (``lun`` a string); attaching again is a no-op and v1 answers null."""
    assert cpi("attach_disk", vm.cid, cid).unwrap() == {"lun": "1", "host_device_id": V.HOST_DEVICE_ID}
    assert V.persistent_disks(peers, vm.agent_id) == {name: 1}
    [entry] = [d for d in vm.body(peers)["properties"]["storageProfile"]["dataDisks"] if d["name"] == name]
    assert (entry["caching"], entry["deleteOption"], entry["createOption"]) == ("None", "Detach", "Attach")
    assert vm.body(peers)["tags"][f"disk-id-{name}"] == cid
    disk = V.disk(peers, name)
    assert V.same_id(disk["managedBy"], vm.id)
    assert disk["properties"]["diskState"] == "Attached"

    mark = peers.emulator.requests.mark()
    assert cpi("attach_disk", vm.cid, cid, api_version=1).unwrap() is None
    assert cpi("attach_disk", vm.cid, cid).unwrap() == {"lun": "1", "host_device_id": V.HOST_DEVICE_ID}
    assert vm_patches(peers, vm, mark) == 0
    assert cpi("get_disks", vm.cid).unwrap() == [cid]


def take_snapshot(cpi: Runner, peers: P.Peers, vm: V.CreatedVm, cid: str, name: str) -> str:
    """An incremental snapshot of the attached disk, tagged with the Director's metadata (``index`` an integer)."""
    metadata = {"deployment": "dep", "job": "db", "index": 0, "director_name": "bosh", "director_uuid": "d-1",
                "agent_id": vm.agent_id, "instance_id": "db-1"}  # fmt: skip
    snapshot = cpi("snapshot_disk", cid, metadata).unwrap()
    snapshot_name = V.disk_name(snapshot)
    assert snapshot == managed_cid(snapshot_name) and snapshot_name != name
    assert snapshot_name.startswith("bosh-disk-data-")
    body = V.resource(peers, V.compute_id("snapshots", snapshot_name))
    assert body is not None
    assert body["properties"]["incremental"] is True
    assert V.same_id(body["properties"]["creationData"]["sourceResourceId"], V.compute_id("disks", name))
    assert body["location"] == "eastus"
    assert body["tags"] == {**{k: str(v) for k, v in metadata.items()}, "original": name}
    return str(snapshot)


def set_metadata(cpi: Runner, peers: P.Peers, cid: str, name: str) -> None:
    """Tags merge into the disk's (values cut at Azure's 256 characters); the CPI's own tags stay."""
    first = {"director": "bosh", "deployment": "dep", "instance_group": "db", "instance_index": "0"}
    assert cpi("set_disk_metadata", cid, first).unwrap() is None
    assert cpi("set_disk_metadata", cid, {"deployment": "dep-2", "attached_at": "x" * 300}).unwrap() is None
    expected = {"user-agent": "bosh", "caching": "None", **first, "deployment": "dep-2", "attached_at": "x" * 256}
    assert V.disk(peers, name)["tags"] == expected


def detach(cpi: Runner, peers: P.Peers, vm: V.CreatedVm, cid: str, name: str) -> None:
    assert cpi("detach_disk", vm.cid, cid).unwrap() is None
    assert V.persistent_disks(peers, vm.agent_id) == {}
    assert f"disk-id-{name}" not in vm.body(peers)["tags"]
    disk = V.disk(peers, name)
    assert "managedBy" not in disk and disk["properties"]["diskState"] == "Unattached"
    assert cpi("get_disks", vm.cid).unwrap() == []
    error_type, message, _ = V.error_of(cpi("detach_disk", vm.cid, cid))
    assert error_type == NOT_ATTACHED and cid in message


def resize(cpi: Runner, peers: P.Peers, cid: str, name: str) -> None:
    """Grow only, rounding up to GiB like create_disk; the same size sends nothing; shrinking is NotSupported."""
    mark = peers.emulator.requests.mark()
    assert cpi("resize_disk", cid, 2048).unwrap() is None
    assert disk_writes(peers, name, mark) == 0
    assert cpi("resize_disk", cid, 4097).unwrap() is None
    assert V.disk(peers, name)["properties"]["diskSizeGB"] == 5
    error_type, message, retry = V.error_of(cpi("resize_disk", cid, 4096))
    assert (error_type, retry) == (NOT_SUPPORTED, False)
    assert message == f"Disk '{name}' cannot shrink from 5 GiB to 4 GiB"
    assert V.disk(peers, name)["properties"]["diskSizeGB"] == 5


def update(cpi: Runner, peers: P.Peers, cid: str, name: str) -> None:
    """Type and size change in place; caching, shrinking and conversions Azure refuses are NotSupported (the
    Director then copies the data to a new disk), and leave the disk as it was."""
    assert cpi("update_disk", cid, 6144, {"storage_account_type": "StandardSSD_LRS"}).unwrap() is None
    disk = V.disk(peers, name)
    assert (disk["sku"]["name"], disk["properties"]["diskSizeGB"]) == ("StandardSSD_LRS", 6)
    mark = peers.emulator.requests.mark()
    assert cpi("update_disk", cid, 6144, {"storage_account_type": "StandardSSD_LRS"}).unwrap() is None
    assert disk_writes(peers, name, mark) == 0

    refused = [
        (6144, {"caching": "ReadOnly"}, "Disk caching cannot be modified"),
        (5120, {}, "Disk size cannot be decreased"),
        (6144, {"storage_account_type": "UltraSSD_LRS"},
         "Changing a disk's account type from 'StandardSSD_LRS' to 'UltraSSD_LRS' is not supported."),
    ]  # fmt: skip
    for size, props, text in refused:
        error_type, message, retry = V.error_of(cpi("update_disk", cid, size, props))
        assert (error_type, retry) == (NOT_SUPPORTED, False), props
        assert text in message, props
    error_type, message, _ = V.error_of(cpi("update_disk", cid, 6144, {"iops": 3000}))
    assert error_type == CPI_ERROR and "'iops' and 'mbps' can only be set for" in message
    disk = V.disk(peers, name)
    assert (disk["sku"]["name"], disk["properties"]["diskSizeGB"]) == ("StandardSSD_LRS", 6)

    v2 = {"storage_account_type": "PremiumV2_LRS", "iops": 3100, "mbps": 130}
    assert cpi("update_disk", cid, 10240, v2).unwrap() is None  # Premium SSD v2: up to 500 IOPS per GiB
    assert cpi("update_disk", cid, 10240, {"storage_account_type": "PremiumV2_LRS", "iops": 4000}).unwrap() is None
    disk = V.disk(peers, name)
    assert (disk["sku"]["name"], disk["properties"]["diskSizeGB"]) == ("PremiumV2_LRS", 10)
    assert (disk["properties"]["diskIOPSReadWrite"], disk["properties"]["diskMBpsReadWrite"]) == (4000, 130)


def keep_attached_disk_through_delete_vm(cpi: Runner, peers: P.Peers, vm: V.CreatedVm) -> str:
    """delete_vm with a persistent disk still attached detaches it and never deletes it (cpi-protocol.md)."""
    cid = cpi("create_disk", 1024, {"caching": "ReadOnly"}, vm.cid).unwrap()
    name = V.disk_name(cid)
    assert cid == managed_cid(name, "ReadOnly")
    assert cpi("attach_disk", vm.cid, cid).unwrap() == {"lun": "1", "host_device_id": V.HOST_DEVICE_ID}
    assert cpi("delete_vm", vm.cid).unwrap() is None
    assert cpi("has_vm", vm.cid).unwrap() is False
    disk = V.disk(peers, name)
    assert "managedBy" not in disk and disk["properties"]["diskState"] == "Unattached"
    assert cpi("has_disk", cid).unwrap() is True
    return str(cid)


def test_create_disk_without_a_vm_uses_the_global_group_and_location(cpi, peers):
    props = {"storage_account_type": "StandardSSD_LRS", "caching": "ReadWrite"}
    cid = cpi("create_disk", 3073, props, None).unwrap()
    name = V.disk_name(cid)
    assert cid == managed_cid(name, "ReadWrite")
    disk = V.disk(peers, name)
    assert (disk["location"], disk.get("zones"), disk["sku"]["name"]) == ("eastus", None, "StandardSSD_LRS")
    assert disk["properties"]["diskSizeGB"] == 4
    assert disk["tags"] == {"user-agent": "bosh", "caching": "ReadWrite"}
    assert cpi("delete_disk", cid).unwrap() is None
    assert cpi("has_disk", cid).unwrap() is False


# ---- concurrent attaches -----------------------------------------------------------------------------------------

CONCURRENT = 4


def test_concurrent_attaches_keep_every_disk(cpi, peers, shared):
    vm = shared.vm
    with ThreadPoolExecutor(max_workers=CONCURRENT) as pool:
        cids = [r.unwrap() for r in pool.map(lambda _: cpi("create_disk", 1024, {}, vm.cid), range(CONCURRENT))]
        hints = [r.unwrap() for r in pool.map(lambda c: cpi("attach_disk", vm.cid, c), cids)]
    luns = [int(hint["lun"]) for hint in hints]
    assert sorted(luns) == list(range(1, CONCURRENT + 1))
    assert all(isinstance(hint["lun"], str) and hint == {**hint, "host_device_id": V.HOST_DEVICE_ID} for hint in hints)
    assert all(set(hint) == {"lun", "host_device_id"} for hint in hints)
    names = [V.disk_name(c) for c in cids]
    assert V.persistent_disks(peers, vm.agent_id) == dict(zip(names, luns, strict=True))
    assert sorted(cpi("get_disks", vm.cid).unwrap()) == sorted(cids)
    tags = vm.body(peers)["tags"]
    assert {name: tags.get(f"disk-id-{name}") for name in names} == dict(zip(names, cids, strict=True))
    for name in names:
        assert V.same_id(V.disk(peers, name)["managedBy"], vm.id)

    assert_attached_disk_stays_as_it_is(cpi, peers, cids[0])

    with ThreadPoolExecutor(max_workers=CONCURRENT) as pool:
        assert [r.unwrap() for r in pool.map(lambda c: cpi("detach_disk", vm.cid, c), cids)] == [None] * CONCURRENT
        assert [r.unwrap() for r in pool.map(lambda c: cpi("delete_disk", c), cids)] == [None] * CONCURRENT
    assert V.persistent_disks(peers, vm.agent_id) == {}
    assert not [tag for tag in vm.body(peers)["tags"] if tag.startswith("disk-id-")]
    assert not [name for name in names if V.resource(peers, V.compute_id("disks", name)) is not None]


def assert_attached_disk_stays_as_it_is(cpi: Runner, peers: P.Peers, cid: str) -> None:
    """Azure refuses to delete a disk attached to a VM (an error, not a silent success), and to resize or convert
    one attached to a running VM: NotSupported, so the Director falls back to copying."""
    error_type, message, _ = V.error_of(cpi("delete_disk", cid))
    assert error_type == "Bosh::Clouds::CloudError" and "is attached to VM" in message
    for method, arguments in (
        ("resize_disk", (2048,)),
        ("update_disk", (1024, {"storage_account_type": "Standard_LRS"})),
    ):
        error_type, message, retry = V.error_of(cpi(method, cid, *arguments))
        assert (error_type, retry) == (NOT_SUPPORTED, False), (method, message)
        assert V.disk_name(cid) in message and "deallocated" in message, method
    disk = V.disk(peers, V.disk_name(cid))
    assert (disk["sku"]["name"], disk["properties"]["diskSizeGB"]) == ("Premium_LRS", 1)


# ---- error types ---------------------------------------------------------------------------------------------------


def error_cases(shared: SharedVm) -> list[tuple[str, tuple[Any, ...], str, str]]:
    """(method, arguments, error type, text the message names)."""
    vm, loose, missing_name = shared.vm.cid, shared.loose_disk, V.disk_name(MISSING_DISK)
    return [
        ("create_disk", (1024, {}, MISSING_VM), VM_NOT_FOUND, MISSING_AGENT),
        ("attach_disk", (MISSING_VM, loose), VM_NOT_FOUND, MISSING_AGENT),
        ("attach_disk", (vm, MISSING_DISK), NOT_FOUND, MISSING_DISK),
        ("detach_disk", (MISSING_VM, loose), VM_NOT_FOUND, MISSING_AGENT),
        ("detach_disk", (vm, loose), NOT_ATTACHED, loose),
        ("detach_disk", (vm, MISSING_DISK), NOT_ATTACHED, MISSING_DISK),
        ("snapshot_disk", (MISSING_DISK, {}), NOT_FOUND, missing_name),
        ("set_disk_metadata", (MISSING_DISK, {"job": "db"}), NOT_FOUND, missing_name),
        ("resize_disk", (MISSING_DISK, 2048), NOT_FOUND, missing_name),
        ("update_disk", (MISSING_DISK, 2048, {}), NOT_FOUND, missing_name),
    ]


def test_missing_vms_and_disks_give_the_types_the_director_maps(cpi, peers, shared):
    for method, arguments, expected, named in error_cases(shared):
        error_type, message, _ = V.error_of(cpi(method, *arguments))
        assert error_type == expected, (method, arguments, message)
        assert named in message, (method, message)
    assert cpi("has_disk", MISSING_DISK).unwrap() is False
    assert cpi("delete_disk", MISSING_DISK).unwrap() is None
    assert cpi("delete_snapshot", MISSING_DISK).unwrap() is None
    assert V.persistent_disks(peers, shared.vm.agent_id) == {}


BAD_DISK_CIDS = [
    ("has_disk", "caching:Sometimes;disk_name:bosh-disk-data-x;resource_group_name:bosh-rg"),
    ("delete_disk", "caching:None;resource_group_name:bosh-rg"),
    ("snapshot_disk", "caching:None;disk_name:bosh-disk-data-x;resource_group_name:"),
    ("set_disk_metadata", "caching:None;disk_name:bosh disk;resource_group_name:bosh-rg"),
    ("delete_snapshot", "snapshot-1"),
    ("resize_disk", "bosh-disk-data-x-"),
]


def test_bad_disk_cids_are_refused_naming_the_cid(cpi, shared):
    extra = {"snapshot_disk": ({},), "set_disk_metadata": ({"a": "b"},), "resize_disk": (2048,)}
    for method, bad in BAD_DISK_CIDS:
        error_type, message, retry = V.error_of(cpi(method, bad, *extra.get(method, ())))
        assert (error_type, retry) == (CPI_ERROR, False), (method, message)
        assert bad in message, (method, message)
    bad_vm = "agent_id:;resource_group_name:bosh-rg"
    for method, arguments, bad in (("attach_disk", (bad_vm, shared.loose_disk), bad_vm),
                                   ("detach_disk", (shared.vm.cid, "no-such-format"), "no-such-format")):  # fmt: skip
        error_type, message, _ = V.error_of(cpi(method, *arguments))
        assert error_type == CPI_ERROR and bad in message, (method, message)


def test_legacy_ruby_managed_disk_cids_work(cpi, peers, shared):
    """A Ruby CPI v1 managed disk: its resource name is the CID, ``bosh-disk-data-<uuid>-<caching>``; a v2 CID
    without ``resource_group_name`` means the global resource group."""
    vm = shared.vm
    plain = f"bosh-disk-data-{uuid.uuid4()}-ReadOnly"
    body = {"location": "eastus", "zones": [ZONE], "sku": {"name": "Premium_LRS"},
            "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 4}}  # fmt: skip
    peers.emulator.seed(f"{V.compute_id('disks', plain)}?api-version={DISK_API}", body, DISK_API)
    assert cpi("has_disk", plain).unwrap() is True
    assert cpi("attach_disk", vm.cid, plain).unwrap() == {"lun": "1", "host_device_id": V.HOST_DEVICE_ID}
    [entry] = vm.body(peers)["properties"]["storageProfile"]["dataDisks"][1:]
    assert (entry["name"], entry["caching"]) == (plain, "ReadOnly")
    assert cpi("get_disks", vm.cid).unwrap() == [plain]
    assert cpi("detach_disk", vm.cid, plain).unwrap() is None
    no_group = f"caching:ReadOnly;disk_name:{plain}"
    assert cpi("has_disk", no_group).unwrap() is True
    assert cpi("delete_disk", plain).unwrap() is None
    assert cpi("has_disk", no_group).unwrap() is False


UNMANAGED_ID = "0f1e2d3c-0000-4000-8000-000000000009"
UNMANAGED = [
    f"caching:None;disk_name:bosh-data-{UNMANAGED_ID};storage_account_name:devstoreaccount1",
    f"bosh-data-devstoreaccount1-{UNMANAGED_ID}-ReadWrite",
]


@pytest.mark.parametrize("unmanaged", UNMANAGED, ids=["v2", "v1"])
def test_unmanaged_disk_cids_are_not_supported(cpi, shared, unmanaged):
    calls = [("has_disk", (unmanaged,)), ("delete_disk", (unmanaged,)), ("attach_disk", (shared.vm.cid, unmanaged)),
             ("detach_disk", (shared.vm.cid, unmanaged)), ("snapshot_disk", (unmanaged, {}))]  # fmt: skip
    for method, arguments in calls:
        error_type, message, retry = V.error_of(cpi(method, *arguments))
        assert (error_type, retry) == (NOT_SUPPORTED, False), (method, message)
        assert UNMANAGED_ID in message and "unmanaged (blob) disk" in message and "managed disks only" in message
