"""The stemcell service actions use: light stemcells, or uploaded ones as gallery versions or managed images."""

from __future__ import annotations

from typing import Protocol

from bosh_azure_cpi.models.cids import StemcellCid
from bosh_azure_cpi.models.images import VmImage
from bosh_azure_cpi.models.stemcell import StemcellProps
from bosh_azure_cpi.services.light_stemcells import LightStemcells


class HeavyStemcells(Protocol):
    def create(self, image_path: str, props: StemcellProps, extra_tags: dict[str, str]) -> StemcellCid: ...
    def delete(self, cid: StemcellCid) -> None: ...
    def resolve(self, cid: StemcellCid, region: str) -> VmImage: ...


class Stemcells:
    """Dispatches on the stemcell kind: ``image`` in the properties (or a light CID) means a light stemcell."""

    def __init__(self, heavy: HeavyStemcells, light: LightStemcells) -> None:
        self._heavy = heavy
        self._light = light

    def create(self, image_path: str, props: StemcellProps, tags: dict[str, str]) -> StemcellCid:
        if props.light_image is not None:
            return self._light.create(props)
        return self._heavy.create(image_path, props, tags)

    def delete(self, cid: StemcellCid) -> None:
        if cid.light:
            self._light.delete(cid)
        else:
            self._heavy.delete(cid)

    def resolve(self, cid: StemcellCid, region: str) -> VmImage:
        if cid.light:
            return self._light.resolve(cid, region)
        return self._heavy.resolve(cid, region)
