"""Gallery image version replication: per-region progress, target-region updates, stuck replication."""

from __future__ import annotations

from typing import Any

from azure.mgmt.compute import ComputeManagementClient

from arm_emulator import ArmEmulator, FaultRule, StuckOperation
from tests.emulator.conftest import GALLERY_PATH, Raw, version_body
from tests.peers import GALLERY, RESOURCE_GROUP


def _status(raw: Raw, path: str) -> tuple[str, list[tuple[str, str]]]:
    status = raw("GET", path, params={"$expand": "ReplicationStatus"}).json()["properties"]["replicationStatus"]
    return status["aggregatedState"], [(s["region"], s["state"]) for s in status["summary"]]


def test_regions_replicate_one_after_another(raw: Raw, arm: ArmEmulator, image: str, vhd_uri: str) -> None:
    arm.knobs.replication_polls_per_region = 2
    path = f"{GALLERY_PATH}/images/{image}/versions/1.0.0"
    created = raw("PUT", path, json=version_body(vhd_uri, ["eastus", "westus2", "northeurope"]))
    assert created.status_code == 201
    operation = created.headers["Azure-AsyncOperation"]
    regions = ["East US", "West US 2", "North Europe"]
    assert _status(raw, path) == ("InProgress", [(r, "Replicating") for r in regions])
    expected_after = {2: ["Completed", "Replicating", "Replicating"], 4: ["Completed", "Completed", "Replicating"]}
    for poll in range(1, 7):
        assert raw("GET", operation, api_version=None).json()["status"] == "InProgress"
        if poll in expected_after:
            assert _status(raw, path)[1] == list(zip(regions, expected_after[poll], strict=True))
    assert _status(raw, path) == (
        "InProgress",
        list(zip(regions, ["Completed", "Completed", "Replicating"], strict=True)),
    )
    assert raw("GET", operation, api_version=None).json()["status"] == "Succeeded"
    assert _status(raw, path) == ("Completed", [(r, "Completed") for r in regions])
    assert "replicationStatus" not in raw("GET", path).json()["properties"]


def _regions(version: Any) -> list[tuple[str, int]]:
    return [(t.name, t.regional_replica_count) for t in version.publishing_profile.target_regions]


def test_target_regions_and_replicas_update_by_patch_and_put(
    compute: ComputeManagementClient, raw: Raw, arm: ArmEmulator, image: str, vhd_uri: str
) -> None:
    versions = compute.gallery_image_versions
    versions.begin_create_or_update(RESOURCE_GROUP, GALLERY, image, "1.0.0", version_body(vhd_uri)).result()
    patch = version_body(vhd_uri, ["eastus", "westus"], replicaCount=3)
    del patch["location"]  # not part of GalleryImageVersionUpdate
    poller = versions.begin_update(RESOURCE_GROUP, GALLERY, image, "1.0.0", patch)
    path = f"{GALLERY_PATH}/images/{image}/versions/1.0.0"
    assert _status(raw, path) == ("InProgress", [("East US", "Completed"), ("West US", "Replicating")])
    assert _regions(poller.result()) == [("East US", 3), ("West US", 3)]
    assert _status(raw, path)[0] == "Completed"
    put = versions.begin_create_or_update(
        RESOURCE_GROUP, GALLERY, image, "1.0.0", version_body(vhd_uri, ["eastus"], replicaCount=1)
    )
    assert _regions(put.result()) == [("East US", 1)]


def test_stuck_replication_stays_replicating(
    compute: ComputeManagementClient, raw: Raw, arm: ArmEmulator, image: str, vhd_uri: str
) -> None:
    arm.faults.add(FaultRule(StuckOperation(), method="PUT", path=f"/images/{image}/versions/"))
    path = f"{GALLERY_PATH}/images/{image}/versions/1.0.0"
    operation = raw("PUT", path, json=version_body(vhd_uri)).headers["Azure-AsyncOperation"]
    for _ in range(10):
        raw("GET", operation, api_version=None)
    assert _status(raw, path) == ("InProgress", [("East US", "Replicating")])
    assert raw("GET", path).json()["properties"]["provisioningState"] == "Creating"
    arm.complete_operations()
    assert _status(raw, path) == ("Completed", [("East US", "Completed")])
