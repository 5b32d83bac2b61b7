"""``create_vm(agent_id, stemcell_cid, cloud_properties, networks, disk_cids, environment)``: create and start a VM.

The VM is named after ``agent_id`` and boots the stemcell's image (a gallery version replicated to the VM's
region first when needed, a managed image, or a marketplace reference). The agent settings (networks, disks,
``environment``, mbus, ntp) are delivered in ``customData``. ``disk_cids`` are attached at creation. Returns the
VM CID (``agent_id:<id>;resource_group_name:<rg>``); with CPI API v2 ``[vm_cid, networks]``. On failure every
resource the call created is deleted (unless ``keep_failed_vms``) and ``Bosh::Clouds::VMCreationFailed`` is
raised, with ``ok_to_retry`` true only for transient causes. https://bosh.io/docs/cpi-api-v2-method/create-vm/
"""

from __future__ import annotations

import logging
from typing import Any

from bosh_azure_cpi.errors import CpiError, VMCreationFailed
from bosh_azure_cpi.models.agent_settings import check_fits
from bosh_azure_cpi.models.cids import DiskCid, StemcellCid
from bosh_azure_cpi.models.network import NetworkPlan
from bosh_azure_cpi.models.vm_props import VmProps
from bosh_azure_cpi.models.vm_spec import VmRequest
from bosh_azure_cpi.services.interfaces import Call

logger = logging.getLogger(__name__)


def create_vm(
    call: Call,
    agent_id: str,
    stemcell_cid: str,
    cloud_properties: dict[str, Any],
    networks: dict[str, Any],
    disk_cids: list[Any] | None,
    environment: dict[str, Any] | None,
) -> Any:
    azure, env = call.config.azure, environment or {}
    try:
        _check(call, agent_id)
        request = VmRequest(
            agent_id=agent_id,
            stemcell=StemcellCid.parse(stemcell_cid),
            props=VmProps.from_dict(cloud_properties, default_group=_bosh_group(env)),
            plan=NetworkPlan.from_dict(networks),
            networks=networks,
            disk_cids=tuple(
                DiskCid.parse(str(c), azure.resource_group_name).require_managed() for c in disk_cids or []
            ),
            env=env,
        )
        check_fits(env, networks)
    except CpiError as error:
        raise VMCreationFailed(error.message, ok_to_retry=False) from error
    # The agent id names everything the call creates: after a SIGKILL, delete_vm with it removes the leftovers.
    logger.info("Creating VM '%s' with stemcell '%s'", agent_id, stemcell_cid)
    cid = call.services.vms.create(request)
    return [str(cid), networks] if call.v2 else str(cid)


def _check(call: Call, agent_id: str) -> None:
    azure = call.config.azure
    if azure.stemcell_api_version < 2:
        raise CpiError("Stemcell must support api version 2 or higher")
    if not azure.use_managed_disks:
        raise CpiError("Unmanaged disks are not supported: set 'azure.use_managed_disks: true'")
    if not agent_id or len(agent_id) > 64:
        raise CpiError(f"Invalid agent_id '{agent_id}': must be 1 to 64 characters")


def _bosh_group(env: dict[str, Any]) -> str:
    bosh = env.get("bosh")
    return str(bosh.get("group") or "") if isinstance(bosh, dict) else ""
