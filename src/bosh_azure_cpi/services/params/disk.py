"""Request bodies for managed disks and snapshots (DiskRP 2026-03-02)."""

from __future__ import annotations

from dataclasses import dataclass, field

from azure.mgmt.compute import models as m


@dataclass(frozen=True, slots=True, kw_only=True)
class DiskSpec:
    location: str
    size_gib: int
    type: str
    zone: str = ""
    iops: int | None = None
    mbps: int | None = None
    disk_encryption_set_id: str = ""
    tags: dict[str, str] = field(default_factory=dict)


def build_disk_params(spec: DiskSpec) -> m.Disk:
    """An empty managed disk."""
    encryption = None
    if spec.disk_encryption_set_id:
        encryption = m.Encryption(disk_encryption_set_id=spec.disk_encryption_set_id,
                                  type="EncryptionAtRestWithCustomerKey")  # fmt: skip
    return m.Disk(
        location=spec.location,
        tags=spec.tags,
        zones=[spec.zone] if spec.zone else None,
        sku=m.DiskSku(name=spec.type),
        properties=m.DiskProperties(
            creation_data=m.CreationData(create_option="Empty"),
            disk_size_gb=spec.size_gib,
            disk_iops_read_write=spec.iops,
            disk_m_bps_read_write=spec.mbps,
            encryption=encryption,
        ),
    )


def build_disk_update(
    size_gib: int | None = None, disk_type: str = "", iops: int | None = None, mbps: int | None = None
) -> m.DiskUpdate:
    properties = None
    if size_gib is not None or iops is not None or mbps is not None:
        properties = m.DiskUpdateProperties(
            disk_size_gb=size_gib, disk_iops_read_write=iops, disk_m_bps_read_write=mbps
        )
    return m.DiskUpdate(sku=m.DiskSku(name=disk_type) if disk_type else None, properties=properties)


def build_snapshot_params(location: str, source_id: str, tags: dict[str, str]) -> m.Snapshot:
    """An incremental snapshot: only changed data is stored, and it can be taken while the disk is attached."""
    return m.Snapshot(
        location=location,
        tags=tags,
        properties=m.SnapshotProperties(
            creation_data=m.CreationData(create_option="Copy", source_resource_id=source_id),
            incremental=True,
        ),
    )
