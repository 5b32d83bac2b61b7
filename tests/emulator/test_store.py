"""The generic resource store: error codes, api-version rules, ids, locations, paging, PATCH, etags."""

from __future__ import annotations

from typing import Any

from azure.mgmt.compute import ComputeManagementClient

from arm_emulator import ArmEmulator
from arm_emulator.types.base import Ctx, ResourceType, Write
from tests.emulator.conftest import GALLERY_PATH, RG_PATH, Raw
from tests.peers import GALLERY, LOCATION, RESOURCE_GROUP, SUBSCRIPTION_ID, not_recorded

RG_API = "2021-04-01"


def _code(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def test_not_found_codes(raw: Raw) -> None:
    missing = f"{RG_PATH}/providers/Microsoft.Compute/galleries/nope"
    assert _code(raw("GET", missing)) == (404, "ResourceNotFound")
    other_group = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/nope/providers/Microsoft.Compute/galleries/g"
    assert _code(raw("GET", other_group)) == (404, "ResourceGroupNotFound")
    assert _code(raw("GET", f"{missing}/images/i")) == (404, "ParentResourceNotFound")
    body = {"location": LOCATION, "properties": {"osType": "Linux", "osState": "Generalized",
            "identifier": {"publisher": "p", "offer": "o", "sku": "s"}}}  # fmt: skip
    assert _code(raw("PUT", f"{missing}/images/i", json=body)) == (404, "ParentResourceNotFound")
    assert _code(raw("PATCH", missing, json={"tags": {}})) == (404, "ResourceNotFound")
    assert raw("DELETE", missing).status_code == 204


def test_api_version_and_subscription_checks(raw: Raw, arm: ArmEmulator) -> None:
    with not_recorded(arm):
        assert _code(raw("GET", GALLERY_PATH, api_version=None)) == (400, "MissingApiVersionParameter")
        assert _code(raw("GET", GALLERY_PATH, api_version="2099-01-01")) == (400, "NoRegisteredProviderFound")
        assert _code(raw("GET", GALLERY_PATH, api_version="banana")) == (400, "InvalidApiVersionParameter")
    unknown_sub = GALLERY_PATH.replace(SUBSCRIPTION_ID, "11111111-2222-3333-4444-555555555555")
    assert _code(raw("GET", unknown_sub)) == (404, "SubscriptionNotFound")
    with not_recorded(arm):  # a Compute type no spec defines
        assert _code(raw("GET", f"{RG_PATH}/providers/Microsoft.Compute/gizmos/x")) == (400, "InvalidResourceType")
    assert _code(raw("GET", f"{RG_PATH}/providers/Microsoft.Nope/gizmos/x")) == (400, "InvalidResourceNamespace")


def test_ids_are_case_insensitive_and_keep_the_creators_casing(raw: Raw) -> None:
    shouted = GALLERY_PATH.upper().replace("API-VERSION", "api-version")
    body = raw("GET", shouted).json()
    assert body["name"] == GALLERY
    assert body["id"] == GALLERY_PATH


def test_location_rules(raw: Raw, arm: ArmEmulator, name: str) -> None:
    path = f"{RG_PATH}/providers/Microsoft.Compute/galleries/{name}"
    with not_recorded(arm):  # the spec requires location
        assert _code(raw("PUT", path, json={"properties": {}})) == (400, "LocationRequired")
    assert _code(raw("PUT", path, json={"location": "marsnorth"})) == (400, "LocationNotAvailableForResourceType")
    arm.seed(path, {"location": "East US"}, "2026-03-03")
    assert raw("PUT", path, json={"location": "eastus"}).status_code == 200  # same region, other spelling
    assert _code(raw("PUT", path, json={"location": "westus"})) == (409, "InvalidResourceLocation")
    group = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{RESOURCE_GROUP}"
    assert _code(raw("PUT", group, api_version=RG_API, json={"location": "westus"})) == (
        409,
        "InvalidResourceGroupLocation",
    )


def test_sdk_list_follows_next_links(compute: ComputeManagementClient, arm: ArmEmulator, name: str) -> None:
    group = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{name}"
    arm.seed(group, {"location": LOCATION}, RG_API)
    for index in range(5):
        arm.seed(f"{group}/providers/Microsoft.Compute/galleries/g{index}", {"location": LOCATION}, "2026-03-03")
    arm.knobs.page_size = 2
    mark = arm.requests.mark()
    names = [g.name for g in compute.galleries.list_by_resource_group(name)]
    assert names == [f"g{i}" for i in range(5)]
    assert arm.requests.count(method="GET", path=f"/resourceGroups/{name}/providers/", since=mark) == 3
    assert {f"g{i}" for i in range(5)} <= {g.name for g in compute.galleries.list()}


def test_patch_replaces_tags_and_merges_properties(raw: Raw, arm: ArmEmulator, name: str) -> None:
    path = f"{RG_PATH}/providers/Microsoft.Compute/galleries/{name}"
    arm.seed(path, {"location": LOCATION, "tags": {"a": "1"}, "properties": {"description": "kept"}}, "2026-03-03")
    patched = raw("PATCH", path, json={"tags": {"b": "2"}})
    assert patched.status_code == 200
    assert "Azure-AsyncOperation" in patched.headers
    assert patched.json()["tags"] == {"b": "2"}
    assert patched.json()["properties"]["description"] == "kept"
    assert raw("PATCH", path, json={"properties": {"description": "new"}}).json()["tags"] == {"b": "2"}


class Widgets(ResourceType):
    """A test-only type with etag support (VMs will use the same core mechanism)."""

    type_name = "Microsoft.EmulatorTest/widgets"
    api_versions = frozenset({"2024-01-01"})
    supports_etag = True

    def build(self, ctx: Ctx, write: Write) -> dict[str, Any]:
        return {"properties": dict(write.properties)}


def test_if_match_and_if_none_match_on_a_type_with_etags(raw: Raw, arm: ArmEmulator, name: str) -> None:
    arm.registry.register(Widgets())
    path = f"{RG_PATH}/providers/Microsoft.EmulatorTest/widgets/{name}"
    body = {"location": LOCATION, "properties": {"size": 1}}
    created = raw("PUT", path, api_version="2024-01-01", json=body, headers={"If-None-Match": "*"})
    assert created.status_code == 201
    assert created.headers["ETag"] == created.json()["etag"] == '"1"'
    assert _code(raw("PUT", path, api_version="2024-01-01", json=body, headers={"If-None-Match": "*"})) == (
        412,
        "PreconditionFailed",
    )
    updated = raw("PUT", path, api_version="2024-01-01", json=body, headers={"If-Match": '"1"'})
    assert (updated.status_code, updated.json()["etag"]) == (200, '"2"')
    stale = raw("PATCH", path, api_version="2024-01-01", json={"tags": {}}, headers={"If-Match": '"1"'})
    assert _code(stale) == (412, "PreconditionFailed")
    assert _code(raw("DELETE", path, api_version="2024-01-01", headers={"If-Match": '"7"'})) == (
        412,
        "PreconditionFailed",
    )
    assert raw("DELETE", path, api_version="2024-01-01", headers={"If-Match": "*"}).status_code == 200


def test_resource_groups_head_list_and_get(raw: Raw) -> None:
    group = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{RESOURCE_GROUP}"
    assert raw("HEAD", group, api_version=RG_API).status_code == 204
    listed = raw("GET", f"/subscriptions/{SUBSCRIPTION_ID}/resourcegroups", api_version=RG_API).json()["value"]
    assert RESOURCE_GROUP in [g["name"] for g in listed]
    body = raw("GET", group, api_version=RG_API).json()
    assert body == {
        "name": RESOURCE_GROUP,
        "id": group,
        "type": "Microsoft.Resources/resourceGroups",
        "location": LOCATION,
        "properties": {"provisioningState": "Succeeded"},
    }
