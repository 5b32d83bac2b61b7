"""Disks: the persistent disk methods (create, delete, attach, detach, resize, update, snapshots, tags).

Attach and detach are a read-modify-write of the VM guarded by its ETag and retried with a fresh read on
conflict, so concurrent attaches to one VM never drop each other; no fixed sleeps. The VM is tagged
``disk-id-<disk name>: <disk cid>`` as the Ruby CPI does (``get_disks`` reads it back).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from bosh_azure_cpi.config import AzureConfig
from bosh_azure_cpi.errors import AzureError, DiskNotAttached, DiskNotFound, NotSupported, VMNotFound
from bosh_azure_cpi.models.cids import MANAGED_DATA_DISK_PREFIX, DiskCid, VmCid
from bosh_azure_cpi.models.disk_props import PERFORMANCE_TYPES, DiskProps, disk_size_gib
from bosh_azure_cpi.models.instance_types import default_disk_type
from bosh_azure_cpi.models.resource_ids import resource_id
from bosh_azure_cpi.services.disk import DiskService
from bosh_azure_cpi.services.params.disk import DiskSpec
from bosh_azure_cpi.services.vm import VmService

logger = logging.getLogger(__name__)
DISK_ID_TAG_PREFIX = "disk-id-"
MAX_LUN = 63
READ_ONLY_DATA_DISK_KEYS = ("diskIOPSReadWrite", "diskMBpsReadWrite")


class Disks:
    def __init__(self, disks: DiskService, vms: VmService, config: AzureConfig) -> None:
        self._disks = disks
        self._vms = vms
        self._config = config

    def create(self, size_mib: int, props: DiskProps, vm_cid: VmCid | None) -> DiskCid:
        size = disk_size_gib(size_mib)
        group, location, zone, default_type = self._placement(vm_cid)
        disk_type = props.storage_account_type or default_type
        props.check_for(disk_type)
        cid = DiskCid.new(props.caching, group)
        spec = DiskSpec(
            location=location,
            size_gib=size,
            type=disk_type,
            zone=zone,
            iops=props.iops,
            mbps=props.mbps,
            disk_encryption_set_id=self._des_id(props.disk_encryption_set_name),
            tags={"user-agent": "bosh", "caching": props.caching},
        )
        self._disks.create(cid, spec)
        return cid

    def delete(self, cid: DiskCid) -> None:
        if not self._disks.delete(cid):
            logger.info("Disk %s was already gone", cid)

    def exists(self, cid: DiskCid) -> bool:
        return self._disks.find(cid) is not None

    def attach(self, vm_cid: VmCid, cid: DiskCid) -> int:
        """Attach at the lowest free LUN (or report the LUN it already has); returns the LUN."""
        disk = self._require(cid)
        disk_id = str(disk.id)
        chosen: list[int] = []

        def change(vm: Any) -> tuple[Any, Any] | None:
            data = _data_disks(vm)
            existing = next((d for d in data if _same_disk(d, disk_id)), None)
            if existing is not None:
                chosen.append(int(existing["lun"]))
                return None
            lun = _free_lun(data)
            chosen.append(lun)
            entry = {"lun": lun, "createOption": "Attach", "caching": cid.caching, "deleteOption": "Detach",
                     "managedDisk": {"id": disk_id}}  # fmt: skip
            tags = {**(vm.tags or {}), f"{DISK_ID_TAG_PREFIX}{cid.disk_name}": str(cid)}
            return self._vms.update_method, _vm_update(tags, [*data, entry])

        self._modify(vm_cid, change, f"Attaching disk '{cid.disk_name}' to VM '{vm_cid.vm_name}'")
        logger.info("Disk %s is attached to %s at LUN %d", cid.disk_name, vm_cid.vm_name, chosen[-1])
        return chosen[-1]

    def detach(self, vm_cid: VmCid, cid: DiskCid) -> None:
        disk_id = self._disks.disk_id(cid)

        def change(vm: Any) -> tuple[Any, Any] | None:
            data = _data_disks(vm)
            remaining = [d for d in data if not _same_disk(d, disk_id) and d.get("name") != cid.disk_name]
            if len(remaining) == len(data):
                raise DiskNotAttached(f"The disk {cid} is not attached to the virtual machine {vm_cid}")
            tags = {k: v for k, v in (vm.tags or {}).items() if k != f"{DISK_ID_TAG_PREFIX}{cid.disk_name}"}
            return self._vms.update_method, _vm_update(tags, remaining)

        self._modify(vm_cid, change, f"Detaching disk '{cid.disk_name}' from VM '{vm_cid.vm_name}'")

    def resize(self, cid: DiskCid, size_mib: int) -> None:
        disk = self._require(cid)
        size, current = disk_size_gib(size_mib, "new size"), int(disk.properties.disk_size_gb or 0)
        if size < current:
            raise NotSupported(f"Disk '{cid.disk_name}' cannot shrink from {current} GiB to {size} GiB")
        if size == current:
            logger.info("Disk %s already has %d GiB", cid.disk_name, size)
            return
        self._change_in_place(cid, f"Resizing disk '{cid.disk_name}' to {size} GiB", size_gib=size)

    def update(self, cid: DiskCid, size_mib: int, props: DiskProps) -> None:
        disk = self._require(cid)
        if props.explicit_caching and props.caching != cid.caching:
            raise NotSupported("Disk caching cannot be modified")
        size, current = disk_size_gib(size_mib, "new size"), int(disk.properties.disk_size_gb or 0)
        if size < current:
            raise NotSupported("Disk size cannot be decreased")
        current_type = _value(disk.sku.name) if disk.sku else ""
        new_type = props.storage_account_type if props.storage_account_type != current_type else ""
        if new_type in PERFORMANCE_TYPES and cid.caching != "None":  # the CID's caching is what attach_disk sends
            raise NotSupported(f"Disk '{cid.disk_name}' has caching {cid.caching}; {new_type} disks need None")
        props.check_for(props.storage_account_type or current_type)
        changes = {"size_gib": size if size != current else None, "disk_type": new_type,
                   "iops": _changed(props.iops, disk.properties.disk_iops_read_write),
                   "mbps": _changed(props.mbps, disk.properties.disk_m_bps_read_write)}  # fmt: skip
        if not any(value for value in changes.values()):
            logger.info("Disk %s already matches the requested size and properties", cid.disk_name)
            return
        self._change_in_place(cid, f"Updating disk '{cid.disk_name}'", **changes)

    def snapshot(self, cid: DiskCid, metadata: dict[str, str]) -> DiskCid:
        disk = self._require(cid)
        snapshot = DiskCid(disk_name=f"{MANAGED_DATA_DISK_PREFIX}{uuid.uuid4()}", caching=cid.caching,
                           resource_group_name=cid.resource_group_name)  # fmt: skip
        tags = {**{k: v[:256] for k, v in metadata.items()}, "original": cid.disk_name}
        self._disks.snapshot(cid, str(disk.location), snapshot, tags)
        return snapshot

    def delete_snapshot(self, cid: DiskCid) -> None:
        if not self._disks.delete_snapshot(cid):
            logger.info("Snapshot %s was already gone", cid)

    def set_metadata(self, cid: DiskCid, metadata: dict[str, str]) -> None:
        disk = self._require(cid)
        self._disks.set_tags(cid, {**(disk.tags or {}), **{k: v[:256] for k, v in metadata.items()}})

    def _change_in_place(self, cid: DiskCid, what: str, **changes: Any) -> None:
        """PATCH the disk; Azure's refusals of the change itself become NotSupported (the Director then copies
        the data to a new disk): account type conversions it does not support (the Ruby CPI's rule) and resizes
        or conversions it cannot make while the disk is attached to a running VM."""
        try:
            self._disks.update(cid, what, **changes)
        except AzureError as error:
            text = error.message.lower()
            if "not supported" in text and "account type" in text:
                raise NotSupported(f"Disk conversion is not supported: {error.message}") from error
            if error.status == 409 and "only when" in text and "deallocated" in text:
                raise NotSupported(f"Azure cannot change the disk while it is in use: {error.message}") from error
            raise

    def _require(self, cid: DiskCid) -> Any:
        disk = self._disks.find(cid)
        if disk is None:
            raise DiskNotFound(f"Disk '{cid}' cannot be found")
        return disk

    def _modify(self, vm_cid: VmCid, change: Any, what: str) -> None:
        self._vms.modify(vm_cid.resource_group_name, vm_cid.vm_name, change, what)

    def _placement(self, vm_cid: VmCid | None) -> tuple[str, str, str, str]:
        """(resource group, location, zone, default disk type) from the VM, else from the configuration."""
        if vm_cid is None:
            group = self._config.resource_group_name
            return group, self._config.location or self._vms.resource_group_location(group), "", "Standard_LRS"
        vm = self._vms.find(vm_cid.resource_group_name, vm_cid.vm_name)
        if vm is None:
            raise VMNotFound(f"VM '{vm_cid}' cannot be found")
        hardware = vm.properties.hardware_profile if vm.properties else None
        size = _value(hardware.vm_size) if hardware else ""
        zone = (vm.zones or [""])[0]
        return vm_cid.resource_group_name, str(vm.location), zone, default_disk_type(size)

    def _des_id(self, name: str) -> str:
        if not name:
            return ""
        return resource_id(self._config.subscription_id, self._config.resource_group_name,
                           "Microsoft.Compute/diskEncryptionSets", name)  # fmt: skip


def _value(enum_or_str: Any) -> str:
    """The wire value of an SDK field the SDK may turn into an enum member (e.g. a VM size it knows)."""
    return str(getattr(enum_or_str, "value", enum_or_str))


def _changed(wanted: int | None, current: Any) -> int | None:
    return None if wanted is None or wanted == current else wanted


def _data_disks(vm: Any) -> list[dict[str, Any]]:
    """The VM's data disks as request-ready dicts (read-only fields dropped)."""
    disks = vm.as_dict().get("properties", {}).get("storageProfile", {}).get("dataDisks", []) or []
    return [{k: v for k, v in disk.items() if k not in READ_ONLY_DATA_DISK_KEYS} for disk in disks]


def _same_disk(entry: dict[str, Any], disk_id: str) -> bool:
    return str((entry.get("managedDisk") or {}).get("id", "")).lower() == disk_id.lower()


def _free_lun(data: list[dict[str, Any]]) -> int:
    used = {int(d["lun"]) for d in data}
    for lun in range(MAX_LUN + 1):
        if lun not in used:
            return lun
    raise NotSupported(f"No free LUN: {len(used)} data disks are attached")


def _vm_update(tags: dict[str, str], data_disks: list[dict[str, Any]]) -> dict[str, Any]:
    return {"tags": tags, "properties": {"storageProfile": {"dataDisks": data_disks}}}
