"""``delete_vm(vm_cid)``: delete a VM with its NICs, OS and ephemeral disks, the public IP the CPI created for
it, and its availability set once empty (if the CPI created it). Attached persistent disks are detached, never
deleted. Deleting a VM that is already gone succeeds (its leftovers are cleaned).
https://bosh.io/docs/cpi-api-v2-method/delete-vm/
"""

from __future__ import annotations

from bosh_azure_cpi.models.cids import VmCid
from bosh_azure_cpi.services.interfaces import Call


def delete_vm(call: Call, vm_cid: str) -> None:
    call.services.vms.delete(VmCid.parse(vm_cid, call.config.azure.resource_group_name).require_managed())
