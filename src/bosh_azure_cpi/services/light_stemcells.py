"""Light stemcells (``azure-light``): a marketplace image reference, checked and recorded, never uploaded.

``create`` checks the image version exists in the location and writes a small marker blob
``bosh-light-stemcell-<uuid>.vhd`` carrying the stemcell properties (as the Ruby CPI does), so ``create_vm``
finds the reference again from the CID alone.
"""

from __future__ import annotations

import json
import logging

from bosh_azure_cpi.config import AzureConfig
from bosh_azure_cpi.errors import CloudError, InvalidArgument
from bosh_azure_cpi.models.cids import StemcellCid
from bosh_azure_cpi.models.images import VmImage
from bosh_azure_cpi.models.stemcell import LightImage, StemcellProps, encode_metadata
from bosh_azure_cpi.services.clients import AzureClients
from bosh_azure_cpi.services.lro import find
from bosh_azure_cpi.services.stemcell_store import StemcellStore

logger = logging.getLogger(__name__)


class LightStemcells:
    def __init__(self, store: StemcellStore, clients: AzureClients, config: AzureConfig) -> None:
        self._store = store
        self._clients = clients
        self._config = config

    def create(self, props: StemcellProps) -> StemcellCid:
        image = props.light_image
        if image is None:
            raise InvalidArgument("A light stemcell needs 'image' in its cloud properties")
        location = self._config.location
        if not location:
            raise InvalidArgument("'azure.location' is required for light stemcells")
        self._require_image(image, location)
        cid = StemcellCid.new(light=True)
        self._store.ensure_account()
        metadata = {**encode_metadata(props.raw), "image": json.dumps(image.as_dict(), separators=(",", ":"))}
        self._store.write_marker(cid, metadata)
        return cid

    def resolve(self, cid: StemcellCid, region: str) -> VmImage:
        metadata = self._store.metadata(cid)
        if metadata is None:
            raise CloudError(f"The light stemcell '{cid}' does not exist")
        props = StemcellProps.from_dict(metadata)
        if props.light_image is None:
            raise CloudError(f"The light stemcell '{cid}' has no image reference in its metadata")
        self._require_image(props.light_image, region)
        return props.vm_image(marketplace=props.light_image.as_dict())

    def delete(self, cid: StemcellCid) -> None:
        self._store.delete(cid)

    def _require_image(self, image: LightImage, location: str) -> None:
        versions = find(
            f"Listing versions of {image.publisher}:{image.offer}:{image.sku} in '{location}'",
            lambda: self._clients.compute.virtual_machine_images.list(
                location, image.publisher, image.offer, image.sku
            ),
        )
        names = {v.name for v in versions or []}
        if image.version not in names and not (image.version == "latest" and names):
            raise CloudError(
                f"Cannot find the light stemcell image {image.publisher}:{image.offer}:{image.sku}:{image.version} "
                f"in the location '{location}'"
            )
