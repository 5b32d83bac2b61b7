"""Checks of a gallery image version's ``storageProfile`` (its source), as Compute applies them.

* exactly one source: ``storageProfile.source`` (image, VM, snapshot …) or per-disk sources;
* a VHD source is ``osDiskImage.source = {uri, storageAccountId}``: both required, the account in the
  URI must be the account the id names, that account must exist, ``id`` must not be sent with a ``uri``
  (seen rejected in ansible-collections/azure #2113), and the blob must be a fixed VHD page blob;
* a source ``id`` of a type the emulator knows must exist;
* on update the source cannot change (409 PropertyChangeNotAllowed).
Messages follow Microsoft's "Troubleshooting shared image galleries" page where it has one.
"""

from __future__ import annotations

import math
from typing import Any

from arm_emulator.blobs import parse_blob_url
from arm_emulator.ids import parse_resource_id
from arm_emulator.types.base import Ctx
from arm_emulator.types.compute_common import as_object, check_enum, property_change_not_allowed, same
from arm_emulator.wire import ArmError, invalid_parameter, missing_parameter

GIB = 1024**3
_ONE_SOURCE = (
    "The gallery artifact version source can only be specified either directly under storageProfile or "
    "within individual OS or data disks. One and only one source type (user image, snapshot, disk, virtual "
    "machine) can be provided."
)
_SOURCE_KEYS = ("id", "virtualMachineId", "communityGalleryImageId")


def validate_storage_profile(ctx: Ctx, profile: dict[str, Any]) -> dict[str, int]:
    """Validate the profile; return ``{"osDiskImage": size_in_gb}`` for VHD sources that were probed."""
    top = as_object(profile.get("source"), "properties.storageProfile.source")
    os_disk = as_object(profile.get("osDiskImage"), "properties.storageProfile.osDiskImage")
    os_source = as_object(os_disk.get("source"), "properties.storageProfile.osDiskImage.source")
    has_top = any(top.get(k) for k in _SOURCE_KEYS)
    if has_top == bool(os_source):
        raise invalid_parameter(_ONE_SOURCE, "storageProfile")
    sizes: dict[str, int] = {}
    if os_disk.get("hostCaching") is not None:
        check_enum(os_disk["hostCaching"], ("None", "ReadOnly", "ReadWrite"), "hostCaching")
    if has_top:
        _check_source_id(ctx, str(top.get("id") or top.get("virtualMachineId") or ""), "storageProfile.source.id")
    else:
        size = _check_disk_source(ctx, os_source, "storageProfile.osDiskImage.source")
        if size is not None:
            sizes["osDiskImage"] = size
    for index, disk in enumerate(profile.get("dataDiskImages") or []):
        source = as_object(as_object(disk, "dataDiskImages").get("source"), "dataDiskImages.source")
        if source:
            _check_disk_source(ctx, source, f"storageProfile.dataDiskImages[{index}].source")
    return sizes


def _check_disk_source(ctx: Ctx, source: dict[str, Any], label: str) -> int | None:
    uri, account_id, source_id = source.get("uri"), source.get("storageAccountId"), source.get("id")
    if uri and source_id:
        raise invalid_parameter(_ONE_SOURCE, f"{label}.id")
    if source_id:
        _check_source_id(ctx, str(source_id), f"{label}.id")
        return None
    if not uri:
        raise invalid_parameter(_ONE_SOURCE, label)
    if not account_id:
        raise missing_parameter(f"{label}.storageAccountId")
    return _check_vhd(ctx, str(uri), str(account_id), label)


def _check_vhd(ctx: Ctx, uri: str, account_id: str, label: str) -> int | None:
    ref = parse_blob_url(uri)
    if ref is None:
        raise invalid_parameter(
            f"The value '{uri}' of parameter '{label}.uri' is not a valid blob URI.", f"{label}.uri"
        )
    parsed = parse_resource_id(account_id)
    if parsed is None or parsed.type_key != "microsoft.storage/storageaccounts":
        raise invalid_parameter(
            f"Property id '{account_id}' at path 'properties.{label}.storageAccountId' is invalid. Expect fully "
            "qualified resource Id that start with '/subscriptions/{subscriptionId}' or "
            "'/providers/{resourceProviderNamespace}/'.",
            f"{label}.storageAccountId",
        )
    if parsed.name.lower() != ref.account.lower():
        raise invalid_parameter(
            f"The blob {uri} is not in the storage account '{account_id}' given as storageAccountId.",
            f"{label}.storageAccountId",
        )
    if ctx.store.get(account_id) is None:
        raise invalid_parameter(
            f"Source was not found: {account_id}. Please make sure the source exists.", f"{label}.storageAccountId"
        )
    check = ctx.storage.check_vhd(ref)
    if check.problem is not None:
        raise invalid_parameter(check.problem, f"{label}.uri")
    return math.ceil(check.virtual_size / GIB) if check.virtual_size else None


def _check_source_id(ctx: Ctx, source_id: str, label: str) -> None:
    """Source ids must be resource ids; those of types the emulator models must exist."""
    parsed = parse_resource_id(source_id)
    if parsed is None:
        raise invalid_parameter(
            f"Property id '{source_id}' at path 'properties.{label}' is invalid. Expect fully qualified resource "
            "Id that start with '/subscriptions/{subscriptionId}' or '/providers/{resourceProviderNamespace}/'.",
            label,
        )
    if ctx.registry.get(parsed.type_key) is not None and ctx.store.get(source_id) is None:
        raise ArmError(404, "NotFound", f"Source was not found: {source_id}. Please make sure the source exists.")


def check_source_unchanged(old: dict[str, Any], new: dict[str, Any]) -> None:
    """The source of an existing version cannot change."""
    old_src = old.get("osDiskImage", {}).get("source", {})
    new_src = new.get("osDiskImage", {}).get("source", {})
    for key in ("uri", "storageAccountId", "id"):
        if not same(old_src.get(key), new_src.get(key)):
            raise property_change_not_allowed(f"galleryImageVersion.properties.storageProfile.osDiskImage.source.{key}")
    old_top, new_top = old.get("source", {}), new.get("source", {})
    for key in _SOURCE_KEYS:
        if not same(old_top.get(key), new_top.get(key)):
            raise property_change_not_allowed(f"galleryImageVersion.properties.storageProfile.source.{key}")
