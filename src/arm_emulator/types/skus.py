"""Resource SKUs (``GET /subscriptions/S/providers/Microsoft.Compute/skus``) and VM size lists, from the
static catalog in :mod:`arm_emulator.types.sku_catalog`; lookups used by VM validation.

``Resource Skus - List`` (api-version 2021-07-01, what azure-mgmt-compute 39.0.0 sends) answers one row
per size and region: ``resourceType``, ``name``, ``tier``, ``size``, ``family``, ``locations``,
``locationInfo`` (zones), ``capabilities`` (name/value strings) and ``restrictions``. The only
``$filter`` it supports is ``location eq '<region>'`` (else 400 ``InvalidFilterInQueryString``).
"""

from __future__ import annotations

import re
from typing import Any

from arm_emulator import regions
from arm_emulator.ids import ArmPath
from arm_emulator.listing import page
from arm_emulator.types.base import Ctx, ResourceType
from arm_emulator.types.compute_common import COMPUTE_API_VERSIONS
from arm_emulator.types.sku_catalog import (
    DEFAULT_FAULT_DOMAINS,
    FAULT_DOMAINS,
    RESTRICTIONS,
    SIZES,
    ZONES,
    Restriction,
    VmSize,
)
from arm_emulator.wire import ArmError, Reply, Request

SKU_API_VERSIONS = frozenset({"2017-03-30", "2017-09-01", "2019-04-01", "2021-07-01"})
_LOCATION_FILTER = re.compile(r"^\s*location\s+eq\s+'([^']*)'\s*$", re.IGNORECASE)
OS_VHD_SIZE_MB = 1047552


def find_size(name: str, location: str) -> VmSize | None:
    """The size ``name`` (case-insensitive) when it is offered in ``location``."""
    loc = regions.normalize(location)
    for size in SIZES:
        if size.name.lower() == name.lower() and size.offered_in(loc):
            return size
    return None


def sizes_in(location: str) -> list[VmSize]:
    loc = regions.normalize(location)
    return [s for s in SIZES if s.offered_in(loc)]


def zones_for(location: str) -> tuple[str, ...]:
    return ZONES.get(regions.normalize(location), ())


def max_fault_domains(location: str) -> int:
    return FAULT_DOMAINS.get(regions.normalize(location), DEFAULT_FAULT_DOMAINS)


def restricted(size: VmSize, location: str, zones: list[str]) -> bool:
    """True when the subscription may not deploy ``size`` in ``location`` (and one of ``zones``)."""
    for rule in _restrictions(size, regions.normalize(location)):
        if not rule.zones or set(rule.zones) & set(zones):
            return True
    return False


def _restrictions(size: VmSize, location: str) -> list[Restriction]:
    return [r for r in RESTRICTIONS if r.size == size.name and r.location == location]


def _bool(value: bool) -> str:
    return "True" if value else "False"


def capabilities(size: VmSize) -> list[dict[str, str]]:
    """The ``capabilities`` list of a size, with the names and string values the service uses."""
    caps = [
        ("MaxResourceVolumeMB", str(size.resource_mb)),
        ("OSVhdSizeMB", str(OS_VHD_SIZE_MB)),
        ("vCPUs", str(size.vcpus)),
        ("MemoryPreservingMaintenanceSupported", "True"),
        ("HyperVGenerations", size.hyperv),
        ("MemoryGB", f"{size.memory_gb:g}"),
        ("MaxDataDiskCount", str(size.max_data_disks)),
        ("CpuArchitectureType", size.arch),
        ("LowPriorityCapable", "True"),
        ("PremiumIO", _bool(size.premium_io)),
        ("VMDeploymentTypes", "IaaS"),
        ("vCPUsAvailable", str(size.vcpus)),
        ("vCPUsPerCore", "1" if size.vcpus == 1 or size.arch == "Arm64" else "2"),
    ]
    if size.cached_bytes:
        caps.append(("CachedDiskBytes", str(size.cached_bytes)))
    if size.nvme_mib:
        caps.append(("NvmeDiskSizeInMiB", str(size.nvme_mib)))
    caps += [
        ("EphemeralOSDiskSupported", _bool(size.ephemeral_os)),
        ("EncryptionAtHostSupported", "True"),
        ("CapacityReservationSupported", "True"),
        ("AcceleratedNetworkingEnabled", _bool(size.accelerated_networking)),
        ("RdmaEnabled", "False"),
        ("MaxNetworkInterfaces", str(size.max_nics)),
        ("DiskControllerTypes", size.controllers),
    ]
    return [{"name": n, "value": v} for n, v in caps]


def sku_row(size: VmSize, location: str) -> dict[str, Any]:
    """One ``ResourceSku`` row: ``size`` in ``location``."""
    zones = list(ZONES[location])
    rows = []
    for rule in _restrictions(size, location):
        info: dict[str, Any] = {"locations": [location]}
        if rule.zones:
            info["zones"] = list(rule.zones)
        kind = "Zone" if rule.zones else "Location"
        rows.append(
            {"type": kind, "values": [location], "restrictionInfo": info, "reasonCode": "NotAvailableForSubscription"}
        )
    return {
        "resourceType": "virtualMachines",
        "name": size.name,
        "tier": "Standard",
        "size": size.name.removeprefix("Standard_"),
        "family": size.family,
        "locations": [location],
        "locationInfo": [{"location": location, "zones": zones, "zoneDetails": []}],
        "capabilities": capabilities(size),
        "restrictions": rows,
    }


def size_entry(size: VmSize) -> dict[str, Any]:
    """A ``VirtualMachineSize`` (the older ``vmSizes`` lists)."""
    return {
        "name": size.name,
        "numberOfCores": size.vcpus,
        "osDiskSizeInMB": OS_VHD_SIZE_MB,
        "resourceDiskSizeInMB": size.resource_mb,
        "memoryInMB": int(size.memory_gb * 1024),
        "maxDataDiskCount": size.max_data_disks,
    }


class ResourceSkus(ResourceType):
    """``GET /subscriptions/S/providers/Microsoft.Compute/skus[?$filter=location eq 'L']`` (paged)."""

    type_name = "Microsoft.Compute/skus"
    api_versions = SKU_API_VERSIONS
    tracked = False
    virtual = True

    def virtual_list(self, ctx: Ctx, path: ArmPath, request: Request) -> Reply:
        if path.resource_group is not None:
            raise ArmError(404, "NotFound", f"The requested path '{request.path}' was not found.")
        text = request.query.get("$filter")
        wanted = None
        if text:
            match = _LOCATION_FILTER.match(text)
            if match is None:
                raise ArmError(
                    400, "InvalidFilterInQueryString", f"Invalid $filter '{text}' specified in the query string."
                )
            wanted = regions.normalize(match.group(1))
        items = [
            sku_row(size, location)
            for location in ZONES
            if wanted is None or location == wanted
            for size in SIZES
            if size.offered_in(location)
        ]
        return page(items, request, ctx.knobs.page_size)


class LocationVmSizes(ResourceType):
    """``GET /subscriptions/S/providers/Microsoft.Compute/locations/L/vmSizes``."""

    type_name = "Microsoft.Compute/locations/vmSizes"
    api_versions = COMPUTE_API_VERSIONS
    tracked = False
    virtual = True

    def virtual_list(self, ctx: Ctx, path: ArmPath, request: Request) -> Reply:
        return Reply(status=200, body={"value": [size_entry(s) for s in sizes_in(path.names[0])]})


class ResourceVmSizes(ResourceType):
    """``GET …/<resource>/vmSizes``: the sizes offered in the resource's region."""

    api_versions = COMPUTE_API_VERSIONS
    tracked = False
    virtual = True

    def virtual_list(self, ctx: Ctx, path: ArmPath, request: Request) -> Reply:
        parent = path.parent()
        assert parent is not None
        record = ctx.store.get(parent.resource_id())
        if record is None:
            chain = "/".join(f"{t}/{n}" for t, n in zip(parent.types, parent.names, strict=False))
            raise ArmError(
                404,
                "ResourceNotFound",
                f"The Resource 'Microsoft.Compute/{chain}' under resource group '{path.resource_group}' was not "
                "found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
            )
        location = str(record.body.get("location", ""))
        return Reply(status=200, body={"value": [size_entry(s) for s in sizes_in(location)]})


class AvailabilitySetVmSizes(ResourceVmSizes):
    type_name = "Microsoft.Compute/availabilitySets/vmSizes"


class VirtualMachineVmSizes(ResourceVmSizes):
    type_name = "Microsoft.Compute/virtualMachines/vmSizes"
