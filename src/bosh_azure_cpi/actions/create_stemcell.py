"""``create_stemcell(image_path, cloud_properties[, {"tags": {...}}])``: make a stemcell usable for VMs.

``image_path`` is the stemcell's ``image`` file (a gzip tarball holding ``root.vhd``); ``cloud_properties`` is
the ``stemcell.MF`` hash. A light stemcell (``image`` key in the properties) is only checked and recorded.
Otherwise the VHD is streamed into a page blob and, with ``compute_gallery_name``, published as a gallery image
version (an identical version uploaded before gets a reference added; a different one is an error); without a
gallery a managed image is built. Returns the stemcell CID (``bosh-stemcell-<uuid>`` /
``bosh-light-stemcell-<uuid>``) only when the image is ready. The third argument (CPI API v3) adds tags.
Nothing is left behind on failure. https://bosh.io/docs/cpi-api-v2-method/create-stemcell/
"""

from __future__ import annotations

from typing import Any

from bosh_azure_cpi.errors import InvalidArgument
from bosh_azure_cpi.models.fields import Fields
from bosh_azure_cpi.models.stemcell import StemcellProps
from bosh_azure_cpi.services.interfaces import Call


def create_stemcell(
    call: Call, image_path: str, cloud_properties: dict[str, Any], options: dict[str, Any] | None = None
) -> str:
    props = StemcellProps.from_dict(cloud_properties)
    tags = Fields(options or {}, "create_stemcell options").text_map("tags")
    if props.light_image is None and not image_path:
        raise InvalidArgument("Argument 'image_path' of 'create_stemcell' must name the stemcell image file")
    return str(call.services.stemcells.create(image_path, props, tags))
