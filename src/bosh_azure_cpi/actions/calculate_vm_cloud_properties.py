"""``calculate_vm_cloud_properties({"cpu", "ram", "ephemeral_disk_size"})``: VM cloud properties for
``vm_resources``: the instance types of the global ``location`` that meet cpu/ram (MiB), best first (the Ruby
CPI's ranking, from the Resource SKUs list, cached for a day), and the ephemeral disk size rounded up to GiB.
https://bosh.io/docs/cpi-api-v2-method/calculate-vm-cloud-properties/
"""

from __future__ import annotations

import math
from typing import Any

from bosh_azure_cpi.errors import InvalidArgument
from bosh_azure_cpi.models.fields import Fields
from bosh_azure_cpi.services.interfaces import Call


def calculate_vm_cloud_properties(call: Call, vm_resources: dict[str, Any]) -> dict[str, Any]:
    f = Fields(vm_resources, "vm_resources")
    missing = [key for key in ("cpu", "ram", "ephemeral_disk_size") if f.raw(key) is None]
    if missing:
        raise InvalidArgument(f"Missing VM cloud properties: {', '.join(repr(k) for k in missing)}")
    cpu = f.integer("cpu", minimum=1)
    ram = f.integer("ram", minimum=1)
    disk = f.integer("ephemeral_disk_size", minimum=1)
    return {
        "instance_types": call.services.vms.instance_types(cpu, ram),
        "ephemeral_disk": {"size": math.ceil(disk / 1024) * 1024},
    }
