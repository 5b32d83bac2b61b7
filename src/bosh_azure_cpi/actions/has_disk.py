"""``has_disk(disk_cid)``: whether the managed disk exists. https://bosh.io/docs/cpi-api-v2-method/has-disk/"""

from __future__ import annotations

from bosh_azure_cpi.models.cids import DiskCid
from bosh_azure_cpi.services.interfaces import Call


def has_disk(call: Call, disk_cid: str) -> bool:
    return call.services.disks.exists(DiskCid.parse(disk_cid, call.config.azure.resource_group_name).require_managed())
