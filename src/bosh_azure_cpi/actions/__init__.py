"""Registry of CPI methods. Each implemented method lives in ``actions/<method>.py`` as one public function
``<method>(call, *wire_arguments)``; modules are imported only when their method is called."""

from __future__ import annotations


class ActionInfo:
    """A registry entry (a plain slotted class: the registry is loaded on every call's start-up path)."""

    __slots__ = ("implemented", "not_implemented_reason", "summary")

    def __init__(self, summary: str, implemented: bool = True, not_implemented_reason: str = "") -> None:
        self.summary = summary
        self.implemented = implemented
        self.not_implemented_reason = not_implemented_reason

    def module_name(self, method: str) -> str:
        return f"{__name__}.{method}"


REGISTRY: dict[str, ActionInfo] = {
    "info": ActionInfo("API version and stemcell formats; touches no Azure API"),
    "create_stemcell": ActionInfo("upload a stemcell image; gallery image version, managed image or light"),
    "delete_stemcell": ActionInfo("drop a stemcell reference; delete its image and blob when unused"),
    "create_vm": ActionInfo("create and start a VM with agent settings in custom data"),
    "delete_vm": ActionInfo("delete a VM and everything it owns"),
    "has_vm": ActionInfo("whether a VM exists"),
    "reboot_vm": ActionInfo("restart a VM"),
    "set_vm_metadata": ActionInfo("tag a VM"),
    "calculate_vm_cloud_properties": ActionInfo("cheapest instance types for cpu/ram/ephemeral disk"),
    "create_disk": ActionInfo("create a managed disk"),
    "delete_disk": ActionInfo("delete a managed disk"),
    "has_disk": ActionInfo("whether a disk exists"),
    "attach_disk": ActionInfo("attach a disk to a VM and return the disk hint"),
    "detach_disk": ActionInfo("detach a disk from a VM"),
    "set_disk_metadata": ActionInfo("tag a disk"),
    "get_disks": ActionInfo("persistent disks attached to a VM"),
    "resize_disk": ActionInfo("grow a detached disk"),
    "update_disk": ActionInfo("change a detached disk's size, type, iops or throughput"),
    "snapshot_disk": ActionInfo("incremental snapshot of a disk"),
    "delete_snapshot": ActionInfo("delete a snapshot"),
    "current_vm_id": ActionInfo(
        "deprecated", implemented=False, not_implemented_reason="'current_vm_id' is deprecated and not implemented"
    ),
    "create_network": ActionInfo(
        "managed networks",
        implemented=False,
        not_implemented_reason="managed networks ('create_network') are not supported by the Azure CPI",
    ),
    "delete_network": ActionInfo(
        "managed networks",
        implemented=False,
        not_implemented_reason="managed networks ('delete_network') are not supported by the Azure CPI",
    ),
    "configure_networks": ActionInfo(
        "obsolete", implemented=False, not_implemented_reason="'configure_networks' is obsolete and not implemented"
    ),
    "ping": ActionInfo("obsolete", implemented=False, not_implemented_reason="'ping' is not implemented"),
}
