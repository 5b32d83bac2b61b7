"""A static catalog of VM sizes, regions and restrictions, shaped after ``Resource Skus - List``.

Values are those Microsoft publishes for the sizes (vCPUs, memory, data disks, temp disk, cache, Premium
IO, accelerated networking, Hyper-V generations, architecture, disk controllers); a size is offered in
every catalog region unless ``regions`` says otherwise. Two restrictions model what subscriptions see
(``NotAvailableForSubscription``): a whole-region one and a single-zone one. ``westus`` has no zones;
West US 2 has two fault domains, the other regions three ("Availability sets overview", fault domains
per region).
"""

from __future__ import annotations

from dataclasses import dataclass

GIB = 1024**3

# Regions the catalog covers, with their availability zones.
ZONES: dict[str, tuple[str, ...]] = {
    "eastus": ("1", "2", "3"),
    "eastus2": ("1", "2", "3"),
    "westus": (),
    "westus2": ("1", "2", "3"),
    "westeurope": ("1", "2", "3"),
    "northeurope": ("1", "2", "3"),
}
FAULT_DOMAINS: dict[str, int] = {"westus2": 2}
DEFAULT_FAULT_DOMAINS = 3
MAX_UPDATE_DOMAINS = 20


@dataclass(frozen=True, slots=True)
class VmSize:
    """One VM size; ``resource_mb`` is the temp disk, ``cached_bytes`` the cache (0: none), ``nvme_mib``
    the local NVMe disk; ``regions`` empty = every catalog region."""

    name: str
    family: str
    vcpus: int
    memory_gb: float
    max_data_disks: int
    premium_io: bool
    resource_mb: int
    hyperv: str
    arch: str = "x64"
    accelerated_networking: bool = True
    ephemeral_os: bool = False
    cached_bytes: int = 0
    controllers: str = "SCSI"
    max_nics: int = 2
    nvme_mib: int = 0
    regions: tuple[str, ...] = ()

    @property
    def generations(self) -> tuple[str, ...]:
        return tuple(g.strip() for g in self.hyperv.split(","))

    @property
    def nvme_only(self) -> bool:
        return self.controllers == "NVMe"

    def offered_in(self, location: str) -> bool:
        return location in ZONES and (not self.regions or location in self.regions)


def _size(name: str, family: str, cpu: int, mem: float, disks: int, **extra: object) -> VmSize:
    return VmSize(name, family, cpu, mem, disks, **extra)  # type: ignore[arg-type]


SIZES: tuple[VmSize, ...] = (
    _size("Standard_A2_v2", "standardAv2Family", 2, 4, 4, premium_io=False, resource_mb=20480, hyperv="V1",
          accelerated_networking=False),
    _size("Standard_B2s", "standardBSFamily", 2, 4, 4, premium_io=True, resource_mb=8192, hyperv="V1,V2",
          accelerated_networking=False, ephemeral_os=True, cached_bytes=30 * GIB, max_nics=3),
    _size("Standard_DS1_v2", "standardDSv2Family", 1, 3.5, 4, premium_io=True, resource_mb=7168, hyperv="V1,V2",
          accelerated_networking=False, ephemeral_os=True, cached_bytes=43 * GIB),
    _size("Standard_D2_v5", "standardDv5Family", 2, 8, 4, premium_io=False, resource_mb=0, hyperv="V1,V2"),
    _size("Standard_D2s_v5", "standardDSv5Family", 2, 8, 4, premium_io=True, resource_mb=0, hyperv="V1,V2"),
    _size("Standard_D4s_v5", "standardDSv5Family", 4, 16, 8, premium_io=True, resource_mb=0, hyperv="V1,V2"),
    _size("Standard_D8s_v5", "standardDSv5Family", 8, 32, 16, premium_io=True, resource_mb=0, hyperv="V1,V2",
          max_nics=4),
    _size("Standard_D2ds_v5", "standardDDSv5Family", 2, 8, 4, premium_io=True, resource_mb=76800, hyperv="V1,V2",
          ephemeral_os=True),
    _size("Standard_D4ds_v5", "standardDDSv5Family", 4, 16, 8, premium_io=True, resource_mb=153600,
          hyperv="V1,V2", ephemeral_os=True),
    _size("Standard_D2ps_v5", "standardDPSv5Family", 2, 8, 4, premium_io=True, resource_mb=0, hyperv="V2",
          arch="Arm64", regions=("eastus", "eastus2", "westus2", "westeurope", "northeurope")),
    _size("Standard_D2s_v6", "standardDSv6Family", 2, 8, 8, premium_io=True, resource_mb=0, hyperv="V2",
          controllers="NVMe", regions=("eastus", "eastus2", "westus2", "westeurope", "northeurope")),
    _size("Standard_E2s_v5", "standardESv5Family", 2, 16, 4, premium_io=True, resource_mb=0, hyperv="V1,V2"),
    _size("Standard_E4s_v5", "standardESv5Family", 4, 32, 8, premium_io=True, resource_mb=0, hyperv="V1,V2"),
    _size("Standard_F2s_v2", "standardFSv2Family", 2, 4, 4, premium_io=True, resource_mb=16384, hyperv="V1,V2",
          ephemeral_os=True, cached_bytes=32 * GIB),
    _size("Standard_F4s_v2", "standardFSv2Family", 4, 8, 8, premium_io=True, resource_mb=32768, hyperv="V1,V2",
          ephemeral_os=True, cached_bytes=64 * GIB),
    _size("Standard_L8s_v3", "standardLSv3Family", 8, 64, 16, premium_io=True, resource_mb=81920, hyperv="V1,V2",
          ephemeral_os=True, max_nics=4, nvme_mib=1831420),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Restriction:
    """``NotAvailableForSubscription`` for a size in a region (``zones`` empty) or in some of its zones."""

    size: str
    location: str
    zones: tuple[str, ...] = ()


RESTRICTIONS: tuple[Restriction, ...] = (
    Restriction("Standard_L8s_v3", "eastus"),
    Restriction("Standard_L8s_v3", "westus"),
    Restriction("Standard_E4s_v5", "eastus", ("3",)),
    Restriction("Standard_D2s_v6", "westeurope", ("2",)),
)
