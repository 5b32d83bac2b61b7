"""``delete_disk(disk_cid)``: delete a detached managed disk; succeeds when it is already gone.
https://bosh.io/docs/cpi-api-v2-method/delete-disk/
"""

from __future__ import annotations

from bosh_azure_cpi.models.cids import DiskCid
from bosh_azure_cpi.services.interfaces import Call


def delete_disk(call: Call, disk_cid: str) -> None:
    call.services.disks.delete(DiskCid.parse(disk_cid, call.config.azure.resource_group_name).require_managed())
