"""``snapshot_disk(disk_cid, metadata)``: take an incremental snapshot of a managed disk (allowed while attached),
tagged with the metadata and ``original: <disk name>``; returns the snapshot CID (the disk CID format).
https://bosh.io/docs/cpi-api-v2-method/snapshot-disk/
"""

from __future__ import annotations

from typing import Any

from bosh_azure_cpi.models.cids import DiskCid
from bosh_azure_cpi.models.fields import Fields
from bosh_azure_cpi.services.interfaces import Call


def snapshot_disk(call: Call, disk_cid: str, metadata: dict[str, Any] | None = None) -> str:
    cid = DiskCid.parse(disk_cid, call.config.azure.resource_group_name).require_managed()
    tags = Fields({"metadata": metadata or {}}, "").text_map("metadata")
    return str(call.services.disks.snapshot(cid, tags))
