"""``attach_disk(vm_cid, disk_cid)``: attach a managed disk at the lowest free LUN (idempotent: a disk already on
the VM keeps its LUN). Returns, with CPI API v2, the agent's disk hint
``{"lun": "<n>", "host_device_id": "{f8b3781b-1e82-4818-a1c3-63d806ec15bb}"}`` (``lun`` a string); with v1 null.
Concurrent attaches to one VM are safe (ETag-guarded update, retried on conflict); no fixed sleeps.
``DiskNotFound`` / ``VMNotFound`` when either is missing. https://bosh.io/docs/cpi-api-v2-method/attach-disk/
"""

from __future__ import annotations

from typing import Any

from bosh_azure_cpi.models.agent_settings import disk_hint
from bosh_azure_cpi.models.cids import DiskCid, VmCid
from bosh_azure_cpi.services.interfaces import Call


def attach_disk(call: Call, vm_cid: str, disk_cid: str) -> Any:
    group = call.config.azure.resource_group_name
    vm = VmCid.parse(vm_cid, group).require_managed()
    lun = call.services.disks.attach(vm, DiskCid.parse(disk_cid, group).require_managed())
    return disk_hint(lun) if call.v2 else None
