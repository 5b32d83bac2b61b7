"""Per-type rule modules and the default registry of resource types the emulator serves."""

from __future__ import annotations

from arm_emulator.types.base import Registry, ResourceType
from arm_emulator.types.gallery import Galleries, GalleryImages
from arm_emulator.types.gallery_version import GalleryImageVersions
from arm_emulator.types.resource_groups import ResourceGroups
from arm_emulator.types.storage import StorageAccounts

__all__ = ["Registry", "ResourceType", "default_registry"]


def default_registry() -> Registry:
    """Resource groups, Compute Gallery (galleries, definitions, versions) and storage accounts.

    Further types (VMs, disks, snapshots, images, availability sets, Microsoft.Network …) are added here.
    """
    return Registry([ResourceGroups(), Galleries(), GalleryImages(), GalleryImageVersions(), StorageAccounts()])
