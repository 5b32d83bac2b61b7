"""Microsoft.Compute/disks (DiskRP 2026-03-02).

Wire shape (recorded disk create/delete, ``azure-offline-testing.md`` §2.2): every write answers 202 with
``Azure-AsyncOperation`` and ``Location`` (``…/locations/<loc>/DiskOperations/<id>``, ``?monitor=true``),
the PUT body echoes the request with ``provisioningState: Updating``; the status document carries the
disk as ``properties.output``; DELETE answers 202 with both URLs, 204 when the disk does not exist.

Rules:

* create ``Empty`` (``diskSizeGB`` required), ``Copy`` (``sourceResourceId`` of a disk or snapshot in the
  same region; size at least the source's), ``Import`` (``sourceUri`` page blob with a fixed-VHD footer and
  ``storageAccountId``); other create options are not modelled (400);
* ``zones``: one zone of the region; cannot change (409 ``PropertyChangeNotAllowed``);
* shrinking → 400 ``ResizeDiskError`` "Disk size reduction is not supported. Current size is … bytes,
  requested size is … bytes." (the service's answer to a smaller OS disk size);
* a disk attached to a VM that is not deallocated (``diskState: Attached``) cannot grow → 409 ``Conflict``
  "Disk resizing is allowed only when creating a VM or when the VM is deallocated." (target
  ``disk.diskSizeGB``; Microsoft's "common error messages" page and a recorded answer). The emulator
  models the rule without live resize: Azure now resizes many attached data disks online, but not all.
  Changing the SKU of such a disk → 409 ``OperationNotAllowed`` (the portal's rule: "Disks can be resized
  or account type changed only when they are unattached or the owner VM is deallocated."); changing to or
  from ``UltraSSD_LRS`` → 409 ``OperationNotAllowed`` "Changing a disk's account type from 'A' to 'B' is not
  supported." (the Ruby CPI matches this text); IOPS/throughput of Ultra and Premium SSD v2 may change
  while attached;
* deleting an attached disk → 409 ``OperationNotAllowed`` "Disk <name> is attached to VM <vm id>."
"""

from __future__ import annotations

import copy
import math
from typing import Any

from arm_emulator import regions
from arm_emulator.blobs import parse_blob_url
from arm_emulator.ids import parse_resource_id
from arm_emulator.store import Record
from arm_emulator.types import disk_rules as rules
from arm_emulator.types.base import Ctx, ResourceType, Write
from arm_emulator.types.compute_common import (
    DISK_API_VERSIONS,
    DISK_LRO,
    as_object,
    check_enum,
    property_change_not_allowed,
    require,
)
from arm_emulator.types.links import ATTACHED
from arm_emulator.types.skus import zones_for
from arm_emulator.wire import ArmError, invalid_parameter, missing_parameter

DISK_KEY = "microsoft.compute/disks"
SNAPSHOT_KEY = "microsoft.compute/snapshots"
CREATE_OPTIONS = ("Empty", "Copy", "Import", "Attach", "FromImage", "Restore", "Upload", "CopyStart")
_PERF = ("diskIOPSReadWrite", "diskMBpsReadWrite")


def disk_sku(write: Write) -> str:
    sku = write.body.get("sku")
    name = sku.get("name") if isinstance(sku, dict) else None
    if name is None:
        old = write.existing.body.get("sku", {}).get("name") if write.existing is not None else None
        return str(old or "Standard_LRS")
    return rules.check_sku_name(name)


def copy_source(ctx: Ctx, source_id: Any, location: str) -> Record:
    """The disk or snapshot a ``Copy`` names; 404 when missing, 400 when in another region."""
    path = parse_resource_id(str(source_id or ""))
    record = ctx.store.get(str(source_id)) if path is not None else None
    if record is None or record.type_key not in (DISK_KEY, SNAPSHOT_KEY):
        raise ArmError(404, "NotFound", f"Resource {source_id} is not found.")
    if regions.normalize(str(record.body.get("location"))) != regions.normalize(location):
        raise invalid_parameter(
            f"The source resource {source_id} is in region '{record.body.get('location')}', not in the target "
            f"region '{location}'. Use createOption CopyStart to copy across regions.",
            "creationData.sourceResourceId",
        )
    return record


def import_size(ctx: Ctx, data: dict[str, Any]) -> int:
    """Probe an ``Import`` source VHD; its size in whole GiB."""
    uri = require(data, "sourceUri", "creationData.sourceUri")
    require(data, "storageAccountId", "creationData.storageAccountId")
    ref = parse_blob_url(str(uri))
    if ref is None:
        raise invalid_parameter(f"The URI {uri} does not look to be correct blob URI.", "creationData.sourceUri")
    check = ctx.storage.check_vhd(ref)
    if check.problem is not None:
        raise invalid_parameter(check.problem, "creationData.sourceUri")
    return max(1, math.ceil((check.virtual_size or 0) / rules.GIB))


class Disks(ResourceType):
    type_name = "Microsoft.Compute/disks"
    api_versions = DISK_API_VERSIONS
    lro = DISK_LRO
    creating_state = "Updating"

    def validate(self, ctx: Ctx, write: Write) -> None:
        props = as_object(write.body.get("properties"), "properties")
        sku = disk_sku(write)
        zones = rules.check_zones(write.body.get("zones"), zones_for(write.location), write.location)
        if write.existing is None:
            data = as_object(props.get("creationData"), "properties.creationData")
            if not data:
                raise missing_parameter("creationData")
            check_enum(data.get("createOption"), CREATE_OPTIONS, "createOption")
            if props.get("diskSizeGB") is not None:
                rules.check_size(props["diskSizeGB"], sku)
            rules.check_performance(props, sku, int(props.get("diskSizeGB") or 1))
            return
        _check_update(write, props, sku, zones)

    def build(self, ctx: Ctx, write: Write) -> dict[str, Any]:
        props = copy.deepcopy(as_object(write.body.get("properties"), "properties"))
        sku = disk_sku(write)
        existing = write.existing
        if existing is None:
            creation, size, inherited = _create(ctx, write, props, sku)
            for key, value in inherited.items():
                props.setdefault(key, value)
            old: dict[str, Any] = {}
        else:
            old = existing.properties()
            creation, size = copy.deepcopy(old["creationData"]), int(props.get("diskSizeGB") or old["diskSizeGB"])
            if disk_sku_changed(existing, sku):
                for key in _PERF:
                    if props.get(key) == old.get(key):
                        props.pop(key, None)
                old = {k: v for k, v in old.items() if k not in _PERF}
        body: dict[str, Any] = {"sku": rules.sku_body(sku)}
        body["properties"] = rules.new_disk_properties(props, sku, size, creation, old)
        zones = write.body.get("zones") or (existing.body.get("zones") if existing is not None else None)
        if zones:
            body["zones"] = list(zones)
        if existing is not None and "managedBy" in existing.body:
            body["managedBy"] = existing.body["managedBy"]
        return body

    def initial_body(self, ctx: Ctx, record: Record, write: Write) -> dict[str, Any]:
        """DiskRP echoes a PUT's request with ``provisioningState: Updating`` (recorded answer)."""
        if write.method != "PUT":
            return self.render(ctx, record, {})
        return echo(write, record)

    def check_delete(self, ctx: Ctx, record: Record) -> None:
        owner = record.body.get("managedBy")
        if owner:
            raise ArmError(409, "OperationNotAllowed", f"Disk {record.name} is attached to VM {owner}.")


def echo(write: Write, record: Record) -> dict[str, Any]:
    """The request body as the service echoes it for a write it accepted."""
    body: dict[str, Any] = {"name": record.name, "location": write.location}
    for key in ("tags", "sku", "zones"):
        if key in write.body:
            body[key] = copy.deepcopy(write.body[key])
    props = {
        k: v
        for k, v in as_object(write.body.get("properties"), "properties").items()
        if k not in ("provisioningState",)
    }
    props["provisioningState"] = "Updating"
    body["properties"] = props
    return body


def disk_sku_changed(existing: Record, sku: str) -> bool:
    return str(existing.body.get("sku", {}).get("name", "")).lower() != sku.lower()


def _create(ctx: Ctx, write: Write, props: dict[str, Any], sku: str) -> tuple[dict[str, Any], int, dict[str, Any]]:
    """(creationData as stored, size in GiB, properties inherited from the source)."""
    data = copy.deepcopy(as_object(props.get("creationData"), "properties.creationData"))
    option = check_enum(data.get("createOption"), CREATE_OPTIONS, "createOption")
    data["createOption"] = option
    given = props.get("diskSizeGB")
    if option == "Empty":
        if given is None:
            raise missing_parameter("diskSizeGB")
        return data, rules.check_size(given, sku), {}
    if option == "Copy":
        source = copy_source(ctx, require(data, "sourceResourceId", "creationData.sourceResourceId"), write.location)
        src_props = source.properties()
        size = _at_least(given, int(src_props.get("diskSizeGB", 1)), sku)
        data["sourceUniqueId"] = src_props.get("uniqueId")
        inherited: dict[str, Any] = {k: src_props[k] for k in ("osType", "hyperVGeneration") if k in src_props}
        return data, size, inherited
    if option == "Import":
        return data, _at_least(given, import_size(ctx, data), sku), {}
    raise invalid_parameter(
        f"createOption '{option}' is not supported by the emulator; use Empty, Copy or Import.",
        "creationData.createOption",
    )


def _at_least(given: Any, source_gb: int, sku: str) -> int:
    if given is None:
        return source_gb
    size = rules.check_size(given, sku)
    if size < source_gb:
        raise invalid_parameter(
            f"The specified disk size {size} GB is smaller than the size of the source: {source_gb} GB.",
            "disk.properties.diskSizeGB",
        )
    return size


def _check_update(write: Write, props: dict[str, Any], sku: str, zones: list[str]) -> None:
    existing = write.existing
    assert existing is not None
    old = existing.properties()
    old_zones = existing.body.get("zones") or []
    if write.body.get("zones") is not None and sorted(zones) != sorted(old_zones):
        raise property_change_not_allowed("zones")
    size = int(props.get("diskSizeGB") or old["diskSizeGB"])
    rules.check_size(size, sku)
    attached_running = old.get("diskState") == ATTACHED
    old_size = int(old["diskSizeGB"])
    if size < old_size:
        raise ArmError(
            400,
            "ResizeDiskError",
            f"Disk size reduction is not supported. Current size is {old_size * rules.GIB} bytes, requested size "
            f"is {size * rules.GIB} bytes.",
        )
    if size > old_size and attached_running:
        raise ArmError(
            409,
            "Conflict",
            "Disk resizing is allowed only when creating a VM or when the VM is deallocated.",
            target="disk.diskSizeGB",
        )
    _check_sku_change(existing, sku, attached_running)
    explicit = {k: props[k] for k in _PERF if props.get(k) is not None and props.get(k) != old.get(k)}
    rules.check_performance(explicit, sku, size)


def _check_sku_change(existing: Record, sku: str, attached_running: bool) -> None:
    old_sku = str(existing.body.get("sku", {}).get("name", "Standard_LRS"))
    if old_sku.lower() == sku.lower():
        return
    if "UltraSSD_LRS" in (old_sku, sku):
        raise ArmError(
            409, "OperationNotAllowed", f"Changing a disk's account type from '{old_sku}' to '{sku}' is not supported."
        )
    if attached_running:
        raise ArmError(
            409,
            "OperationNotAllowed",
            f"Disk {existing.name} is attached to VM {existing.body.get('managedBy')}. Disks can be resized or "
            "account type changed only when they are unattached or the owner VM is deallocated.",
        )
