"""Microsoft.Compute/snapshots (DiskRP 2026-03-02): same operation shapes as disks.

* create ``Copy`` from a disk or snapshot in the same region (``sourceResourceId``), or ``Import`` from a
  VHD page blob; other create options are not modelled (400);
* ``incremental`` (default false) snapshots carry ``incrementalSnapshotFamilyId`` (one per source disk);
  snapshots of attached disks are allowed, incremental or not; Ultra and Premium SSD v2 disks allow only
  incremental snapshots (400 ``InvalidParameter``, emulator wording);
* ``sku.name``: ``Standard_LRS`` (default), ``Premium_LRS``, ``Standard_ZRS``; ``incremental`` and the
  source cannot change (409 ``PropertyChangeNotAllowed``).
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

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
from arm_emulator.types.disk import DISK_KEY, copy_source, echo, import_size
from arm_emulator.wire import invalid_parameter, iso_time, missing_parameter, utc_now

_OPTIONS = ("Copy", "Import", "CopyStart", "Restore", "CopyFromSanSnapshot")


def _sku(write: Write) -> str:
    sku = write.body.get("sku")
    name = sku.get("name") if isinstance(sku, dict) else None
    if name is None:
        old = write.existing.body.get("sku", {}).get("name") if write.existing is not None else None
        return str(old or "Standard_LRS")
    return rules.check_sku_name(name, rules.SNAPSHOT_TYPES)


class Snapshots(ResourceType):
    type_name = "Microsoft.Compute/snapshots"
    api_versions = DISK_API_VERSIONS
    lro = DISK_LRO
    creating_state = "Updating"

    def validate(self, ctx: Ctx, write: Write) -> None:
        props = as_object(write.body.get("properties"), "properties")
        _sku(write)
        if write.existing is not None:
            old = write.existing.properties()
            if bool(props.get("incremental", old.get("incremental"))) != bool(old.get("incremental")):
                raise property_change_not_allowed("incremental")
            return
        data = as_object(props.get("creationData"), "properties.creationData")
        if not data:
            raise missing_parameter("creationData")
        check_enum(data.get("createOption"), _OPTIONS, "createOption")

    def build(self, ctx: Ctx, write: Write) -> dict[str, Any]:
        given = copy.deepcopy(as_object(write.body.get("properties"), "properties"))
        sku = _sku(write)
        if write.existing is not None:
            old = write.existing.properties()
            props = {**old, **{k: v for k, v in given.items() if k not in _READ_ONLY}}
            props["creationData"] = copy.deepcopy(old["creationData"])
            props["incremental"] = old.get("incremental", False)
            return {"sku": rules.sku_body(sku), "properties": props}
        props = _create(ctx, write, given)
        return {"sku": rules.sku_body(sku), "properties": props}

    def initial_body(self, ctx: Ctx, record: Record, write: Write) -> dict[str, Any]:
        return echo(write, record) if write.method == "PUT" else self.render(ctx, record, {})


_READ_ONLY = (
    "timeCreated",
    "diskSizeBytes",
    "uniqueId",
    "provisioningState",
    "diskState",
    "incrementalSnapshotFamilyId",
)


def _create(ctx: Ctx, write: Write, given: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(as_object(given.get("creationData"), "properties.creationData"))
    option = check_enum(data.get("createOption"), _OPTIONS, "createOption")
    data["createOption"] = option
    incremental = bool(given.get("incremental", False))
    props = {k: v for k, v in given.items() if k not in _READ_ONLY}
    if option == "Copy":
        source = copy_source(ctx, require(data, "sourceResourceId", "creationData.sourceResourceId"), write.location)
        src = source.properties()
        size = int(src.get("diskSizeGB", 1))
        data["sourceUniqueId"] = src.get("uniqueId")
        for key in ("osType", "hyperVGeneration", "supportedCapabilities"):
            if key in src:
                props.setdefault(key, copy.deepcopy(src[key]))
        _check_incremental_only(source, incremental)
        if incremental:
            props["incrementalSnapshotFamilyId"] = _family_id(source)
    elif option == "Import":
        size = import_size(ctx, data)
    else:
        raise invalid_parameter(
            f"createOption '{option}' is not supported by the emulator; use Copy or Import.",
            "creationData.createOption",
        )
    props.update(
        creationData=data,
        diskSizeGB=size,
        diskSizeBytes=size * rules.GIB,
        incremental=incremental,
        timeCreated=iso_time(utc_now()),
        uniqueId=str(uuid.uuid4()),
        encryption=props.get("encryption") or {"type": "EncryptionAtRestWithPlatformKey"},
        networkAccessPolicy=props.get("networkAccessPolicy", "AllowAll"),
        publicNetworkAccess=props.get("publicNetworkAccess", "Enabled"),
    )
    return props


def _check_incremental_only(source: Record, incremental: bool) -> None:
    sku = str(source.body.get("sku", {}).get("name", ""))
    if source.type_key == DISK_KEY and sku in rules.PERFORMANCE_TYPES and not incremental:
        raise invalid_parameter(
            f"Only incremental snapshots are supported for disks of storage account type {sku}.", "incremental"
        )


def _family_id(source: Record) -> str:
    """Incremental snapshots of one disk share a family id (stable per source disk)."""
    if source.type_key != DISK_KEY:
        return str(source.properties().get("incrementalSnapshotFamilyId") or source.properties().get("uniqueId"))
    return str(uuid.uuid5(uuid.NAMESPACE_URL, str(source.properties().get("uniqueId"))))
