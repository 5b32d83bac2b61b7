"""Persistent disk cloud properties (``disk_types``): every key, its default, the accepted spellings, the checks
tying ``iops``/``mbps``/``caching`` to the disk type, and the MiB → GiB size rule of create/resize/update."""

from __future__ import annotations

from typing import Any

import pytest

from bosh_azure_cpi.errors import InvalidArgument
from bosh_azure_cpi.models.disk_props import MAX_DISK_GIB, PERFORMANCE_TYPES, DiskProps, disk_size_gib

P = "disk_type.cloud_properties"
TYPES = ("Standard_LRS", "StandardSSD_LRS", "StandardSSD_ZRS", "Premium_LRS", "Premium_ZRS", "PremiumV2_LRS",
         "UltraSSD_LRS")  # fmt: skip
PERF_ONLY = "'iops' and 'mbps' can only be set for PremiumV2_LRS and UltraSSD_LRS disks"


def error_of(doc: Any) -> str:
    with pytest.raises(InvalidArgument) as caught:
        DiskProps.from_dict(doc)
    return caught.value.message


# ---- defaults and accepted values ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "doc", [{}, None, {"caching": None, "storage_account_type": None, "iops": None}, {"storage_account_type": ""}]
)
def test_defaults_of_every_key(doc):
    props = DiskProps.from_dict(doc)
    assert props == DiskProps(
        storage_account_type="", caching="None", iops=None, mbps=None, disk_encryption_set_name="",
        explicit_caching=False,
    )  # fmt: skip


def test_every_key_set():
    doc = {"storage_account_type": "PremiumV2_LRS", "caching": "None", "iops": 4000, "mbps": 200,
           "disk_encryption_set_name": "fake-des"}  # fmt: skip
    assert DiskProps.from_dict(doc) == DiskProps(
        storage_account_type="PremiumV2_LRS", caching="None", iops=4000, mbps=200,
        disk_encryption_set_name="fake-des", explicit_caching=True,
    )  # fmt: skip


@pytest.mark.parametrize("disk_type", TYPES)
def test_every_managed_disk_sku_is_a_storage_account_type(disk_type):
    assert DiskProps.from_dict({"storage_account_type": disk_type}).storage_account_type == disk_type


@pytest.mark.parametrize(
    ("given", "canonical"),
    [("premium_lrs", "Premium_LRS"), ("STANDARDSSD_ZRS", "StandardSSD_ZRS"), ("ultrassd_lrs", "UltraSSD_LRS")],
)
def test_storage_account_types_match_case_insensitively_and_come_back_canonical(given, canonical):
    assert DiskProps.from_dict({"storage_account_type": given}).storage_account_type == canonical


@pytest.mark.parametrize(
    ("given", "canonical"),
    [("None", "None"), ("ReadOnly", "ReadOnly"), ("ReadWrite", "ReadWrite"), ("readonly", "ReadOnly"),
     ("READWRITE", "ReadWrite"), ("none", "None")],
)  # fmt: skip
def test_caching_values_and_that_they_count_as_explicit(given, canonical):
    props = DiskProps.from_dict({"caching": given})
    assert (props.caching, props.explicit_caching) == (canonical, True)


def test_an_explicit_default_caching_is_still_explicit():
    """update_disk refuses a caching change only when the manifest names one; "None" spelled out counts."""
    assert DiskProps.from_dict({"caching": "None"}).explicit_caching is True
    assert DiskProps.from_dict({}).explicit_caching is False


@pytest.mark.parametrize(("given", "value"), [(1, 1), (3000, 3000), ("3000", 3000), (" 125 ", 125)])
@pytest.mark.parametrize("key", ["iops", "mbps"])
def test_iops_and_mbps_take_positive_integers_and_digit_strings(key, given, value):
    props = DiskProps.from_dict({"storage_account_type": "UltraSSD_LRS", key: given})
    assert getattr(props, key) == value


def test_iops_without_a_type_is_left_for_the_disk_type_chosen_later():
    """With no storage_account_type the type is only known at create (the VM's default) or update (the disk's)."""
    props = DiskProps.from_dict({"iops": 3000, "mbps": 125})
    assert (props.storage_account_type, props.iops, props.mbps) == ("", 3000, 125)


# ---- wrong values: InvalidArgument naming the property ------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], f"'{P}' must be an object, got array"),
        ("Premium_LRS", f"'{P}' must be an object, got string"),
        ({"storage_account_type": "Premium_GRS"},
         f"'{P}.storage_account_type' must be one of {', '.join(TYPES)}; got 'Premium_GRS'"),
        ({"storage_account_type": 5}, f"'{P}.storage_account_type' must be a string, got number"),
        ({"caching": "WriteOnly"}, f"'{P}.caching' must be one of None, ReadOnly, ReadWrite; got 'WriteOnly'"),
        ({"caching": True}, f"'{P}.caching' must be a string, got boolean"),
        ({"caching": ["None"]}, f"'{P}.caching' must be a string, got array"),
        ({"iops": 0}, f"'{P}.iops' must be at least 1, got 0"),
        ({"iops": -5}, f"'{P}.iops' must be at least 1, got -5"),
        ({"iops": 1.5}, f"'{P}.iops' must be an integer, got number"),
        ({"iops": True}, f"'{P}.iops' must be an integer, got boolean"),
        ({"iops": "fast"}, f"'{P}.iops' must be an integer, got string"),
        ({"mbps": 0}, f"'{P}.mbps' must be at least 1, got 0"),
        ({"mbps": "-1"}, f"'{P}.mbps' must be an integer, got string"),
        ({"mbps": {}}, f"'{P}.mbps' must be an integer, got object"),
        ({"disk_encryption_set_name": 5}, f"'{P}.disk_encryption_set_name' must be a string, got number"),
    ],
)  # fmt: skip
def test_wrong_values_name_the_property(doc, message):
    assert error_of(doc) == message


@pytest.mark.parametrize("disk_type", [t for t in TYPES if t not in PERFORMANCE_TYPES])
@pytest.mark.parametrize("perf", [{"iops": 3000}, {"mbps": 125}, {"iops": 3000, "mbps": 125}])
def test_iops_and_mbps_only_for_types_with_configurable_performance(disk_type, perf):
    assert error_of({"storage_account_type": disk_type, **perf}) == PERF_ONLY


@pytest.mark.parametrize("disk_type", PERFORMANCE_TYPES)
@pytest.mark.parametrize("caching", ["ReadOnly", "ReadWrite"])
def test_performance_types_need_caching_none(disk_type, caching):
    assert error_of({"storage_account_type": disk_type, "caching": caching}) == (
        f"'caching' must be None for {disk_type} disks, got '{caching}'"
    )


@pytest.mark.parametrize("disk_type", PERFORMANCE_TYPES)
def test_performance_types_take_iops_mbps_and_default_caching(disk_type):
    props = DiskProps.from_dict({"storage_account_type": disk_type, "iops": 5000, "mbps": 300})
    assert (props.caching, props.iops, props.mbps, props.explicit_caching) == ("None", 5000, 300, False)


def test_performance_types_are_the_ones_azure_lets_tune():
    assert PERFORMANCE_TYPES == ("PremiumV2_LRS", "UltraSSD_LRS")


# ---- check_for: the same rules against the type chosen at create/update time ----------------------------------------


@pytest.mark.parametrize(
    ("props", "disk_type", "message"),
    [
        (DiskProps(iops=3000), "Premium_LRS", PERF_ONLY),
        (DiskProps(mbps=100), "Standard_LRS", PERF_ONLY),
        (
            DiskProps(caching="ReadOnly"),
            "PremiumV2_LRS",
            "'caching' must be None for PremiumV2_LRS disks, got 'ReadOnly'",
        ),
        (
            DiskProps(caching="ReadWrite"),
            "UltraSSD_LRS",
            "'caching' must be None for UltraSSD_LRS disks, got 'ReadWrite'",
        ),
    ],
)
def test_check_for_refuses(props, disk_type, message):
    with pytest.raises(InvalidArgument) as caught:
        props.check_for(disk_type)
    assert caught.value.message == message


@pytest.mark.parametrize(
    ("props", "disk_type"),
    [
        (DiskProps(iops=3000, mbps=125), ""),  # type not known yet
        (DiskProps(iops=3000, mbps=125), "PremiumV2_LRS"),
        (DiskProps(iops=3000), "UltraSSD_LRS"),
        (DiskProps(caching="ReadWrite"), "Premium_LRS"),
        (DiskProps(caching="ReadOnly"), ""),
        (DiskProps(), "PremiumV2_LRS"),
    ],
)
def test_check_for_accepts(props, disk_type):
    assert props.check_for(disk_type) is None


# ---- sizes: MiB from the Director → whole GiB, rounded up ----------------------------------------------------------


@pytest.mark.parametrize(
    ("size_mib", "gib"),
    [(1024, 1), (1025, 2), (1536, 2), (2047, 2), (2048, 2), (2049, 3), (10240, 10), (10241, 11),
     (MAX_DISK_GIB * 1024, MAX_DISK_GIB)],
)  # fmt: skip
def test_sizes_round_up_to_whole_gib(size_mib, gib):
    assert disk_size_gib(size_mib) == gib


def test_the_largest_size_is_64_tib():
    assert MAX_DISK_GIB == 65536


@pytest.mark.parametrize(
    ("size_mib", "message"),
    [
        (1023, "Azure's minimum disk size is 1 GiB (1024 MiB), got 1023 MiB"),
        (0, "Azure's minimum disk size is 1 GiB (1024 MiB), got 0 MiB"),
        (-2048, "Azure's minimum disk size is 1 GiB (1024 MiB), got -2048 MiB"),
        (MAX_DISK_GIB * 1024 + 1, "Azure's maximum disk size is 65536 GiB, got 65537 GiB"),
        (True, "The disk size needs to be an integer number of MiB, got 'True'"),
        (2048.0, "The disk size needs to be an integer number of MiB, got '2048.0'"),
        ("2048", "The disk size needs to be an integer number of MiB, got '2048'"),
        (None, "The disk size needs to be an integer number of MiB, got 'None'"),
    ],
)
def test_wrong_sizes(size_mib, message):
    with pytest.raises(InvalidArgument) as caught:
        disk_size_gib(size_mib)
    assert caught.value.message == message


def test_the_size_error_names_the_argument():
    with pytest.raises(InvalidArgument) as caught:
        disk_size_gib("big", "new size")
    assert caught.value.message == "The disk new size needs to be an integer number of MiB, got 'big'"
