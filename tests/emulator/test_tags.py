"""Generic resource listing with tag filters (how the CPI finds gallery image versions by tag)."""

from __future__ import annotations

from typing import Any

from azure.mgmt.compute import ComputeManagementClient

from arm_emulator import ArmEmulator
from tests.emulator.conftest import RG_PATH, Raw, version_body
from tests.peers import GALLERY, RESOURCE_GROUP, SUBSCRIPTION_ID

RESOURCES_API = "2021-04-01"
VERSION_TYPE = "Microsoft.Compute/galleries/images/versions"


def _create_versions(compute: ComputeManagementClient, image: str, vhd_uri: str, sha: str) -> list[str]:
    ids = []
    for version, tags in (("1.0.0", {"image_sha256": sha, "stemcell": "a"}), ("2.0.0", {"stemcell": "b"})):
        body = version_body(vhd_uri)
        body["tags"] = tags
        ids.append(
            compute.gallery_image_versions.begin_create_or_update(RESOURCE_GROUP, GALLERY, image, version, body)
            .result()
            .id
        )
    return ids


def _list(raw: Raw, scope: str, **params: str) -> Any:
    return raw("GET", f"{scope}/resources", api_version=RESOURCES_API, params=params)


def test_tag_name_and_value_filter_finds_the_version_without_tags(
    compute: ComputeManagementClient, raw: Raw, image: str, vhd_uri: str, name: str
) -> None:
    ids = _create_versions(compute, image, vhd_uri, sha=name)
    response = _list(raw, RG_PATH, **{"$filter": f"tagName eq 'image_sha256' and tagValue eq '{name}'"})
    assert response.status_code == 200
    assert response.json()["value"] == [{"id": ids[0], "name": "1.0.0", "type": VERSION_TYPE, "location": "eastus"}]
    subscription_wide = _list(
        raw, f"/subscriptions/{SUBSCRIPTION_ID}", **{"$filter": f"tagName eq 'image_sha256' and tagValue eq '{name}'"}
    )
    assert [item["id"] for item in subscription_wide.json()["value"]] == [ids[0]]
    assert _list(raw, RG_PATH, **{"$filter": "tagValue eq 'x'"}).json()["error"]["code"] == "InvalidFilterInQueryString"
    by_name = _list(raw, f"/subscriptions/{SUBSCRIPTION_ID}", **{"$filter": "tagName eq 'STEMCELL'"}).json()["value"]
    assert set(ids) <= {item["id"] for item in by_name}


def test_other_filters_and_tags_in_rows(
    compute: ComputeManagementClient, raw: Raw, image: str, vhd_uri: str, name: str
) -> None:
    ids = _create_versions(compute, image, vhd_uri, sha=name)
    rows = _list(raw, RG_PATH, **{"$filter": f"resourceType eq '{VERSION_TYPE}'"}).json()["value"]
    mine = [row for row in rows if row["id"] in ids]
    assert [row["tags"]["stemcell"] for row in mine] == ["a", "b"]
    combined = _list(raw, RG_PATH, **{"$filter": f"tagName eq 'stemcell' and resourceType eq '{VERSION_TYPE}'"})
    assert combined.json()["error"]["code"] == "InvalidFilterInQueryString"
    unknown = _list(raw, RG_PATH, **{"$filter": "managedBy eq 'x'"})
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (400, "InvalidFilterInQueryString")


def test_generic_listing_pages(raw: Raw, arm: ArmEmulator) -> None:
    arm.knobs.page_size = 1
    page = _list(raw, RG_PATH).json()
    seen = [item["id"] for item in page["value"]]
    while "nextLink" in page:
        page = raw("GET", page["nextLink"], api_version=None).json()
        seen.extend(item["id"] for item in page["value"])
    assert len(seen) == len(set(seen)) >= 2
    assert not any(i.lower().endswith(f"/resourcegroups/{RESOURCE_GROUP}") for i in seen)
    missing_group = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/nope"
    assert _list(raw, missing_group).json()["error"]["code"] == "ResourceGroupNotFound"
