"""The oav traffic gate (tools/validate_traffic.py) on recordings made by the emulator's recorder.

oav needs ~2 s per run (spec loading): these tests run it twice in all.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.mgmt.compute import ComputeManagementClient

from arm_emulator import ArmEmulator
from tests.emulator.conftest import version_body
from tests.peers import LOCATION, RESOURCE_GROUP
from tools import validate_traffic

FLOW_OPERATIONS = (
    "Galleries_CreateOrUpdate",
    "Galleries_Get",
    "GalleryImages_CreateOrUpdate",
    "GalleryImages_Get",
    "GalleryImageVersions_CreateOrUpdate",
    "GalleryImageVersions_Get",
    "GalleryImageVersions_ListByGalleryImage",
    "GalleryImageVersions_Delete",
)

pytestmark = pytest.mark.skipif(not validate_traffic.OAV.exists(), reason="run `make node` first")


@contextlib.contextmanager
def recording_into(arm: ArmEmulator, directory: Path) -> Iterator[Path]:
    arm.set_traffic_dir(directory)
    try:
        yield directory
    finally:
        arm.set_traffic_dir(arm.options.traffic_dir)


def _expectations(*operations: str) -> validate_traffic.Expectations:
    return validate_traffic.Expectations(operations=operations, allow_undefined=())


@pytest.fixture
def good_traffic(compute: ComputeManagementClient, arm: ArmEmulator, vhd_uri: str, name: str, tmp_path: Path) -> Path:
    image_body = {
        "location": LOCATION,
        "properties": {
            "osType": "Linux",
            "osState": "Generalized",
            "identifier": {"publisher": "p", "offer": name, "sku": "s"},
        },
    }
    with recording_into(arm, tmp_path / "good") as directory:
        compute.galleries.begin_create_or_update(RESOURCE_GROUP, name, {"location": LOCATION}).result()
        compute.gallery_images.begin_create_or_update(RESOURCE_GROUP, name, "img", image_body).result()
        versions = compute.gallery_image_versions
        versions.begin_create_or_update(
            RESOURCE_GROUP, name, "img", "1.0.0", version_body(vhd_uri, ["eastus"])
        ).result()
        versions.get(RESOURCE_GROUP, name, "img", "1.0.0", expand="ReplicationStatus")
        list(versions.list_by_gallery_image(RESOURCE_GROUP, name, "img"))
        versions.begin_delete(RESOURCE_GROUP, name, "img", "1.0.0").result()
    return directory


def test_recorded_traffic_passes_and_coverage_is_enforced(good_traffic: Path) -> None:
    files = sorted(good_traffic.glob("*.json"))
    assert files, "nothing was recorded"
    exchange = json.loads(next(f for f in files if f.name.endswith("-PUT.json")).read_text())
    assert set(exchange) == {"liveRequest", "liveResponse"}
    assert exchange["liveResponse"]["statusCode"] == "201"
    with_dir = Path(str(good_traffic) + "-oav")
    with_dir.mkdir()
    rc, text, report = validate_traffic.run_oav(good_traffic, validate_traffic.SPEC_DIR, with_dir)
    passed = validate_traffic.judge(rc, text, report, _expectations(*FLOW_OPERATIONS), len(files))
    assert passed.problems == []
    assert set(FLOW_OPERATIONS) <= passed.covered
    uncovered = validate_traffic.judge(
        rc, text, report, _expectations(*FLOW_OPERATIONS, "Galleries_Delete"), len(files)
    )
    assert uncovered.problems == ["expected operations not covered by the traffic: Galleries_Delete"]


def test_gate_fails_on_a_spec_violation_and_names_it(
    good_traffic: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad_dir = tmp_path / "bad"
    shutil.copytree(good_traffic, bad_dir)
    put = next(f for f in sorted(bad_dir.glob("*-PUT.json")) if "/versions/" in f.read_text())
    exchange = json.loads(put.read_text())
    profile = exchange["liveRequest"]["body"]["properties"]["publishingProfile"]
    profile["replicaCount"] = "three"
    profile["bogusReplicationKnob"] = True
    put.write_text(json.dumps(exchange))
    expected = tmp_path / "expected.txt"
    expected.write_text("GalleryImageVersions_CreateOrUpdate\n")
    assert validate_traffic.main(["--traffic-dir", str(bad_dir), "--expected", str(expected)]) == 1
    out = capsys.readouterr().out
    assert "bogusReplicationKnob" in out
    assert "INVALID_TYPE" in out
    assert put.name in out


def test_gate_fails_without_traffic(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    expected = tmp_path / "expected.txt"
    expected.write_text("Galleries_Get\nallow-undefined ^GET /subscriptions/[^/]+/providers/Microsoft.Compute/skus\n")
    assert validate_traffic.read_expectations(expected).operations == ("Galleries_Get",)
    assert validate_traffic.main(["--traffic-dir", str(tmp_path / "missing"), "--expected", str(expected)]) == 1
    (tmp_path / "empty").mkdir()
    assert validate_traffic.main(["--traffic-dir", str(tmp_path / "empty"), "--expected", str(expected)]) == 1
    assert "missing or empty" in capsys.readouterr().out
