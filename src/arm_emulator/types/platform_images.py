"""Platform (marketplace) images from a small static catalog: ``VirtualMachineImages_List``/``_Get``/
``_ListSkus`` and the lookup VM creation uses.

Paths: ``/subscriptions/S/providers/Microsoft.Compute/locations/L/publishers/P/artifacttypes/vmimage/
offers/O/skus/K/versions[/V]`` and ``…/offers/O/skus``. Lists answer a bare JSON array of
``{location, name, id}`` (ids in the service's capitalised form); an unknown publisher, offer, sku or
version answers 404 ``NotFound`` "Artifact: VMImage was not found." as the service does. Every catalog
region offers every image. One image needs purchase ``plan`` information (a third-party offer).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from arm_emulator import regions
from arm_emulator.ids import ArmPath
from arm_emulator.types.base import Ctx, ResourceType
from arm_emulator.types.compute_common import COMPUTE_API_VERSIONS
from arm_emulator.types.sku_catalog import ZONES
from arm_emulator.wire import ArmError, Reply, Request


@dataclass(frozen=True, slots=True)
class PlatformImage:
    """One publisher/offer/sku with its versions (oldest first)."""

    publisher: str
    offer: str
    sku: str
    versions: tuple[str, ...]
    hyperv: str = "V2"
    os_type: str = "Linux"
    arch: str = "x64"
    size_gb: int = 30
    nvme: bool = True
    plan: bool = False

    def plan_info(self) -> dict[str, str] | None:
        if not self.plan:
            return None
        return {"name": self.sku, "publisher": self.publisher, "product": self.offer}


CATALOG: tuple[PlatformImage, ...] = (
    PlatformImage("Canonical", "ubuntu-24_04-lts", "server", ("24.04.202501140", "24.04.202502210")),
    PlatformImage("Canonical", "ubuntu-24_04-lts", "server-gen1", ("24.04.202501140",), hyperv="V1", nvme=False),
    PlatformImage("Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-gen2", ("22.04.202501150",)),
    PlatformImage("pivotal", "bosh-ubuntu-jammy", "jammy", ("1.181.0", "1.200.0"), hyperv="V1", nvme=False),
    PlatformImage("bitnami", "nginxstack", "1-9", ("1.25.4",), plan=True, nvme=False),
)

_NOT_FOUND = "Artifact: VMImage was not found."


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in version.split("."))


def find_image(location: str, publisher: str, offer: str, sku: str) -> PlatformImage | None:
    if regions.normalize(location) not in ZONES:
        return None
    for image in CATALOG:
        if (image.publisher.lower(), image.offer.lower(), image.sku.lower()) == (
            publisher.lower(),
            offer.lower(),
            sku.lower(),
        ):
            return image
    return None


def resolve_version(image: PlatformImage, version: str) -> str | None:
    """The exact version for ``version`` (``latest`` → the newest); None when the image has no such version."""
    if version.lower() == "latest":
        return max(image.versions, key=_version_key)
    return version if version in image.versions else None


def _image_id(subscription: str, location: str, image: PlatformImage, version: str | None = None) -> str:
    base = (
        f"/Subscriptions/{subscription}/Providers/Microsoft.Compute/Locations/{location}/Publishers/"
        f"{image.publisher}/ArtifactTypes/VMImage/Offers/{image.offer}/Skus/{image.sku}"
    )
    return base if version is None else f"{base}/Versions/{version}"


def image_properties(image: PlatformImage) -> dict[str, Any]:
    """``VirtualMachineImageProperties`` of an image version."""
    controllers = "SCSI, NVMe" if image.nvme else "SCSI"
    props: dict[str, Any] = {
        "hyperVGeneration": image.hyperv,
        "architecture": image.arch,
        "osDiskImage": {"operatingSystem": image.os_type},
        "dataDiskImages": [],
        "automaticOSUpgradeProperties": {"automaticOSUpgradeSupported": False},
        "disallowed": {"vmDiskType": "Unmanaged"},
        "features": [
            {"name": "IsAcceleratedNetworkSupported", "value": "True"},
            {"name": "DiskControllerTypes", "value": controllers},
        ],
        "imageDeprecationStatus": {"imageState": "Active"},
    }
    plan = image.plan_info()
    if plan is not None:
        props["plan"] = plan
    return props


def _lookup(path: ArmPath) -> tuple[str, PlatformImage]:
    location, publisher, artifact, offer, sku = path.names[:5]
    image = find_image(location, publisher, offer, sku) if artifact.lower() == "vmimage" else None
    if image is None:
        raise ArmError(404, "NotFound", _NOT_FOUND)
    return regions.normalize(location), image


class PlatformImageVersions(ResourceType):
    """``VirtualMachineImages_List`` (``$top``, ``$orderby=name desc``) and ``VirtualMachineImages_Get``."""

    type_name = "Microsoft.Compute/locations/publishers/artifacttypes/offers/skus/versions"
    api_versions = COMPUTE_API_VERSIONS
    tracked = False
    virtual = True

    def virtual_list(self, ctx: Ctx, path: ArmPath, request: Request) -> Reply:
        location, image = _lookup(path)
        versions = list(image.versions)
        if request.query.get("$orderby", "").strip().lower() == "name desc":
            versions.sort(key=_version_key, reverse=True)
        top = request.query.get("$top")
        if top is not None and top.isdigit():
            versions = versions[: int(top)]
        body = [
            {"location": location, "name": v, "id": _image_id(path.subscription, location, image, v)} for v in versions
        ]
        return Reply(status=200, body=body)

    def virtual_get(self, ctx: Ctx, path: ArmPath, request: Request) -> Reply:
        location, image = _lookup(path)
        version = path.names[5]
        if version not in image.versions:
            raise ArmError(404, "NotFound", _NOT_FOUND)
        body = {
            "location": location,
            "name": version,
            "id": _image_id(path.subscription, location, image, version),
            "properties": image_properties(image),
        }
        return Reply(status=200, body=body)


class PlatformImageSkus(ResourceType):
    """``VirtualMachineImages_ListSkus``: the skus of a publisher's offer."""

    type_name = "Microsoft.Compute/locations/publishers/artifacttypes/offers/skus"
    api_versions = COMPUTE_API_VERSIONS
    tracked = False
    virtual = True

    def virtual_list(self, ctx: Ctx, path: ArmPath, request: Request) -> Reply:
        location, publisher, artifact, offer = path.names[:4]
        loc = regions.normalize(location)
        found = [
            i
            for i in CATALOG
            if artifact.lower() == "vmimage"
            and loc in ZONES
            and (i.publisher.lower(), i.offer.lower()) == (publisher.lower(), offer.lower())
        ]
        if not found:
            raise ArmError(404, "NotFound", _NOT_FOUND)
        body = [{"location": loc, "name": i.sku, "id": _image_id(path.subscription, loc, i)} for i in found]
        return Reply(status=200, body=body)
