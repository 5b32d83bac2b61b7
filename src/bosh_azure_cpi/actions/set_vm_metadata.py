"""``set_vm_metadata(vm_cid, metadata)``: merge the metadata into the VM's tags (values stringified, at most 256
characters; ``user-agent: bosh`` kept). Safe against concurrent writers (ETag-guarded, retried on conflict).
``VMNotFound`` when the VM does not exist. https://bosh.io/docs/cpi-api-v2-method/set-vm-metadata/
"""

from __future__ import annotations

from typing import Any

from bosh_azure_cpi.models.cids import VmCid
from bosh_azure_cpi.models.fields import Fields
from bosh_azure_cpi.services.interfaces import Call


def set_vm_metadata(call: Call, vm_cid: str, metadata: dict[str, Any]) -> None:
    tags = Fields({"metadata": metadata}, "").text_map("metadata")
    call.services.vms.set_metadata(VmCid.parse(vm_cid, call.config.azure.resource_group_name), tags)
