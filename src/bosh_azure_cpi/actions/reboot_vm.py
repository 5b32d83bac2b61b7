"""``reboot_vm(vm_cid)``: restart the VM (running or not) without waiting for the agent; ``VMNotFound`` when it
does not exist. https://bosh.io/docs/cpi-api-v2-method/reboot-vm/
"""

from __future__ import annotations

from bosh_azure_cpi.models.cids import VmCid
from bosh_azure_cpi.services.interfaces import Call


def reboot_vm(call: Call, vm_cid: str) -> None:
    call.services.vms.reboot(VmCid.parse(vm_cid, call.config.azure.resource_group_name))
