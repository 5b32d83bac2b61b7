"""Composition root: the only place services are built. Each service (and the Azure SDK modules it needs) is
built on first use, so a call only pays for what its action touches; ``info`` builds nothing."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from bosh_azure_cpi.config import CpiConfig
from bosh_azure_cpi.errors import NotSupported
from bosh_azure_cpi.models.deadline import Deadline

if TYPE_CHECKING:
    from bosh_azure_cpi.services.clients import AzureClients
    from bosh_azure_cpi.services.disks import Disks
    from bosh_azure_cpi.services.network import NetworkService
    from bosh_azure_cpi.services.stemcell_store import StemcellStore
    from bosh_azure_cpi.services.stemcells import Stemcells
    from bosh_azure_cpi.services.vm import VmService
    from bosh_azure_cpi.services.vm_creator import VmCreator
    from bosh_azure_cpi.services.vm_lifecycle import VmLifecycle

# ruff: noqa: PLC0415 - imports inside the factories are what keeps unused SDK modules unloaded


class AzureServices:
    """The production ``Services`` bundle for one call."""

    def __init__(self, config: CpiConfig, deadline: Deadline) -> None:
        self.config = config
        self.azure = config.azure
        self.deadline = deadline

    @cached_property
    def clients(self) -> AzureClients:
        from bosh_azure_cpi.services.clients import AzureClients

        return AzureClients(self.azure, self.deadline)

    @cached_property
    def stemcell_store(self) -> StemcellStore:
        from bosh_azure_cpi.services.stemcell_store import StemcellStore

        return StemcellStore(self.clients, self.azure, self.deadline)

    @cached_property
    def stemcells(self) -> Stemcells:
        from bosh_azure_cpi.services.light_stemcells import LightStemcells
        from bosh_azure_cpi.services.stemcells import HeavyStemcells, Stemcells

        heavy: HeavyStemcells
        if self.azure.gallery is not None:
            from bosh_azure_cpi.services.gallery import GalleryService
            from bosh_azure_cpi.services.gallery_stemcells import GalleryStemcells

            gallery = GalleryService(self.clients.compute, self.azure, self.deadline)
            heavy = GalleryStemcells(self.stemcell_store, gallery, self.azure)
        elif self.azure.use_managed_disks:
            from bosh_azure_cpi.services.managed_images import ManagedImageStemcells

            heavy = ManagedImageStemcells(self.stemcell_store, self.clients, self.azure, self.deadline)
        else:
            raise NotSupported(
                "Unmanaged disks are not supported (Azure retired them in September 2025): "
                "set 'azure.use_managed_disks: true' and, preferably, 'azure.compute_gallery_name'"
            )
        return Stemcells(heavy, LightStemcells(self.stemcell_store, self.clients, self.azure))

    @cached_property
    def vms(self) -> VmLifecycle:
        from bosh_azure_cpi.services.vm_lifecycle import VmLifecycle

        return VmLifecycle(self.vm_service, lambda: self.network_service, lambda: self.vm_creator, self.config)

    @cached_property
    def network_service(self) -> NetworkService:
        from bosh_azure_cpi.services.network import NetworkService

        return NetworkService(self.clients.network, self.azure, self.deadline)

    @cached_property
    def vm_creator(self) -> VmCreator:
        from bosh_azure_cpi.services.vm_creator import VmCreator

        return VmCreator(self.vm_service, self.network_service, self.stemcells, self.config, self.deadline)

    @cached_property
    def vm_service(self) -> VmService:
        from bosh_azure_cpi.services.vm import VmService

        return VmService(self.clients.compute, self.azure, self.deadline)

    @cached_property
    def disks(self) -> Disks:
        from bosh_azure_cpi.services.disk import DiskService
        from bosh_azure_cpi.services.disks import Disks

        return Disks(DiskService(self.clients.compute, self.azure, self.deadline), self.vm_service, self.azure)


def build_services(config: CpiConfig, deadline: Deadline) -> AzureServices:
    return AzureServices(config, deadline)
