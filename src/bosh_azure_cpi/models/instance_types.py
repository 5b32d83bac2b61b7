"""VM size facts the CPI needs without asking Azure: the Ruby CPI's default ephemeral disk sizes, premium
storage capability from the size name, and the ranking ``calculate_vm_cloud_properties`` uses."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from bosh_azure_cpi.errors import CloudError

# Default ephemeral disk size (GiB) per size, the Ruby Azure CPI's `DiskInfo` table; unknown sizes get 30 GiB.
_EPHEMERAL_GIB = {
    "A0": 30,
    "A1": 70,
    "A2": 135,
    "A3": 285,
    "A4": 605,
    "A5": 135,
    "A6": 285,
    "A7": 605,
    "A8": 382,
    "A9": 382,
    "A10": 382,
    "A11": 382,
    "A1_V2": 30,
    "A2_V2": 30,
    "A4_V2": 40,
    "A8_V2": 80,
    "A2M_V2": 30,
    "A4M_V2": 40,
    "A8M_V2": 80,
    "D1": 50,
    "D2": 100,
    "D3": 200,
    "D4": 400,
    "D11": 100,
    "D12": 200,
    "D13": 400,
    "D14": 800,
    "D1_V2": 50,
    "D2_V2": 100,
    "D3_V2": 200,
    "D4_V2": 400,
    "D5_V2": 800,
    "D11_V2": 100,
    "D12_V2": 200,
    "D13_V2": 400,
    "D14_V2": 800,
    "D15_V2": 1000,
    "DS1": 30,
    "DS2": 30,
    "DS3": 30,
    "DS4": 56,
    "DS11": 28,
    "DS12": 56,
    "DS13": 112,
    "DS14": 224,
    "DS1_V2": 30,
    "DS2_V2": 30,
    "DS3_V2": 30,
    "DS4_V2": 56,
    "DS5_V2": 112,
    "DS11_V2": 28,
    "DS12_V2": 56,
    "DS13_V2": 112,
    "DS14_V2": 224,
    "DS15_V2": 280,
    "F1": 30,
    "F2": 32,
    "F4": 64,
    "F8": 128,
    "F16": 256,
    "F1S": 30,
    "F2S": 30,
    "F4S": 30,
    "F8S": 32,
    "F16S": 64,
    "G1": 384,
    "G2": 768,
    "G3": 1000,
    "G4": 1000,
    "G5": 1000,
    "GS1": 56,
    "GS2": 112,
    "GS3": 224,
    "GS4": 448,
    "GS5": 896,
    "L4S": 678,
    "L8S": 1000,
    "L16S": 1000,
    "L32S": 1000,
    "M64MS": 1000,
    "M128S": 1000,
    "NV6": 380,
    "NV12": 680,
    "NV24": 1000,
    "NC6": 380,
    "NC12": 680,
    "NC24": 1000,
    "NC24R": 1000,
    "H8": 1000,
    "H16": 1000,
    "H8M": 1000,
    "H16M": 1000,
    "H16R": 1000,
    "H16MR": 1000,
}
DEFAULT_EPHEMERAL_GIB = 30
# standard_<series letters><vCPUs>[-<constrained vCPUs>]<feature letters>[_...]: E4-2ds_v4 is an E4ds_v4 with 2 vCPUs.
_SIZE_NAME = re.compile(r"^standard_([a-z]+)(\d+)(?:-\d+)?([a-z]*)(?:_|$)")
# The Ruby CPI scores a size by a single series letter directly followed by a digit (`/standard_d\d/`), so
# multi-letter series (DS2_v2, DC2s_v2, HB120rs_v3...) score 0 and are never proposed.
_SERIES = re.compile(r"standard_([a-z])\d")
SERIES_SCORE = {"D": 5, "F": 4, "E": 4, "B": 3, "L": 3, "A": 2, "H": 1}


def default_ephemeral_gib(instance_type: str) -> int:
    return _EPHEMERAL_GIB.get(instance_type.upper().removeprefix("STANDARD_"), DEFAULT_EPHEMERAL_GIB)


def supports_premium_storage(instance_type: str) -> bool:
    """Premium SSD capable sizes carry an ``s`` among the feature letters after the vCPU count (D2s_v5,
    E4ads_v5, B2ms) or belong to an ``…S`` series (DS2_v2, GS3)."""
    match = _SIZE_NAME.match(instance_type.lower())
    if match is None:
        return False
    series, _, features = match.groups()
    return "s" in features or (len(series) > 1 and series.endswith("s"))


def default_disk_type(instance_type: str) -> str:
    return "Premium_LRS" if supports_premium_storage(instance_type) else "Standard_LRS"


def mib_to_gib_floor(size_mib: int) -> int:
    return size_mib // 1024


def mib_to_gib_ceil(size_mib: int) -> int:
    return math.ceil(size_mib / 1024)


@dataclass(frozen=True, slots=True, kw_only=True)
class SkuInfo:
    name: str
    cpus: int
    memory_mib: int
    premium_io: bool


def rank_instance_types(skus: list[SkuInfo], cpu: int, ram_mib: int) -> list[str]:
    """Sizes meeting ``cpu``/``ram``: premium-capable first, then fewest vCPUs, least memory, preferred series,
    newest generation (the Ruby CPI's ranking)."""
    candidates = []
    for sku in skus:
        match = _SERIES.match(sku.name.lower())
        score = SERIES_SCORE.get(match.group(1).upper(), 0) if match else 0
        if score and sku.cpus >= cpu and sku.memory_mib >= ram_mib:
            generation = re.search(r"_v(\d+)", sku.name.lower())
            candidates.append(
                (
                    (
                        -int(sku.premium_io),
                        sku.cpus,
                        sku.memory_mib,
                        -score,
                        -int(generation.group(1) if generation else 1),
                        sku.name,
                    ),
                    sku.name,
                )
            )
    if not candidates:
        raise CloudError(f"Unable to meet desired instance size: {cpu} CPU, {ram_mib} MB RAM")
    return [name for _, name in sorted(candidates)]
