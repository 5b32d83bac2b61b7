"""``detach_disk(vm_cid, disk_cid)``: detach a disk from a VM; ``DiskNotAttached`` when it is not attached,
``VMNotFound`` when the VM does not exist. https://bosh.io/docs/cpi-api-v2-method/detach-disk/
"""

from __future__ import annotations

from bosh_azure_cpi.models.cids import DiskCid, VmCid
from bosh_azure_cpi.services.interfaces import Call


def detach_disk(call: Call, vm_cid: str, disk_cid: str) -> None:
    group = call.config.azure.resource_group_name
    call.services.disks.detach(VmCid.parse(vm_cid, group), DiskCid.parse(disk_cid, group).require_managed())
