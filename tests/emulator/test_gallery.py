"""Compute Gallery rules: definitions, versions, VHD sources, immutability, deletion guards."""

from __future__ import annotations

from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.compute import ComputeManagementClient

from arm_emulator import ArmEmulator
from arm_emulator.vhd import FOOTER_SIZE, build_footer
from tests.emulator.conftest import ACCOUNT_ID, GALLERY_PATH, MIB, Raw, upload_vhd, version_body
from tests.peers import GALLERY, LOCATION, RESOURCE_GROUP, Peers, not_recorded


def _error(call: Any) -> tuple[int, str, str]:
    with pytest.raises(HttpResponseError) as caught:
        call()
    error = caught.value.error
    assert error is not None
    return caught.value.status_code or 0, str(error.code), str(error.message)


def _put_version(compute: ComputeManagementClient, image: str, version: str, body: dict[str, Any]) -> Any:
    return compute.gallery_image_versions.begin_create_or_update(RESOURCE_GROUP, GALLERY, image, version, body).result()


@pytest.mark.parametrize("version", ["1.2", "1.2.3.4", "a.b.c", "2147483648.0.0", "1.-2.3"])
def test_version_names_must_be_three_int32_parts(
    compute: ComputeManagementClient, image: str, vhd_uri: str, version: str
) -> None:
    status, code, message = _error(lambda: _put_version(compute, image, version, version_body(vhd_uri)))
    assert (status, code) == (400, "InvalidParameter")
    assert "Major(int).Minor(int).Patch(int)" in message


def test_largest_int32_version_is_accepted(compute: ComputeManagementClient, image: str, vhd_uri: str) -> None:
    assert _put_version(compute, image, "2147483647.0.0", version_body(vhd_uri)).name == "2147483647.0.0"


def _with_source(vhd_uri: str, **source: Any) -> dict[str, Any]:
    body = version_body(vhd_uri)
    body["properties"]["storageProfile"]["osDiskImage"]["source"] = source
    return body


def test_vhd_source_rules(compute: ComputeManagementClient, image: str, vhd_uri: str, peers: Peers) -> None:
    snapshot = f"{ACCOUNT_ID.split('/providers/')[0]}/providers/Microsoft.Compute/snapshots/s1"
    elsewhere_uri = vhd_uri.replace("devstoreaccount1", "nosuchaccount")
    elsewhere_id = ACCOUNT_ID.replace("devstoreaccount1", "nosuchaccount")
    cases = {
        "id and uri": _with_source(vhd_uri, uri=vhd_uri, storageAccountId=ACCOUNT_ID, id=snapshot),
        "no account id": _with_source(vhd_uri, uri=vhd_uri),
        "unknown account": _with_source(vhd_uri, uri=elsewhere_uri, storageAccountId=elsewhere_id),
        "other account": _with_source(vhd_uri, uri=vhd_uri, storageAccountId=elsewhere_id),
        "missing blob": _with_source(vhd_uri, uri=vhd_uri + ".missing", storageAccountId=ACCOUNT_ID),
    }
    for label, body in cases.items():
        status, code, _ = _error(lambda b=body: _put_version(compute, image, "1.0.0", b))
        assert (status, code) == (400, "InvalidParameter"), label


def test_vhd_blob_must_be_a_fixed_vhd_of_whole_mib(
    compute: ComputeManagementClient, image: str, peers: Peers, name: str
) -> None:
    dynamic = bytearray(build_footer(4 * MIB))
    dynamic[60:64] = (3).to_bytes(4, "big")
    bad = {
        "dynamic": upload_vhd(peers, f"{name}-dyn.vhd", footer=bytes(dynamic)),
        "no footer": upload_vhd(peers, f"{name}-raw.vhd", footer=b"\0" * FOOTER_SIZE),
        "odd size": upload_vhd(peers, f"{name}-odd.vhd", footer=build_footer(4 * MIB - 512)),
    }
    for label, uri in bad.items():
        status, code, _ = _error(lambda u=uri: _put_version(compute, image, "1.0.0", version_body(u)))
        assert (status, code) == (400, "InvalidParameter"), label


def test_publishing_profile_defaults_and_display_names(
    compute: ComputeManagementClient, image: str, vhd_uri: str
) -> None:
    body = version_body(vhd_uri, ["eastus", "West US 2"], replicaCount=2)
    body["properties"]["publishingProfile"]["targetRegions"][1]["storageAccountType"] = "Standard_ZRS"
    version = _put_version(compute, image, "1.0.0", body).as_dict()["properties"]
    profile = version["publishingProfile"]
    assert profile["replicaCount"] == 2
    assert profile["storageAccountType"] == "Standard_LRS"
    assert profile["excludeFromLatest"] is False
    assert "publishedDate" in profile
    assert profile["targetRegions"] == [
        {"name": "East US", "regionalReplicaCount": 2, "storageAccountType": "Standard_LRS"},
        {"name": "West US 2", "regionalReplicaCount": 2, "storageAccountType": "Standard_ZRS"},
    ]
    assert "replicationStatus" not in version
    assert version["storageProfile"]["osDiskImage"]["sizeInGB"] == 1


def test_publishing_profile_rules(
    compute: ComputeManagementClient, raw: Raw, arm: ArmEmulator, image: str, vhd_uri: str
) -> None:
    cases = {
        "no source region": version_body(vhd_uri, ["westus"]),
        "duplicate regions": version_body(vhd_uri, ["eastus", "East US"]),
        "zero replicas": version_body(vhd_uri, replicaCount=0),
    }
    for label, body in cases.items():
        assert _error(lambda b=body: _put_version(compute, image, "1.0.0", b))[:2] == (400, "InvalidParameter"), label
    path = f"{GALLERY_PATH}/images/{image}/versions/1.0.0"
    with not_recorded(arm):
        wrong_type = raw("PUT", path, json=version_body(vhd_uri, replicaCount="3"))
        assert (wrong_type.status_code, wrong_type.json()["error"]["code"]) == (400, "InvalidRequestContent")
        no_profile = raw("PUT", path, json={"location": LOCATION, "properties": {}})
        assert no_profile.json()["error"]["message"] == "Required parameter 'storageProfile' is missing (null)."


def test_storage_account_type_is_not_updatable(compute: ComputeManagementClient, image: str, vhd_uri: str) -> None:
    _put_version(compute, image, "1.0.0", version_body(vhd_uri))
    changed = version_body(vhd_uri, storageAccountType="Premium_LRS")
    assert _error(lambda: _put_version(compute, image, "1.0.0", changed))[:2] == (409, "PropertyChangeNotAllowed")


def _definition(name: str, **extra: Any) -> dict[str, Any]:
    props = {
        "osType": "Linux",
        "osState": "Generalized",
        "identifier": {"publisher": "bosh", "offer": name, "sku": "gen1"},
    }
    return {"location": LOCATION, "properties": {**props, **extra}}


def test_definition_identifier_is_unique_per_gallery(compute: ComputeManagementClient, image: str) -> None:
    status, code, message = _error(
        lambda: compute.gallery_images.begin_create_or_update(
            RESOURCE_GROUP, GALLERY, image + "x", _definition(image)
        ).result()
    )
    assert (status, code) == (409, "OperationNotAllowed")
    assert "already exists" in message


def test_definition_immutable_fields_and_features(compute: ComputeManagementClient, image: str) -> None:
    images = compute.gallery_images
    windows = _definition(image)
    windows["properties"]["osType"] = "Windows"
    assert _error(lambda: images.begin_create_or_update(RESOURCE_GROUP, GALLERY, image, windows).result())[:2] == (
        409,
        "PropertyChangeNotAllowed",
    )
    features = [{"name": "IsAcceleratedNetworkSupported", "value": "True"}]
    status, code, _ = _error(
        lambda: images.begin_create_or_update(
            RESOURCE_GROUP, GALLERY, image, _definition(image, features=features)
        ).result()
    )
    assert (status, code) == (409, "PropertyChangeNotAllowed")
    allowed = _definition(image, features=features, allowUpdateImage=True)
    assert images.begin_create_or_update(RESOURCE_GROUP, GALLERY, image, allowed).result().features[0].value == "True"
    assert images.begin_update(RESOURCE_GROUP, GALLERY, image, {"tags": {"t": "1"}}).result().tags == {"t": "1"}
    assert image in {i.name for i in images.list_by_gallery(RESOURCE_GROUP, GALLERY)}


def test_deletion_needs_empty_parents(compute: ComputeManagementClient, image: str, vhd_uri: str) -> None:
    _put_version(compute, image, "1.0.0", version_body(vhd_uri))
    delete_image = compute.gallery_images.begin_delete
    assert _error(lambda: delete_image(RESOURCE_GROUP, GALLERY, image).result())[:2] == (409, "CannotDeleteResource")
    assert _error(lambda: compute.galleries.begin_delete(RESOURCE_GROUP, GALLERY).result())[:2] == (
        409,
        "CannotDeleteResource",
    )
    assert [v.name for v in compute.gallery_image_versions.list_by_gallery_image(RESOURCE_GROUP, GALLERY, image)] == [
        "1.0.0"
    ]
    compute.gallery_image_versions.begin_delete(
        RESOURCE_GROUP, GALLERY, image, "1.0.0", bypass_soft_delete=True
    ).result()
    delete_image(RESOURCE_GROUP, GALLERY, image).result()
    assert image not in {i.name for i in compute.gallery_images.list_by_gallery(RESOURCE_GROUP, GALLERY)}


def test_gallery_lifecycle(compute: ComputeManagementClient, arm: ArmEmulator, name: str) -> None:
    gallery = compute.galleries.begin_create_or_update(RESOURCE_GROUP, name, {"location": LOCATION}).result()
    assert gallery.identifier.unique_name.endswith(name.upper())
    assert (
        compute.galleries.begin_update(RESOURCE_GROUP, name, {"properties": {"description": "d"}}).result().description
        == "d"
    )
    compute.galleries.begin_delete(RESOURCE_GROUP, name).result()
    assert name not in {g.name for g in compute.galleries.list_by_resource_group(RESOURCE_GROUP)}
    bad = "_leading-underscore"  # violates the spec's path pattern: keep it out of the oav traffic
    with not_recorded(arm):
        create = compute.galleries.begin_create_or_update
        assert _error(lambda: create(RESOURCE_GROUP, bad, {"location": LOCATION}).result())[:2] == (
            400,
            "InvalidParameter",
        )
