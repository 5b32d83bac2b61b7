"""Managed disks and snapshots (DiskRP): operation shapes, create options, size/SKU/performance rules."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.compute import ComputeManagementClient

from arm_emulator import ArmEmulator
from tests.emulator.compute_support import DISK_API, disk_id, fresh
from tests.emulator.conftest import ACCOUNT_ID, Raw, upload_vhd
from tests.peers import LOCATION, RESOURCE_GROUP, SUBSCRIPTION_ID, Peers, not_recorded

GIB = 1024**3


def _empty(size: int = 10, sku: str = "Standard_LRS", **props: Any) -> dict[str, Any]:
    extra = {k: v for k, v in props.items() if k in ("zones", "tags")}
    body_props = {k: v for k, v in props.items() if k not in ("zones", "tags")}
    return {
        "location": LOCATION,
        "sku": {"name": sku},
        "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": size, **body_props},
        **extra,
    }


def _make(compute: ComputeManagementClient, body: dict[str, Any]) -> Any:
    return compute.disks.begin_create_or_update(RESOURCE_GROUP, fresh("disk"), body).result()


def _code(exc: HttpResponseError) -> tuple[int | None, str]:
    assert exc.error is not None
    return exc.status_code, str(exc.error.code)


def test_disk_put_is_202_with_both_urls_and_an_echo(raw: Raw) -> None:
    path = disk_id(fresh("disk"))
    response = raw("PUT", path, api_version=DISK_API, json=_empty(tags={"a": "b"}))
    assert response.status_code == 202
    echo = response.json()
    assert echo["properties"]["provisioningState"] == "Updating"
    assert echo["properties"]["creationData"] == {"createOption": "Empty"}
    assert (echo["name"], echo["tags"]) == (path.rsplit("/", 1)[-1], {"a": "b"})
    operation, monitor = response.headers["Azure-AsyncOperation"], response.headers["Location"]
    prefix = f"/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.Compute/locations/eastus/DiskOperations/"
    assert prefix in operation
    assert prefix in monitor
    assert "monitor=true" in monitor
    assert raw("GET", operation, api_version=None).json()["status"] == "InProgress"
    done = raw("GET", operation, api_version=None).json()
    assert done["status"] == "Succeeded"
    assert done["properties"]["output"]["properties"]["diskState"] == "Unattached"
    final = raw("GET", monitor, api_version=None)
    assert final.status_code == 200
    assert final.json()["properties"]["provisioningState"] == "Succeeded"
    deleting = raw("DELETE", path, api_version=DISK_API)
    assert (deleting.status_code, deleting.content) == (202, b"")
    assert "DiskOperations" in deleting.headers["Azure-AsyncOperation"]
    assert "monitor=true" in deleting.headers["Location"]
    assert raw("GET", deleting.headers["Location"], api_version=None).status_code == 202
    assert raw("GET", deleting.headers["Location"], api_version=None).status_code == 200
    assert raw("DELETE", path, api_version=DISK_API).status_code == 204


def test_disk_properties_as_the_service_fills_them(compute: ComputeManagementClient) -> None:
    disk = _make(compute, _empty(128, "Premium_LRS", zones=["2"], tags={"user-agent": "bosh"}))
    assert (disk.sku.name, disk.sku.tier, disk.tier) == ("Premium_LRS", "Premium", "P10")
    assert (disk.disk_iops_read_write, disk.disk_m_bps_read_write) == (500, 100)
    assert (disk.disk_size_gb, disk.disk_size_bytes, disk.disk_state) == (128, 128 * GIB, "Unattached")
    assert (disk.zones, disk.tags, disk.managed_by) == (["2"], {"user-agent": "bosh"}, None)
    assert disk.unique_id and disk.time_created
    assert disk.id in [d.id for d in compute.disks.list_by_resource_group(RESOURCE_GROUP)]
    assert disk.id in [d.id for d in compute.disks.list()]


def test_performance_settings_only_for_ultra_and_premium_v2(compute: ComputeManagementClient) -> None:
    v2 = _make(compute, _empty(100, "PremiumV2_LRS", zones=["1"], diskIOPSReadWrite=6000, diskMBpsReadWrite=300))
    assert (v2.disk_iops_read_write, v2.disk_m_bps_read_write) == (6000, 300)
    default = _make(compute, _empty(10, "PremiumV2_LRS", zones=["1"]))
    assert (default.disk_iops_read_write, default.disk_m_bps_read_write) == (3000, 125)
    with pytest.raises(HttpResponseError) as caught:
        _make(compute, _empty(10, "Premium_LRS", diskIOPSReadWrite=5000))
    assert _code(caught.value) == (400, "InvalidParameter")
    with pytest.raises(HttpResponseError) as caught:
        _make(compute, _empty(10, "PremiumV2_LRS", zones=["1"], diskIOPSReadWrite=90000))
    assert _code(caught.value) == (400, "InvalidParameter")
    updated = compute.disks.begin_update(RESOURCE_GROUP, v2.name, {"properties": {"diskIOPSReadWrite": 8000}}).result()
    assert updated.disk_iops_read_write == 8000


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (_empty(0), "InvalidParameter"),
        (_empty(40000), "InvalidParameter"),
        (_empty(10, "Fancy_LRS"), "InvalidParameter"),
        (_empty(10, zones=["4"]), "InvalidParameter"),
        ({"location": LOCATION, "properties": {"diskSizeGB": 10}}, "InvalidParameter"),
        ({"location": LOCATION, "properties": {"creationData": {"createOption": "Empty"}}}, "InvalidParameter"),
    ],
)
def test_invalid_disks_are_refused(
    compute: ComputeManagementClient, arm: ArmEmulator, body: dict[str, Any], code: str
) -> None:
    # A request without creationData breaks the spec (required): keep it out of the oav traffic.
    recording = contextlib.nullcontext() if "creationData" in body["properties"] else not_recorded(arm)
    with recording, pytest.raises(HttpResponseError) as caught:
        compute.disks.begin_create_or_update(RESOURCE_GROUP, fresh("disk"), body)
    assert _code(caught.value) == (400, code)


def test_grow_only(compute: ComputeManagementClient) -> None:
    disk = _make(compute, _empty(10))
    grown = compute.disks.begin_update(RESOURCE_GROUP, disk.name, {"properties": {"diskSizeGB": 20}}).result()
    assert (grown.disk_size_gb, grown.disk_size_bytes) == (20, 20 * GIB)
    with pytest.raises(HttpResponseError) as caught:
        compute.disks.begin_update(RESOURCE_GROUP, disk.name, {"properties": {"diskSizeGB": 15}})
    assert _code(caught.value) == (400, "ResizeDiskError")
    assert "Disk size reduction is not supported" in str(caught.value.error.message)  # type: ignore[union-attr]
    tagged = compute.disks.begin_update(RESOURCE_GROUP, disk.name, {"tags": {"x": "y"}}).result()
    assert (tagged.tags, tagged.disk_size_gb) == ({"x": "y"}, 20)
    premium = compute.disks.begin_update(RESOURCE_GROUP, disk.name, {"sku": {"name": "Premium_LRS"}}).result()
    assert (premium.sku.name, premium.tier) == ("Premium_LRS", "P4")
    with pytest.raises(HttpResponseError) as caught:
        compute.disks.begin_update(RESOURCE_GROUP, disk.name, {"sku": {"name": "UltraSSD_LRS"}})
    assert _code(caught.value) == (409, "OperationNotAllowed")
    assert "Changing a disk's account type from 'Premium_LRS' to 'UltraSSD_LRS' is not supported." in str(
        caught.value.error.message  # type: ignore[union-attr]
    )


def test_copy_from_disk_and_snapshot(compute: ComputeManagementClient) -> None:
    source = _make(compute, _empty(16, "Premium_LRS"))
    copy_body = {
        "location": LOCATION,
        "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": source.id}},
    }
    copied = _make(compute, copy_body)
    assert (copied.disk_size_gb, copied.creation_data.source_unique_id) == (16, source.unique_id)
    snap = compute.snapshots.begin_create_or_update(RESOURCE_GROUP, fresh("snap"), copy_body).result()
    assert (snap.disk_size_gb, snap.incremental, snap.sku.name) == (16, False, "Standard_LRS")
    from_snap = _make(
        compute,
        {
            "location": LOCATION,
            "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": snap.id}, "diskSizeGB": 32},
        },
    )
    assert from_snap.disk_size_gb == 32
    smaller = {
        "location": LOCATION,
        "properties": {"creationData": copy_body["properties"]["creationData"], "diskSizeGB": 8},
    }
    with pytest.raises(HttpResponseError) as caught:
        _make(compute, smaller)
    assert _code(caught.value) == (400, "InvalidParameter")
    missing = {
        "location": LOCATION,
        "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": disk_id("nope")}},
    }
    with pytest.raises(HttpResponseError) as caught:
        _make(compute, missing)
    assert _code(caught.value) == (404, "NotFound")


def test_import_from_a_vhd_blob(compute: ComputeManagementClient, peers: Peers) -> None:
    uri = upload_vhd(peers, f"{fresh('import')}.vhd", disk_mib=3)
    body = {
        "location": LOCATION,
        "properties": {
            "creationData": {"createOption": "Import", "sourceUri": uri, "storageAccountId": ACCOUNT_ID},
            "osType": "Linux",
        },
    }
    disk = _make(compute, body)
    assert (disk.disk_size_gb, disk.os_type) == (1, "Linux")
    body["properties"]["creationData"]["sourceUri"] = uri.replace(".vhd", "-missing.vhd")
    with pytest.raises(HttpResponseError) as caught:
        _make(compute, body)
    assert _code(caught.value) == (400, "InvalidParameter")


def test_snapshots_incremental_families_and_rules(compute: ComputeManagementClient) -> None:
    disk = _make(compute, _empty(10, "PremiumV2_LRS", zones=["1"]))
    source = {"createOption": "Copy", "sourceResourceId": disk.id}
    first = compute.snapshots.begin_create_or_update(
        RESOURCE_GROUP,
        fresh("snap"),
        {
            "location": LOCATION,
            "properties": {"creationData": source, "incremental": True},
            "tags": {"original": disk.name},
        },
    ).result()
    second = compute.snapshots.begin_create_or_update(
        RESOURCE_GROUP,
        fresh("snap"),
        {"location": LOCATION, "properties": {"creationData": source, "incremental": True}},
    ).result()
    assert first.incremental and first.incremental_snapshot_family_id == second.incremental_snapshot_family_id
    assert first.tags == {"original": disk.name}
    with pytest.raises(HttpResponseError) as caught:
        compute.snapshots.begin_create_or_update(
            RESOURCE_GROUP, fresh("snap"), {"location": LOCATION, "properties": {"creationData": source}}
        )
    assert _code(caught.value) == (400, "InvalidParameter")
    assert first.id in [s.id for s in compute.snapshots.list_by_resource_group(RESOURCE_GROUP)]
    updated = compute.snapshots.begin_update(RESOURCE_GROUP, first.name, {"tags": {"k": "v"}}).result()
    assert updated.tags == {"k": "v"}
    compute.snapshots.begin_delete(RESOURCE_GROUP, first.name).result()
    with pytest.raises(ResourceNotFoundError):
        compute.snapshots.get(RESOURCE_GROUP, first.name)
    assert compute.snapshots.get(RESOURCE_GROUP, second.name).disk_size_gb == 10
