"""What a VM write or deletion does to other resources.

* create: the OS disk (unless ephemeral) and ``Empty`` data disks become ``Microsoft.Compute/disks``
  resources (``managedBy`` = the VM); attached disks get ``managedBy`` and ``diskState`` ``Attached``
  (``Reserved`` while the VM is deallocated); NICs get ``virtualMachine`` (and ``primary``); the
  availability set lists the VM;
* update: disks and NICs that left the VM are released, new ones attached;
* delete: each disk and NIC follows its ``deleteOption`` (``Delete`` removes it, ``Detach`` releases it)
  and the availability set forgets the VM.
"""

from __future__ import annotations

from typing import Any

from arm_emulator.store import Record
from arm_emulator.types import links, vm_images
from arm_emulator.types.base import Ctx
from arm_emulator.types.network_common import ref_id
from arm_emulator.types.vm_storage import new_disk_record_body


def _disks(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Managed disks of a VM body by lower-cased id → their storage-profile entry."""
    profile = body.get("properties", {}).get("storageProfile", {})
    found = {}
    for entry in [profile.get("osDisk") or {}, *(profile.get("dataDisks") or [])]:
        disk_id = entry.get("managedDisk", {}).get("id")
        if disk_id:
            found[str(disk_id).lower()] = entry
    return found


def _nics(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    refs = body.get("properties", {}).get("networkProfile", {}).get("networkInterfaces") or []
    return {str(r["id"]).lower(): r for r in refs if isinstance(r, dict) and r.get("id")}


def disk_state(record: Record) -> str:
    return links.RESERVED if record.meta.get("power") == "deallocated" else links.ATTACHED


def apply(ctx: Ctx, record: Record, old: dict[str, Any] | None) -> None:
    """Bring disks, NICs and the availability set in line with the VM's new body (``old``: previous body)."""
    before_disks, after_disks = _disks(old or {}), _disks(record.body)
    for key in before_disks.keys() - after_disks.keys():
        links.set_disk_owner(ctx, key, None)
    for key, entry in after_disks.items():
        if key in before_disks:
            continue
        if ctx.store.get(key) is None:
            _create_disk(ctx, record, entry)
        links.set_disk_owner(ctx, key, record.id, disk_state(record))
    before_nics, after_nics = _nics(old or {}), _nics(record.body)
    for key in before_nics.keys() - after_nics.keys():
        links.set_nic_owner(ctx, key, None)
    for key, ref in after_nics.items():
        links.set_nic_owner(ctx, key, record.id, bool(ref.get("properties", {}).get("primary", len(after_nics) == 1)))
    set_id = ref_id(record.properties().get("availabilitySet"))
    if old is None and set_id is not None:
        links.set_member(ctx, set_id, record.id, True)


def _create_disk(ctx: Ctx, record: Record, entry: dict[str, Any]) -> None:
    disk_id = str(entry["managedDisk"]["id"])
    path_id = _stored_casing(record, disk_id)
    extra: dict[str, Any]
    if entry.get("createOption") == "FromImage":
        reference = record.properties()["storageProfile"]["imageReference"]
        info = vm_images.resolve(ctx, reference, str(record.body["location"]), record.id)
        extra = {"creationData": info.creation, "osType": info.os_type, "hyperVGeneration": info.hyperv}
    else:
        extra = {"creationData": {"createOption": "Empty"}}
    body = new_disk_record_body(entry, str(record.body["location"]), list(record.body.get("zones") or []), extra)
    ctx.store.put(Record.create(path_id, {"name": body.pop("name"), "id": path_id, **body}))


def _stored_casing(record: Record, disk_id: str) -> str:
    """The disk's id with the VM's stored resource-group casing (the VM shows it upper-cased)."""
    group = record.id.split("/providers/", 1)[0]
    return f"{group}/providers/Microsoft.Compute/disks/{disk_id.rsplit('/', 1)[-1]}"


def release(ctx: Ctx, record: Record) -> None:
    """VM deletion: disks and NICs follow their ``deleteOption``; the availability set forgets the VM."""
    for key, entry in _disks(record.body).items():
        if entry.get("deleteOption") == "Delete":
            links.remove(ctx, key)
        else:
            links.set_disk_owner(ctx, key, None)
    for key, ref in _nics(record.body).items():
        if ref.get("properties", {}).get("deleteOption") == "Delete":
            links.remove(ctx, key)
        else:
            links.set_nic_owner(ctx, key, None)
    set_id = ref_id(record.properties().get("availabilitySet"))
    if set_id is not None:
        links.set_member(ctx, set_id, record.id, False)


def refresh_disk_states(ctx: Ctx, record: Record) -> None:
    """After a power change: attached disks are ``Attached``, or ``Reserved`` while deallocated."""
    for key in _disks(record.body):
        disk = ctx.store.get(key)
        if disk is not None and links.same_id(str(disk.body.get("managedBy")), record.id):
            disk.properties()["diskState"] = disk_state(record)
