"""What a VM's ``storageProfile.imageReference`` names: a gallery image version (or a definition, for its
latest version), a managed image, or a platform image ``publisher/offer/sku/version``.

Errors (Microsoft's "Troubleshoot shared image galleries" and "common error messages" pages):

* a gallery version that does not exist, is not replicated to the VM's region yet, or (for a definition)
  no replicated version → 404 ``GalleryImageNotFound`` "The gallery image <id> is not available in <region>
  region. Please contact image owner to replicate to this region, or change your requested region.";
* a managed image that does not exist → 404 ``NotFound`` "The Image <id> cannot be found."; in another
  region → 404 ``NotFound`` (same text plus the region); not yet created → 409 ``OperationNotAllowed``
  "The resource <vm> cannot be created from Image <image> until Image has been successfully created.";
* an unknown platform image → 404 ``PlatformImageNotFound`` "The platform image '<p>:<o>:<s>:<v>' is not
  available. Verify that all fields in the storage profile are correct. …";
* purchase plans: a marketplace image that needs one without ``plan`` → 400 ``VMMarketplaceInvalidInput``
  "Creating a virtual machine from Marketplace image requires Plan information in the request. OS disk
  name is <name>."; a plan for an image without one, or a different plan → 400 ``VMMarketplaceInvalidInput``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from arm_emulator import regions
from arm_emulator.ids import parse_resource_id
from arm_emulator.store import Record
from arm_emulator.types.base import Ctx
from arm_emulator.types.platform_images import find_image, resolve_version
from arm_emulator.wire import ArmError, invalid_parameter, missing_parameter

VERSION_KEY = "microsoft.compute/galleries/images/versions"
DEFINITION_KEY = "microsoft.compute/galleries/images"
IMAGE_KEY = "microsoft.compute/images"
DEFAULT_SIZE_GB = 30


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """The image a VM boots: OS, generation, architecture, OS disk size, NVMe support, purchase plan,
    the ``imageReference`` to store and the OS disk's ``creationData``."""

    os_type: str
    hyperv: str
    arch: str
    size_gb: int
    nvme: bool
    plan: dict[str, str] | None
    reference: dict[str, Any]
    creation: dict[str, Any]


def resolve(ctx: Ctx, reference: dict[str, Any], location: str, vm_id: str) -> ImageInfo:
    """Resolve ``imageReference`` for a VM in ``location`` (raises the service's errors)."""
    if not reference:
        raise missing_parameter("storageProfile.imageReference")
    for key in ("sharedGalleryImageId", "communityGalleryImageId"):
        if reference.get(key):
            raise invalid_parameter(f"imageReference.{key} is not supported by the emulator.", f"imageReference.{key}")
    image_id = reference.get("id")
    if image_id:
        path = parse_resource_id(str(image_id))
        type_key = path.type_key if path is not None else ""
        if type_key in (VERSION_KEY, DEFINITION_KEY):
            return _gallery(ctx, str(image_id), location)
        if type_key == IMAGE_KEY:
            return _managed(ctx, str(image_id), location, vm_id)
        raise invalid_parameter(
            f"The value of parameter imageReference.id '{image_id}' is invalid.", "imageReference.id"
        )
    return _platform(reference, location, vm_id.split("/")[2])


def _not_in_region(image_id: str, location: str) -> ArmError:
    return ArmError(
        404,
        "GalleryImageNotFound",
        f"The gallery image {image_id} is not available in {regions.normalize(location)} region. Please contact "
        "image owner to replicate to this region, or change your requested region.",
    )


def _replicated(version: Record, location: str) -> bool:
    return regions.normalize(location) in version.meta.get("replicated", [])


def _gallery(ctx: Ctx, image_id: str, location: str) -> ImageInfo:
    record = ctx.store.get(image_id)
    if record is None:
        raise _not_in_region(image_id, location)
    if record.type_key == DEFINITION_KEY:
        version = _latest(ctx, record, location)
        definition = record
    else:
        version = record
        definition = ctx.store.get(image_id.rsplit("/versions/", 1)[0]) or record
    if version is None or not _replicated(version, location):
        raise _not_in_region(image_id, location)
    dprops = definition.properties()
    features = {str(f.get("name", "")).lower(): str(f.get("value", "")) for f in dprops.get("features") or []}
    size = version.properties().get("storageProfile", {}).get("osDiskImage", {}).get("sizeInGB")
    return ImageInfo(
        os_type=str(dprops.get("osType", "Linux")),
        hyperv=str(dprops.get("hyperVGeneration", "V1")),
        arch=str(dprops.get("architecture", "x64")),
        size_gb=int(size or DEFAULT_SIZE_GB),
        nvme="nvme" in features.get("diskcontrollertypes", "").lower(),
        plan=None,
        reference={"id": image_id},
        creation={"createOption": "FromImage", "galleryImageReference": {"id": version.id}},
    )


def _latest(ctx: Ctx, definition: Record, location: str) -> Record | None:
    candidates = [
        v
        for v in ctx.store.children(definition.id, VERSION_KEY)
        if _replicated(v, location) and not v.properties().get("publishingProfile", {}).get("excludeFromLatest")
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda v: tuple(int(p) for p in v.name.split(".")))


def _managed(ctx: Ctx, image_id: str, location: str, vm_id: str) -> ImageInfo:
    record = ctx.store.get(image_id)
    if record is None:
        raise ArmError(404, "NotFound", f"The Image {image_id} cannot be found.")
    if regions.normalize(str(record.body.get("location"))) != regions.normalize(location):
        raise ArmError(404, "NotFound", f"The Image {image_id} cannot be found in '{location}' region.")
    props = record.properties()
    if props.get("provisioningState") != "Succeeded":
        raise ArmError(
            409,
            "OperationNotAllowed",
            f"The resource {vm_id} cannot be created from Image {image_id} until Image has been successfully created.",
        )
    os_disk = props.get("storageProfile", {}).get("osDisk", {})
    return ImageInfo(
        os_type=str(os_disk.get("osType", "Linux")),
        hyperv=str(props.get("hyperVGeneration", "V1")),
        arch="x64",
        size_gb=int(os_disk.get("diskSizeGB") or DEFAULT_SIZE_GB),
        nvme=False,
        plan=None,
        reference={"id": image_id},
        creation={"createOption": "FromImage", "imageReference": {"id": image_id}},
    )


def _platform(reference: dict[str, Any], location: str, subscription: str) -> ImageInfo:
    parts = [str(reference.get(k) or "") for k in ("publisher", "offer", "sku", "version")]
    urn = ":".join(parts)
    image = find_image(location, *parts[:3]) if all(parts) else None
    version = resolve_version(image, parts[3]) if image is not None else None
    if image is None or version is None:
        raise ArmError(
            404,
            "PlatformImageNotFound",
            f"The platform image '{urn}' is not available. Verify that all fields in the storage profile are correct. "
            "For more details about storage profile information, please refer to https://aka.ms/storageprofile",
        )
    stored = {k: reference[k] for k in ("publisher", "offer", "sku", "version")}
    stored["exactVersion"] = version
    loc = regions.normalize(location)
    platform_id = (
        f"/Subscriptions/{subscription}/Providers/Microsoft.Compute/Locations/{loc}/Publishers/{image.publisher}"
        f"/ArtifactTypes/VMImage/Offers/{image.offer}/Skus/{image.sku}/Versions/{version}"
    )
    return ImageInfo(
        os_type=image.os_type,
        hyperv=image.hyperv,
        arch=image.arch,
        size_gb=image.size_gb,
        nvme=image.nvme,
        plan=image.plan_info(),
        reference=stored,
        creation={"createOption": "FromImage", "imageReference": {"id": platform_id}},
    )


def check_plan(info: ImageInfo, plan: Any, os_disk_name: str) -> dict[str, Any] | None:
    """The ``plan`` to store; 400 ``VMMarketplaceInvalidInput`` when it does not fit the image."""
    given = plan if isinstance(plan, dict) and plan else None
    suffix = f" OS disk name is {os_disk_name}."
    if info.plan is None and given is not None:
        raise ArmError(
            400,
            "VMMarketplaceInvalidInput",
            "Creating a virtual machine from a non Marketplace image does not need Plan information, please remove "
            "the Plan information in the request." + suffix,
        )
    if info.plan is not None and given is None:
        raise ArmError(
            400,
            "VMMarketplaceInvalidInput",
            "Creating a virtual machine from Marketplace image requires Plan information in the request." + suffix,
        )
    plan_info = info.plan or {}
    if given is not None and any(str(given.get(k, "")).lower() != v.lower() for k, v in plan_info.items()):
        raise ArmError(
            400,
            "VMMarketplaceInvalidInput",
            "The purchase information does not match. Unable to deploy from the Marketplace image." + suffix,
        )
    return copy.deepcopy(given)
