"""``set_disk_metadata(disk_cid, metadata)``: merge the metadata into the disk's tags (values stringified, at most
256 characters). ``DiskNotFound`` when the disk does not exist. (The Ruby CPI answered NotImplemented.)
https://bosh.io/docs/cpi-api-v2-method/set-disk-metadata/
"""

from __future__ import annotations

from typing import Any

from bosh_azure_cpi.models.cids import DiskCid
from bosh_azure_cpi.models.fields import Fields
from bosh_azure_cpi.services.interfaces import Call


def set_disk_metadata(call: Call, disk_cid: str, metadata: dict[str, Any]) -> None:
    cid = DiskCid.parse(disk_cid, call.config.azure.resource_group_name).require_managed()
    call.services.disks.set_metadata(cid, Fields({"metadata": metadata}, "").text_map("metadata"))
