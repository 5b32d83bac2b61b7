"""VM power actions (``start``, ``restart``, ``powerOff``, ``deallocate``) and the instance view.

Each action answers 202 with ``Azure-AsyncOperation`` and ``Location`` and no body; the power state is
transitional (``PowerState/starting`` …) until the operation ends, then ``running``/``stopped``/
``deallocated`` (``restart`` stays ``running``). Refusals (409 ``OperationNotAllowed``, error-messages.md
and the service's answer for ephemeral OS disks):

* any action on a VM being deleted ("… since the VM is marked for deletion …");
* an action while another power action runs ("An ongoing operation is changing power state of Virtual
  Machine <vm> to <state>. Please perform operation <op> after some time.");
* ``restart`` of a deallocated VM ("… since the VM is either deallocated or marked to be deallocated.");
* ``deallocate`` of a VM with an ephemeral OS disk ("Operation 'deallocate' is not supported for VMs or VM
  Scale Set instances using an ephemeral OS disk.").

``instanceView`` (``$expand=instanceView`` or ``…/instanceView``) reports ``ProvisioningState/<state>``
(``ProvisioningState/failed/<code>`` with the error after a failed operation) and ``PowerState/<state>``.
"""

from __future__ import annotations

from typing import Any

from arm_emulator import lro, operations
from arm_emulator.ids import ArmPath
from arm_emulator.store import Record
from arm_emulator.types.base import Ctx, ResourceType
from arm_emulator.types.compute_common import COMPUTE_API_VERSIONS
from arm_emulator.types.vm_effects import refresh_disk_states
from arm_emulator.types.vm_rules import check_not_deleting
from arm_emulator.wire import ArmError, Reply, Request, iso_time, utc_now

# action → (state while running, state after)
TRANSITIONS = {
    "start": ("starting", "running"),
    "restart": ("running", "running"),
    "poweroff": ("stopping", "stopped"),
    "deallocate": ("deallocating", "deallocated"),
}
_DISPLAY = {
    "running": "VM running", "starting": "VM starting", "stopping": "VM stopping", "stopped": "VM stopped",
    "deallocating": "VM deallocating", "deallocated": "VM deallocated",
}  # fmt: skip
_ACTION_NAMES = {"start": "start", "restart": "restart", "poweroff": "powerOff", "deallocate": "deallocate"}


def run_action(rtype: ResourceType, ctx: Ctx, record: Record, action: str, call: operations.Call) -> Reply:
    """Start a power action as an operation; 409 when the VM's state forbids it."""
    name = _ACTION_NAMES[action]
    check_not_deleting(record, name)
    running = ctx.operations.get(str(record.meta.get("action", "")))
    if running is not None and not running.done:
        raise ArmError(
            409,
            "OperationNotAllowed",
            f"An ongoing operation is changing power state of Virtual Machine {record.name} to "
            f"{record.meta.get('target_power', 'running')}. Please perform operation {name} after some time.",
        )
    power = str(record.meta.get("power", "running"))
    if action == "restart" and power == "deallocated":
        raise ArmError(
            409,
            "OperationNotAllowed",
            f"Operation 'restart' is not allowed on VM '{record.name}' since the VM is either deallocated or marked "
            "to be deallocated.",
        )
    if action == "deallocate" and record.properties().get("storageProfile", {}).get("osDisk", {}).get(
        "diffDiskSettings"
    ):
        raise ArmError(
            409,
            "OperationNotAllowed",
            "Operation 'deallocate' is not supported for VMs or VM Scale Set instances using an ephemeral OS disk.",
        )
    during, after = TRANSITIONS[action]
    record.meta.update(power=during, target_power=after)
    op = operations.start(ctx, rtype, record, call, on_done=_finish(power, after))
    return operations.accepted(ctx, rtype, op, call)


def _finish(before: str, after: str) -> operations.DoneHook:
    def done(ctx: Ctx, record: Record, op: lro.Operation) -> None:
        record.meta["power"] = after if op.status == lro.SUCCEEDED else before
        refresh_disk_states(ctx, record)

    return done


def _status(code: str, display: str, level: str = "Info", message: str | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {"code": code, "level": level, "displayStatus": display}
    if message is not None:
        status["message"] = message
    status["time"] = iso_time(utc_now())
    return status


def _provisioning(record: Record) -> dict[str, Any]:
    state = str(record.properties().get("provisioningState", "Succeeded"))
    failure = record.meta.get("failure")
    if state == "Failed" and isinstance(failure, dict):
        return _status(
            f"ProvisioningState/failed/{failure['code']}", "Provisioning failed", "Error", str(failure["message"])
        )
    display = {"Succeeded": "Provisioning succeeded", "Failed": "Provisioning failed"}.get(state, state)
    return _status(f"ProvisioningState/{state.lower()}", display)


def instance_view(record: Record) -> dict[str, Any]:
    """The VM's ``instanceView``."""
    props = record.properties()
    power = str(record.meta.get("power", "running"))
    image = record.meta.get("image", {})
    profile = props.get("storageProfile", {})
    disks = [profile.get("osDisk") or {}, *(profile.get("dataDisks") or [])]
    view: dict[str, Any] = {
        "computerName": props.get("osProfile", {}).get("computerName"),
        "osName": "ubuntu",
        "osVersion": "22.04",
        "hyperVGeneration": image.get("hyperv", "V1"),
        "disks": [
            {"name": d.get("name"), "statuses": [_status("ProvisioningState/succeeded", "Provisioning succeeded")]}
            for d in disks
            if d.get("name")
        ],
        "statuses": [_provisioning(record), _status(f"PowerState/{power}", _DISPLAY.get(power, power))],
    }
    if power == "running":
        view["vmAgent"] = {
            "vmAgentVersion": "2.13.1.1",
            "statuses": [_status("ProvisioningState/succeeded", "Ready", message="Guest Agent is running")],
            "extensionHandlers": [],
        }
    return view


class VirtualMachineInstanceViews(ResourceType):
    """``GET …/virtualMachines/V/instanceView``."""

    type_name = "Microsoft.Compute/virtualMachines/instanceView"
    api_versions = COMPUTE_API_VERSIONS
    tracked = False
    virtual = True

    def virtual_list(self, ctx: Ctx, path: ArmPath, request: Request) -> Reply:
        parent = path.parent()
        assert parent is not None
        record = ctx.store.get(parent.resource_id())
        if record is None:
            raise ArmError(
                404,
                "ResourceNotFound",
                f"The Resource 'Microsoft.Compute/virtualMachines/{parent.name}' under resource group "
                f"'{path.resource_group}' was not found. For more details please go to "
                "https://aka.ms/ARMResourceNotFoundFix",
            )
        return Reply(status=200, body=instance_view(record))
