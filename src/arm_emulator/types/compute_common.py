"""Helpers shared by Microsoft.Compute type rules: value checks with Compute RP's error wording."""

from __future__ import annotations

from typing import Any

from arm_emulator.lro import LroStyle
from arm_emulator.wire import ArmError, invalid_parameter, missing_parameter

# GalleryRP api-versions (stable) up to the one azure-mgmt-compute 39.0.0 sends.
GALLERY_API_VERSIONS = frozenset(
    {
        "2018-06-01", "2019-03-01", "2019-07-01", "2019-12-01", "2020-09-30", "2021-07-01",
        "2021-10-01", "2022-01-03", "2022-03-03", "2022-08-03", "2023-07-03", "2024-03-03",
        "2025-03-03", "2026-03-03",
    }
)  # fmt: skip

# Gallery operations are polled under .../locations/<loc>/capsOperations/<id> (recorded traffic).
GALLERY_LRO = LroStyle(namespace="Microsoft.Compute", segment="capsOperations")

# ComputeRP api-versions (VMs, availability sets, images, platform images) up to the SDK's 2026-04-01.
COMPUTE_API_VERSIONS = frozenset(
    {
        "2017-03-30", "2017-12-01", "2018-04-01", "2018-06-01", "2018-10-01", "2019-03-01",
        "2019-07-01", "2019-12-01", "2020-06-01", "2020-12-01", "2021-03-01", "2021-04-01",
        "2021-07-01", "2021-11-01", "2022-03-01", "2022-08-01", "2022-11-01", "2023-03-01",
        "2023-07-01", "2023-09-01", "2024-03-01", "2024-07-01", "2024-11-01", "2025-04-01",
        "2025-11-01", "2026-04-01",
    }
)  # fmt: skip
# DiskRP api-versions (disks, snapshots) up to the SDK's 2026-03-02.
DISK_API_VERSIONS = frozenset(
    {
        "2017-03-30", "2018-04-01", "2018-06-01", "2018-09-30", "2019-03-01", "2019-07-01",
        "2019-11-01", "2020-05-01", "2020-06-30", "2020-09-30", "2020-12-01", "2021-04-01",
        "2021-08-01", "2021-12-01", "2022-03-02", "2022-07-02", "2023-01-02", "2023-04-02",
        "2023-10-02", "2024-03-02", "2025-01-02", "2026-03-02",
    }
)  # fmt: skip

# VMs and images: PUT 201/200 + Azure-AsyncOperation, DELETE and POST actions 202 + both URLs.
COMPUTE_LRO = LroStyle(namespace="Microsoft.Compute", segment="operations")
# DiskRP (recorded disk create/delete, 2021): every write 202 with Azure-AsyncOperation and Location
# (?monitor=true); the status document carries the disk as properties.output.
DISK_LRO = LroStyle(
    namespace="Microsoft.Compute",
    segment="DiskOperations",
    location_on_write=True,
    write_status=202,
    output_in_status=True,
)

INT32_MAX = 2**31 - 1


def require(props: dict[str, Any], name: str, label: str | None = None) -> Any:
    """``props[name]`` or 400 ``Required parameter '<label>' is missing (null).``"""
    value = props.get(name)
    if value is None or value == "":
        raise missing_parameter(label or name)
    return value


def check_enum(value: Any, allowed: tuple[str, ...], name: str) -> str:
    """The canonical spelling of ``value`` among ``allowed`` (compared case-insensitively)."""
    for choice in allowed:
        if isinstance(value, str) and value.lower() == choice.lower():
            return choice
    raise invalid_parameter(
        f"The value '{value}' of parameter '{name}' is not allowed. Allowed values are "
        + ", ".join(f"'{c}'" for c in allowed)
        + ".",
        name,
    )


def check_int(value: Any, path: str, low: int, high: int) -> int:
    """An integer in ``[low, high]``: a JSON type mismatch is a deserialization error, a range miss 400."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArmError(
            400,
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized: "
            f"'Error converting value {value!r} to type 'System.Int32'. Path '{path}'.'",
        )
    if not low <= value <= high:
        name = path.rsplit(".", 1)[-1]
        raise invalid_parameter(
            f"The value {value} of parameter '{name}' is out of range. The value must be between {low} and "
            f"{high}, inclusive.",
            name,
        )
    return value


def property_change_not_allowed(path: str) -> ArmError:
    """Compute RP's answer to changing an immutable property (409 PropertyChangeNotAllowed)."""
    return ArmError(409, "PropertyChangeNotAllowed", f"Changing property '{path}' is not allowed.", target=path)


def same(a: Any, b: Any) -> bool:
    """Equality that ignores the casing of strings (enum values are case-insensitive on the wire)."""
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    return bool(a == b)


def as_object(value: Any, path: str) -> dict[str, Any]:
    """``value`` when it is a JSON object (or absent → {}), else a deserialization error."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ArmError(
            400,
            "InvalidRequestContent",
            f"The request content was invalid and could not be deserialized: 'Expected an object at '{path}'.'",
        )
    return value
