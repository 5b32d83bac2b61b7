"""Cloud ids (CIDs) in the Ruby Azure CPI's formats, so existing deployments keep working.

v2 ids are ``key:value`` pairs joined by ``;``, the pairs sorted as strings
(``agent_id:<uuid>;resource_group_name:<rg>``); a missing ``resource_group_name`` means the global resource group.
v1 ("plain") ids are a bare name: a 36-character agent id for VMs, ``bosh-disk-data-<uuid>-<caching>`` for managed
disks. Stemcells are ``bosh-stemcell-<uuid>`` and ``bosh-light-stemcell-<uuid>``. Every parse error is an
``InvalidArgument`` naming the id; unmanaged (blob) disks and VMs parse but ``require_managed`` refuses them with
``NotSupported``.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from bosh_azure_cpi.errors import InvalidArgument, NotSupported

STEMCELL_PREFIX = "bosh-stemcell-"
LIGHT_STEMCELL_PREFIX = "bosh-light-stemcell-"
MANAGED_DATA_DISK_PREFIX = "bosh-disk-data-"
UNMANAGED_DATA_DISK_PREFIX = "bosh-data"
CACHING_VALUES = ("None", "ReadOnly", "ReadWrite")
_PAIR = re.compile(r"^([^:]*):(.*)$", re.S)
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# What Azure allows in resource group, VM, disk and storage account names (letters, digits, '_', '-', '.', '()',
# not ending in '.'): anything else, '/', '?', '%' or '..' above all, would change the ARM URL the name goes into.
_AZURE_NAME = re.compile(r"^[\w().-]{1,90}(?<!\.)$")


def check_names(cid: str, kind: str, **names: str) -> None:
    """Raise InvalidArgument naming the id when one of ``names`` (key: value) is not a valid Azure resource name."""
    for key, value in names.items():
        if value and not _AZURE_NAME.match(value):
            raise InvalidArgument(f"Invalid {kind} id '{cid}': {key} '{value}' is not a valid Azure resource name")


def parse_pairs(cid: str, kind: str) -> dict[str, str] | None:
    """Split a v2 id into its pairs; None for a plain (v1) id. Raises InvalidArgument for malformed input."""
    if not isinstance(cid, str) or not cid.strip():
        raise InvalidArgument(f"Invalid {kind} id: must be a non-empty string")
    items = [item for item in cid.split(";") if item]
    if len(items) <= 1:
        return None
    pairs: dict[str, str] = {}
    for item in items:
        match = _PAIR.match(item)
        if match is None:
            raise InvalidArgument(f"Invalid {kind} id '{cid}': '{item}' is not in key:value format")
        pairs[match.group(1)] = match.group(2)
    return pairs


def render_pairs(pairs: dict[str, str]) -> str:
    return ";".join(sorted(f"{key}:{value}" for key, value in pairs.items() if value))


@dataclass(frozen=True, slots=True, kw_only=True)
class VmCid:
    """A VM: ``agent_id:<id>;resource_group_name:<rg>[;storage_account_name:<sa>]`` or a plain agent id."""

    agent_id: str
    resource_group_name: str
    storage_account_name: str = ""
    plain: bool = False

    @classmethod
    def parse(cls, cid: str, default_resource_group: str) -> VmCid:
        pairs = parse_pairs(cid, "VM")
        if pairs is None:
            return cls._parse_plain(cid.strip(";"), default_resource_group)
        agent_id = pairs.get("agent_id", "")
        resource_group = pairs.get("resource_group_name", default_resource_group)
        if not agent_id:
            raise InvalidArgument(f"Invalid VM id '{cid}': agent_id is missing")
        if not resource_group:
            raise InvalidArgument(f"Invalid VM id '{cid}': resource_group_name is empty")
        if "storage_account_name" in pairs and not pairs["storage_account_name"]:
            raise InvalidArgument(f"Invalid VM id '{cid}': storage_account_name is empty")
        account = pairs.get("storage_account_name", "")
        check_names(cid, "VM", agent_id=agent_id, resource_group_name=resource_group, storage_account_name=account)
        return cls(agent_id=agent_id, resource_group_name=resource_group, storage_account_name=account)

    @classmethod
    def _parse_plain(cls, cid: str, default_resource_group: str) -> VmCid:
        if not _AZURE_NAME.match(cid):
            raise InvalidArgument(f"Invalid VM id (plain) '{cid}'")
        if len(cid) == 36:
            return cls(agent_id=cid, resource_group_name=default_resource_group, plain=True)
        account, _, agent_id = cid.partition("-")
        if not account or len(agent_id) != 36:
            raise InvalidArgument(f"Invalid VM id (plain) '{cid}'")
        return cls(
            agent_id=agent_id, resource_group_name=default_resource_group, storage_account_name=account, plain=True
        )

    @property
    def vm_name(self) -> str:
        return self.agent_id

    @property
    def managed(self) -> bool:
        return not self.storage_account_name

    def require_managed(self) -> VmCid:
        if not self.managed:
            raise NotSupported(f"VM '{self}' uses unmanaged disks, which this CPI does not support")
        return self

    def __str__(self) -> str:
        if self.plain:
            return self.agent_id if self.managed else f"{self.storage_account_name}-{self.agent_id}"
        return render_pairs(
            {
                "agent_id": self.agent_id,
                "resource_group_name": self.resource_group_name,
                "storage_account_name": self.storage_account_name,
            }
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class DiskCid:
    """A managed disk (or snapshot): ``caching:<c>;disk_name:bosh-disk-data-<uuid>;resource_group_name:<rg>``."""

    disk_name: str
    caching: str
    resource_group_name: str
    storage_account_name: str = ""
    plain: bool = False

    @classmethod
    def new(cls, caching: str, resource_group_name: str) -> DiskCid:
        return cls(
            disk_name=f"{MANAGED_DATA_DISK_PREFIX}{uuid.uuid4()}",
            caching=caching,
            resource_group_name=resource_group_name,
        )

    @classmethod
    def parse(cls, cid: str, default_resource_group: str, kind: str = "disk") -> DiskCid:
        pairs = parse_pairs(cid, kind)
        if pairs is None:
            return cls._parse_plain(cid.strip(";"), default_resource_group, kind)
        name = pairs.get("disk_name", "")
        caching = pairs.get("caching", "")
        resource_group = pairs.get("resource_group_name", default_resource_group)
        if not name:
            raise InvalidArgument(f"Invalid {kind} id '{cid}': disk_name is missing")
        if caching not in CACHING_VALUES:
            raise InvalidArgument(f"Invalid {kind} id '{cid}': caching must be one of {', '.join(CACHING_VALUES)}")
        if not resource_group:
            raise InvalidArgument(f"Invalid {kind} id '{cid}': resource_group_name is empty")
        account = pairs.get("storage_account_name", "")
        check_names(cid, kind, disk_name=name, resource_group_name=resource_group, storage_account_name=account)
        return cls(disk_name=name, caching=caching, resource_group_name=resource_group, storage_account_name=account)

    @classmethod
    def _parse_plain(cls, cid: str, default_resource_group: str, kind: str) -> DiskCid:
        caching = cid.rsplit("-", 1)[-1]
        if not cid.startswith((MANAGED_DATA_DISK_PREFIX, UNMANAGED_DATA_DISK_PREFIX)) or not _AZURE_NAME.match(cid):
            raise InvalidArgument(f"Invalid {kind} id (plain) '{cid}'")
        if caching not in CACHING_VALUES:
            raise InvalidArgument(f"Invalid {kind} id (plain) '{cid}': unknown caching '{caching}'")
        account = ""
        if not cid.startswith(MANAGED_DATA_DISK_PREFIX):
            account = cid[len(UNMANAGED_DATA_DISK_PREFIX) + 1 :].split("-", 1)[0]
        return cls(
            disk_name=cid,
            caching=caching,
            resource_group_name=default_resource_group,
            storage_account_name=account,
            plain=True,
        )

    @property
    def managed(self) -> bool:
        return not (self.storage_account_name or self.disk_name.startswith(UNMANAGED_DATA_DISK_PREFIX))

    def require_managed(self) -> DiskCid:
        if not self.managed:
            raise NotSupported(
                f"Disk '{self}' is an unmanaged (blob) disk; this CPI supports managed disks only "
                "(migrate it to a managed disk first)"
            )
        return self

    def __str__(self) -> str:
        if self.plain:
            return self.disk_name
        return render_pairs(
            {
                "caching": self.caching,
                "disk_name": self.disk_name,
                "resource_group_name": self.resource_group_name,
                "storage_account_name": self.storage_account_name,
            }
        )


SnapshotCid = DiskCid
"""Snapshots use the disk id format (a ``bosh-disk-data-<uuid>`` snapshot resource), as in the Ruby CPI."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StemcellCid:
    """``bosh-stemcell-<uuid>`` (uploaded VHD) or ``bosh-light-stemcell-<uuid>`` (marketplace image reference)."""

    name: str

    @classmethod
    def new(cls, light: bool = False) -> StemcellCid:
        return cls(name=f"{LIGHT_STEMCELL_PREFIX if light else STEMCELL_PREFIX}{uuid.uuid4()}")

    @classmethod
    def parse(cls, cid: str) -> StemcellCid:
        if not isinstance(cid, str) or not cid.startswith((STEMCELL_PREFIX, LIGHT_STEMCELL_PREFIX)):
            raise InvalidArgument(
                f"Invalid stemcell id '{cid}': expected '{STEMCELL_PREFIX}<uuid>' or '{LIGHT_STEMCELL_PREFIX}<uuid>'"
            )
        suffix = cid.removeprefix(LIGHT_STEMCELL_PREFIX).removeprefix(STEMCELL_PREFIX)
        if not suffix or "/" in suffix or len(cid) > 128:
            raise InvalidArgument(f"Invalid stemcell id '{cid}'")
        return cls(name=cid)

    @property
    def light(self) -> bool:
        return self.name.startswith(LIGHT_STEMCELL_PREFIX)

    @property
    def uuid(self) -> str:
        return self.name.removeprefix(LIGHT_STEMCELL_PREFIX).removeprefix(STEMCELL_PREFIX)

    @property
    def blob_name(self) -> str:
        return f"{self.name}.vhd"

    def __str__(self) -> str:
        return self.name


def is_uuid(value: str) -> bool:
    return bool(_UUID.match(value))
