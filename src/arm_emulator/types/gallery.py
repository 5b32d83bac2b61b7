"""Microsoft.Compute/galleries and galleries/images (image definitions), GalleryRP 2026-03-03.

Server behaviour copied from the recorded service (azure-sdk-for-python gallery recording) and Microsoft's
"Troubleshooting shared image galleries" page (error messages):

* galleries get ``identifier.uniqueName = <subscription>-<NAME IN UPPER CASE>``;
* definitions get ``hyperVGeneration: V1`` and ``architecture: x64`` when not given;
* a definition's ``identifier`` (publisher, offer, sku) is unique per gallery → 409 ``OperationNotAllowed``;
* ``osType``, ``osState``, ``hyperVGeneration``, ``architecture`` and the identifier cannot change → 409
  ``PropertyChangeNotAllowed`` ("Changing property 'galleryImage.properties.osType' is not allowed.");
  ``features`` can change only with ``allowUpdateImage: true``;
* deleting a gallery or definition that still has children → 409 ``CannotDeleteResource``
  ("Can not delete resource before nested resources are deleted.").
GalleryRP has no etag. Operations are polled under ``capsOperations``.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from arm_emulator.store import Record
from arm_emulator.types.base import Ctx, ResourceType, Write
from arm_emulator.types.compute_common import (
    GALLERY_API_VERSIONS,
    GALLERY_LRO,
    as_object,
    check_enum,
    property_change_not_allowed,
    require,
    same,
)
from arm_emulator.wire import ArmError, invalid_parameter

# GalleryRP path pattern ^[^_\W][\w-._]{0,79}(?<![-.])$ (the hyphen is literal in the class).
_NAME = re.compile(r"^[^_\W][\w\-._]{0,79}(?<![-.])$")
_IDENTIFIER_PART = re.compile(r"^[A-Za-z0-9._-]*[A-Za-z0-9_-]$")
_IDENTIFIER_LIMITS = {"publisher": 128, "offer": 64, "sku": 64}
_IMMUTABLE = ("osType", "osState", "hyperVGeneration", "architecture")


def nested_resources_error() -> ArmError:
    return ArmError(409, "CannotDeleteResource", "Can not delete resource before nested resources are deleted.")


def check_gallery_name(name: str, parameter: str) -> None:
    if not _NAME.match(name):
        raise invalid_parameter(
            f"The entity name '{parameter}' is invalid according to its validation rule: "
            r"^[^_\W][\w-._]{0,79}(?<![-.])$.",
            parameter,
        )


class Galleries(ResourceType):
    type_name = "Microsoft.Compute/galleries"
    api_versions = GALLERY_API_VERSIONS
    lro = GALLERY_LRO

    def validate_name(self, name: str) -> None:
        check_gallery_name(name, "galleryName")

    def build(self, ctx: Ctx, write: Write) -> dict[str, Any]:
        given = as_object(write.body.get("properties"), "properties")
        props: dict[str, Any] = {}
        for key in ("description", "sharingProfile", "softDeletePolicy"):
            if key in given:
                props[key] = copy.deepcopy(given[key])
        props["identifier"] = {"uniqueName": f"{write.path.subscription}-{write.path.name.upper()}"}
        body: dict[str, Any] = {"properties": props}
        if isinstance(write.body.get("identity"), dict):
            body["identity"] = copy.deepcopy(write.body["identity"])
        return body

    def check_delete(self, ctx: Ctx, record: Record) -> None:
        if ctx.store.children(record.id):
            raise nested_resources_error()


class GalleryImages(ResourceType):
    type_name = "Microsoft.Compute/galleries/images"
    api_versions = GALLERY_API_VERSIONS
    lro = GALLERY_LRO

    def validate_name(self, name: str) -> None:
        check_gallery_name(name, "galleryImageName")

    def validate(self, ctx: Ctx, write: Write) -> None:
        props = as_object(write.body.get("properties"), "properties")
        if not props:
            raise ArmError(400, "InvalidParameter", "Required parameter 'properties' is missing (null).")
        check_enum(require(props, "osType"), ("Windows", "Linux"), "osType")
        check_enum(require(props, "osState"), ("Generalized", "Specialized"), "osState")
        if props.get("hyperVGeneration") is not None:
            check_enum(props["hyperVGeneration"], ("V1", "V2"), "hyperVGeneration")
        if props.get("architecture") is not None:
            check_enum(props["architecture"], ("x64", "Arm64"), "architecture")
        identifier = as_object(require(props, "identifier"), "properties.identifier")
        for part, limit in _IDENTIFIER_LIMITS.items():
            _check_identifier_part(require(identifier, part, f"identifier.{part}"), part, limit)
        self._check_unique(ctx, write, identifier)
        if write.existing is not None:
            _check_immutable(write.existing.properties(), props)

    def _check_unique(self, ctx: Ctx, write: Write, identifier: dict[str, Any]) -> None:
        parent = write.path.parent()
        assert parent is not None
        wanted = tuple(str(identifier[p]).lower() for p in ("publisher", "offer", "sku"))
        for sibling in ctx.store.children(parent.resource_id(), self.key):
            if sibling.name.lower() == write.path.name.lower():
                continue
            other = sibling.properties().get("identifier", {})
            if tuple(str(other.get(p, "")).lower() for p in ("publisher", "offer", "sku")) == wanted:
                raise ArmError(
                    409,
                    "OperationNotAllowed",
                    f"Gallery image: {write.path.name} identified by (publisher:{identifier['publisher']}, "
                    f"offer:{identifier['offer']}, sku:{identifier['sku']}) already exists. Choose a different "
                    "publisher, offer, sku combination.",
                )

    def build(self, ctx: Ctx, write: Write) -> dict[str, Any]:
        props = copy.deepcopy(as_object(write.body.get("properties"), "properties"))
        props.pop("provisioningState", None)
        props["osType"] = check_enum(props["osType"], ("Windows", "Linux"), "osType")
        props["osState"] = check_enum(props["osState"], ("Generalized", "Specialized"), "osState")
        props["hyperVGeneration"] = check_enum(props.get("hyperVGeneration") or "V1", ("V1", "V2"), "hyperVGeneration")
        props["architecture"] = check_enum(props.get("architecture") or "x64", ("x64", "Arm64"), "architecture")
        return {"properties": props}

    def check_delete(self, ctx: Ctx, record: Record) -> None:
        if ctx.store.children(record.id):
            raise nested_resources_error()


def _check_identifier_part(value: Any, part: str, limit: int) -> None:
    if not isinstance(value, str) or len(value) > limit or not _IDENTIFIER_PART.match(value):
        raise invalid_parameter(
            f"Asset name galleryImage.properties.identifier.{part} is not valid. It cannot be empty. Allowed "
            "characters are uppercase or lowercase letters, digits, hyphen(-), period (.), underscore (_). "
            f"Names are not allowed to end with period(.). The length of the name cannot exceed {limit} "
            "characters.",
            f"galleryImage.properties.identifier.{part}",
        )


def _check_immutable(old: dict[str, Any], new: dict[str, Any]) -> None:
    defaults = {"hyperVGeneration": "V1", "architecture": "x64"}
    for name in _IMMUTABLE:
        before, after = old.get(name), new.get(name) or defaults.get(name)
        if not same(before, after):
            raise property_change_not_allowed(f"galleryImage.properties.{name}")
    old_id, new_id = old.get("identifier", {}), new.get("identifier", {})
    for part in ("publisher", "offer", "sku"):
        if not same(old_id.get(part), new_id.get(part)):
            raise property_change_not_allowed(f"galleryImage.properties.identifier.{part}")
    if not _features_equal(old.get("features"), new.get("features")) and new.get("allowUpdateImage") is not True:
        raise ArmError(
            409,
            "PropertyChangeNotAllowed",
            "Changing property 'galleryImage.properties.features' is not allowed unless "
            "'galleryImage.properties.allowUpdateImage' is set to true.",
            target="galleryImage.properties.features",
        )


def _features_equal(old: Any, new: Any) -> bool:
    def key(features: Any) -> list[tuple[str, str]]:
        items = features if isinstance(features, list) else []
        return sorted((str(f.get("name", "")).lower(), str(f.get("value", "")).lower()) for f in items)

    return key(old) == key(new)
