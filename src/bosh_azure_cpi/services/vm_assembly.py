"""The steps of ``create_vm`` (see ``vm_creator``): each records what it creates in the ledger first."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bosh_azure_cpi.config import CpiConfig
from bosh_azure_cpi.errors import AzureError, CpiError, NotSupported
from bosh_azure_cpi.models.agent_settings import AgentSettings
from bosh_azure_cpi.models.cids import VmCid
from bosh_azure_cpi.models.images import VmImage
from bosh_azure_cpi.models.network import NetworkPlan
from bosh_azure_cpi.models.resource_ids import resource_id
from bosh_azure_cpi.models.vm_props import VmProps
from bosh_azure_cpi.models.vm_spec import (
    AttachedDisk,
    VmRequest,
    VmSpec,
    plan_ephemeral_disk,
    plan_os_disk,
)
from bosh_azure_cpi.services.network import NetworkService
from bosh_azure_cpi.services.params.network import NicSpec
from bosh_azure_cpi.services.params.vm import build_vm_params
from bosh_azure_cpi.services.vm import VmService

if TYPE_CHECKING:
    from bosh_azure_cpi.services.vm_creator import Ledger

logger = logging.getLogger(__name__)
COMPUTE = "Microsoft.Compute"


@dataclass(frozen=True, slots=True, kw_only=True)
class Prepared:
    """What the VM body needs from the earlier steps."""

    location: str
    image: VmImage
    availability_set_id: str
    nic_ids: tuple[str, ...]


class VmAssembly:
    def __init__(self, vms: VmService, network: NetworkService, config: CpiConfig, ledger: Ledger) -> None:
        self._vms = vms
        self._network = network
        self._config = config
        self._azure = config.azure
        self._ledger = ledger

    def availability_set(self, props: VmProps, group: str, location: str) -> str:
        if props.availability_set is None:
            return ""
        # Recorded so a failed create removes the set again when it is left empty (the Ruby CPI does too).
        self._ledger.add("availability_set", group, props.availability_set.name)
        return self._vms.ensure_availability_set(group, props.availability_set, location)

    def public_ip(self, request: VmRequest, group: str, location: str) -> str:
        vip = request.plan.vip
        if vip is not None:
            return self._network.public_ip_id_by_address(vip.ip, vip.resource_group_name)
        if not request.props.assign_dynamic_public_ip:
            return ""
        self._ledger.add("public_ip", group, request.agent_id)
        return self._network.create_public_ip(group, request.agent_id, location, request.props.availability_zone)

    def references(self, plan: NetworkPlan, props: VmProps) -> dict[str, Any]:
        """NSG and ASG ids per NIC, and the load balancer / application gateway pools of the primary NIC."""
        security, asgs = [], []
        for group in plan.nics:
            network = group[0]
            ref = props.security_group or network.security_group or self._azure.default_security_group
            network_group = self._network.group_of(network)
            security.append(self._network.security_group_id(ref, network_group) if ref else "")
            names = props.application_security_groups
            names = names if names is not None else network.application_security_groups
            asgs.append(self._network.application_security_group_ids(tuple(names), network_group))
        pools: list[str] = []
        nat: list[str] = []
        for lb in props.load_balancers:
            lb_pools, lb_nat = self._network.load_balancer_pools(lb)
            pools += lb_pools
            nat += lb_nat
        gateways = [pool for agw in props.application_gateways for pool in self._network.gateway_pools(agw)]
        return {"security": security, "asgs": asgs, "pools": pools, "nat": nat, "gateways": gateways}

    def create_nics(
        self, request: VmRequest, group: str, location: str, pip_id: str, refs: dict[str, Any]
    ) -> list[str]:
        props, ids = request.props, []
        for index, networks in enumerate(request.plan.nics):
            first = networks[0]
            primary = index == 0
            spec = NicSpec(
                name=f"{request.agent_id}-{index}",
                location=location,
                networks=networks,
                subnet_ids=tuple(self._network.subnet_id(n) for n in networks),
                security_group_id=refs["security"][index],
                application_security_group_ids=refs["asgs"][index],
                public_ip_id=pip_id if index == request.plan.public_ip_nic else "",
                backend_pool_ids=tuple(refs["pools"]) if primary else (),
                nat_rule_ids=tuple(refs["nat"]) if primary else (),
                gateway_pool_ids=tuple(refs["gateways"]) if primary else (),
                ip_forwarding=_choose(props.ip_forwarding, first.ip_forwarding),
                accelerated_networking=_choose(props.accelerated_networking, first.accelerated_networking),
                tags=self._nic_tags(props, primary),
            )
            self._ledger.add("nic", group, spec.name)
            ids.append(self._network.create_nic(group, spec))
        return ids

    def create_vm(self, request: VmRequest, cid: VmCid, prepared: Prepared) -> None:
        image, set_id, location = prepared.image, prepared.availability_set_id, prepared.location
        if image.os_type != "Linux":
            raise NotSupported(f"Stemcells with os_type '{image.os_type}' are not supported by this CPI (Linux only)")
        spec = self._spec(request, cid, prepared)
        # The disks come with the VM: recorded first, so a rollback deletes the VM before its (then detached) disks.
        self._ledger.add("disk", cid.resource_group_name, spec.os_disk.name)
        if spec.ephemeral_disk is not None:
            self._ledger.add("disk", cid.resource_group_name, spec.ephemeral_disk.name)
        self._ledger.add("vm", cid.resource_group_name, spec.name)
        body = build_vm_params(spec)
        try:
            self._vms.create(cid.resource_group_name, spec.name, body)
        except AzureError as error:
            if not (
                set_id
                and request.props.availability_set
                and "availabilitysets" in error.message.lower()
                and error.code in ("NotFound", "ResourceNotFound")
            ):
                raise
            logger.warning("Availability set vanished (deleted concurrently as empty); recreating it once")
            self._vms.ensure_availability_set(cid.resource_group_name, request.props.availability_set, location)
            self._vms.create(cid.resource_group_name, spec.name, body)
        ephemeral = spec.ephemeral_disk
        if ephemeral is not None and (ephemeral.iops is not None or ephemeral.mbps is not None):
            self._vms.set_disk_performance(cid.resource_group_name, ephemeral.name, ephemeral.iops, ephemeral.mbps)

    def _spec(self, request: VmRequest, cid: VmCid, prepared: Prepared) -> VmSpec:
        props, azure, name, image = request.props, self._azure, request.agent_id, prepared.image
        ephemeral = plan_ephemeral_disk(props, name, self._des_id(cid, props.ephemeral_disk.disk_encryption_set_name))
        settings = AgentSettings(
            vm_cid=str(cid),
            vm_name=name,
            agent_id=name,
            networks=request.networks,
            dns=request.plan.dns,
            env=request.env,
            agent_config=self._agent_config(),
            ephemeral_lun=None if ephemeral is None else ephemeral.lun,
            aliases=request.plan.aliases(),
        )
        identity = props.managed_identity or azure.default_managed_identity
        return VmSpec(
            name=name,
            resource_group=cid.resource_group_name,
            location=prepared.location,
            size=props.instance_type,
            image=image,
            os_disk=plan_os_disk(props, image, name, self._des_id(cid, props.root_disk.disk_encryption_set_name)),
            ephemeral_disk=ephemeral,
            nic_ids=prepared.nic_ids,
            admin_user=azure.ssh_user,
            ssh_public_key=azure.ssh_public_key,
            custom_data=settings.custom_data(),
            attached=tuple(
                AttachedDisk(
                    id=self._disk_id(d.resource_group_name or cid.resource_group_name, d.disk_name),
                    lun=lun,
                    caching=d.caching,
                )
                for lun, d in enumerate(request.disk_cids, start=1)
            ),
            availability_set_id=prepared.availability_set_id,
            zone=props.availability_zone,
            identity_type=identity.type if identity else "",
            user_identity_ids=self._identity_ids(identity, cid),
            tags=self._vm_tags(request),
            security_type=props.security_type,
            secure_boot=props.secure_boot,
            vtpm=props.vtpm,
            capacity_reservation_group_id=self._reservation_id(props, cid),
        )

    def _agent_config(self) -> dict[str, Any]:
        agent = self._config.agent
        config: dict[str, Any] = dict(agent.extra)
        if agent.mbus:
            config["mbus"] = agent.mbus
        config["ntp"] = list(agent.ntp)
        return config

    def _vm_tags(self, request: VmRequest) -> dict[str, str]:
        bosh = request.env.get("bosh") if isinstance(request.env, dict) else None
        env_tags = bosh.get("tags") if isinstance(bosh, dict) else None
        tags = {"user-agent": "bosh"}
        if isinstance(env_tags, dict):
            tags.update({str(k): str(v) for k, v in env_tags.items()})
        tags.update(request.props.tags)
        return tags

    def _nic_tags(self, props: VmProps, primary: bool) -> dict[str, str]:
        tags = {"user-agent": "bosh"}
        if primary and props.availability_set is not None:
            tags["availability_set"] = props.availability_set.name
        return tags

    def _des_id(self, cid: VmCid, name: str) -> str:
        if not name:
            return ""
        return resource_id(
            self._azure.subscription_id, self._azure.resource_group_name, f"{COMPUTE}/diskEncryptionSets", name
        )

    def _disk_id(self, group: str, name: str) -> str:
        return resource_id(self._azure.subscription_id, group, f"{COMPUTE}/disks", name)

    def _identity_ids(self, identity: Any, cid: VmCid) -> tuple[str, ...]:
        if identity is None or identity.type != "UserAssigned":
            return ()
        return (
            resource_id(
                self._azure.subscription_id,
                cid.resource_group_name,
                "Microsoft.ManagedIdentity/userAssignedIdentities",
                identity.user_assigned_identity_name,
            ),
        )

    def _reservation_id(self, props: VmProps, cid: VmCid) -> str:
        value = props.capacity_reservation_group
        if not value or value.startswith("/"):
            return value
        return resource_id(
            self._azure.subscription_id, cid.resource_group_name, f"{COMPUTE}/capacityReservationGroups", value
        )

    def rollback(self) -> None:
        """Delete what the ledger recorded, users before what they use (the VM, its disks, NICs, public IPs, then
        availability sets), newest first within a kind; failures are logged and the rest still attempted."""
        for kind, group, name in reversed(self._ledger.ordered()):
            try:
                self._delete(kind, group, name)
            except CpiError as error:
                logger.error("Cleaning up %s '%s' failed: %s", kind, name, error.message)

    def _delete(self, kind: str, group: str, name: str) -> None:
        if kind == "vm":
            self._vms.delete(group, name)
        elif kind == "nic":
            self._network.delete_nic(group, name)
        elif kind == "public_ip":
            self._network.delete_public_ip(group, name)
        elif kind == "disk":
            self._vms.delete_disk(group, name)
        elif kind == "availability_set":
            self._vms.delete_availability_set_if_empty(group, name)
        logger.info("Cleaned up %s '%s'", kind, name)


def _choose(vm_value: bool | None, network_value: bool) -> bool:
    return network_value if vm_value is None else vm_value
