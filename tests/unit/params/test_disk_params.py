"""Tables: DiskSpec -> the exact wire body of the managed disk PUT, the disk PATCH for size/SKU/performance and
the snapshot PUT (DiskRP)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from azure.mgmt.compute import models as m

from bosh_azure_cpi.services.params.disk import DiskSpec, build_disk_params, build_disk_update, build_snapshot_params

SUB = "/subscriptions/fake-subscription/resourceGroups/fake-rg/providers"
DES = f"{SUB}/Microsoft.Compute/diskEncryptionSets/fake-des"
SOURCE = f"{SUB}/Microsoft.Compute/disks/bosh-disk-data-fake-None"
SPEC = DiskSpec(location="eastus", size_gib=10, type="Standard_LRS")
EMPTY = {"creationData": {"createOption": "Empty"}}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            SPEC,
            {"location": "eastus", "tags": {}, "sku": {"name": "Standard_LRS"},
             "properties": {**EMPTY, "diskSizeGB": 10}},
        ),
        (
            dataclasses.replace(SPEC, type="Premium_LRS", zone="2", tags={"user-agent": "bosh", "caching": "ReadOnly"}),
            {"location": "eastus", "tags": {"user-agent": "bosh", "caching": "ReadOnly"}, "zones": ["2"],
             "sku": {"name": "Premium_LRS"}, "properties": {**EMPTY, "diskSizeGB": 10}},
        ),
        (
            dataclasses.replace(SPEC, type="PremiumV2_LRS", size_gib=64, iops=5000, mbps=250),
            {"location": "eastus", "tags": {}, "sku": {"name": "PremiumV2_LRS"},
             "properties": {**EMPTY, "diskSizeGB": 64, "diskIOPSReadWrite": 5000, "diskMBpsReadWrite": 250}},
        ),
        (
            dataclasses.replace(SPEC, type="UltraSSD_LRS", iops=3000),
            {"location": "eastus", "tags": {}, "sku": {"name": "UltraSSD_LRS"},
             "properties": {**EMPTY, "diskSizeGB": 10, "diskIOPSReadWrite": 3000}},
        ),
        (
            dataclasses.replace(SPEC, type="UltraSSD_LRS", mbps=125),
            {"location": "eastus", "tags": {}, "sku": {"name": "UltraSSD_LRS"},
             "properties": {**EMPTY, "diskSizeGB": 10, "diskMBpsReadWrite": 125}},
        ),
        (
            dataclasses.replace(SPEC, disk_encryption_set_id=DES),
            {"location": "eastus", "tags": {}, "sku": {"name": "Standard_LRS"},
             "properties": {**EMPTY, "diskSizeGB": 10,
                            "encryption": {"diskEncryptionSetId": DES, "type": "EncryptionAtRestWithCustomerKey"}}},
        ),
        (
            DiskSpec(location="westeurope", size_gib=65536, type="PremiumV2_LRS", zone="3", iops=80000, mbps=1200,
                     disk_encryption_set_id=DES, tags={"user-agent": "bosh", "caching": "None"}),
            {"location": "westeurope", "tags": {"user-agent": "bosh", "caching": "None"}, "zones": ["3"],
             "sku": {"name": "PremiumV2_LRS"},
             "properties": {**EMPTY, "diskSizeGB": 65536, "diskIOPSReadWrite": 80000, "diskMBpsReadWrite": 1200,
                            "encryption": {"diskEncryptionSetId": DES, "type": "EncryptionAtRestWithCustomerKey"}}},
        ),
    ],
    ids=["minimal", "zonal-tagged", "premium-v2-performance", "iops-only", "mbps-only", "encryption-set", "all"],
)  # fmt: skip
def test_disk_body(spec, expected):
    body = build_disk_params(spec)
    assert isinstance(body, m.Disk)
    assert body.as_dict() == expected
    assert json.loads(json.dumps(body.as_dict())) == expected  # plain JSON, nothing the SDK would re-encode


def test_disk_spec_defaults():
    assert (SPEC.zone, SPEC.iops, SPEC.mbps, SPEC.disk_encryption_set_id, SPEC.tags) == ("", None, None, "", {})
    with pytest.raises(dataclasses.FrozenInstanceError):
        SPEC.size_gib = 20  # type: ignore[misc]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, {}),
        ({"size_gib": 20}, {"properties": {"diskSizeGB": 20}}),
        ({"disk_type": "Premium_LRS"}, {"sku": {"name": "Premium_LRS"}}),
        ({"iops": 4000}, {"properties": {"diskIOPSReadWrite": 4000}}),
        ({"mbps": 200}, {"properties": {"diskMBpsReadWrite": 200}}),
        ({"size_gib": None, "disk_type": "", "iops": None, "mbps": None}, {}),
        (
            {"size_gib": 128, "disk_type": "PremiumV2_LRS", "iops": 6000, "mbps": 300},
            {"sku": {"name": "PremiumV2_LRS"},
             "properties": {"diskSizeGB": 128, "diskIOPSReadWrite": 6000, "diskMBpsReadWrite": 300}},
        ),
        (
            {"disk_type": "StandardSSD_ZRS", "size_gib": 2},
            {"sku": {"name": "StandardSSD_ZRS"}, "properties": {"diskSizeGB": 2}},
        ),
    ],
    ids=["nothing", "size", "sku", "iops", "mbps", "explicit-nothing", "everything", "sku-and-size"],
)  # fmt: skip
def test_disk_update_body(changes: dict[str, Any], expected: dict[str, Any]):
    body = build_disk_update(**changes)
    assert isinstance(body, m.DiskUpdate)
    assert body.as_dict() == expected


def test_disk_update_never_sends_tags_or_zones():
    """A PATCH without ``tags`` keeps the disk's tags (the CPI's caching tag included)."""
    body = build_disk_update(size_gib=20, disk_type="Premium_LRS", iops=1, mbps=1).as_dict()
    assert set(body) == {"sku", "properties"}


@pytest.mark.parametrize(
    ("tags", "expected_tags"),
    [({}, {}), ({"original": "bosh-disk-data-fake-None", "director": "fake"},
                {"original": "bosh-disk-data-fake-None", "director": "fake"})],
)  # fmt: skip
def test_snapshot_body_is_an_incremental_copy_of_the_disk(tags, expected_tags):
    body = build_snapshot_params("eastus", SOURCE, tags)
    assert isinstance(body, m.Snapshot)
    assert body.as_dict() == {
        "location": "eastus",
        "tags": expected_tags,
        "properties": {"creationData": {"createOption": "Copy", "sourceResourceId": SOURCE}, "incremental": True},
    }
