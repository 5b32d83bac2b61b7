"""``resize_disk(disk_cid, new_size)``: grow a detached managed disk to ``new_size`` MiB (rounded up to GiB);
the same size is a no-op; shrinking, or growing a disk Azure cannot resize while it is attached to a running VM,
answers ``NotSupported`` (the Director then copies to a new disk).
https://bosh.io/docs/cpi-api-v2-method/resize-disk/
"""

from __future__ import annotations

from bosh_azure_cpi.models.cids import DiskCid
from bosh_azure_cpi.services.interfaces import Call


def resize_disk(call: Call, disk_cid: str, new_size: int) -> None:
    call.services.disks.resize(
        DiskCid.parse(disk_cid, call.config.azure.resource_group_name).require_managed(), new_size
    )
