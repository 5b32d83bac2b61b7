"""VmService: virtual machines and availability sets.

Reads return None when absent; writes wait for their long-running operation within the call's deadline.
Changes to an existing VM (tags, data disks) are conflict-safe: tags go through PATCH (Azure merges nothing
else), data disk changes are a read-modify-write guarded by the VM's ETag and retried on 412/409 with a fresh read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError

from bosh_azure_cpi.config import AzureConfig
from bosh_azure_cpi.errors import AzureError, CloudError, VMNotFound
from bosh_azure_cpi.models.deadline import Deadline
from bosh_azure_cpi.models.resource_ids import resource_id
from bosh_azure_cpi.models.vm_props import AvailabilitySetSpec
from bosh_azure_cpi.services.lro import azure_errors, find, ignore_missing, status_is_final, to_azure_error, wait
from bosh_azure_cpi.services.params.disk import build_disk_update
from bosh_azure_cpi.services.params.vm import build_availability_set_params

if TYPE_CHECKING:
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.compute import models as m

logger = logging.getLogger(__name__)
UPDATE_ATTEMPTS = 6
CONFLICT_CODES = ("ConflictingConcurrentWriteNotAllowed", "PreconditionFailed")


class VmService:
    def __init__(self, client: ComputeManagementClient, config: AzureConfig, deadline: Deadline) -> None:
        self._client = client
        self._config = config
        self._deadline = deadline

    def with_deadline(self, deadline: Deadline) -> VmService:
        """The same service bounded by another deadline (cleanup after the call's deadline has passed)."""
        return VmService(self._client, self._config, deadline)

    def availability_set_id(self, group: str, name: str) -> str:
        return resource_id(self._config.subscription_id, group, "Microsoft.Compute/availabilitySets", name)

    def find(self, group: str, name: str, *, instance_view: bool = False) -> m.VirtualMachine | None:
        expand = "instanceView" if instance_view else None
        return find(f"Getting VM '{name}'", lambda: self._client.virtual_machines.get(group, name, expand=expand))

    def create(self, group: str, name: str, body: m.VirtualMachine) -> None:
        """Create the VM and wait until Azure reports it provisioned (no read-back: nothing of it is needed)."""
        what = f"Creating VM '{name}'"
        logger.info(
            "%s (%s in %s)",
            what,
            body.properties.hardware_profile.vm_size if body.properties and body.properties.hardware_profile else "?",
            body.location,
        )
        with azure_errors(what):
            poller = self._client.virtual_machines.begin_create_or_update(
                group, name, body, polling=status_is_final(self._config.polling_interval_seconds)
            )
        wait(poller, what, self._deadline)

    def delete(self, group: str, name: str) -> bool:
        what = f"Deleting VM '{name}'"

        def delete() -> None:
            wait(self._client.virtual_machines.begin_delete(group, name), what, self._deadline)

        return ignore_missing(what, delete)

    def restart(self, group: str, name: str) -> None:
        what = f"Restarting VM '{name}'"
        with azure_errors(what):
            poller = self._client.virtual_machines.begin_restart(group, name)
        wait(poller, what, self._deadline)

    def set_tags(self, group: str, name: str, tags: Callable[[dict[str, str]], dict[str, str]]) -> m.VirtualMachine:
        """Replace the VM's tags with ``tags(current)``; PATCH guarded by the ETag, retried on conflict."""
        from azure.mgmt.compute import models as m  # noqa: PLC0415

        def change(vm: m.VirtualMachine) -> tuple[Any, Any] | None:
            return self._client.virtual_machines.begin_update, m.VirtualMachineUpdate(tags=tags(dict(vm.tags or {})))

        return self.modify(group, name, change, f"Updating the tags of VM '{name}'")

    def modify(
        self,
        group: str,
        name: str,
        change: Callable[[m.VirtualMachine], tuple[Any, Any] | None],
        what: str,
    ) -> m.VirtualMachine:
        """Read the VM and apply ``change`` (the SDK begin_* method and its body, or None for "nothing to do")
        with If-Match on the VM's ETag; on a concurrent write (412/409) read again and retry.
        Raises VMNotFound when the VM does not exist."""
        for attempt in range(1, UPDATE_ATTEMPTS + 1):
            vm = self.find(group, name)
            if vm is None:
                raise VMNotFound(f"VM '{name}' in resource group '{group}' cannot be found")
            planned = change(vm)
            if planned is None:
                return vm
            method, body = planned
            try:
                poller = method(group, name, body, etag=vm.etag, match_condition=MatchConditions.IfNotModified)
                updated: m.VirtualMachine = wait(poller, what, self._deadline)
                return updated
            except HttpResponseError as exc:
                error = to_azure_error(exc, what)
                if not _is_conflict(error) or attempt == UPDATE_ATTEMPTS:
                    raise error from exc
                logger.warning("%s: the VM changed concurrently (%s); retrying with a fresh read", what, error.code)
            except AzureError as error:
                if not _is_conflict(error) or attempt == UPDATE_ATTEMPTS:
                    raise
                logger.warning("%s: the VM changed concurrently (%s); retrying with a fresh read", what, error.code)
        raise CloudError(f"{what}: kept conflicting with concurrent writes")  # pragma: no cover - loop returns/raises

    @property
    def update_method(self) -> Any:
        """The PATCH operation for ``modify``."""
        return self._client.virtual_machines.begin_update

    def resource_group_location(self, group: str) -> str:
        from azure.core.rest import HttpRequest  # noqa: PLC0415

        url = f"/subscriptions/{self._config.subscription_id}/resourcegroups/{group}?api-version=2021-04-01"
        with azure_errors(f"Getting resource group '{group}'"):
            response = self._client.send_request(HttpRequest("GET", url))
            response.raise_for_status()
        return str(response.json()["location"])

    def ensure_resource_group(self, group: str, location: str) -> None:
        """Create the resource group in ``location`` unless it exists (a vm_type's own ``resource_group_name``;
        the Ruby CPI creates it too). Never deleted by the CPI."""
        from azure.core.rest import HttpRequest  # noqa: PLC0415

        url = f"/subscriptions/{self._config.subscription_id}/resourcegroups/{group}?api-version=2021-04-01"
        with azure_errors(f"Creating resource group '{group}' in '{location}'"):
            found = self._client.send_request(HttpRequest("GET", url))
            if found.status_code != 404:
                found.raise_for_status()
                return
            self._client.send_request(HttpRequest("PUT", url, json={"location": location})).raise_for_status()
        logger.info("Created resource group '%s' in '%s'", group, location)

    def ensure_availability_set(self, group: str, spec: AvailabilitySetSpec, location: str) -> str:
        """Create or update the availability set (idempotent PUT); returns its id."""
        what = f"Creating availability set '{spec.name}'"
        body = build_availability_set_params(spec, location)
        with azure_errors(what):
            result = self._client.availability_sets.create_or_update(group, spec.name, body)
        return str(result.id)

    def delete_availability_set_if_empty(self, group: str, name: str) -> bool:
        """Delete a CPI-created availability set without VMs; a set in use by a concurrent create stays."""
        current = find(f"Getting availability set '{name}'", lambda: self._client.availability_sets.get(group, name))
        if current is None or (current.tags or {}).get("user-agent") != "bosh":
            return False
        if current.properties and current.properties.virtual_machines:
            return False
        what = f"Deleting empty availability set '{name}'"
        try:
            with azure_errors(what):
                self._client.availability_sets.delete(group, name)
        except AzureError as error:
            if error.status == 409:  # a VM was added meanwhile: keep the set
                logger.info("%s: kept, it is in use (%s)", what, error.code)
                return False
            raise
        logger.info("%s: done", what)
        return True

    def delete_disk(self, group: str, name: str) -> bool:
        what = f"Deleting managed disk '{name}'"

        def delete() -> None:
            wait(self._client.disks.begin_delete(group, name), what, self._deadline)

        return ignore_missing(what, delete)

    def set_disk_performance(self, group: str, name: str, iops: int | None, mbps: int | None) -> None:
        """PATCH a disk's provisioned IOPS / MB/s (Premium SSD v2, Ultra): what the VM body cannot carry."""
        what = f"Setting the performance of disk '{name}' (iops {iops}, mbps {mbps})"
        with azure_errors(what):
            poller = self._client.disks.begin_update(group, name, build_disk_update(iops=iops, mbps=mbps))
        wait(poller, what, self._deadline)

    def list_skus(self, location: str) -> list[Any]:
        with azure_errors(f"Listing resource SKUs in '{location}'"):
            return list(self._client.resource_skus.list(filter=f"location eq '{location}'"))


def _is_conflict(error: AzureError) -> bool:
    return error.status == 412 or error.code in CONFLICT_CODES
