"""VM cloud properties (vm_type / vm_extensions / AZ), with the Ruby Azure CPI's keys and defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bosh_azure_cpi.errors import InvalidArgument
from bosh_azure_cpi.models.fields import Fields
from bosh_azure_cpi.models.refs import ManagedIdentity, SecurityGroupRef, managed_identity, security_group_ref

CACHING = ("None", "ReadOnly", "ReadWrite")
ZONES = ("1", "2", "3")
PLACEMENTS = ("remote", "resource-disk", "cache-disk")
DISK_TYPES = ("Standard_LRS", "StandardSSD_LRS", "StandardSSD_ZRS", "Premium_LRS", "Premium_ZRS", "PremiumV2_LRS",
              "UltraSSD_LRS")  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class RootDisk:
    size_mib: int | None = None
    type: str = ""
    placement: str = "remote"
    disk_encryption_set_name: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class EphemeralDisk:
    use_root_disk: bool = False
    size_mib: int | None = None
    type: str = ""
    caching: str = "ReadWrite"
    iops: int | None = None
    mbps: int | None = None
    disk_encryption_set_name: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AvailabilitySetSpec:
    name: str
    update_domains: int = 5
    fault_domains: int = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolRef:
    """A load balancer or application gateway, and optionally the backend pool to join."""

    name: str
    resource_group_name: str = ""
    backend_pool_name: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class VmProps:
    instance_types: tuple[str, ...]
    root_disk: RootDisk = RootDisk()
    ephemeral_disk: EphemeralDisk = EphemeralDisk()
    caching: str = "ReadWrite"
    availability_zone: str = ""
    availability_set: AvailabilitySetSpec | None = None
    load_balancers: tuple[PoolRef, ...] = ()
    application_gateways: tuple[PoolRef, ...] = ()
    managed_identity: ManagedIdentity | None = None
    security_group: SecurityGroupRef | None = None
    application_security_groups: tuple[str, ...] | None = None
    assign_dynamic_public_ip: bool = False
    ip_forwarding: bool | None = None
    accelerated_networking: bool | None = None
    resource_group_name: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    capacity_reservation_group: str = ""
    storage_account_type: str = ""
    security_type: str = ""
    secure_boot: bool | None = None
    vtpm: bool | None = None

    @property
    def instance_type(self) -> str:
        return self.instance_types[0]

    @classmethod
    def from_dict(cls, doc: Any, *, default_group: str = "") -> VmProps:
        f = Fields(doc, "vm_type.cloud_properties")
        zone = _zone(f)
        security = f.obj("security_profile")
        return cls(
            instance_types=_instance_types(f),
            root_disk=_root_disk(f.obj("root_disk")),
            ephemeral_disk=_ephemeral_disk(f.obj("ephemeral_disk")),
            caching=f.choice("caching", CACHING, "ReadWrite"),
            availability_zone=zone,
            availability_set=_availability_set(f, zone, default_group),
            load_balancers=_pool_refs(f, "load_balancer"),
            application_gateways=_pool_refs(f, "application_gateway"),
            managed_identity=managed_identity(f.obj("managed_identity")),
            security_group=security_group_ref(f, "security_group"),
            application_security_groups=_optional_list(f, "application_security_groups"),
            assign_dynamic_public_ip=f.flag("assign_dynamic_public_ip", False),
            ip_forwarding=_optional_flag(f, "ip_forwarding"),
            accelerated_networking=_optional_flag(f, "accelerated_networking"),
            resource_group_name=f.text("resource_group_name", ""),
            tags=f.text_map("tags"),
            capacity_reservation_group=f.text("capacity_reservation_group_id", "")
            or f.text("capacity_reservation_group", ""),
            storage_account_type=f.choice("storage_account_type", DISK_TYPES, ""),
            security_type=security.choice("security_type", ("TrustedLaunch", "ConfidentialVM", "Standard"), ""),
            secure_boot=_optional_flag(security.obj("uefi_settings"), "secure_boot_enabled"),
            vtpm=_optional_flag(security.obj("uefi_settings"), "v_tpm_enabled"),
        )


def _instance_types(f: Fields) -> tuple[str, ...]:
    single = f.text("instance_type", "")
    if single:
        return (single,)
    several = f.text_list("instance_types", [])
    if not several:
        raise InvalidArgument("You need to specify one of 'vm_type/instance_type' or 'vm_resources'")
    return tuple(several)


def _root_disk(f: Fields) -> RootDisk:
    return RootDisk(
        size_mib=_size(f, "size"),
        type=f.choice("type", DISK_TYPES, ""),
        placement=f.choice("placement", PLACEMENTS, "remote"),
        disk_encryption_set_name=f.text("disk_encryption_set_name", ""),
    )


def _ephemeral_disk(f: Fields) -> EphemeralDisk:
    disk_type = f.choice("type", DISK_TYPES, "")
    caching = f.choice("caching", CACHING, "None" if disk_type in ("PremiumV2_LRS", "UltraSSD_LRS") else "ReadWrite")
    if disk_type in ("PremiumV2_LRS", "UltraSSD_LRS") and caching != "None":
        raise f.fail("caching", f"must be None for {disk_type} disks")
    return EphemeralDisk(
        use_root_disk=f.flag("use_root_disk", False),
        size_mib=_size(f, "size"),
        type=disk_type,
        caching=caching,
        iops=f.integer("iops", None, minimum=1),
        mbps=f.integer("mbps", None, minimum=1),
        disk_encryption_set_name=f.text("disk_encryption_set_name", ""),
    )


def _size(f: Fields, name: str) -> int | None:
    size: int | None = f.integer(name, None)
    if size is not None and size < 1024:
        raise f.fail(name, f"must be at least 1024 MiB (Azure's minimum disk size is 1 GiB), got {size}")
    return size


def _zone(f: Fields) -> str:
    value = f.raw("availability_zone")
    if value is None:
        return ""
    zone = str(value)
    if isinstance(value, bool) or zone not in ZONES:
        raise f.fail("availability_zone", f"'{zone}' is not a valid zone. Available zones are: 1, 2, 3")
    return zone


def _availability_set(f: Fields, zone: str, default_group: str) -> AvailabilitySetSpec | None:
    value = f.raw("availability_set")
    if zone and value is not None:
        raise InvalidArgument(
            "Only one of 'availability_zone' and 'availability_set' is allowed to be configured for the VM "
            "but you have configured both"
        )
    if zone:
        return None
    settings = f.obj("availability_set") if isinstance(value, dict) else f
    name = settings.text("name", "") if isinstance(value, dict) else (value if isinstance(value, str) else "")
    if value is not None and not isinstance(value, str | dict):
        raise f.fail("availability_set", "must be a name or an object with 'name'")
    name = name or default_group
    if not name:
        return None
    return AvailabilitySetSpec(
        name=availability_set_name(name),
        update_domains=settings.integer("platform_update_domain_count", 5, minimum=1),
        fault_domains=settings.integer("platform_fault_domain_count", 2, minimum=1),
    )


def availability_set_name(name: str) -> str:
    """Names over 80 characters become ``az-<md5 of the name>-<its last 40 characters>`` (Ruby CPI rule)."""
    if len(name) <= 80:
        return name
    import hashlib  # noqa: PLC0415

    return f"az-{hashlib.md5(name.encode(), usedforsecurity=False).hexdigest()}-{name[-40:]}"


def _pool_refs(f: Fields, name: str) -> tuple[PoolRef, ...]:
    """A name, a comma-separated list of names, an object, or a list of those; ``<name>s`` is read too."""
    key = name if f.has(name) else name + "s"
    value = f.raw(key)
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    refs: list[PoolRef] = []
    for index, item in enumerate(items):
        if isinstance(item, str):
            refs.extend(PoolRef(name=part.strip()) for part in item.split(",") if part.strip())
            continue
        entry = Fields(item, f.key(f"{key}[{index}]") if isinstance(value, list) else f.key(key))
        refs.append(
            PoolRef(
                name=entry.nonempty("name"),
                resource_group_name=entry.text("resource_group_name", ""),
                backend_pool_name=entry.text("backend_pool_name", ""),
            )
        )
    return tuple(refs)


def _optional_list(f: Fields, name: str) -> tuple[str, ...] | None:
    values = f.text_list(name, None)
    return None if values is None else tuple(values)


def _optional_flag(f: Fields, name: str) -> bool | None:
    return None if f.raw(name) is None else bool(f.flag(name))
