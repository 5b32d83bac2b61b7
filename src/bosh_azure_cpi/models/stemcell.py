"""Stemcell properties and the Compute Gallery naming rules of the Ruby Azure CPI (pure functions).

A stemcell's ``cloud_properties`` come from its ``stemcell.MF``. In a gallery, each stemcell series is an image
definition named ``<name>`` (gen1) or ``<name>-<generation>``, identified by ``bosh/<definition>/<generation>``;
each stemcell version is an image version ``MAJOR.MINOR.PATCH`` (``1.181`` → ``1.181.0``; parts after the third
are dropped as the Ruby CPI does). Version tags carry the stemcell properties plus ``stemcell_references`` (the
stemcell CIDs using the version), ``image_sha256``, ``compute_gallery_name`` and ``compute_gallery_image_definition``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from bosh_azure_cpi.errors import InvalidArgument
from bosh_azure_cpi.models.fields import Fields
from bosh_azure_cpi.models.images import VmImage

PUBLISHER = "bosh"
REFERENCES_TAG = "stemcell_references"
LEGACY_NAME_TAG = "stemcell_name"
SHA_TAG = "image_sha256"
TAG_VALUE_LIMIT = 256
MAX_INT32 = 2**31 - 1
_DIGITS = re.compile(r"^\d+$")


@dataclass(frozen=True, slots=True, kw_only=True)
class LightImage:
    """A marketplace image reference (light stemcell)."""

    publisher: str
    offer: str
    sku: str
    version: str

    def as_dict(self) -> dict[str, str]:
        return {"publisher": self.publisher, "offer": self.offer, "sku": self.sku, "version": self.version}


@dataclass(frozen=True, slots=True, kw_only=True)
class StemcellProps:
    """The stemcell ``cloud_properties`` the CPI interprets; ``raw`` keeps everything for metadata."""

    name: str
    version: str
    os_type: str  # Linux | Windows
    generation: str  # gen1 | gen2 ...
    architecture: str  # x64 | Arm64
    disk_mib: int
    disk_controller_types: tuple[str, ...] = ()
    accelerated_networking: bool | None = None
    hibernation: bool | None = None
    security_type: str = ""
    light_image: LightImage | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, doc: Any) -> StemcellProps:
        f = Fields(doc, "stemcell.cloud_properties")
        os_type = f.text("os_type", "linux")
        return cls(
            name=f.nonempty("name"),
            version=_version_text(f),
            os_type=normalize_os_type(os_type),
            generation=f.nonempty("generation", "gen1"),
            architecture=normalize_architecture(f.text("architecture", "")),
            disk_mib=f.integer("disk", 131072 if os_type.lower() == "windows" else 3072, minimum=1),
            disk_controller_types=tuple(_controllers(f)),
            accelerated_networking=_optional_flag(f, "accelerated_networking"),
            hibernation=_optional_flag(f, "hibernation"),
            security_type=f.text("security_type", ""),
            light_image=_light_image(f),
            raw=dict(f.doc),
        )

    @property
    def is_gen1(self) -> bool:
        return self.generation.lower() == "gen1"

    @property
    def definition_name(self) -> str:
        return self.name if self.is_gen1 else f"{self.name}-{self.generation}"

    @property
    def hyper_v_generation(self) -> str:
        return "V" + self.generation.lower().removeprefix("gen")

    def vm_image(self, *, image_id: str = "", marketplace: dict[str, str] | None = None) -> VmImage:
        """The image a VM boots from, described by this stemcell's properties."""
        return VmImage(
            image_id=image_id,
            marketplace=marketplace or {},
            os_type=self.os_type,
            disk_mib=self.disk_mib,
            generation=self.generation,
            architecture=self.architecture,
        )

    def gallery_version(self) -> str:
        return gallery_version_name(self.version)

    def features(self) -> list[dict[str, str]]:
        """Gallery image definition features (none for gen1), in the Ruby CPI's order and spelling."""
        if self.is_gen1:
            return []
        features = []
        if self.disk_controller_types:
            features.append({"name": "DiskControllerTypes", "value": ",".join(self.disk_controller_types)})
        if self.accelerated_networking is not None:
            features.append({"name": "IsAcceleratedNetworkSupported", "value": str(self.accelerated_networking)})
        if self.hibernation is not None:
            features.append({"name": "IsHibernateSupported", "value": str(self.hibernation)})
        if self.security_type:
            features.append({"name": "SecurityType", "value": self.security_type})
        return features


def gallery_version_name(version: str) -> str:
    """``1.181`` → ``1.181.0``; ``621`` → ``621.0.0``; parts after the third dropped; each part an int32."""
    parts = version.split(".")
    if len(parts) > 3:
        parts = parts[:3]
    parts += ["0"] * (3 - len(parts))
    for part in parts:
        if not _DIGITS.match(part):
            raise InvalidArgument(
                f"Stemcell version '{version}' cannot be a gallery image version: '{part}' is not a number "
                "(gallery versions are MAJOR.MINOR.PATCH)"
            )
        if int(part) > MAX_INT32:
            raise InvalidArgument(
                f"Stemcell version '{version}' cannot be a gallery image version: {part} does not fit in 32 bits"
            )
    return ".".join(parts)


def normalize_os_type(value: str) -> str:
    normalized = value.lower().capitalize()
    if normalized not in ("Linux", "Windows"):
        raise InvalidArgument(f"Invalid os_type '{value}'. Must be either 'Linux' or 'Windows'")
    return normalized


def normalize_architecture(value: str) -> str:
    lowered = value.lower()
    if lowered in ("", "x86_64", "amd64", "x64"):
        return "x64"
    if lowered in ("aarch64", "arm64"):
        return "Arm64"
    raise InvalidArgument(f"Invalid architecture '{value}'. Must be x86_64 (x64) or arm64")


def encode_metadata(values: dict[str, Any]) -> dict[str, str]:
    """Stringify values for blob metadata and tags: scalars as text, lists and objects as JSON."""
    encoded = {}
    for key, value in values.items():
        if isinstance(value, bool):
            encoded[str(key)] = "true" if value else "false"
        elif value is None:
            encoded[str(key)] = ""
        elif isinstance(value, list | dict):
            encoded[str(key)] = json.dumps(value)
        else:
            encoded[str(key)] = str(value)
    return encoded


def read_references(tags: dict[str, str]) -> list[str]:
    """Stemcell CIDs referencing a version: ``stemcell_references`` (+ overflow tags) and legacy ``stemcell_name``."""
    refs: list[str] = []
    for key in _reference_tag_names(tags):
        refs.extend(item.strip() for item in tags[key].split(",") if item.strip())
    legacy = tags.get(LEGACY_NAME_TAG, "").strip()
    if legacy:
        refs.append(legacy)
    return list(dict.fromkeys(refs))


def write_references(tags: dict[str, str], refs: list[str]) -> dict[str, str]:
    """Tags with the reference list replaced, split over ``stemcell_references``, ``stemcell_references_2``, ...
    so no value exceeds Azure's 256-character tag limit. The legacy ``stemcell_name`` tag is folded in."""
    updated = {k: v for k, v in tags.items() if k not in _reference_tag_names(tags) and k != LEGACY_NAME_TAG}
    chunks: list[list[str]] = [[]]
    for ref in dict.fromkeys(refs):
        if len(ref) > TAG_VALUE_LIMIT:
            raise InvalidArgument(f"Stemcell id '{ref}' is longer than {TAG_VALUE_LIMIT} characters")
        if chunks[-1] and len(",".join([*chunks[-1], ref])) > TAG_VALUE_LIMIT:
            chunks.append([])
        chunks[-1].append(ref)
    for index, chunk in enumerate(chunks):
        if chunk:
            updated[REFERENCES_TAG if index == 0 else f"{REFERENCES_TAG}_{index + 1}"] = ",".join(chunk)
    return updated


def created_by_cpi(tags: dict[str, str] | None) -> bool:
    """Whether a gallery image version was created by a BOSH CPI (it carries reference tags)."""
    return bool(tags) and (REFERENCES_TAG in tags or LEGACY_NAME_TAG in tags)  # type: ignore[operator]


def tag_safe(values: dict[str, str]) -> dict[str, str]:
    """Truncate tag values to Azure's 256-character limit (blob metadata keeps the full values)."""
    return {key: value[:TAG_VALUE_LIMIT] for key, value in values.items()}


def _reference_tag_names(tags: dict[str, str]) -> list[str]:
    pattern = re.compile(rf"^{REFERENCES_TAG}(?:_(\d+))?$")
    names = [key for key in tags if pattern.match(key)]
    return sorted(names, key=lambda key: int(pattern.match(key).group(1) or 1))  # type: ignore[union-attr]


def _version_text(f: Fields) -> str:
    value = f.raw("version")
    if value is None:
        raise f.fail("version", "is required")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise f.fail("version", "must be a string")
    return str(value)


def _controllers(f: Fields) -> list[str]:
    value = f.raw("disk_controller_types")
    if value is None:
        return []
    if isinstance(value, str):
        value = [item.strip() for item in value.strip("[]").replace('"', "").split(",") if item.strip()]
    if not isinstance(value, list):
        raise f.fail("disk_controller_types", "must be an array")
    spelled = {"scsi": "SCSI", "nvme": "NVMe"}
    return [spelled.get(str(item).lower(), str(item)) for item in value]


def _optional_flag(f: Fields, name: str) -> bool | None:
    if f.raw(name) is None:
        return None
    return bool(f.flag(name))


def _light_image(f: Fields) -> LightImage | None:
    if f.raw("image") is None:
        return None
    raw = f.raw("image")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise f.fail("image", "must be an object with publisher, offer, sku and version") from exc
    image = Fields(raw, f.key("image"))
    return LightImage(
        publisher=image.nonempty("publisher"),
        offer=image.nonempty("offer"),
        sku=image.nonempty("sku"),
        version=image.nonempty("version"),
    )
