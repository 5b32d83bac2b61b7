"""What a VM is made of, decided before any request is sent (pure): disks, sizes, names, and the whole spec.

Disk rules are the Ruby Azure CPI's: the OS disk gets ``root_disk.size`` (at least the image size, rounded up
to GiB) or, with ``use_root_disk`` and no size, at least 30 GiB (Linux) / 128 GiB (Windows); the ephemeral data
disk sits at LUN 0 with ``ephemeral_disk.size`` rounded down to GiB or the size's default; ``root_disk.placement``
``resource-disk``/``cache-disk`` makes the OS disk an ephemeral (local) one. Disk type: ``root_disk.type``, then
``storage_account_type``, then Premium_LRS where the size supports it, else Standard_LRS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bosh_azure_cpi.models.cids import DiskCid, StemcellCid
from bosh_azure_cpi.models.images import VmImage
from bosh_azure_cpi.models.instance_types import (
    default_disk_type,
    default_ephemeral_gib,
    mib_to_gib_ceil,
    mib_to_gib_floor,
)
from bosh_azure_cpi.models.network import NetworkPlan
from bosh_azure_cpi.models.vm_props import VmProps

OS_DISK_PREFIX = "bosh-disk-os-"
EPHEMERAL_SUFFIX = "-ephemeral-disk"
MIN_ROOT_GIB = {"Linux": 30, "Windows": 128}
PLACEMENTS = {"resource-disk": "ResourceDisk", "cache-disk": "CacheDisk"}


@dataclass(frozen=True, slots=True, kw_only=True)
class VmRequest:
    """What ``create_vm`` received, parsed."""

    agent_id: str
    stemcell: StemcellCid
    props: VmProps
    plan: NetworkPlan
    networks: dict[str, Any]  # as received: echoed in the agent settings
    disk_cids: tuple[DiskCid, ...]
    env: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class OsDiskSpec:
    name: str
    size_gib: int | None  # None: the image's size
    type: str
    caching: str
    ephemeral_placement: str = ""  # ResourceDisk | CacheDisk for an ephemeral OS disk
    disk_encryption_set_id: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DataDiskSpec:
    name: str
    lun: int
    size_gib: int
    type: str
    caching: str
    iops: int | None = None
    mbps: int | None = None
    disk_encryption_set_id: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AttachedDisk:
    """An existing managed disk attached at creation (``disk_cids`` of ``create_vm``)."""

    id: str
    lun: int
    caching: str


@dataclass(frozen=True, slots=True, kw_only=True)
class VmSpec:
    name: str
    resource_group: str
    location: str
    size: str
    image: VmImage
    os_disk: OsDiskSpec
    ephemeral_disk: DataDiskSpec | None
    nic_ids: tuple[str, ...]
    admin_user: str
    ssh_public_key: str
    custom_data: str
    attached: tuple[AttachedDisk, ...] = ()
    availability_set_id: str = ""
    zone: str = ""
    identity_type: str = ""
    user_identity_ids: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    security_type: str = ""
    secure_boot: bool | None = None
    vtpm: bool | None = None
    capacity_reservation_group_id: str = ""
    boot_diagnostics_uri: str = ""


def root_disk_type(props: VmProps) -> str:
    return props.root_disk.type or props.storage_account_type or default_disk_type(props.instance_type)


def plan_os_disk(props: VmProps, image: VmImage, vm_name: str, des_id: str = "") -> OsDiskSpec:
    root, ephemeral = props.root_disk, props.ephemeral_disk
    image_gib = mib_to_gib_ceil(image.disk_mib)
    size: int | None = None
    if root.size_mib is not None:
        size = max(mib_to_gib_ceil(root.size_mib), image_gib)
    elif ephemeral.use_root_disk:
        size = max(image_gib, MIN_ROOT_GIB.get(image.os_type, 30))
    placement = PLACEMENTS.get(root.placement, "")
    if placement and ephemeral.use_root_disk and ephemeral.size_mib is not None:
        base = image_gib if root.size_mib is None else (size or image_gib)
        size = base + mib_to_gib_floor(ephemeral.size_mib)
    return OsDiskSpec(
        name=f"{OS_DISK_PREFIX}{vm_name}",
        size_gib=size,
        type=root_disk_type(props),
        caching="ReadOnly" if placement else props.caching,
        ephemeral_placement=placement,
        disk_encryption_set_id=des_id,
    )


def plan_ephemeral_disk(props: VmProps, vm_name: str, des_id: str = "") -> DataDiskSpec | None:
    ephemeral = props.ephemeral_disk
    if ephemeral.use_root_disk:
        return None
    size = (
        mib_to_gib_floor(ephemeral.size_mib)
        if ephemeral.size_mib is not None
        else default_ephemeral_gib(props.instance_type)
    )
    return DataDiskSpec(
        name=f"{OS_DISK_PREFIX}{vm_name}{EPHEMERAL_SUFFIX}",
        lun=0,
        size_gib=size,
        type=ephemeral.type or root_disk_type(props),
        caching=ephemeral.caching,
        iops=ephemeral.iops,
        mbps=ephemeral.mbps,
        disk_encryption_set_id=des_id,
    )
