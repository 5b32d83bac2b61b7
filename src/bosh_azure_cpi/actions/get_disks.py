"""``get_disks(vm_cid)``: CIDs of the persistent disks attached to the VM (``[]`` when none); ``VMNotFound``
when the VM does not exist. https://bosh.io/docs/cpi-api-v2-method/get-disks/
"""

from __future__ import annotations

from bosh_azure_cpi.models.cids import VmCid
from bosh_azure_cpi.services.interfaces import Call


def get_disks(call: Call, vm_cid: str) -> list[str]:
    return call.services.vms.disks(VmCid.parse(vm_cid, call.config.azure.resource_group_name))
