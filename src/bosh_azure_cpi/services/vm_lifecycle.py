"""VmLifecycle: the VM methods after creation — delete, exists, reboot, tags, disks, instance type choice."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bosh_azure_cpi.config import CpiConfig
from bosh_azure_cpi.errors import AzureError, CloudError, VMNotFound
from bosh_azure_cpi.models.cids import DiskCid, VmCid
from bosh_azure_cpi.models.instance_types import SkuInfo, rank_instance_types
from bosh_azure_cpi.models.resource_ids import group_of, name_of
from bosh_azure_cpi.models.vm_spec import EPHEMERAL_SUFFIX, OS_DISK_PREFIX, VmRequest
from bosh_azure_cpi.services import local_cache
from bosh_azure_cpi.services.vm import VmService

if TYPE_CHECKING:
    from bosh_azure_cpi.services.network import NetworkService
    from bosh_azure_cpi.services.vm_creator import VmCreator

logger = logging.getLogger(__name__)
DISK_ID_TAG_PREFIX = "disk-id-"
SKU_CACHE_SECONDS = 24 * 3600


class VmLifecycle:
    def __init__(
        self,
        vms: VmService,
        network: Callable[[], NetworkService],
        creator: Callable[[], VmCreator],
        config: CpiConfig,
    ) -> None:
        """``network`` and ``creator`` are factories: ``has_vm`` and friends never load the network SDK."""
        self._vms = vms
        self._network_factory = network
        self._creator_factory = creator
        self._config = config

    @property
    def _network(self) -> NetworkService:
        return self._network_factory()

    def create(self, request: VmRequest) -> VmCid:
        return self._creator_factory().create(request)

    def exists(self, cid: VmCid) -> bool:
        vm = self._vms.find(cid.resource_group_name, cid.vm_name)
        return vm is not None and _state(vm) != "Deleting"

    def delete(self, cid: VmCid) -> None:
        """Delete the VM and what it owns; persistent disks are only detached. Idempotent."""
        group, name = cid.resource_group_name, cid.vm_name
        vm = self._vms.find(group, name)
        if vm is None:
            logger.info("VM %s is already gone; removing leftovers", cid)
            found = self._network.nics_named(group, f"{name}-")
            nics = [(group, str(nic.name)) for nic in found]
            set_name = next((n.tags["availability_set"] for n in found if (n.tags or {}).get("availability_set")), "")
            leftovers = _Leftovers(
                nics=nics, disks=[_os_disk(name), _os_disk(name) + EPHEMERAL_SUFFIX], set_name=set_name
            )
        else:
            leftovers = _leftovers(vm, group, name)
            self._vms.delete(group, name)
        self._clean(group, name, leftovers)

    def reboot(self, cid: VmCid) -> None:
        try:
            self._vms.restart(cid.resource_group_name, cid.vm_name)
        except AzureError as error:
            if error.status == 404:
                raise VMNotFound(f"VM '{cid}' cannot be found") from error
            raise

    def set_metadata(self, cid: VmCid, metadata: dict[str, str]) -> None:
        def merged(tags: dict[str, str]) -> dict[str, str]:
            return {**tags, **{k: v[:256] for k, v in metadata.items()}, "user-agent": "bosh"}

        self._require(cid)
        self._vms.set_tags(cid.resource_group_name, cid.vm_name, merged)

    def disks(self, cid: VmCid) -> list[str]:
        """CIDs of the persistent disks attached to the VM (the ephemeral disk excluded)."""
        vm = self._require(cid)
        tags = vm.tags or {}
        result = []
        for disk in vm.properties.storage_profile.data_disks or []:
            name = str(disk.name or "")
            if name.endswith(EPHEMERAL_SUFFIX):
                continue
            tagged = tags.get(f"{DISK_ID_TAG_PREFIX}{name}")
            disk_id = disk.managed_disk.id if disk.managed_disk else ""
            result.append(
                tagged
                or str(
                    DiskCid(
                        disk_name=name,
                        caching=_value(disk.caching) or "None",
                        resource_group_name=group_of(disk_id) or cid.resource_group_name,
                    )
                )
            )
        return result

    def instance_types(self, cpu: int, ram_mib: int) -> list[str]:
        location = self._config.azure.location
        if not location:
            raise CloudError("Missing the property 'location' in the global configuration")
        return rank_instance_types(self._skus(location), cpu, ram_mib)

    def _require(self, cid: VmCid) -> Any:
        vm = self._vms.find(cid.resource_group_name, cid.vm_name)
        if vm is None:
            raise VMNotFound(f"VM '{cid}' cannot be found")
        return vm

    def _clean(self, group: str, name: str, leftovers: _Leftovers) -> None:
        for nic_group, nic in leftovers.nics:
            self._network.delete_nic(nic_group, nic)
        public_ip = self._network.find_public_ip(group, name)
        if public_ip is not None and _created_by_a_cpi(public_ip):
            self._network.delete_public_ip(group, name)
        for disk in leftovers.disks:
            self._vms.delete_disk(group, disk)
        if leftovers.set_name:
            self._vms.delete_availability_set_if_empty(group, leftovers.set_name)

    def _skus(self, location: str) -> list[SkuInfo]:
        name = f"skus-{location}.json"
        cached = local_cache.read(name, SKU_CACHE_SECONDS)
        try:
            if cached is not None:
                return [SkuInfo(**item) for item in cached]
        except TypeError:
            pass
        skus = [info for sku in self._vms.list_skus(location) if (info := _sku_info(sku)) is not None]
        local_cache.write(
            name,
            [{"name": s.name, "cpus": s.cpus, "memory_mib": s.memory_mib, "premium_io": s.premium_io} for s in skus],
        )
        return skus


class _Leftovers:
    def __init__(self, nics: list[tuple[str, str]], disks: list[str], set_name: str) -> None:
        self.nics, self.disks, self.set_name = nics, disks, set_name


def _leftovers(vm: Any, group: str, name: str) -> _Leftovers:
    """What deleting the VM will not delete by itself (VMs made without delete options, e.g. by the Ruby CPI)."""
    props = vm.properties
    nics = [
        (group_of(ref.id), name_of(ref.id))
        for ref in (props.network_profile.network_interfaces or [] if props.network_profile else [])
        if not (ref.properties and ref.properties.delete_option == "Delete")
    ]
    storage = props.storage_profile
    disks = []
    if (
        storage
        and storage.os_disk
        and storage.os_disk.delete_option != "Delete"
        and not storage.os_disk.diff_disk_settings
    ):
        disks.append(str(storage.os_disk.name))
    for disk in (storage.data_disks or []) if storage else []:
        if str(disk.name or "").endswith(EPHEMERAL_SUFFIX) and disk.delete_option != "Delete":
            disks.append(str(disk.name))
    set_name = name_of(props.availability_set.id) if props.availability_set and props.availability_set.id else ""
    return _Leftovers(nics=nics, disks=disks, set_name=set_name)


def _created_by_a_cpi(public_ip: Any) -> bool:
    """The public IP named after the VM is the CPI's (``assign_dynamic_public_ip``): this CPI tags it
    ``user-agent: bosh``; the Ruby CPI created it untagged, so an untagged one no longer attached is deleted too."""
    tags = public_ip.tags or {}
    if tags.get("user-agent") == "bosh":
        return True
    return not tags and not (public_ip.properties and public_ip.properties.ip_configuration)


def _os_disk(vm_name: str) -> str:
    return f"{OS_DISK_PREFIX}{vm_name}"


def _value(field: Any) -> str:
    """An SDK enum field as its wire string (``str()`` of ``CachingTypes.READ_ONLY`` is not ``ReadOnly``)."""
    return str(getattr(field, "value", field) or "")


def _state(vm: Any) -> str:
    return str(vm.properties.provisioning_state or "") if vm.properties else ""


def _sku_info(sku: Any) -> SkuInfo | None:
    if sku.resource_type != "virtualMachines" or sku.restrictions:
        return None
    caps = {c.name: c.value for c in sku.capabilities or []}
    if "vCPUs" not in caps or "MemoryGB" not in caps:
        return None
    return SkuInfo(
        name=str(sku.name),
        cpus=int(caps["vCPUs"]),
        memory_mib=int(float(caps["MemoryGB"]) * 1024),
        premium_io=caps.get("PremiumIO") == "True",
    )
