"""NetworkService: what a VM's NICs reference (subnets, NSGs, ASGs, public IPs, load balancer and application
gateway pools), and the NICs and public IPs the CPI creates and deletes.

Ids are built from names where the resource group is unambiguous, so the common ``create_vm`` sends no lookups;
a name without a resource group is looked up in the network's resource group, then in the global one (the Ruby
CPI's rule). Missing references surface as clear CloudErrors naming the resource.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING, Any

from bosh_azure_cpi.config import AzureConfig
from bosh_azure_cpi.errors import CloudError
from bosh_azure_cpi.models.deadline import Deadline
from bosh_azure_cpi.models.network import Network
from bosh_azure_cpi.models.refs import SecurityGroupRef
from bosh_azure_cpi.models.resource_ids import resource_id
from bosh_azure_cpi.models.vm_props import PoolRef
from bosh_azure_cpi.services.lro import azure_errors, find, ignore_missing, status_is_final, wait
from bosh_azure_cpi.services.params.network import NicSpec, build_nic_params, build_public_ip_params

if TYPE_CHECKING:
    from azure.mgmt.network import NetworkManagementClient

logger = logging.getLogger(__name__)
NETWORK = "Microsoft.Network"


class NetworkService:
    def __init__(self, client: NetworkManagementClient, config: AzureConfig, deadline: Deadline) -> None:
        self._client = client
        self._config = config
        self._deadline = deadline

    def with_deadline(self, deadline: Deadline) -> NetworkService:
        """The same service bounded by another deadline (cleanup after the call's deadline has passed)."""
        return NetworkService(self._client, self._config, deadline)

    def _id(self, group: str, kind: str, name: str, *children: str) -> str:
        return resource_id(self._config.subscription_id, group, f"{NETWORK}/{kind}", name, *children)

    def group_of(self, network: Network) -> str:
        return network.resource_group_name or self._config.resource_group_name

    def subnet_id(self, network: Network) -> str:
        return self._id(
            self.group_of(network), "virtualNetworks", network.virtual_network_name, "subnets", network.subnet_name
        )

    def vnet_location(self, network: Network) -> str:
        group, name = self.group_of(network), network.virtual_network_name
        vnet = find(f"Getting virtual network '{name}'", lambda: self._client.virtual_networks.get(group, name))
        if vnet is None:
            raise CloudError(f"Cannot find the virtual network '{name}' under resource group '{group}'")
        return str(vnet.location)

    def security_group_id(self, ref: SecurityGroupRef, network_group: str) -> str:
        groups = (
            [ref.resource_group_name] if ref.resource_group_name else [network_group, self._config.resource_group_name]
        )
        return self._lookup("networkSecurityGroups", ref.name, groups, "network security group")

    def application_security_group_ids(self, names: tuple[str, ...], network_group: str) -> tuple[str, ...]:
        groups = [network_group, self._config.resource_group_name]
        return tuple(
            self._lookup("applicationSecurityGroups", name, groups, "application security group") for name in names
        )

    def _lookup(self, kind: str, name: str, groups: list[str], what: str) -> str:
        candidates = list(dict.fromkeys(groups))
        if len(candidates) == 1:
            return self._id(candidates[0], kind, name)
        operations = getattr(self._client, _operations(kind))
        for group in candidates:
            if find(f"Getting {what} '{name}' in '{group}'", partial(operations.get, group, name)) is not None:
                return self._id(group, kind, name)
        raise CloudError(f"Cannot find the {what} '{name}' in resource groups {', '.join(candidates)}")

    def public_ip_id_by_address(self, address: str, group: str) -> str:
        group = group or self._config.resource_group_name
        with azure_errors(f"Listing public IPs in '{group}'"):
            for pip in self._client.public_ip_addresses.list(group):
                if pip.properties and pip.properties.ip_address == address:
                    return str(pip.id)
        raise CloudError(f"Cannot find the public IP address '{address}' in the resource group '{group}'")

    def create_public_ip(self, group: str, name: str, location: str, zone: str) -> str:
        what = f"Creating public IP '{name}'"
        body = build_public_ip_params(location, zone, self._config.pip_idle_timeout_in_minutes)
        with azure_errors(what):
            poller = self._client.public_ip_addresses.begin_create_or_update(group, name, body)
        return str(wait(poller, what, self._deadline).id)

    def load_balancer_pools(self, ref: PoolRef) -> tuple[list[str], list[str]]:
        """Backend pool ids (the named one, else the first) and the inbound NAT rules of the first frontend."""
        group = ref.resource_group_name or self._config.resource_group_name
        lb = find(f"Getting load balancer '{ref.name}'", lambda: self._client.load_balancers.get(group, ref.name))
        if lb is None or lb.properties is None:
            raise CloudError(f"Cannot find the load balancer '{ref.name}' in the resource group '{group}'")
        pools = _pick_pool(lb.properties.backend_address_pools or [], ref, "load balancer", case_sensitive=False)
        frontends = lb.properties.frontend_ip_configurations or []
        nat = []
        if frontends and frontends[0].properties:
            nat = [str(rule.id) for rule in frontends[0].properties.inbound_nat_rules or []]
        return pools, nat

    def gateway_pools(self, ref: PoolRef) -> list[str]:
        group = ref.resource_group_name or self._config.resource_group_name
        agw = find(
            f"Getting application gateway '{ref.name}'", lambda: self._client.application_gateways.get(group, ref.name)
        )
        if agw is None or agw.properties is None:
            raise CloudError(f"Cannot find the application gateway '{ref.name}' in the resource group '{group}'")
        return _pick_pool(agw.properties.backend_address_pools or [], ref, "application gateway", case_sensitive=True)

    def create_nic(self, group: str, spec: NicSpec) -> str:
        what = f"Creating network interface '{spec.name}'"
        polling = status_is_final(self._config.polling_interval_seconds)
        with azure_errors(what):
            poller = self._client.network_interfaces.begin_create_or_update(
                group, spec.name, build_nic_params(spec), polling=polling
            )
        wait(poller, what, self._deadline)
        return resource_id(self._config.subscription_id, group, "Microsoft.Network/networkInterfaces", spec.name)

    def delete_nic(self, group: str, name: str) -> bool:
        return self._delete(f"Deleting network interface '{name}'", self._client.network_interfaces, group, name)

    def delete_public_ip(self, group: str, name: str) -> bool:
        return self._delete(f"Deleting public IP '{name}'", self._client.public_ip_addresses, group, name)

    def find_public_ip(self, group: str, name: str) -> Any:
        return find(f"Getting public IP '{name}'", lambda: self._client.public_ip_addresses.get(group, name))

    def nics_named(self, group: str, prefix: str) -> list[Any]:
        """NICs in ``group`` whose name starts with ``prefix`` (for deleting a VM that is already gone)."""
        with azure_errors(f"Listing network interfaces in '{group}'"):
            return [nic for nic in self._client.network_interfaces.list(group) if (nic.name or "").startswith(prefix)]

    def _delete(self, what: str, operations: Any, group: str, name: str) -> bool:
        def delete() -> None:
            wait(operations.begin_delete(group, name), what, self._deadline)

        deleted = ignore_missing(what, delete)
        if deleted:
            logger.info("%s: done", what)
        return deleted


def _operations(kind: str) -> str:
    return {
        "networkSecurityGroups": "network_security_groups",
        "applicationSecurityGroups": "application_security_groups",
    }[kind]


def _pick_pool(pools: list[Any], ref: PoolRef, what: str, *, case_sensitive: bool) -> list[str]:
    if not pools:
        raise CloudError(f"The {what} '{ref.name}' has no backend address pool")
    if not ref.backend_pool_name:
        return [str(pools[0].id)]
    wanted = ref.backend_pool_name if case_sensitive else ref.backend_pool_name.lower()
    for pool in pools:
        name = pool.name if case_sensitive else (pool.name or "").lower()
        if name == wanted:
            return [str(pool.id)]
    names = ", ".join(str(p.name) for p in pools)
    raise CloudError(f"'{ref.name}' does not have a backend_pool named '{ref.backend_pool_name}': {names}")
