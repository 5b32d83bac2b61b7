"""Service interfaces (typing.Protocol) that actions depend on, and the per-call ``Call`` bundle.

Implementations live beside this module and are built lazily by ``wiring``; tests pass fakes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # annotations only: importing this module stays cheap (``info`` loads it)
    from bosh_azure_cpi.config import CpiConfig
    from bosh_azure_cpi.models.cids import DiskCid, StemcellCid, VmCid
    from bosh_azure_cpi.models.deadline import Deadline
    from bosh_azure_cpi.models.disk_props import DiskProps
    from bosh_azure_cpi.models.images import VmImage
    from bosh_azure_cpi.models.stemcell import StemcellProps
    from bosh_azure_cpi.models.vm_spec import VmRequest


class StemcellService(Protocol):
    def create(self, image_path: str, props: StemcellProps, tags: dict[str, str]) -> StemcellCid:
        """Upload (or reference) the stemcell and return its CID once its image is ready to boot VMs."""

    def delete(self, cid: StemcellCid) -> None:
        """Drop the stemcell; its image and blob go when nothing else uses them. Succeeds when already gone."""

    def resolve(self, cid: StemcellCid, region: str) -> VmImage:
        """The image for a VM in ``region``, replicating it there first when needed (waits)."""


class VmOperations(Protocol):
    def create(self, request: VmRequest) -> VmCid:
        """Create and start the VM; cleans up exactly what it created on failure (raises VMCreationFailed)."""

    def delete(self, cid: VmCid) -> None:
        """Delete the VM, its NICs, OS/ephemeral disks and CPI public IP; persistent disks are detached only."""

    def exists(self, cid: VmCid) -> bool: ...

    def reboot(self, cid: VmCid) -> None:
        """Restart the VM; VMNotFound when it does not exist."""

    def set_metadata(self, cid: VmCid, metadata: dict[str, str]) -> None:
        """Merge ``metadata`` into the VM's tags (conflict-safe); VMNotFound when it does not exist."""

    def disks(self, cid: VmCid) -> list[str]:
        """CIDs of attached persistent disks; VMNotFound when the VM does not exist."""

    def instance_types(self, cpu: int, ram_mib: int) -> list[str]:
        """Instance types for the global location meeting cpu/ram, best first."""


class DiskOperations(Protocol):
    def create(self, size_mib: int, props: DiskProps, vm_cid: VmCid | None) -> DiskCid: ...

    def delete(self, cid: DiskCid) -> None:
        """Idempotent."""

    def exists(self, cid: DiskCid) -> bool: ...

    def attach(self, vm_cid: VmCid, cid: DiskCid) -> int:
        """The LUN; DiskNotFound / VMNotFound when either is missing."""

    def detach(self, vm_cid: VmCid, cid: DiskCid) -> None:
        """DiskNotAttached when not attached; VMNotFound when the VM is missing."""

    def resize(self, cid: DiskCid, size_mib: int) -> None: ...

    def update(self, cid: DiskCid, size_mib: int, props: DiskProps) -> None: ...

    def snapshot(self, cid: DiskCid, metadata: dict[str, str]) -> DiskCid: ...

    def delete_snapshot(self, cid: DiskCid) -> None:
        """Idempotent."""

    def set_metadata(self, cid: DiskCid, metadata: dict[str, str]) -> None: ...


class Services(Protocol):
    """The services an action may use; each is built on first access (so ``info`` builds none)."""

    @property
    def stemcells(self) -> StemcellService: ...

    @property
    def vms(self) -> VmOperations: ...

    @property
    def disks(self) -> DiskOperations: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Call:
    """What every action receives besides its wire arguments."""

    method: str
    api_version: int
    config: CpiConfig
    services: Services
    deadline: Deadline

    @property
    def v2(self) -> bool:
        """Whether the caller speaks CPI API v2 or later (array ``create_vm`` result, ``attach_disk`` hint)."""
        return self.api_version >= 2
