"""VmCreator: the ``create_vm`` sequence, with exact cleanup.

1. Independent preparation runs concurrently (and every task is awaited before an error is raised): the
   stemcell image for the VM's region (may replicate), the availability set, the public IP, and the lookups
   of load balancer / application gateway pools and security groups.
2. The NICs, then the VM (its NICs, OS disk and ephemeral disk are deleted with it; attached persistent disks
   are only detached).
3. Every resource the call creates is recorded before its request is sent; on failure exactly those are deleted
   (by name, never by listing), unless ``keep_failed_vms``. The error is ``VMCreationFailed`` with
   ``ok_to_retry`` true only when a retry can help (throttling, server errors, deadlines).
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from bosh_azure_cpi.config import CpiConfig
from bosh_azure_cpi.errors import CpiError, VMCreationFailed
from bosh_azure_cpi.models.cids import VmCid
from bosh_azure_cpi.models.deadline import Deadline
from bosh_azure_cpi.models.images import VmImage
from bosh_azure_cpi.models.vm_spec import VmRequest
from bosh_azure_cpi.services.network import NetworkService
from bosh_azure_cpi.services.vm import VmService
from bosh_azure_cpi.services.vm_assembly import Prepared, VmAssembly

logger = logging.getLogger(__name__)
CLEANUP_GRACE_S = 600


_DEPENDENCY_ORDER = ("availability_set", "public_ip", "nic", "disk", "vm")


@dataclass
class Ledger:
    """Resources created by this call; rolled back in the reverse of :meth:`ordered`."""

    entries: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, group, name)

    def add(self, kind: str, group: str, name: str) -> None:
        self.entries.append((kind, group, name))

    def ordered(self) -> list[tuple[str, str, str]]:
        """What is used before its users (availability sets, public IPs, NICs, disks, the VM), creation order within
        a kind: the preparations run in parallel, so their creation order alone is not stable."""
        return sorted(self.entries, key=lambda entry: _DEPENDENCY_ORDER.index(entry[0]))

    def describe(self) -> str:
        return ", ".join(f"{kind} '{name}'" for kind, _, name in self.ordered()) or "nothing"


class VmCreator:
    def __init__(
        self, vms: VmService, network: NetworkService, stemcells: Any, config: CpiConfig, deadline: Deadline
    ) -> None:
        self._vms = vms
        self._network = network
        self._stemcells = stemcells
        self._config = config
        self._deadline = deadline

    def create(self, request: VmRequest) -> VmCid:
        azure = self._config.azure
        group = request.props.resource_group_name or azure.resource_group_name
        cid = VmCid(agent_id=request.agent_id, resource_group_name=group)
        ledger = Ledger()
        try:
            location = azure.location or self._network.vnet_location(request.plan.primary)
            if group != azure.resource_group_name:
                self._vms.ensure_resource_group(group, location)
            assembly = VmAssembly(self._vms, self._network, self._config, ledger)
            image, set_id, pip_id, refs = self._prepare(request, group, location, assembly)
            nic_ids = assembly.create_nics(request, group, location, pip_id, refs)
            prepared = Prepared(location=location, image=image, availability_set_id=set_id, nic_ids=tuple(nic_ids))
            assembly.create_vm(request, cid, prepared)
            logger.info("Created VM %s in %s", cid, location)
            return cid
        except BaseException as exc:
            self._fail(exc, ledger, request)
            raise  # pragma: no cover - _fail always raises

    def _prepare(
        self, request: VmRequest, group: str, location: str, assembly: VmAssembly
    ) -> tuple[VmImage, str, str, dict[str, Any]]:
        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="prepare") as pool:
            futures: dict[str, Future[Any]] = {
                "image": pool.submit(self._stemcells.resolve, request.stemcell, location),
                "availability_set": pool.submit(assembly.availability_set, request.props, group, location),
                "public_ip": pool.submit(assembly.public_ip, request, group, location),
                "references": pool.submit(assembly.references, request.plan, request.props),
            }
        errors = [f.exception() for f in futures.values() if f.exception() is not None]
        if errors:
            raise errors[0]  # type: ignore[misc]
        return (
            futures["image"].result(),
            futures["availability_set"].result(),
            futures["public_ip"].result(),
            futures["references"].result(),
        )

    def _fail(self, exc: BaseException, ledger: Ledger, request: VmRequest) -> None:
        if self._config.azure.keep_failed_vms:
            logger.error("Creating VM '%s' failed; keeping %s (keep_failed_vms)", request.agent_id, ledger.describe())
        else:
            grace = Deadline(CLEANUP_GRACE_S)  # the call's own deadline may be what failed
            VmAssembly(
                self._vms.with_deadline(grace), self._network.with_deadline(grace), self._config, ledger
            ).rollback()
        if not isinstance(exc, Exception):
            raise exc
        retry = exc.ok_to_retry if isinstance(exc, CpiError) else False
        message = exc.message if isinstance(exc, CpiError) else f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
        if self._config.azure.keep_failed_vms and ledger.entries:
            message += f" (kept for troubleshooting: {ledger.describe()})"
        raise VMCreationFailed(message.replace("vmSize", "instance_type"), ok_to_retry=retry) from exc
