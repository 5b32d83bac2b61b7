"""Microsoft.Compute/galleries/images/versions (gallery image versions), GalleryRP 2026-03-03.

Shapes follow the recorded service: the PUT answer is 201 + ``Azure-AsyncOperation`` with
``provisioningState: Creating`` and server-filled ``publishingProfile`` (``replicaCount: 1``,
``excludeFromLatest: false``, ``publishedDate``, ``storageAccountType: Standard_LRS``), target regions in
display form ("East US 2") with ``regionalReplicaCount``/``storageAccountType`` filled in, and a
``safetyProfile``. ``replicationStatus`` appears only with ``$expand=ReplicationStatus``.

Replication: each target region not yet replicated takes ``knobs.replication_polls_per_region`` polls of
the version's operation; regions finish in order and the last one finishes with the operation, so a
region reports ``Replicating`` until its share of the operation is done. Name rule (service-enforced, not
in the spec): ``Major.Minor.Patch`` with 32-bit integer parts → else 400 ``InvalidParameter``.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from arm_emulator import regions
from arm_emulator.lro import IN_PROGRESS, Operation
from arm_emulator.store import Record
from arm_emulator.types.base import FAILED, SUCCEEDED, Ctx, ResourceType, Write
from arm_emulator.types.compute_common import (
    GALLERY_API_VERSIONS,
    GALLERY_LRO,
    INT32_MAX,
    as_object,
    check_enum,
    check_int,
    property_change_not_allowed,
    same,
)
from arm_emulator.types.gallery_source import check_source_unchanged, validate_storage_profile
from arm_emulator.wire import ArmError, invalid_parameter, iso_time, missing_parameter, utc_now

_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
STORAGE_TYPES = ("Standard_LRS", "Standard_ZRS", "Premium_LRS", "PremiumV2_LRS")
MAX_REPLICAS = 100


def check_version_name(name: str) -> None:
    match = _VERSION.match(name)
    if match is None or any(int(part) > INT32_MAX for part in match.groups()):
        raise invalid_parameter(
            "The image version name is invalid. The image version name should follow Major(int).Minor(int)."
            "Patch(int) format, for e.g: 1.0.0, 2018.12.1 etc.",
            "galleryImageVersionName",
        )


class GalleryImageVersions(ResourceType):
    type_name = "Microsoft.Compute/galleries/images/versions"
    api_versions = GALLERY_API_VERSIONS
    lro = GALLERY_LRO

    def validate_name(self, name: str) -> None:
        check_version_name(name)

    def validate(self, ctx: Ctx, write: Write) -> None:
        props = as_object(write.body.get("properties"), "properties")
        profile = as_object(props.get("storageProfile"), "properties.storageProfile")
        if not profile:
            raise missing_parameter("storageProfile")
        publishing = as_object(props.get("publishingProfile"), "properties.publishingProfile")
        _check_publishing(publishing, write.location, write.existing)
        if write.existing is not None:
            check_source_unchanged(write.existing.properties().get("storageProfile", {}), profile)
        # A new version's source (including the VHD probe) is checked once, in build().

    def build(self, ctx: Ctx, write: Write) -> dict[str, Any]:
        given = copy.deepcopy(as_object(write.body.get("properties"), "properties"))
        for read_only in ("provisioningState", "replicationStatus", "validationsProfile", "imageMetadataProfiles"):
            given.pop(read_only, None)
        old = write.existing.properties() if write.existing is not None else {}
        given["publishingProfile"] = _fill_publishing(
            as_object(given.get("publishingProfile"), "publishingProfile"), write.location, old.get("publishingProfile")
        )
        if write.existing is not None:
            given["storageProfile"] = copy.deepcopy(old.get("storageProfile", {}))
        else:
            sizes = validate_storage_profile(ctx, as_object(given.get("storageProfile"), "storageProfile"))
            if "osDiskImage" in sizes:
                given["storageProfile"]["osDiskImage"]["sizeInGB"] = sizes["osDiskImage"]
        safety = {"reportedForPolicyViolation": False, "allowDeletionOfReplicatedLocations": False}
        safety.update(
            {k: v for k, v in as_object(given.get("safetyProfile"), "safetyProfile").items() if k != "policyViolations"}
        )
        given["safetyProfile"] = safety
        return {"properties": given}

    # ---- replication ----------------------------------------------------------------------------------

    def polls(self, ctx: Ctx, record: Record, method: str) -> int:
        pending = _pending_regions(record) if method != "DELETE" else []
        return max(ctx.knobs.polls_for(self.key), ctx.knobs.replication_polls_per_region * len(pending))

    def on_operation_started(self, ctx: Ctx, record: Record, op: Operation, method: str) -> None:
        record.meta["pending"] = _pending_regions(record) if method != "DELETE" else []

    def on_operation_done(self, ctx: Ctx, record: Record, op: Operation) -> None:
        super().on_operation_done(ctx, record, op)
        if op.status == SUCCEEDED:
            record.meta["replicated"] = sorted({*record.meta.get("replicated", []), *record.meta.get("pending", [])})
            record.meta["pending"] = []

    def render(self, ctx: Ctx, record: Record, query: dict[str, str] | Any) -> dict[str, Any]:
        body = record.snapshot()
        expand = str(query.get("$expand", "")).lower()
        if "replicationstatus" in expand:
            body["properties"]["replicationStatus"] = replication_status(ctx, record)
        return body


def _check_publishing(publishing: dict[str, Any], location: str, existing: Record | None) -> None:
    if publishing.get("replicaCount") is not None:
        check_int(publishing["replicaCount"], "properties.publishingProfile.replicaCount", 1, MAX_REPLICAS)
    if publishing.get("storageAccountType") is not None:
        check_enum(publishing["storageAccountType"], STORAGE_TYPES, "storageAccountType")
        if existing is not None:
            old = existing.properties().get("publishingProfile", {}).get("storageAccountType")
            if not same(old, publishing["storageAccountType"]):
                raise property_change_not_allowed("galleryImageVersion.properties.publishingProfile.storageAccountType")
    targets = publishing.get("targetRegions")
    if targets is None:
        return
    if not isinstance(targets, list):
        raise ArmError(
            400, "InvalidRequestContent", "The request content was invalid: 'targetRegions' must be an array."
        )
    seen: set[str] = set()
    for index, target in enumerate(targets):
        _check_target(as_object(target, f"targetRegions[{index}]"), index, seen)
    if regions.normalize(location) not in seen:
        names = ",".join(regions.display_name(n) for n in sorted(seen))
        raise invalid_parameter(
            f"Gallery image version publishing profile regions '{names}' must contain the location of image "
            f"version '{location}'.",
            "publishingProfile.targetRegions",
        )


def _check_target(target: dict[str, Any], index: int, seen: set[str]) -> None:
    name = target.get("name")
    if not isinstance(name, str) or not name:
        raise missing_parameter(f"publishingProfile.targetRegions[{index}].name")
    if not regions.is_known(name):
        raise invalid_parameter(
            f"The provided location '{name}' is not available for resource type 'Microsoft.Compute/galleries'.",
            f"publishingProfile.targetRegions[{index}].name",
        )
    if regions.normalize(name) in seen:
        raise invalid_parameter("Duplicate regions are not allowed in target publishing regions.", "targetRegions")
    seen.add(regions.normalize(name))
    path = f"properties.publishingProfile.targetRegions[{index}].regionalReplicaCount"
    if target.get("regionalReplicaCount") is not None:
        check_int(target["regionalReplicaCount"], path, 1, MAX_REPLICAS)
    if target.get("storageAccountType") is not None:
        check_enum(target["storageAccountType"], STORAGE_TYPES, "storageAccountType")


def _fill_publishing(given: dict[str, Any], location: str, old: dict[str, Any] | None) -> dict[str, Any]:
    """Server-side defaults of the publishing profile (kept from ``old`` where not updatable)."""
    old = old or {}
    profile = copy.deepcopy(given)
    profile.setdefault("replicaCount", 1)
    profile.setdefault("excludeFromLatest", False)
    profile["publishedDate"] = old.get("publishedDate") or iso_time(utc_now())
    storage_type = old.get("storageAccountType") or given.get("storageAccountType") or "Standard_LRS"
    profile["storageAccountType"] = check_enum(storage_type, STORAGE_TYPES, "storageAccountType")
    targets = given.get("targetRegions") or [{"name": location}]
    filled = []
    for target in targets:
        entry = copy.deepcopy(target)
        entry["name"] = regions.display_name(str(target["name"]))
        entry.setdefault("regionalReplicaCount", profile["replicaCount"])
        entry["storageAccountType"] = check_enum(
            target.get("storageAccountType") or profile["storageAccountType"], STORAGE_TYPES, "storageAccountType"
        )
        filled.append(entry)
    profile["targetRegions"] = filled
    return profile


def _pending_regions(record: Record) -> list[str]:
    """Normalised target regions not yet replicated, in target order."""
    done = set(record.meta.get("replicated", []))
    targets = record.properties().get("publishingProfile", {}).get("targetRegions", [])
    return [regions.normalize(t["name"]) for t in targets if regions.normalize(t["name"]) not in done]


def replication_status(ctx: Ctx, record: Record) -> dict[str, Any]:
    """``{aggregatedState, summary: [{region, state, details, progress}]}`` from the operation's progress."""
    pending = list(record.meta.get("pending", []))
    op = ctx.operations.get(str(record.meta.get("operation", "")))
    per_region = max(ctx.knobs.replication_polls_per_region, 1)
    summary = []
    for target in record.properties().get("publishingProfile", {}).get("targetRegions", []):
        region = regions.normalize(target["name"])
        state, progress = SUCCEEDED, 100
        if region in pending and op is not None:
            state, progress = _region_progress(op, pending.index(region), len(pending), per_region)
        summary.append(
            {"region": regions.display_name(region), "state": _STATE[state], "details": "", "progress": progress}
        )
    states = {s["state"] for s in summary}
    aggregated = "Failed" if "Failed" in states else "InProgress" if "Replicating" in states else "Completed"
    return {"aggregatedState": aggregated, "summary": summary}


_STATE = {SUCCEEDED: "Completed", FAILED: "Failed", IN_PROGRESS: "Replicating"}


def _region_progress(op: Operation, index: int, count: int, per_region: int) -> tuple[str, int]:
    if op.status == FAILED:
        return FAILED, 0
    if op.done:
        return SUCCEEDED, 100
    if op.polls_needed is None:
        return IN_PROGRESS, 0
    finished = min(count - 1, op.polls_seen // per_region)
    if index < finished:
        return SUCCEEDED, 100
    if index == finished:
        return IN_PROGRESS, min(99, (op.polls_seen % per_region) * 100 // per_region)
    return IN_PROGRESS, 0
