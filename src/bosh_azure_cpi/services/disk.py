"""DiskService: managed disks and snapshots. Reads return None when absent; writes wait for their LRO."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bosh_azure_cpi.config import AzureConfig
from bosh_azure_cpi.models.cids import DiskCid
from bosh_azure_cpi.models.deadline import Deadline
from bosh_azure_cpi.models.resource_ids import resource_id
from bosh_azure_cpi.services.lro import azure_errors, find, ignore_missing, wait
from bosh_azure_cpi.services.params.disk import DiskSpec, build_disk_params, build_disk_update, build_snapshot_params

if TYPE_CHECKING:
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.compute import models as m

logger = logging.getLogger(__name__)


class DiskService:
    def __init__(self, client: ComputeManagementClient, config: AzureConfig, deadline: Deadline) -> None:
        self._client = client
        self._config = config
        self._deadline = deadline

    def disk_id(self, cid: DiskCid) -> str:
        return resource_id(
            self._config.subscription_id, cid.resource_group_name, "Microsoft.Compute/disks", cid.disk_name
        )

    def find(self, cid: DiskCid) -> m.Disk | None:
        return find(f"Getting disk '{cid.disk_name}'",
                    lambda: self._client.disks.get(cid.resource_group_name, cid.disk_name))  # fmt: skip

    def create(self, cid: DiskCid, spec: DiskSpec) -> m.Disk:
        what = f"Creating disk '{cid.disk_name}' ({spec.size_gib} GiB {spec.type})"
        logger.info("%s", what)
        with azure_errors(what):
            poller = self._client.disks.begin_create_or_update(cid.resource_group_name, cid.disk_name,
                                                               build_disk_params(spec))  # fmt: skip
        disk: m.Disk = wait(poller, what, self._deadline)
        return disk

    def update(self, cid: DiskCid, what: str, **changes: Any) -> m.Disk:
        with azure_errors(what):
            poller = self._client.disks.begin_update(cid.resource_group_name, cid.disk_name,
                                                     build_disk_update(**changes))  # fmt: skip
        disk: m.Disk = wait(poller, what, self._deadline)
        return disk

    def set_tags(self, cid: DiskCid, tags: dict[str, str]) -> None:
        from azure.mgmt.compute import models as m  # noqa: PLC0415

        what = f"Updating the tags of disk '{cid.disk_name}'"
        with azure_errors(what):
            poller = self._client.disks.begin_update(cid.resource_group_name, cid.disk_name, m.DiskUpdate(tags=tags))
        wait(poller, what, self._deadline)

    def delete(self, cid: DiskCid) -> bool:
        what = f"Deleting disk '{cid.disk_name}'"

        def delete() -> None:
            wait(self._client.disks.begin_delete(cid.resource_group_name, cid.disk_name), what, self._deadline)

        return ignore_missing(what, delete)

    def snapshot(self, source: DiskCid, location: str, snapshot: DiskCid, tags: dict[str, str]) -> None:
        what = f"Snapshotting disk '{source.disk_name}' as '{snapshot.disk_name}'"
        logger.info("%s", what)
        body = build_snapshot_params(location, self.disk_id(source), tags)
        with azure_errors(what):
            poller = self._client.snapshots.begin_create_or_update(snapshot.resource_group_name, snapshot.disk_name,
                                                                   body)  # fmt: skip
        wait(poller, what, self._deadline)

    def find_snapshot(self, cid: DiskCid) -> m.Snapshot | None:
        return find(f"Getting snapshot '{cid.disk_name}'",
                    lambda: self._client.snapshots.get(cid.resource_group_name, cid.disk_name))  # fmt: skip

    def delete_snapshot(self, cid: DiskCid) -> bool:
        what = f"Deleting snapshot '{cid.disk_name}'"

        def delete() -> None:
            wait(self._client.snapshots.begin_delete(cid.resource_group_name, cid.disk_name), what, self._deadline)

        return ignore_missing(what, delete)
