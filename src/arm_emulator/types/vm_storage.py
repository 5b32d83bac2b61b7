"""A VM's disks: the OS disk it creates from the image, data disks it creates (``Empty``) or attaches
(``Attach``), and what happens to them when the VM changes or goes away.

Rules (error-messages.md unless noted):

* OS disk: ``createOption`` ``FromImage`` (others are not modelled); ``diskSizeGB`` at least the image's →
  409 ``OperationNotAllowed`` "The specified disk size <n> GB is smaller than the size of the corresponding
  disk in the VM image: <m> GB. This is not allowed. Please choose equal or greater size or do not specify an
  explicit size." (reported service answer); a managed disk of that name already in the group → 409
  ``ConflictingUserInput`` "Disk <name> already exists in resource group <RG>. Only CreateOption.Attach is
  supported.";
* ephemeral OS disk (``diffDiskSettings.option: Local``) only on sizes with ``EphemeralOSDiskSupported``,
  fitting the placement (``CacheDisk`` default, ``ResourceDisk``, ``NvmeDisk``): "OS disk of Ephemeral VM
  with size greater than <n> GB is not allowed for VM size <size> when the DiffDiskPlacement is <p>.";
  caching ReadOnly and deleteOption Delete; no disk resource is created;
* data disks: LUN 0-63 and unique ("A disk at LUN <n> already exists."), at most ``MaxDataDiskCount`` →
  409 ``OperationNotAllowed`` "The maximum number of data disks allowed to be attached to a VM of this size
  is <n>."; ``Attach`` needs an existing disk of the region (404 ``NotFound``) that no other VM owns (409
  ``ConflictingUserInput`` "Disk '<name>' cannot be attached as the disk is already owned by VM '<vm>'.") in
  the VM's zone (400 ``BadRequest`` "Disk <id> cannot be attached to the VM because it is not in the same
  zone as the VM. VM zone: '<z>'. Disk zone: '<z>'.");
* Premium storage on a size without ``PremiumIO`` → 400 ``BadRequest``; ``UltraSSD_LRS`` needs
  ``additionalCapabilities.ultraSSDEnabled`` (AKS troubleshooting page's message); Ultra and Premium SSD v2
  only as data disks;
* ``deleteOption`` (default ``Detach``): on VM deletion ``Delete`` removes the disk, ``Detach`` leaves it
  ``Unattached``; a data disk removed from the list (or ``toBeDetached: true``) is detached.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from typing import Any

from arm_emulator import regions
from arm_emulator.types import disk_rules, links
from arm_emulator.types.base import Ctx
from arm_emulator.types.compute_common import as_object, check_enum, check_int
from arm_emulator.types.sku_catalog import GIB, VmSize
from arm_emulator.types.vm_images import ImageInfo
from arm_emulator.wire import ArmError, invalid_parameter, missing_parameter

DISK_KEY = "microsoft.compute/disks"
CACHING = ("None", "ReadOnly", "ReadWrite")
_PREMIUM = ("Premium_LRS", "Premium_ZRS", "PremiumV2_LRS", "UltraSSD_LRS")


@dataclass(frozen=True, slots=True)
class Placement:
    """Where the VM's disks live: the VM id, region, zones, size and whether Ultra disks are enabled."""

    vm_id: str
    location: str
    zones: list[str]
    size: VmSize
    ultra: bool = False


def disk_id(vm_id: str, name: str) -> str:
    group = vm_id.split("/providers/", 1)[0]
    return f"{group}/providers/Microsoft.Compute/disks/{name}"


def _check_account_type(value: Any, size: VmSize, disk_name: str, ultra_enabled: bool) -> str:
    account = check_enum(value or "Standard_LRS", disk_rules.DISK_TYPES, "storageAccountType")
    if account in _PREMIUM and not size.premium_io:
        raise ArmError(
            400,
            "BadRequest",
            f"Requested operation cannot be performed because the VM size {size.name} does not support the storage "
            f"account type {account} of disk '{disk_name}'. Consider updating the VM to a size that supports Premium "
            "storage.",
        )
    if account == "UltraSSD_LRS" and not ultra_enabled:
        raise invalid_parameter(
            "StorageAccountType UltraSSD_LRS can be used only when additionalCapabilities.ultraSSDEnabled is set.",
            "storageAccountType",
        )
    return account


def _name_taken(ctx: Ctx, vm_id: str, name: str) -> None:
    if ctx.store.get(disk_id(vm_id, name)) is not None:
        group = vm_id.split("/")[4]
        raise ArmError(
            409,
            "ConflictingUserInput",
            f"Disk {name} already exists in resource group {group.upper()}. Only CreateOption.Attach is supported.",
        )


def os_disk(ctx: Ctx, profile: dict[str, Any], info: ImageInfo, size: VmSize, vm_id: str) -> dict[str, Any]:
    """The stored ``osDisk`` of a new VM (raises the service's errors)."""
    given = as_object(profile.get("osDisk"), "storageProfile.osDisk")
    option = check_enum(given.get("createOption") or "FromImage", ("FromImage", "Attach", "Empty"), "createOption")
    if option != "FromImage":
        raise invalid_parameter("Only createOption FromImage is supported for OS disks by the emulator.", "osDisk")
    name = str(given.get("name") or f"{vm_id.rsplit('/', 1)[-1]}_OsDisk_1_{uuid.uuid4().hex}")
    disk_size = _os_size(given.get("diskSizeGB"), info.size_gb)
    managed = as_object(given.get("managedDisk"), "osDisk.managedDisk")
    diff = as_object(given.get("diffDiskSettings"), "osDisk.diffDiskSettings")
    stored: dict[str, Any] = {"osType": info.os_type, "name": name, "createOption": "FromImage"}
    if diff:
        stored.update(_ephemeral(given, diff, size, disk_size))
        stored["managedDisk"] = {
            "storageAccountType": _check_account_type(managed.get("storageAccountType"), size, name, False)
        }
    else:
        account = _check_account_type(managed.get("storageAccountType"), size, name, False)
        if account in disk_rules.PERFORMANCE_TYPES:
            raise invalid_parameter(f"Storage account type {account} can be used only for data disks.", "osDisk")
        _name_taken(ctx, vm_id, name)
        stored["caching"] = check_enum(given.get("caching") or "ReadWrite", CACHING, "caching")
        stored["managedDisk"] = {"storageAccountType": account, "id": links.compute_casing(disk_id(vm_id, name), False)}
        stored["deleteOption"] = check_enum(given.get("deleteOption") or "Detach", ("Delete", "Detach"), "deleteOption")
    stored["diskSizeGB"] = disk_size
    for key in ("writeAcceleratorEnabled", "encryptionSettings"):
        if key in given:
            stored[key] = copy.deepcopy(given[key])
    return stored


def _os_size(given: Any, image_gb: int) -> int:
    if given is None:
        return image_gb
    value = check_int(given, "properties.storageProfile.osDisk.diskSizeGB", 1, 4095)
    if value < image_gb:
        raise ArmError(
            409,
            "OperationNotAllowed",
            f"The specified disk size {value} GB is smaller than the size of the corresponding disk in the VM image: "
            f"{image_gb} GB. This is not allowed. Please choose equal or greater size or do not specify an explicit "
            "size.",
            target="osDisk.diskSizeGB",
        )
    return value


def _ephemeral(given: dict[str, Any], diff: dict[str, Any], size: VmSize, disk_gb: int) -> dict[str, Any]:
    check_enum(diff.get("option") or "Local", ("Local",), "diffDiskSettings.option")
    placement = check_enum(diff.get("placement") or "CacheDisk", ("CacheDisk", "ResourceDisk", "NvmeDisk"), "placement")
    if not size.ephemeral_os:
        raise invalid_parameter(
            f"The Virtual Machine size {size.name} does not support Ephemeral OS disk.", "diffDiskSettings"
        )
    room = {
        "CacheDisk": size.cached_bytes,
        "ResourceDisk": size.resource_mb * 1024 * 1024,
        "NvmeDisk": size.nvme_mib * 1024 * 1024,
    }
    limit_gb = room[placement] // GIB
    if disk_gb > limit_gb:
        raise invalid_parameter(
            f"OS disk of Ephemeral VM with size greater than {limit_gb} GB is not allowed for VM size {size.name} when "
            f"the DiffDiskPlacement is {placement}.",
            "osDisk.diskSizeGB",
        )
    if check_enum(given.get("caching") or "ReadOnly", CACHING, "caching") != "ReadOnly":
        raise invalid_parameter("Ephemeral OS disks support only ReadOnly caching.", "osDisk.caching")
    if check_enum(given.get("deleteOption") or "Delete", ("Delete", "Detach"), "deleteOption") != "Delete":
        raise invalid_parameter("Ephemeral OS disks support only deleteOption Delete.", "osDisk.deleteOption")
    return {
        "caching": "ReadOnly",
        "diffDiskSettings": {"option": "Local", "placement": placement},
        "deleteOption": "Delete",
    }


def data_disks(ctx: Ctx, given: Any, old: list[dict[str, Any]], spot: Placement) -> list[dict[str, Any]]:
    """The stored ``dataDisks``; ``given`` None keeps ``old`` (still checked against the size)."""
    if given is None:
        return _check_count(copy.deepcopy(old), spot.size)
    entries = [as_object(d, "storageProfile.dataDisks") for d in given if isinstance(d, dict)]
    entries = [d for d in entries if not d.get("toBeDetached")]
    luns: set[int] = set()
    ids: set[str] = set()
    stored = []
    for entry in entries:
        lun = check_int(entry.get("lun"), "properties.storageProfile.dataDisks.lun", 0, 63)
        if lun in luns:
            raise invalid_parameter(f"A disk at LUN {lun} already exists.", "dataDisks")
        luns.add(lun)
        disk = _data_disk(ctx, entry, old, spot)
        key = str(disk["managedDisk"]["id"]).lower()
        if key in ids:
            raise invalid_parameter(f"A disk named '{disk['name']}' already exists.", "dataDisks")
        ids.add(key)
        stored.append(disk)
    return _check_count(stored, spot.size)


def _check_count(disks: list[dict[str, Any]], size: VmSize) -> list[dict[str, Any]]:
    if len(disks) > size.max_data_disks:
        raise ArmError(
            409,
            "OperationNotAllowed",
            f"The maximum number of data disks allowed to be attached to a VM of this size is {size.max_data_disks}.",
        )
    return disks


def _data_disk(ctx: Ctx, entry: dict[str, Any], old: list[dict[str, Any]], spot: Placement) -> dict[str, Any]:
    managed = as_object(entry.get("managedDisk"), "dataDisks.managedDisk")
    current = next((d for d in old if links.same_id(d.get("managedDisk", {}).get("id"), managed.get("id"))), None)
    options = ("Attach", "Empty", "FromImage", "Copy", "Restore")
    option = check_enum(entry.get("createOption") or "Attach", options, "createOption")
    if current is None and option == "Empty" and not managed.get("id"):
        return _empty_disk(ctx, entry, spot)
    if option not in ("Attach", "Empty"):
        raise invalid_parameter(f"createOption {option} is not supported for data disks by the emulator.", "dataDisks")
    stored = copy.deepcopy(current) if current is not None else _attach(ctx, entry, managed, spot)
    stored["lun"] = entry["lun"]
    stored["caching"] = check_enum(entry.get("caching") or stored.get("caching") or "None", CACHING, "caching")
    delete_option = entry.get("deleteOption") or stored.get("deleteOption") or "Detach"
    stored["deleteOption"] = check_enum(delete_option, ("Delete", "Detach"), "deleteOption")
    stored["toBeDetached"] = False
    return stored


def _empty_disk(ctx: Ctx, entry: dict[str, Any], spot: Placement) -> dict[str, Any]:
    vm_id = spot.vm_id
    name = str(entry.get("name") or f"{vm_id.rsplit('/', 1)[-1]}_disk{int(entry['lun']) + 1}_{uuid.uuid4().hex}")
    if entry.get("diskSizeGB") is None:
        raise missing_parameter("dataDisk.diskSizeGB")
    managed = as_object(entry.get("managedDisk"), "dataDisks.managedDisk")
    account = _check_account_type(managed.get("storageAccountType"), spot.size, name, spot.ultra)
    disk_gb = disk_rules.check_size(entry["diskSizeGB"], account)
    _name_taken(ctx, vm_id, name)
    return {
        "lun": entry["lun"],
        "name": name,
        "createOption": "Empty",
        "caching": check_enum(entry.get("caching") or "None", CACHING, "caching"),
        "writeAcceleratorEnabled": bool(entry.get("writeAcceleratorEnabled", False)),
        "managedDisk": {"storageAccountType": account, "id": links.compute_casing(disk_id(vm_id, name), False)},
        "deleteOption": check_enum(entry.get("deleteOption") or "Detach", ("Delete", "Detach"), "deleteOption"),
        "diskSizeGB": disk_gb,
        "toBeDetached": False,
    }


def _attach(ctx: Ctx, entry: dict[str, Any], managed: dict[str, Any], spot: Placement) -> dict[str, Any]:
    target = str(managed.get("id") or "")
    disk = ctx.store.get(target) if target else None
    if (
        disk is None
        or disk.type_key != DISK_KEY
        or regions.normalize(str(disk.body.get("location"))) != regions.normalize(spot.location)
    ):
        raise ArmError(404, "NotFound", "The entity was not found in this Azure location.")
    owner = disk.body.get("managedBy")
    if owner and not links.same_id(str(owner), spot.vm_id):
        raise ArmError(
            409,
            "ConflictingUserInput",
            f"Disk '{disk.name}' cannot be attached as the disk is already owned by VM '{owner}'.",
        )
    disk_zones = list(disk.body.get("zones") or [])
    if sorted(disk_zones) != sorted(spot.zones):
        raise ArmError(
            400,
            "BadRequest",
            f"Disk {disk.id} cannot be attached to the VM because it is not in the same zone as the VM. VM zone: "
            f"'{','.join(spot.zones)}'. Disk zone: '{','.join(disk_zones)}'.",
        )
    account = _check_account_type(disk.body.get("sku", {}).get("name"), spot.size, disk.name, spot.ultra)
    return {
        "lun": entry["lun"],
        "name": disk.name,
        "createOption": "Attach",
        "writeAcceleratorEnabled": bool(entry.get("writeAcceleratorEnabled", False)),
        "managedDisk": {"storageAccountType": account, "id": target},
        "diskSizeGB": int(disk.properties().get("diskSizeGB", 0)),
    }


def new_disk_record_body(
    entry: dict[str, Any], location: str, zones: list[str], extra: dict[str, Any]
) -> dict[str, Any]:
    """The body of the disk a VM creates for a storage-profile ``entry`` (as a PUT of that disk would store it)."""
    sku, size_gb = str(entry["managedDisk"]["storageAccountType"]), int(entry["diskSizeGB"])
    creation = extra.pop("creationData")
    props = disk_rules.new_disk_properties(extra, sku, size_gb, creation)
    props["provisioningState"] = "Succeeded"
    body: dict[str, Any] = {"name": str(entry["name"]), "type": "Microsoft.Compute/disks", "location": location}
    if zones:
        body["zones"] = list(zones)
    body.update(sku=disk_rules.sku_body(sku), properties=props)
    return body
