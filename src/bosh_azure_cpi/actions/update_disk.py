"""``update_disk(disk_cid, new_size, cloud_properties)``: change a detached disk in place — size (grow only),
``storage_account_type``, ``iops``, ``mbps``. Returns null (the CID is unchanged). ``NotSupported`` (the Director
then copies to a new disk) for changes Azure cannot make in place: caching, shrinking, unsupported type
conversions, size or type changes of a disk attached to a running VM. https://bosh.io/docs/cpi-api-v2-method/update-disk/
"""

from __future__ import annotations

from typing import Any

from bosh_azure_cpi.models.cids import DiskCid
from bosh_azure_cpi.models.disk_props import DiskProps
from bosh_azure_cpi.services.interfaces import Call


def update_disk(call: Call, disk_cid: str, new_size: int, cloud_properties: dict[str, Any]) -> None:
    cid = DiskCid.parse(disk_cid, call.config.azure.resource_group_name).require_managed()
    call.services.disks.update(cid, new_size, DiskProps.from_dict(cloud_properties))
