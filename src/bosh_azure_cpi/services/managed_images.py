"""Stemcells as managed images (``use_managed_disks`` without a gallery), the Ruby CPI's managed-image path.

``create`` uploads the VHD blob and builds the image ``<uuid>-S-<location>`` right away (the Ruby CPI built it
lazily inside ``create_vm``); ``resolve`` uses any existing ``<uuid>-{S,SSSD,P}-<location>`` image of the stemcell
or builds it; ``delete`` removes every image of the stemcell and the blob. A managed image must be in the region
of its blob, so VMs in other regions need a gallery (``compute_gallery_name``).
"""

from __future__ import annotations

import logging
from functools import partial

from bosh_azure_cpi.config import AzureConfig
from bosh_azure_cpi.errors import CloudError, NotSupported
from bosh_azure_cpi.models.cids import StemcellCid
from bosh_azure_cpi.models.deadline import Deadline
from bosh_azure_cpi.models.images import VmImage, normalize_region
from bosh_azure_cpi.models.stemcell import SHA_TAG, StemcellProps, encode_metadata, tag_safe
from bosh_azure_cpi.services.clients import AzureClients
from bosh_azure_cpi.services.lro import azure_errors, find, wait
from bosh_azure_cpi.services.params.image import build_managed_image_params
from bosh_azure_cpi.services.stemcell_store import StemcellStore

logger = logging.getLogger(__name__)
SKU_SUFFIXES = ("S", "SSSD", "P")


class ManagedImageStemcells:
    def __init__(self, store: StemcellStore, clients: AzureClients, config: AzureConfig, deadline: Deadline) -> None:
        self._store = store
        self._clients = clients
        self._config = config
        self._deadline = deadline

    def create(self, image_path: str, props: StemcellProps, extra_tags: dict[str, str]) -> StemcellCid:
        cid = StemcellCid.new()
        location = self._location()  # before uploading gigabytes
        self._store.ensure_account()
        self._store.delete_abandoned_uploads()
        upload = self._store.upload(cid, image_path, encode_metadata(props.raw))
        try:
            metadata = {**encode_metadata(props.raw), **extra_tags, SHA_TAG: upload.sha256}
            self._build(cid, props, metadata, location)
        except BaseException:
            self._store.delete(cid)
            raise
        return cid

    def resolve(self, cid: StemcellCid, region: str) -> VmImage:
        metadata = self._store.metadata(cid)
        if metadata is None:
            raise CloudError(f"Stemcell '{cid}' does not exist in storage account '{self._store.account.name}'")
        props = StemcellProps.from_dict(metadata)
        image_id = self._existing(cid, region)
        if image_id is None:
            if normalize_region(region) != normalize_region(self._location()):
                raise NotSupported(
                    f"Stemcell '{cid}' is stored in '{self._location()}' and cannot boot VMs in '{region}' without a "
                    "Compute Gallery; set 'azure.compute_gallery_name'"
                )
            image_id = self._build(cid, props, metadata, region)
        return props.vm_image(image_id=image_id)

    def delete(self, cid: StemcellCid) -> None:
        group = self._config.resource_group_name
        with azure_errors(f"Listing managed images of {cid}"):
            names = [
                image.name
                for image in self._clients.compute.images.list_by_resource_group(group)
                if image.name and image.name.startswith((cid.uuid, cid.name))
            ]
        for name in names:
            what = f"Deleting managed image '{name}'"
            with azure_errors(what):
                poller = self._clients.compute.images.begin_delete(group, name)
            wait(poller, what, self._deadline)
        self._store.delete(cid)

    def _existing(self, cid: StemcellCid, region: str) -> str | None:
        group = self._config.resource_group_name
        for suffix in SKU_SUFFIXES:
            name = f"{cid.uuid}-{suffix}-{normalize_region(region)}"
            image = find(f"Getting managed image '{name}'", partial(self._clients.compute.images.get, group, name))
            if (
                image is not None
                and str(image.properties.provisioning_state if image.properties else "") == "Succeeded"
            ):
                return str(image.id)
        return None

    def _build(self, cid: StemcellCid, props: StemcellProps, metadata: dict[str, str], region: str) -> str:
        name = f"{cid.uuid}-S-{normalize_region(region)}"
        what = f"Creating managed image '{name}'"
        logger.info("%s", what)
        body = build_managed_image_params(props, self._store.location(cid).url, region, tag_safe(metadata))
        with azure_errors(what):
            poller = self._clients.compute.images.begin_create_or_update(self._config.resource_group_name, name, body)
        return str(wait(poller, what, self._deadline).id)

    def _location(self) -> str:
        if not self._config.location:
            raise CloudError("'azure.location' is required for managed images without a Compute Gallery")
        return self._config.location
