"""``has_vm(vm_cid)``: whether the VM exists (and is not being deleted). https://bosh.io/docs/cpi-api-v2-method/has-vm/"""

from __future__ import annotations

from bosh_azure_cpi.models.cids import VmCid
from bosh_azure_cpi.services.interfaces import Call


def has_vm(call: Call, vm_cid: str) -> bool:
    return call.services.vms.exists(VmCid.parse(vm_cid, call.config.azure.resource_group_name))
