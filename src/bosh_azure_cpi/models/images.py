"""What the image services report back: gallery image versions and where a stemcell's blob lives."""

from __future__ import annotations

from dataclasses import dataclass, field


def normalize_region(name: str) -> str:
    """Azure answers region names in display form ("East US 2"); compare them as "eastus2"."""
    return name.replace(" ", "").lower()


@dataclass(frozen=True, slots=True, kw_only=True)
class GalleryVersion:
    """A gallery image version as the CPI needs it."""

    id: str
    definition: str
    name: str
    location: str
    tags: dict[str, str] = field(default_factory=dict)
    target_regions: tuple[str, ...] = ()  # normalised region names
    replica_count: int | None = None
    provisioning_state: str = ""
    replication: dict[str, str] = field(default_factory=dict)  # normalised region -> state; empty if not expanded
    source: tuple[str, str, str] = ("", "", "")  # VHD blob url, storage account id, host caching

    def has_region(self, region: str) -> bool:
        return normalize_region(region) in self.target_regions

    def replicated_to(self, region: str) -> bool:
        """Whether ``region`` is a target whose replication is complete (needs a replication-status read)."""
        state = self.replication.get(normalize_region(region), "")
        return self.has_region(region) and state.lower() == "completed"


@dataclass(frozen=True, slots=True, kw_only=True)
class BlobLocation:
    """Where a stemcell VHD blob lives."""

    account_name: str
    account_id: str
    container: str
    blob_name: str
    url: str


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadResult:
    blob: BlobLocation
    sha256: str
    vhd_size: int
    bytes_sent: int


@dataclass(frozen=True, slots=True, kw_only=True)
class VmImage:
    """The image a VM boots from: a gallery version or managed image id, or a marketplace reference."""

    image_id: str = ""
    marketplace: dict[str, str] = field(default_factory=dict)  # publisher, offer, sku, version
    os_type: str = "Linux"
    disk_mib: int = 3072
    generation: str = "gen1"
    architecture: str = "x64"
