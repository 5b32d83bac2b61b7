"""Persistent disk cloud properties (``disk_types``), with the Ruby Azure CPI's keys and defaults.

Sizes are MiB from the Director; Azure sizes disks in whole GiB, so both ``create_disk`` and ``resize_disk``
round **up** (the Ruby CPI floored on create and ceiled on resize; rounding up everywhere never gives a disk
smaller than asked and keeps create and resize consistent).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bosh_azure_cpi.errors import InvalidArgument
from bosh_azure_cpi.models.fields import Fields
from bosh_azure_cpi.models.instance_types import mib_to_gib_ceil
from bosh_azure_cpi.models.vm_props import CACHING, DISK_TYPES

PERFORMANCE_TYPES = ("PremiumV2_LRS", "UltraSSD_LRS")
MAX_DISK_GIB = 65536


@dataclass(frozen=True, slots=True, kw_only=True)
class DiskProps:
    storage_account_type: str = ""  # "" = default (from the VM's size, else Standard_LRS)
    caching: str = "None"
    iops: int | None = None
    mbps: int | None = None
    disk_encryption_set_name: str = ""
    explicit_caching: bool = False

    @classmethod
    def from_dict(cls, doc: Any) -> DiskProps:
        f = Fields(doc, "disk_type.cloud_properties")
        disk_type = f.choice("storage_account_type", DISK_TYPES, "")
        props = cls(
            storage_account_type=disk_type,
            caching=f.choice("caching", CACHING, "None"),
            iops=f.integer("iops", None, minimum=1),
            mbps=f.integer("mbps", None, minimum=1),
            disk_encryption_set_name=f.text("disk_encryption_set_name", ""),
            explicit_caching=f.raw("caching") is not None,
        )
        props.check_for(disk_type)
        return props

    def check_for(self, disk_type: str) -> None:
        """iops/mbps only for types with configurable performance; those need caching None."""
        if (self.iops is not None or self.mbps is not None) and disk_type and disk_type not in PERFORMANCE_TYPES:
            raise InvalidArgument(f"'iops' and 'mbps' can only be set for {' and '.join(PERFORMANCE_TYPES)} disks")
        if disk_type in PERFORMANCE_TYPES and self.caching != "None":
            raise InvalidArgument(f"'caching' must be None for {disk_type} disks, got '{self.caching}'")


def disk_size_gib(size_mib: Any, name: str = "size") -> int:
    """MiB from the Director → whole GiB (rounded up); at least 1 GiB, at most Azure's 64 TiB."""
    if isinstance(size_mib, bool) or not isinstance(size_mib, int):
        raise InvalidArgument(f"The disk {name} needs to be an integer number of MiB, got '{size_mib}'")
    if size_mib < 1024:
        raise InvalidArgument(f"Azure's minimum disk size is 1 GiB (1024 MiB), got {size_mib} MiB")
    size = mib_to_gib_ceil(size_mib)
    if size > MAX_DISK_GIB:
        raise InvalidArgument(f"Azure's maximum disk size is {MAX_DISK_GIB} GiB, got {size} GiB")
    return size
