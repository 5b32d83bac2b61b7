"""Microsoft.Compute/images (managed images, ComputeRP 2026-04-01): PUT 201/200 + ``Azure-AsyncOperation``
(``…/locations/<loc>/operations/<id>``), DELETE 202 with both URLs.

The OS disk source is one of ``blobUri`` (a page blob with a fixed-VHD footer, probed like gallery
sources), ``managedDisk.id`` or ``snapshot.id``; ``sourceVirtualMachine`` is not modelled (400).
Messages from Microsoft's "Understand common error messages when you manage virtual machines":

* the blob's storage account unknown → 404 ``StorageAccountNotFound``; in another region than the image →
  400 ``StorageAccountLocationMismatch`` "Could not resolve storage account <name>. Please ensure it was
  created through the Storage Resource Provider in the same location as the compute resource.";
* blob missing → 404 ``ImageBlobNotFound`` "Unable to find VHD blob with URI <uri>."; not a page blob →
  400 ``IncorrectImageBlobType``; not a fixed VHD → 400 ``InvalidParameter``;
* a disk or snapshot source that does not exist → 404 ``NotFound``;
* ``diskSizeGB`` defaults to the source size (VHD footer rounded up to GiB); smaller → 400;
* ``osType``/``osState`` required; ``hyperVGeneration`` V1 (default) or V2; the source and generation
  cannot change (409 ``PropertyChangeNotAllowed``).
"""

from __future__ import annotations

import copy
import math
from typing import Any

from arm_emulator import regions
from arm_emulator.blobs import parse_blob_url
from arm_emulator.store import Record
from arm_emulator.types.base import Ctx, ResourceType, Write
from arm_emulator.types.compute_common import (
    COMPUTE_API_VERSIONS,
    COMPUTE_LRO,
    as_object,
    check_enum,
    property_change_not_allowed,
    require,
    same,
)
from arm_emulator.wire import ArmError, invalid_parameter, missing_parameter

GIB = 1024**3
_SOURCES = ("blobUri", "managedDisk", "snapshot")


class Images(ResourceType):
    type_name = "Microsoft.Compute/images"
    api_versions = COMPUTE_API_VERSIONS
    lro = COMPUTE_LRO

    def validate(self, ctx: Ctx, write: Write) -> None:
        props = as_object(write.body.get("properties"), "properties")
        if props.get("sourceVirtualMachine"):
            raise invalid_parameter(
                "Images from a source virtual machine are not supported by the emulator.", "sourceVirtualMachine"
            )
        profile = as_object(props.get("storageProfile"), "properties.storageProfile")
        os_disk = as_object(profile.get("osDisk"), "properties.storageProfile.osDisk")
        if not os_disk:
            raise missing_parameter("storageProfile.osDisk")
        check_enum(require(os_disk, "osType", "osDisk.osType"), ("Windows", "Linux"), "osType")
        check_enum(require(os_disk, "osState", "osDisk.osState"), ("Generalized", "Specialized"), "osState")
        check_enum(props.get("hyperVGeneration") or "V1", ("V1", "V2"), "hyperVGeneration")
        if os_disk.get("caching") is not None:
            check_enum(os_disk["caching"], ("None", "ReadOnly", "ReadWrite"), "caching")
        if sum(1 for key in _SOURCES if os_disk.get(key)) != 1:
            raise invalid_parameter(
                "Exactly one of blobUri, managedDisk or snapshot must be given for the OS disk.", "osDisk"
            )
        if write.existing is not None:
            _check_unchanged(write.existing.properties(), props, os_disk)

    def build(self, ctx: Ctx, write: Write) -> dict[str, Any]:
        props = copy.deepcopy(as_object(write.body.get("properties"), "properties"))
        props.pop("provisioningState", None)
        profile = props.setdefault("storageProfile", {})
        os_disk = profile["osDisk"]
        if write.existing is not None:
            os_disk["diskSizeGB"] = write.existing.properties()["storageProfile"]["osDisk"]["diskSizeGB"]
        else:
            source_gb = _source_size(ctx, os_disk, write.location)
            os_disk["diskSizeGB"] = _size(os_disk.get("diskSizeGB"), source_gb)
        os_disk["osType"] = check_enum(os_disk["osType"], ("Windows", "Linux"), "osType")
        os_disk["osState"] = check_enum(os_disk["osState"], ("Generalized", "Specialized"), "osState")
        os_disk.setdefault("storageAccountType", "Standard_LRS")
        profile.setdefault("dataDisks", [])
        profile.setdefault("zoneResilient", False)
        props["hyperVGeneration"] = check_enum(props.get("hyperVGeneration") or "V1", ("V1", "V2"), "hyperVGeneration")
        return {"properties": props}


def _size(given: Any, source_gb: int) -> int:
    if given is None:
        return source_gb
    if isinstance(given, bool) or not isinstance(given, int) or given < source_gb:
        raise invalid_parameter(
            f"The specified disk size {given} GB is smaller than the size of the source: {source_gb} GB.",
            "osDisk.diskSizeGB",
        )
    return given


def _source_size(ctx: Ctx, os_disk: dict[str, Any], location: str) -> int:
    if os_disk.get("blobUri"):
        return _blob_size(ctx, str(os_disk["blobUri"]), location)
    ref = as_object(os_disk.get("managedDisk") or os_disk.get("snapshot"), "osDisk.source")
    source_id = str(ref.get("id", ""))
    record = ctx.store.get(source_id) if source_id else None
    if record is None or record.type_key not in ("microsoft.compute/disks", "microsoft.compute/snapshots"):
        raise ArmError(404, "NotFound", f"The entity {source_id} was not found in this Azure location.")
    return int(record.properties().get("diskSizeGB", 1))


def _blob_size(ctx: Ctx, uri: str, location: str) -> int:
    ref = parse_blob_url(uri)
    if ref is None:
        raise invalid_parameter(f"The URI {uri} does not look to be correct blob URI.", "osDisk.blobUri")
    account = _account(ctx, ref.account)
    if account is None:
        raise ArmError(
            404,
            "StorageAccountNotFound",
            f"Storage account {ref.account} not found. Ensure storage account is not deleted and belongs to the "
            "same Azure location as the VM.",
        )
    if regions.normalize(str(account.body.get("location"))) != regions.normalize(location):
        raise ArmError(
            400,
            "StorageAccountLocationMismatch",
            f"Could not resolve storage account {ref.account}. Please ensure it was created through the Storage "
            "Resource Provider in the same location as the compute resource.",
        )
    check = ctx.storage.check_vhd(ref)
    if check.kind == "missing":
        raise ArmError(404, "ImageBlobNotFound", f"Unable to find VHD blob with URI {uri}.")
    if check.kind == "not_page_blob":
        raise ArmError(
            400,
            "IncorrectImageBlobType",
            f"Disk blobs can only be of type page blob. Blob {uri} is of type 'BlockBlob'.",
        )
    if check.problem is not None:
        raise invalid_parameter(check.problem, "osDisk.blobUri")
    return max(1, math.ceil((check.virtual_size or GIB) / GIB))


def _account(ctx: Ctx, name: str) -> Record | None:
    for record in ctx.store.all():
        if record.type_key == "microsoft.storage/storageaccounts" and record.name.lower() == name.lower():
            return record
    return None


def _check_unchanged(old: dict[str, Any], new: dict[str, Any], os_disk: dict[str, Any]) -> None:
    if not same(old.get("hyperVGeneration", "V1"), new.get("hyperVGeneration") or "V1"):
        raise property_change_not_allowed("image.properties.hyperVGeneration")
    old_disk = old.get("storageProfile", {}).get("osDisk", {})
    if not same(old_disk.get("blobUri"), os_disk.get("blobUri")):
        raise property_change_not_allowed("image.properties.storageProfile.osDisk.blobUri")
    for key in ("managedDisk", "snapshot"):
        if not same((old_disk.get(key) or {}).get("id"), (os_disk.get(key) or {}).get("id")):
            raise property_change_not_allowed(f"image.properties.storageProfile.osDisk.{key}")
