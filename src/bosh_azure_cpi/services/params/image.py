"""Request body for a managed image built from a stemcell VHD blob (non-gallery mode)."""

from __future__ import annotations

from azure.mgmt.compute import models as m

from bosh_azure_cpi.models.stemcell import StemcellProps


def build_managed_image_params(props: StemcellProps, blob_url: str, location: str, tags: dict[str, str]) -> m.Image:
    """A generalized OS image from the blob, with the stemcell's Hyper-V generation (the Ruby CPI forced V1)."""
    return m.Image(
        location=location,
        tags=tags,
        properties=m.ImageProperties(
            hyper_v_generation=props.hyper_v_generation,
            storage_profile=m.ImageStorageProfile(
                os_disk=m.ImageOSDisk(
                    os_type=props.os_type,
                    os_state="Generalized",
                    blob_uri=blob_url,
                    caching="ReadWrite",
                    storage_account_type="Standard_LRS",
                )
            ),
        ),
    )
