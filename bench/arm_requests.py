"""Benchmark 3: ARM requests per CPI call, read from the ARM emulator's request log.

Each call is one ``bin/cpi`` process with the Director's environment. Counted: requests of kind ``arm``
(resource operations, including ``listKeys`` and other POST actions); listed apart: LRO polls (``poll``) and
Entra ID requests (``token``). Calls: ``create_stemcell`` (gallery mode), ``create_vm`` with the image already
in the region (eastus), ``attach_disk`` (of a disk made by an uncounted ``create_disk``), ``delete_vm``, and
``create_vm`` needing replication (a VM in westus2, config ``location: westus2``, subnet ``westnet/bosh``).

VM support in the emulator (``Microsoft.Compute/virtualMachines``, the seeded vnets) is probed first; without
it the VM calls are reported as ``not available: <reason>``.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.fixtures import StemcellFixture
from bench.startup import ProcessRun, cpi_result, run_cpi

VM_TYPE = "Microsoft.Compute/virtualMachines"
EAST_NET = ("boshnet", "bosh", "10.0.0")
WEST_NET = ("westnet", "bosh", "10.1.0")
WEST = "westus2"
INSTANCE = {"instance_type": "Standard_D2s_v5"}
ENV = {"bosh": {"group": "bench-director-bench-web", "groups": ["bench"]}}
_PREFIX = re.compile(r"^/subscriptions/[^/]+(/resourceGroups/[^/]+)?(/providers)?", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class CpiSetup:
    """Running peers, the eastus and westus2 cpi.json, a small stemcell and a work folder."""

    peers: Any
    east: Path
    west: Path
    stemcell: StemcellFixture
    workdir: Path


def networks(net: tuple[str, str, str], host: int) -> dict[str, Any]:
    """One manual network on ``vnet/subnet`` with the static IP ``prefix.host``."""
    vnet, subnet, prefix = net
    return {
        "default": {
            "type": "manual", "ip": f"{prefix}.{host}", "netmask": "255.255.255.0", "gateway": f"{prefix}.1",
            "dns": ["168.63.129.16"], "default": ["dns", "gateway"],
            "cloud_properties": {"virtual_network_name": vnet, "subnet_name": subnet},
        }
    }  # fmt: skip


def vm_support(peers: Any) -> str | None:
    """None when the emulator serves VMs and the vnets are seeded, else the reason it does not."""
    from tests.peers import RESOURCE_GROUP, SUBSCRIPTION_ID

    if peers.emulator.registry.get(VM_TYPE) is None:
        return f"the ARM emulator does not serve {VM_TYPE}"
    for vnet in (EAST_NET[0], WEST_NET[0]):
        vnet_id = (
            f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{RESOURCE_GROUP}/providers/Microsoft.Network"
            f"/virtualNetworks/{vnet}"
        )
        if peers.emulator.resource(vnet_id) is None:
            return f"tests/peers.py does not seed the virtual network '{vnet}'"
    return None


def short_route(method: str, path: str) -> str:
    """``PUT Microsoft.Compute/virtualMachines/x`` (subscription and resource group dropped)."""
    return f"{method} {_PREFIX.sub('', path).lstrip('/') or path}"


class CallCounter:
    """Runs CPI calls and counts the emulator's requests per call."""

    def __init__(self, peers: Any, workdir: Path) -> None:
        self.peers, self.workdir = peers, workdir

    def call(self, config: Path, method: str, arguments: list[Any]) -> tuple[Any, dict[str, Any]]:
        """``(result, figures)``; the result is None when the call failed (figures carry the error)."""
        log = self.peers.emulator.requests
        mark = log.mark()
        run: ProcessRun = run_cpi(config, method, arguments, self.workdir / "calls")
        result, error = cpi_result(run)
        entries = log.since(mark)
        arm = [e for e in entries if e.kind == "arm"]
        figures: dict[str, Any] = {
            "arm_requests": len(arm),
            "polls": sum(1 for e in entries if e.kind == "poll"),
            "token_requests": sum(1 for e in entries if e.kind == "token"),
            "seconds": round(run.seconds, 3),
            "routes": [short_route(e.method, e.path) for e in arm],
        }
        if error is not None:
            figures["error"] = f"{error.get('type')}: {error.get('message')}"
            return None, figures
        return result, figures


def _vm_calls(counter: CallCounter, east: Path, west: Path, stemcell: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    vm, out["create_vm"] = counter.call(
        east, "create_vm", [str(uuid.uuid4()), stemcell, INSTANCE, networks(EAST_NET, 10), [], ENV]
    )
    vm_cid = vm[0] if isinstance(vm, list) else vm
    if vm_cid:
        disk, figures = counter.call(east, "create_disk", [1024, {}, vm_cid])
        if disk:
            _, out["attach_disk"] = counter.call(east, "attach_disk", [vm_cid, disk])
        else:
            out["attach_disk"] = {"not_available": f"create_disk failed: {figures.get('error')}"}
        _, out["delete_vm"] = counter.call(east, "delete_vm", [vm_cid])
    else:
        reason = f"create_vm failed: {out['create_vm'].get('error')}"
        out["attach_disk"] = out["delete_vm"] = {"not_available": reason}
    _, out["create_vm_replicating"] = counter.call(
        west, "create_vm", [str(uuid.uuid4()), stemcell, INSTANCE, networks(WEST_NET, 10), [], ENV]
    )
    return out


def bench_arm_requests(setup: CpiSetup) -> dict[str, Any]:
    """ARM requests of each call (see the module docstring)."""
    counter = CallCounter(setup.peers, setup.workdir)
    fixture = setup.stemcell
    stemcell, figures = counter.call(setup.east, "create_stemcell", [str(fixture.image), fixture.cloud_properties])
    calls: dict[str, Any] = {"create_stemcell": figures}
    vm_calls = ("create_vm", "create_vm_replicating", "delete_vm", "attach_disk")
    reason = vm_support(setup.peers)
    if stemcell is None:
        reason = f"create_stemcell failed: {figures.get('error')}"
    if reason is not None:
        calls.update({name: {"not_available": reason} for name in vm_calls})
    else:
        calls.update(_vm_calls(counter, setup.east, setup.west, stemcell))
    return {"calls": calls, "stemcell_cid": stemcell}
