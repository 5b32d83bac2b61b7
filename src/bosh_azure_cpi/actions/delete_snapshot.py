"""``delete_snapshot(snapshot_cid)``: delete a snapshot; succeeds when it is already gone.
https://bosh.io/docs/cpi-api-v2-method/delete-snapshot/
"""

from __future__ import annotations

from bosh_azure_cpi.models.cids import DiskCid
from bosh_azure_cpi.services.interfaces import Call


def delete_snapshot(call: Call, snapshot_cid: str) -> None:
    cid = DiskCid.parse(snapshot_cid, call.config.azure.resource_group_name, "snapshot").require_managed()
    call.services.disks.delete_snapshot(cid)
