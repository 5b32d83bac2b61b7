"""Microsoft.Compute/virtualMachines (ComputeRP 2026-04-01).

Wire shape: PUT 201 (new) / 200 with the VM in ``Creating``/``Updating`` and ``Azure-AsyncOperation:
…/locations/<loc>/operations/<id>``; PATCH 200 likewise; DELETE 202 with ``Azure-AsyncOperation`` and
``Location``; power actions see :mod:`vm_power`. VMs carry an ``etag`` (``If-Match``/``If-None-Match`` →
412 ``PreconditionFailed``). ``osProfile.customData`` and ``adminPassword`` are never returned.

Create checks run in this order: size (:func:`vm_rules.hardware`), zones, availability set, image
(:mod:`vm_images`), image fit, OS disk and data disks (:mod:`vm_storage`), purchase plan, OS profile,
network (:mod:`vm_rules`); side effects on disks, NICs and the availability set: :mod:`vm_effects`.
Updates may resize (checked against the catalog and the image), change data disks, NICs, tags and
pass-through profiles; ``zones``, the image, the OS disk, the availability set, ``computerName``,
``adminUsername`` and ``customData`` cannot change (409 ``PropertyChangeNotAllowed`` "Changing property
'<name>' is not allowed."). Writes to a VM being deleted → 409 ``OperationNotAllowed``.
"""

from __future__ import annotations

import copy
import hashlib
import uuid
from typing import Any

from arm_emulator import operations
from arm_emulator.faults import OperationFault
from arm_emulator.lro import FAILED, Operation
from arm_emulator.store import Record
from arm_emulator.types import vm_effects, vm_images, vm_power, vm_rules, vm_storage
from arm_emulator.types.base import Ctx, ResourceType, Write
from arm_emulator.types.compute_common import COMPUTE_API_VERSIONS, COMPUTE_LRO, as_object, property_change_not_allowed
from arm_emulator.types.disk_rules import check_zones
from arm_emulator.types.skus import zones_for
from arm_emulator.wire import Reply, Request, iso_time, utc_now

_PASS_THROUGH = (
    "diagnosticsProfile", "securityProfile", "capacityReservation", "additionalCapabilities", "priority",
    "evictionPolicy", "billingProfile", "licenseType", "extensionsTimeBudget", "scheduledEventsProfile",
    "scheduledEventsPolicy", "proximityPlacementGroup", "host", "hostGroup", "applicationProfile",
    "platformFaultDomain", "resiliencyProfile",
)  # fmt: skip


def _ultra(props: dict[str, Any]) -> bool:
    return bool(as_object(props.get("additionalCapabilities"), "additionalCapabilities").get("ultraSSDEnabled"))


def _pass_through(props: dict[str, Any], target: dict[str, Any]) -> None:
    for key in _PASS_THROUGH:
        if props.get(key) is not None:
            target[key] = copy.deepcopy(props[key])


class VirtualMachines(ResourceType):
    type_name = "Microsoft.Compute/virtualMachines"
    api_versions = COMPUTE_API_VERSIONS
    lro = COMPUTE_LRO
    supports_etag = True
    actions = frozenset(vm_power.TRANSITIONS)

    def build(self, ctx: Ctx, write: Write) -> dict[str, Any]:
        vm_rules.check_not_deleting(write.existing, "Create or Update Virtual Machine")
        if write.existing is None:
            return _create(ctx, write)
        return _update(ctx, write, write.existing)

    def on_written(self, ctx: Ctx, record: Record, write: Write) -> None:
        if write.existing is None:
            record.meta.update(power="running", image=_image_traits(ctx, record), creating=True)
            record.meta["custom_data"] = _custom_data_digest(write.body)
        record.meta.pop("failure", None)
        vm_effects.apply(ctx, record, write.existing.snapshot() if write.existing is not None else None)

    def on_operation_done(self, ctx: Ctx, record: Record, op: Operation) -> None:
        super().on_operation_done(ctx, record, op)
        creating = record.meta.pop("creating", False)
        if op.status == FAILED and op.failure is not None:
            record.meta["failure"] = {"code": op.failure.code, "message": op.failure.message}
            if creating:
                record.meta["power"] = "deallocated"
                vm_effects.refresh_disk_states(ctx, record)

    def on_deleted(self, ctx: Ctx, record: Record) -> None:
        vm_effects.release(ctx, record)

    def render(self, ctx: Ctx, record: Record, query: Any) -> dict[str, Any]:
        body = record.snapshot()
        for disk in body["properties"].get("storageProfile", {}).get("dataDisks", []):
            stored = ctx.store.get(str(disk.get("managedDisk", {}).get("id", "")))
            if stored is not None:
                disk["diskSizeGB"] = stored.properties().get("diskSizeGB", disk.get("diskSizeGB"))
        if "instanceview" in str(query.get("$expand", "")).lower():
            body["properties"]["instanceView"] = vm_power.instance_view(record)
        return body

    def post(
        self, ctx: Ctx, record: Record, action: str, request: Request, fault: OperationFault | None = None
    ) -> Reply:
        return vm_power.run_action(self, ctx, record, action, operations.Call(request, "POST", fault))


def _custom_data_digest(body: dict[str, Any]) -> str | None:
    """A digest of ``osProfile.customData`` (the service keeps it but never returns it; it cannot change)."""
    value = body.get("properties", {}).get("osProfile", {}).get("customData")
    return hashlib.sha256(str(value).encode()).hexdigest() if value is not None else None


def _image_traits(ctx: Ctx, record: Record) -> dict[str, Any]:
    reference = record.properties()["storageProfile"]["imageReference"]
    info = vm_images.resolve(ctx, reference, str(record.body["location"]), record.id)
    return {"hyperv": info.hyperv, "arch": info.arch, "nvme": info.nvme}


def _create(ctx: Ctx, write: Write) -> dict[str, Any]:
    vm_id, location = write.resource_id, write.location
    props = as_object(write.body.get("properties"), "properties")
    zones = check_zones(write.body.get("zones"), zones_for(location), location)
    size = vm_rules.hardware(props, location, zones, vm_id)
    set_id = vm_rules.availability_set(ctx, props, location, zones)
    profile = as_object(props.get("storageProfile"), "properties.storageProfile")
    info = vm_images.resolve(ctx, as_object(profile.get("imageReference"), "imageReference"), location, vm_id)
    controller = profile.get("diskControllerType")
    vm_rules.check_image_fits(size, info, controller)
    os_disk = vm_storage.os_disk(ctx, profile, info, size, vm_id)
    plan = vm_images.check_plan(info, write.body.get("plan"), os_disk["name"])
    spot = vm_storage.Placement(vm_id, location, zones, size, _ultra(props))
    data = vm_storage.data_disks(ctx, profile.get("dataDisks") or [], [], spot)
    stored: dict[str, Any] = {
        "hardwareProfile": {**copy.deepcopy(props["hardwareProfile"]), "vmSize": size.name},
        "storageProfile": {
            "imageReference": info.reference,
            "osDisk": os_disk,
            "dataDisks": data,
            "diskControllerType": controller or ("NVMe" if size.nvme_only else "SCSI"),
        },
        "osProfile": vm_rules.os_profile(props, info),
        "networkProfile": vm_rules.network(ctx, props, location, vm_id, size),
    }
    _pass_through(props, stored)
    if set_id is not None:
        stored["availabilitySet"] = {"id": set_id}
    stored["vmId"] = str(uuid.uuid4())
    stored["timeCreated"] = iso_time(utc_now())
    return _top_level(write, stored, plan, zones, None)


def _top_level(
    write: Write, props: dict[str, Any], plan: dict[str, Any] | None, zones: list[str], old: Record | None
) -> dict[str, Any]:
    body: dict[str, Any] = {"properties": props}
    if zones:
        body["zones"] = zones
    if plan:
        body["plan"] = plan
    old_identity = old.body.get("identity") if old is not None else None
    identity = vm_rules.identity(write.body.get("identity"), old_identity, write.resource_id.split("/")[2])
    if identity is not None:
        body["identity"] = identity
    return body


def _update(ctx: Ctx, write: Write, existing: Record) -> dict[str, Any]:
    old = existing.snapshot()["properties"]
    props = as_object(write.body.get("properties"), "properties")
    location = str(existing.body["location"])
    zones = list(existing.body.get("zones") or [])
    if write.body.get("zones") is not None and sorted(write.body["zones"]) != sorted(zones):
        raise property_change_not_allowed("zones")
    _check_immutable(old, props)
    given_data = _custom_data_digest(write.body)
    if given_data is not None and given_data != existing.meta.get("custom_data"):
        raise property_change_not_allowed("customData")
    size_props = props if props.get("hardwareProfile") else old
    size = vm_rules.hardware(size_props, location, zones, existing.id)
    traits = existing.meta.get("image", {})
    if size.name.lower() != str(old["hardwareProfile"]["vmSize"]).lower() and traits:
        info = vm_images.ImageInfo(
            os_type="Linux", hyperv=traits["hyperv"], arch=traits["arch"], size_gb=0, nvme=traits["nvme"], plan=None,
            reference={}, creation={},
        )  # fmt: skip
        vm_rules.check_image_fits(size, info, old["storageProfile"].get("diskControllerType"))
    stored = copy.deepcopy(old)
    stored.pop("provisioningState", None)
    stored["hardwareProfile"] = {**copy.deepcopy(size_props["hardwareProfile"]), "vmSize": size.name}
    profile = as_object(props.get("storageProfile"), "properties.storageProfile")
    spot = vm_storage.Placement(existing.id, location, zones, size, _ultra(props or old))
    old_disks = old["storageProfile"].get("dataDisks") or []
    stored["storageProfile"]["dataDisks"] = vm_storage.data_disks(ctx, profile.get("dataDisks"), old_disks, spot)
    if props.get("networkProfile"):
        stored["networkProfile"] = vm_rules.network(ctx, props, location, existing.id, size)
    _pass_through(props, stored)
    return _top_level(write, stored, existing.body.get("plan"), zones, existing)


def _check_immutable(old: dict[str, Any], new: dict[str, Any]) -> None:
    """Properties a VM keeps for life: given values must match the stored ones."""
    new_profile = as_object(new.get("storageProfile"), "storageProfile")
    old_ref = old["storageProfile"].get("imageReference", {})
    new_ref = as_object(new_profile.get("imageReference"), "imageReference")
    for key in ("id", "publisher", "offer", "sku", "version"):
        if new_ref and str(new_ref.get(key) or "").lower() != str(old_ref.get(key) or "").lower():
            raise property_change_not_allowed("imageReference")
    new_os = as_object(new_profile.get("osDisk"), "osDisk")
    if new_os.get("name") and str(new_os["name"]).lower() != str(old["storageProfile"]["osDisk"]["name"]).lower():
        raise property_change_not_allowed("osDisk.name")
    new_os_profile = as_object(new.get("osProfile"), "osProfile")
    for key in ("computerName", "adminUsername"):
        if new_os_profile.get(key) is not None and new_os_profile[key] != old.get("osProfile", {}).get(key):
            raise property_change_not_allowed(key)
    new_set = as_object(new.get("availabilitySet"), "availabilitySet").get("id")
    old_set = old.get("availabilitySet", {}).get("id")
    if new_set is not None and str(new_set).lower() != str(old_set or "").lower():
        raise property_change_not_allowed("availabilitySet.id")
