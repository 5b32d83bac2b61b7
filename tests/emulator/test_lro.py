"""Long-running operations: status codes, headers, polling documents, latency knobs and failures."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.storage import StorageManagementClient

from arm_emulator import ArmEmulator, FailOperation, FaultRule, SlowOperation, StuckOperation
from arm_emulator.requestlog import ARM, POLL
from tests.emulator.conftest import RG_PATH, Raw
from tests.peers import LOCATION, RESOURCE_GROUP, SUBSCRIPTION_ID

STORAGE_API = "2026-09-01"


def _gallery_path(name: str) -> str:
    return f"{RG_PATH}/providers/Microsoft.Compute/galleries/{name}"


def test_gallery_put_answers_201_creating_with_caps_operation(raw: Raw, arm: ArmEmulator, name: str) -> None:
    response = raw("PUT", _gallery_path(name), json={"location": LOCATION})
    assert response.status_code == 201
    assert response.json()["properties"]["provisioningState"] == "Creating"
    assert response.headers["Retry-After"] == "0"
    assert "Location" not in response.headers
    operation = response.headers["Azure-AsyncOperation"]
    prefix = f"{arm.url}/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.Compute/locations/eastus/capsOperations/"
    assert operation.startswith(prefix)
    assert operation.endswith("?api-version=2026-03-03")

    first = raw("GET", operation, api_version=None)
    assert first.json()["status"] == "InProgress"
    assert set(first.json()) == {"startTime", "status", "name"}
    assert raw("GET", _gallery_path(name)).json()["properties"]["provisioningState"] == "Creating"
    second = raw("GET", operation, api_version=None).json()
    assert second["status"] == "Succeeded"
    assert "endTime" in second
    assert raw("GET", _gallery_path(name)).json()["properties"]["provisioningState"] == "Succeeded"


def test_put_on_existing_gallery_answers_200_updating(raw: Raw, arm: ArmEmulator, name: str) -> None:
    arm.seed(_gallery_path(name), {"location": LOCATION}, "2026-03-03")
    response = raw("PUT", _gallery_path(name), json={"location": LOCATION, "properties": {"description": "d"}})
    assert response.status_code == 200
    assert response.json()["properties"]["provisioningState"] == "Updating"
    assert "Azure-AsyncOperation" in response.headers


def test_delete_answers_202_with_both_urls_then_204_once_gone(raw: Raw, arm: ArmEmulator, name: str) -> None:
    arm.seed(_gallery_path(name), {"location": LOCATION}, "2026-03-03")
    response = raw("DELETE", _gallery_path(name))
    assert response.status_code == 202
    assert response.content == b""
    assert "capsOperations" in response.headers["Azure-AsyncOperation"]
    monitor = response.headers["Location"]
    assert "monitor=true" in monitor
    assert raw("GET", _gallery_path(name)).json()["properties"]["provisioningState"] == "Deleting"
    assert raw("GET", monitor, api_version=None).status_code == 202
    done = raw("GET", monitor, api_version=None)
    assert (done.status_code, done.content) == (200, b"")
    assert raw("GET", _gallery_path(name)).status_code == 404
    assert raw("DELETE", _gallery_path(name)).status_code == 204


def test_polls_follow_the_latency_knobs(compute: ComputeManagementClient, arm: ArmEmulator, name: str) -> None:
    arm.knobs.default_polls = 3
    mark = arm.requests.mark()
    compute.galleries.begin_create_or_update(RESOURCE_GROUP, name, {"location": LOCATION}).result()
    assert arm.requests.count(kinds=(POLL,), since=mark) == 4
    assert arm.requests.count(kinds=(ARM,), since=mark) == 2  # PUT + final GET

    arm.faults.add(FaultRule(SlowOperation(polls=5), method="PUT", path=f"/galleries/{name}$"))
    mark = arm.requests.mark()
    compute.galleries.begin_create_or_update(RESOURCE_GROUP, name, {"location": LOCATION}).result()
    assert arm.requests.count(kinds=(POLL,), since=mark) == 6


def test_failed_operation_raises_and_leaves_the_resource_failed(
    compute: ComputeManagementClient, raw: Raw, arm: ArmEmulator, name: str
) -> None:
    rule = FaultRule(FailOperation("InternalExecutionError", "Injected failure."), method="PUT", path=f"/{name}$")
    arm.faults.add(rule)
    poller = compute.galleries.begin_create_or_update(RESOURCE_GROUP, name, {"location": LOCATION})
    with pytest.raises(HttpResponseError) as caught:
        poller.result()
    assert "InternalExecutionError" in str(caught.value)
    assert raw("GET", _gallery_path(name)).json()["properties"]["provisioningState"] == "Failed"
    status = raw("GET", poller.polling_method()._operation.get_polling_url(), api_version=None).json()
    assert status["status"] == "Failed"
    assert status["error"] == {"code": "InternalExecutionError", "message": "Injected failure."}


def test_stuck_operation_never_ends_until_completed(raw: Raw, arm: ArmEmulator, name: str) -> None:
    arm.faults.add(FaultRule(StuckOperation(), method="PUT", path=f"/{name}$"))
    operation = raw("PUT", _gallery_path(name), json={"location": LOCATION}).headers["Azure-AsyncOperation"]
    for _ in range(5):
        assert raw("GET", operation, api_version=None).json()["status"] == "InProgress"
    assert arm.complete_operations() >= 1
    assert raw("GET", operation, api_version=None).json()["status"] == "Succeeded"


def test_storage_account_create_is_202_with_location_polling(raw: Raw, arm: ArmEmulator, name: str) -> None:
    path = f"{RG_PATH}/providers/Microsoft.Storage/storageAccounts/{name}"
    body = {"location": LOCATION, "sku": {"name": "Standard_LRS"}, "kind": "StorageV2"}
    response = raw("PUT", path, api_version=STORAGE_API, json=body)
    assert (response.status_code, response.content) == (202, b"")
    assert "Azure-AsyncOperation" not in response.headers
    monitor = response.headers["Location"]
    assert "/providers/Microsoft.Storage/locations/eastus/asyncoperations/" in monitor
    assert raw("GET", monitor, api_version=None).status_code == 202
    done = raw("GET", monitor, api_version=None)
    assert done.status_code == 200
    assert done.json()["properties"]["provisioningState"] == "Succeeded"
    assert done.json()["properties"]["primaryEndpoints"]["blob"] == f"{arm.storage.endpoint}/{name}/"


def test_storage_sdk_models_read_the_account(storage: StorageManagementClient, arm: ArmEmulator, name: str) -> None:
    body = {"location": LOCATION, "sku": {"name": "Standard_LRS"}, "kind": "StorageV2", "tags": {"a": "b"}}
    account = storage.storage_accounts.begin_create(RESOURCE_GROUP, name, body).result()
    assert account.provisioning_state == "Succeeded"
    assert account.primary_endpoints.blob == f"{arm.storage.endpoint}/{name}/"
    assert account.sku.name == "Standard_LRS"
    assert account.kind == "StorageV2"
    assert account.tags == {"a": "b"}
    keys = storage.storage_accounts.list_keys(RESOURCE_GROUP, name).keys_property
    assert [k.key_name for k in keys] == ["key1", "key2"]
    assert {a.name for a in storage.storage_accounts.list_by_resource_group(RESOURCE_GROUP)} >= {name}
    assert storage.storage_accounts.check_name_availability({"name": name}).name_available is False
    assert storage.storage_accounts.check_name_availability({"name": "Bad_Name"}).reason == "AccountNameInvalid"
    storage.storage_accounts.delete(RESOURCE_GROUP, name)
    assert storage.storage_accounts.check_name_availability({"name": name}).name_available is True


def test_resource_group_delete_is_long_running_and_removes_contents(raw: Raw, arm: ArmEmulator, name: str) -> None:
    group = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{name}"
    created = raw("PUT", group, api_version="2021-04-01", json={"location": LOCATION})
    assert created.status_code == 201
    assert created.json()["properties"]["provisioningState"] == "Succeeded"
    arm.seed(f"{group}/providers/Microsoft.Compute/galleries/g1", {"location": LOCATION}, "2026-03-03")
    deleting = raw("DELETE", group, api_version="2021-04-01")
    assert deleting.status_code == 202
    monitor = deleting.headers["Location"]
    assert f"/subscriptions/{SUBSCRIPTION_ID}/operationresults/" in monitor
    assert raw("GET", monitor, api_version=None).status_code == 202
    assert raw("GET", monitor, api_version=None).status_code == 200
    assert raw("HEAD", group, api_version="2021-04-01").status_code == 404
    gone = raw("GET", f"{group}/providers/Microsoft.Compute/galleries/g1")
    assert gone.json()["error"]["code"] == "ResourceGroupNotFound"
