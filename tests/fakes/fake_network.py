"""FakeNetworkService: NetworkService stand-in (no SDK calls) recording into the shared ``CallLog``.

Ids are readable strings (``nsg:<group>/<name>``) except NICs and public IPs, which get ARM-shaped ids.
"""

from __future__ import annotations

from typing import Any

from azure.mgmt.network import models as n

from bosh_azure_cpi.models.network import Network
from bosh_azure_cpi.models.refs import SecurityGroupRef
from bosh_azure_cpi.models.vm_props import PoolRef
from bosh_azure_cpi.services.params.network import NicSpec
from tests.fakes.config import RESOURCE_GROUP, SUBSCRIPTION
from tests.fakes.fake_vm import CallLog, Faults, Recorder

NETWORK_PREFIX = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{{}}/providers/Microsoft.Network"


class FakeNetworkService(Recorder):
    def __init__(
        self, log: CallLog | None = None, faults: Faults | None = None, vnet_location: str = "westeurope"
    ) -> None:
        super().__init__(log, faults)
        self.location = vnet_location
        self.nic_specs: list[NicSpec] = []
        self.nics: dict[tuple[str, str], n.NetworkInterface] = {}
        self.public_ips: dict[tuple[str, str], n.PublicIPAddress] = {}

    def with_deadline(self, deadline: Any) -> Any:
        self.cleanup_deadline = deadline
        return self

    def group_of(self, network: Network) -> str:
        return network.resource_group_name or RESOURCE_GROUP

    def subnet_id(self, network: Network) -> str:
        return f"subnet:{network.virtual_network_name}/{network.subnet_name}"

    def vnet_location(self, network: Network) -> str:
        self._call("vnet_location", self.group_of(network), network.virtual_network_name)
        return self.location

    def security_group_id(self, ref: SecurityGroupRef, network_group: str) -> str:
        self._call("security_group_id", ref.name, ref.resource_group_name, network_group, name=ref.name)
        return f"nsg:{ref.resource_group_name or network_group}/{ref.name}"

    def application_security_group_ids(self, names: tuple[str, ...], network_group: str) -> tuple[str, ...]:
        self._call("application_security_group_ids", names, network_group)
        return tuple(f"asg:{network_group}/{name}" for name in names)

    def public_ip_id_by_address(self, address: str, group: str) -> str:
        self._call("public_ip_id_by_address", address, group, name=address)
        return f"pip-of:{address}"

    def create_public_ip(self, group: str, name: str, location: str, zone: str) -> str:
        self._call("create_public_ip", group, name, location, zone, name=name)
        self.public_ips[(group, name)] = n.PublicIPAddress({"name": name, "tags": {"user-agent": "bosh"}})
        return f"{NETWORK_PREFIX.format(group)}/publicIPAddresses/{name}"

    def load_balancer_pools(self, ref: PoolRef) -> tuple[list[str], list[str]]:
        self._call("load_balancer_pools", ref.name, name=ref.name)
        return [f"lb-pool:{ref.name}/{ref.backend_pool_name or 'first'}"], [f"nat:{ref.name}"]

    def gateway_pools(self, ref: PoolRef) -> list[str]:
        self._call("gateway_pools", ref.name, name=ref.name)
        return [f"agw-pool:{ref.name}/{ref.backend_pool_name or 'first'}"]

    def create_nic(self, group: str, spec: NicSpec) -> str:
        self.nic_specs.append(spec)
        self._call("create_nic", group, spec.name, name=spec.name)
        self.nics[(group, spec.name)] = n.NetworkInterface({"name": spec.name, "tags": spec.tags})
        return f"{NETWORK_PREFIX.format(group)}/networkInterfaces/{spec.name}"

    def delete_nic(self, group: str, name: str) -> bool:
        self._call("delete_nic", group, name, name=name)
        return self.nics.pop((group, name), None) is not None

    def delete_public_ip(self, group: str, name: str) -> bool:
        self._call("delete_public_ip", group, name, name=name)
        return self.public_ips.pop((group, name), None) is not None

    def find_public_ip(self, group: str, name: str) -> Any:
        self._call("find_public_ip", group, name, name=name)
        return self.public_ips.get((group, name))

    def nics_named(self, group: str, prefix: str) -> list[n.NetworkInterface]:
        self._call("nics_named", group, prefix)
        return [nic for (g, name), nic in self.nics.items() if g == group and name.startswith(prefix)]
