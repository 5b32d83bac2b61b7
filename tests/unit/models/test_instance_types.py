"""VM size facts: premium storage capability by name, default ephemeral sizes, and the Ruby CPI's size ranking."""

from __future__ import annotations

import pytest

from bosh_azure_cpi.errors import CloudError
from bosh_azure_cpi.models.instance_types import (
    SkuInfo,
    default_disk_type,
    default_ephemeral_gib,
    mib_to_gib_ceil,
    mib_to_gib_floor,
    rank_instance_types,
    supports_premium_storage,
)

PREMIUM = [
    "Standard_D2s_v5",
    "Standard_DS2_v2",
    "Standard_DS11-1_v2",
    "Standard_B2ms",
    "Standard_B1ls",
    "Standard_B2ats_v2",
    "Standard_F4s_v2",
    "Standard_F16s",
    "Standard_E4ads_v5",
    "Standard_E4-2ds_v4",
    "Standard_E104is_v5",
    "Standard_L8s_v3",
    "Standard_L8as_v3",
    "Standard_GS3",
    "Standard_GS4-8",
    "Standard_M64ms",
    "Standard_M8-2ms",
    "Standard_D2ps_v5",
    "Standard_D4as_v4",
    "Standard_D16plds_v5",
    "Standard_NC6s_v3",
    "Standard_NC24ads_A100_v4",
    "Standard_HB120rs_v3",
    "Standard_FX4mds",
    "standard_d2s_v5",
]
NOT_PREMIUM = [
    "Standard_D2_v5",
    "Standard_A2_v2",
    "Standard_A1",
    "Standard_F4",
    "Standard_D2d_v5",
    "Standard_D2a_v4",
    "Standard_E104i_v5",
    "Standard_NC6",
    "Standard_NV12",
    "Standard_H16r",
    "Basic_A1",
    "Standard_",
    "",
]


@pytest.mark.parametrize("size", PREMIUM)
def test_premium_capable_sizes(size):
    assert supports_premium_storage(size)
    assert default_disk_type(size) == "Premium_LRS"


@pytest.mark.parametrize("size", NOT_PREMIUM)
def test_sizes_without_premium_storage(size):
    assert not supports_premium_storage(size)
    assert default_disk_type(size) == "Standard_LRS"


@pytest.mark.parametrize(
    ("size", "gib"),
    [
        ("Standard_A0", 30),
        ("Standard_A1", 70),
        ("Standard_A8m_v2", 80),
        ("Standard_D2_v2", 100),
        ("STANDARD_D15_V2", 1000),
        ("Standard_DS11", 28),
        ("Standard_DS15_v2", 280),
        ("Standard_F2", 32),
        ("Standard_F8s", 32),
        ("Standard_GS5", 896),
        ("Standard_L4s", 678),
        ("Standard_NC24r", 1000),
        ("Standard_H16mr", 1000),
        ("Standard_D2s_v5", 30),
        ("fake-size", 30),
    ],
)
def test_default_ephemeral_disk_sizes(size, gib):
    assert default_ephemeral_gib(size) == gib


@pytest.mark.parametrize(
    ("mib", "floor", "ceil"), [(1024, 1, 1), (1025, 1, 2), (2047, 1, 2), (2048, 2, 2), (0, 0, 0), (102400, 100, 100)]
)
def test_mib_to_gib(mib, floor, ceil):
    assert (mib_to_gib_floor(mib), mib_to_gib_ceil(mib)) == (floor, ceil)


def sku(name: str, cpus: int, memory_gib: float, premium: bool) -> SkuInfo:
    return SkuInfo(name=name, cpus=cpus, memory_mib=int(memory_gib * 1024), premium_io=premium)


CATALOG = [
    sku("Standard_D2_v5", 2, 8, False),
    sku("Standard_H8", 8, 56, False),
    sku("Standard_D4s_v5", 4, 16, True),
    sku("Standard_E2s_v5", 2, 16, True),
    sku("Standard_D2s_v3", 2, 8, True),
    sku("Standard_B2s", 2, 4, True),
    sku("Standard_A2_v2", 2, 4, False),
    sku("Standard_E4-2ds_v4", 2, 32, True),  # constrained vCPU: the E series
    sku("Standard_D2s_v5", 2, 8, True),
    sku("Standard_F2s_v2", 2, 4, True),
    sku("Standard_DS2_v2", 2, 7, True),  # two-letter series: the Ruby CPI scores it 0 and drops it
    sku("Standard_DC2s_v2", 2, 8, True),  # likewise (confidential computing)
    sku("Standard_NC6", 6, 56, False),  # N series: not scored
    sku("Standard_M8ms", 8, 218.75, True),  # M series: not scored
    sku("Standard_B1ms", 1, 2, True),  # too small
    sku("Standard_A1_v2", 1, 2, False),
    sku("Standard_E2_v3", 2, 3.9, False),  # not enough memory
]


def test_ranking_premium_then_cores_memory_series_and_generation():
    assert rank_instance_types(CATALOG, 2, 4096) == [
        "Standard_F2s_v2",  # premium, 2 cores, 4 GiB, F scores 4 over B's 3
        "Standard_B2s",
        "Standard_D2s_v5",  # premium, 2 cores, 8 GiB, generation 5 before 3
        "Standard_D2s_v3",
        "Standard_E2s_v5",
        "Standard_E4-2ds_v4",
        "Standard_D4s_v5",
        "Standard_A2_v2",  # then the sizes without premium storage
        "Standard_D2_v5",
        "Standard_H8",
    ]


def test_ranking_of_small_requests_includes_small_sizes():
    assert rank_instance_types(CATALOG, 1, 1024)[:2] == ["Standard_B1ms", "Standard_F2s_v2"]


def test_equal_sizes_rank_deterministically_by_name():
    skus = [sku("Standard_D2s_v4", 2, 8, True), sku("Standard_D2as_v4", 2, 8, True)]
    assert rank_instance_types(skus, 2, 8192) == ["Standard_D2as_v4", "Standard_D2s_v4"]
    assert rank_instance_types(list(reversed(skus)), 2, 8192) == ["Standard_D2as_v4", "Standard_D2s_v4"]


@pytest.mark.parametrize(("cpu", "ram"), [(64, 1048576), (2, 1048576), (3000, 1)])
def test_no_size_meets_the_request(cpu, ram):
    with pytest.raises(CloudError) as caught:
        rank_instance_types(CATALOG, cpu, ram)
    assert caught.value.message == f"Unable to meet desired instance size: {cpu} CPU, {ram} MB RAM"


def test_no_sizes_at_all():
    with pytest.raises(CloudError, match="Unable to meet desired instance size: 1 CPU, 512 MB RAM"):
        rank_instance_types([], 1, 512)
