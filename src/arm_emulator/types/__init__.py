"""Per-type rule modules and the default registry of resource types the emulator serves."""

from __future__ import annotations

from arm_emulator.types.availability_set import AvailabilitySets
from arm_emulator.types.base import Registry, ResourceType
from arm_emulator.types.compute_vm import VirtualMachines
from arm_emulator.types.disk import Disks
from arm_emulator.types.gallery import Galleries, GalleryImages
from arm_emulator.types.gallery_version import GalleryImageVersions
from arm_emulator.types.managed_image import Images
from arm_emulator.types.network_misc import (
    ApplicationGateways,
    ApplicationSecurityGroups,
    LoadBalancers,
    NetworkSecurityGroups,
)
from arm_emulator.types.network_nic import NetworkInterfaces
from arm_emulator.types.network_pip import PublicIPAddresses
from arm_emulator.types.network_vnet import Subnets, VirtualNetworks
from arm_emulator.types.platform_images import PlatformImageSkus, PlatformImageVersions
from arm_emulator.types.resource_groups import ResourceGroups
from arm_emulator.types.skus import AvailabilitySetVmSizes, LocationVmSizes, ResourceSkus, VirtualMachineVmSizes
from arm_emulator.types.snapshot import Snapshots
from arm_emulator.types.storage import StorageAccounts
from arm_emulator.types.vm_power import VirtualMachineInstanceViews

__all__ = ["Registry", "ResourceType", "default_registry"]


def default_registry() -> Registry:
    """Resource groups; Compute (galleries, VMs, availability sets, images, disks, snapshots, SKUs, platform
    images, VM sizes); storage accounts; Microsoft.Network (virtual networks and subnets, NICs, public IPs,
    NSGs, ASGs, load balancers, application gateways)."""
    compute: list[ResourceType] = [
        Galleries(), GalleryImages(), GalleryImageVersions(), VirtualMachines(), VirtualMachineInstanceViews(),
        AvailabilitySets(), Images(), Disks(), Snapshots(), ResourceSkus(), LocationVmSizes(),
        AvailabilitySetVmSizes(), VirtualMachineVmSizes(), PlatformImageVersions(), PlatformImageSkus(),
    ]  # fmt: skip
    network: list[ResourceType] = [
        VirtualNetworks(), Subnets(), NetworkInterfaces(), PublicIPAddresses(), NetworkSecurityGroups(),
        ApplicationSecurityGroups(), LoadBalancers(), ApplicationGateways(),
    ]  # fmt: skip
    return Registry([ResourceGroups(), *compute, StorageAccounts(), *network])
