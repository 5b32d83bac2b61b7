"""``create_disk(size, cloud_properties, vm_cid)``: create an empty managed disk; returns its CID
(``caching:<c>;disk_name:bosh-disk-data-<uuid>;resource_group_name:<rg>``).

``size`` is MiB, rounded up to whole GiB. With ``vm_cid`` the disk goes to the VM's resource group, location and
zone, and defaults to Premium_LRS when the VM's size supports premium storage; without it, the global resource
group and location and Standard_LRS. ``cloud_properties``: ``storage_account_type``, ``caching`` (default None),
``iops``/``mbps`` (PremiumV2_LRS, UltraSSD_LRS), ``disk_encryption_set_name``.
https://bosh.io/docs/cpi-api-v2-method/create-disk/
"""

from __future__ import annotations

from typing import Any

from bosh_azure_cpi.models.cids import VmCid
from bosh_azure_cpi.models.disk_props import DiskProps
from bosh_azure_cpi.services.interfaces import Call


def create_disk(call: Call, size: int, cloud_properties: dict[str, Any], vm_cid: str | None = None) -> str:
    group = call.config.azure.resource_group_name
    vm = VmCid.parse(vm_cid, group).require_managed() if vm_cid else None
    return str(call.services.disks.create(size, DiskProps.from_dict(cloud_properties), vm))
