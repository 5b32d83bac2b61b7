"""Managed-disk rules shared by disks, snapshots and VMs: SKUs, sizes, performance, server-filled fields.

* storage types: ``Standard_LRS``, ``Premium_LRS``, ``StandardSSD_LRS``, ``UltraSSD_LRS``, ``Premium_ZRS``,
  ``StandardSSD_ZRS``, ``PremiumV2_LRS`` (DiskRP 2026-03-02);
* ``diskSizeGB``: 1-32767 (Ultra 4-65536, Premium SSD v2 1-65536);
* ``diskIOPSReadWrite``/``diskMBpsReadWrite`` can be set only on ``UltraSSD_LRS`` and ``PremiumV2_LRS``
  (Premium SSD v2: 3000-80000 IOPS, at most 500 per GiB above 3000, 125-1200 MB/s, at most 0.25 MB/s
  per IOPS above 125; Ultra: 100-400000 IOPS, at most 300 per GiB, 1-10000 MB/s, at most 0.25 MB/s per
  IOPS) — "Ultra disks" and "Premium SSD v2" pages of Microsoft Learn; other types report the fixed
  IOPS/throughput of their performance tier (``tier`` P1-P80 for Premium, as the service reports it).
Messages for these checks are the emulator's wording (400 ``InvalidParameter``).
"""

from __future__ import annotations

import uuid
from typing import Any

from arm_emulator.types.compute_common import check_enum, check_int
from arm_emulator.wire import ArmError, invalid_parameter, iso_time, utc_now

GIB = 1024**3
DISK_TYPES = (
    "Standard_LRS", "Premium_LRS", "StandardSSD_LRS", "UltraSSD_LRS", "Premium_ZRS", "StandardSSD_ZRS",
    "PremiumV2_LRS",
)  # fmt: skip
PERFORMANCE_TYPES = ("UltraSSD_LRS", "PremiumV2_LRS")
SNAPSHOT_TYPES = ("Standard_LRS", "Premium_LRS", "Standard_ZRS")
_PREMIUM_TIERS = (
    (4, "P1", 120, 25), (8, "P2", 120, 25), (16, "P3", 120, 25), (32, "P4", 120, 25), (64, "P6", 240, 50),
    (128, "P10", 500, 100), (256, "P15", 1100, 125), (512, "P20", 2300, 150), (1024, "P30", 5000, 200),
    (2048, "P40", 7500, 250), (4096, "P50", 7500, 250), (8192, "P60", 16000, 500), (16384, "P70", 18000, 750),
    (32767, "P80", 20000, 900),
)  # fmt: skip


def sku_body(name: str) -> dict[str, str]:
    """``{"name", "tier"}`` as DiskRP reports a disk SKU."""
    tier = "Premium" if name.startswith("Premium") or name == "UltraSSD_LRS" else "Standard"
    return {"name": name, "tier": tier}


def size_limits(sku: str) -> tuple[int, int]:
    if sku == "UltraSSD_LRS":
        return 4, 65536
    if sku == "PremiumV2_LRS":
        return 1, 65536
    return 1, 32767


def check_size(value: Any, sku: str) -> int:
    low, high = size_limits(sku)
    return check_int(value, "properties.diskSizeGB", low, high)


def performance_limits(sku: str, size_gb: int, iops: int | None = None) -> tuple[tuple[int, int], tuple[int, int]]:
    """((min IOPS, max IOPS), (min MB/s, max MB/s)) for a performance-configurable disk."""
    if sku == "PremiumV2_LRS":
        max_iops = min(80000, max(3000, 500 * size_gb))
        base = iops if iops is not None else 3000
        return (3000, max_iops), (125, min(1200, max(125, base // 4)))
    max_iops = min(400000, max(100, 300 * size_gb))
    base = iops if iops is not None else max_iops
    return (100, max_iops), (1, min(10000, max(1, base // 4)))


def default_performance(sku: str, size_gb: int) -> tuple[int, int]:
    """IOPS and MB/s a disk reports when none were asked for."""
    if sku == "PremiumV2_LRS":
        return 3000, 125
    if sku == "UltraSSD_LRS":
        iops = min(400000, max(100, 300 * size_gb))
        return iops, min(10000, max(1, iops // 4))
    if sku.startswith("Premium"):
        for limit, _tier, iops, mbps in _PREMIUM_TIERS:
            if size_gb <= limit:
                return iops, mbps
    return 500, 60


def premium_tier(sku: str, size_gb: int) -> str | None:
    if sku not in ("Premium_LRS", "Premium_ZRS"):
        return None
    return next((tier for limit, tier, _i, _m in _PREMIUM_TIERS if size_gb <= limit), "P80")


def check_performance(props: dict[str, Any], sku: str, size_gb: int) -> None:
    """IOPS/MB/s only for Ultra and Premium SSD v2, and within their limits."""
    for name in ("diskIOPSReadWrite", "diskMBpsReadWrite"):
        if props.get(name) is not None and sku not in PERFORMANCE_TYPES:
            raise invalid_parameter(
                f"The property '{name}' can be set only for disks of storage account type UltraSSD_LRS or "
                f"PremiumV2_LRS; the disk's type is {sku}.",
                f"disk.properties.{name}",
            )
    if sku not in PERFORMANCE_TYPES:
        return
    iops = props.get("diskIOPSReadWrite")
    iops_range, _ = performance_limits(sku, size_gb)
    if iops is not None:
        _check_range(iops, "diskIOPSReadWrite", iops_range, f"{size_gb} GB {sku}")
    mbps = props.get("diskMBpsReadWrite")
    _, mbps_range = performance_limits(sku, size_gb, iops if isinstance(iops, int) else None)
    if mbps is not None:
        _check_range(mbps, "diskMBpsReadWrite", mbps_range, f"{size_gb} GB {sku}")


def _check_range(value: Any, name: str, limits: tuple[int, int], disk: str) -> None:
    check_int(value, f"properties.{name}", 0, 2**62)
    low, high = limits
    if not low <= value <= high:
        raise invalid_parameter(
            f"The value {value} of parameter '{name}' is out of range for a {disk} disk. The value "
            f"must be between {low} and {high}, inclusive.",
            f"disk.properties.{name}",
        )


def check_sku_name(value: Any, allowed: tuple[str, ...] = DISK_TYPES) -> str:
    return check_enum(value, allowed, "sku.name")


def check_zones(zones: Any, allowed: tuple[str, ...], location: str) -> list[str]:
    """A list of at most one zone the region has (DiskRP and Compute place a resource in one zone)."""
    if zones is None:
        return []
    if not isinstance(zones, list) or not all(isinstance(z, str) for z in zones):
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid: 'zones' must be strings.")
    if len(zones) > 1:
        raise invalid_parameter(f"Only one zone can be specified; {len(zones)} zones were given.", "zones")
    for zone in zones:
        if zone not in allowed:
            raise invalid_parameter(
                f"The zone(s) '{zone}' for resource are not supported. The supported zones for location "
                f"'{location}' are '{','.join(allowed)}'.",
                "zones",
            )
    return list(zones)


def new_disk_properties(
    given: dict[str, Any], sku: str, size_gb: int, creation: dict[str, Any], old: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Server-filled disk properties around ``given`` (request properties)."""
    old = old or {}
    props = {k: v for k, v in given.items() if k not in _READ_ONLY}
    iops, mbps = default_performance(sku, size_gb)
    props["creationData"] = creation
    props["diskSizeGB"] = size_gb
    props.setdefault("diskIOPSReadWrite", old.get("diskIOPSReadWrite") if sku in PERFORMANCE_TYPES else None)
    props.setdefault("diskMBpsReadWrite", old.get("diskMBpsReadWrite") if sku in PERFORMANCE_TYPES else None)
    if sku not in PERFORMANCE_TYPES or props["diskIOPSReadWrite"] is None:
        props["diskIOPSReadWrite"] = iops
    if sku not in PERFORMANCE_TYPES or props["diskMBpsReadWrite"] is None:
        props["diskMBpsReadWrite"] = mbps
    tier = premium_tier(sku, size_gb)
    if tier is not None:
        props["tier"] = tier
    props.setdefault("encryption", {"type": "EncryptionAtRestWithPlatformKey"})
    props.setdefault("networkAccessPolicy", "AllowAll")
    props.setdefault("publicNetworkAccess", "Enabled")
    props["timeCreated"] = old.get("timeCreated") or iso_time(utc_now())
    props["diskSizeBytes"] = size_gb * GIB
    props["uniqueId"] = old.get("uniqueId") or str(uuid.uuid4())
    props["diskState"] = old.get("diskState", "Unattached")
    if "LastOwnershipUpdateTime" in old:
        props["LastOwnershipUpdateTime"] = old["LastOwnershipUpdateTime"]
    return props


_READ_ONLY = (
    "timeCreated", "diskSizeBytes", "uniqueId", "provisioningState", "diskState", "shareInfo",
    "burstingEnabledTime", "propertyUpdatesInProgress", "LastOwnershipUpdateTime",
)  # fmt: skip
