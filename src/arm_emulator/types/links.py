"""References between resources that a VM write or deletion changes: disk ownership (``managedBy``,
``diskState``), a NIC's ``virtualMachine`` and an availability set's ``virtualMachines``.

Only the side-effect hooks of types call these (see :mod:`arm_emulator.types.base`). Compute reports
availability-set members and a VM's availability set with the resource group and name upper-cased,
and so does the emulator (:func:`compute_casing`): clients must compare ids case-insensitively.
"""

from __future__ import annotations

from arm_emulator.ids import parse_resource_id
from arm_emulator.store import Record
from arm_emulator.types.base import Ctx
from arm_emulator.wire import iso_time, utc_now

ATTACHED, RESERVED, UNATTACHED = "Attached", "Reserved", "Unattached"


def compute_casing(resource_id: str, upper_name: bool = True) -> str:
    """``resource_id`` with its resource group (and name) upper-cased, as Compute prints references: an
    availability set as ``…/resourceGroups/RG/…/availabilitySets/SET``, a disk it created as
    ``…/resourceGroups/RG/…/disks/name``."""
    path = parse_resource_id(resource_id)
    if path is None or path.resource_group is None:
        return resource_id
    tail = "/".join(f"{t}/{n.upper() if upper_name else n}" for t, n in zip(path.types, path.names, strict=False))
    group = path.resource_group.upper()
    return f"/subscriptions/{path.subscription}/resourceGroups/{group}/providers/{path.namespace}/{tail}"


def same_id(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.lower() == b.lower()


def set_disk_owner(ctx: Ctx, disk_id: str, vm_id: str | None, state: str = UNATTACHED) -> None:
    """Attach the disk to ``vm_id`` in ``state`` (Attached/Reserved), or release it (``vm_id`` None)."""
    disk = ctx.store.get(disk_id)
    if disk is None:
        return
    if vm_id is None:
        disk.body.pop("managedBy", None)
        disk.properties()["diskState"] = UNATTACHED
    else:
        disk.body["managedBy"] = vm_id
        disk.properties()["diskState"] = state
        disk.properties()["LastOwnershipUpdateTime"] = iso_time(utc_now())
    disk.etag += 1


def set_nic_owner(ctx: Ctx, nic_id: str, vm_id: str | None, primary: bool = False) -> None:
    """Set or clear the NIC's read-only ``virtualMachine`` reference (and ``primary``)."""
    nic = ctx.store.get(nic_id)
    if nic is None:
        return
    if vm_id is None:
        nic.properties().pop("virtualMachine", None)
        nic.properties().pop("primary", None)
    else:
        nic.properties()["virtualMachine"] = {"id": vm_id}
        nic.properties()["primary"] = primary
    nic.etag += 1


def set_member(ctx: Ctx, set_id: str, vm_id: str, member: bool) -> None:
    """Add ``vm_id`` to (or remove it from) the availability set's ``virtualMachines``."""
    record = ctx.store.get(set_id)
    if record is None:
        return
    props = record.properties()
    members = [m for m in props.get("virtualMachines", []) if not same_id(m.get("id"), vm_id)]
    if member:
        members.append({"id": compute_casing(vm_id)})
    props["virtualMachines"] = members


def owner_of(record: Record) -> str | None:
    """The VM a disk (``managedBy``) or NIC (``virtualMachine.id``) belongs to."""
    if "managedBy" in record.body:
        return str(record.body["managedBy"])
    vm = record.body.get("properties", {}).get("virtualMachine")
    return str(vm["id"]) if isinstance(vm, dict) and vm.get("id") else None


def remove(ctx: Ctx, resource_id: str) -> None:
    """Delete a resource the VM owned (deleteOption Delete)."""
    ctx.store.remove_tree(resource_id)
