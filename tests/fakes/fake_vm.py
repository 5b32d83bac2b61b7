"""Fakes for the VM services (no SDK calls): FakeVmService, FakeStemcells, fault injection and request helpers.

Every fake records its calls as tuples in one shared ``CallLog`` (``("delete_nic", group, name)``), so tests can
assert what was sent and in which order across services. ``Faults`` makes chosen calls fail.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from azure.mgmt.compute import models as m

from bosh_azure_cpi.config import AgentConfig, CpiConfig
from bosh_azure_cpi.models.cids import DiskCid, StemcellCid
from bosh_azure_cpi.models.images import VmImage
from bosh_azure_cpi.models.network import NetworkPlan
from bosh_azure_cpi.models.vm_props import AvailabilitySetSpec, VmProps
from bosh_azure_cpi.models.vm_spec import VmRequest
from tests.fakes.config import RESOURCE_GROUP, SUBSCRIPTION, fake_azure_config

AGENT = "fake-agent-0b9a1f3e-5c1d-4d8e-a2b7"
STEMCELL = "bosh-stemcell-0b9a1f3e-5c1d-4d8e-a2b7-6f0e8d9c1b22"
IMAGE = VmImage(image_id="/fake/galleries/fake-gallery/images/fake-stemcell/versions/1.2.0")
READS = frozenset(
    {
        "find", "vnet_location", "find_public_ip", "nics_named", "list_skus", "resolve", "security_group_id",
        "application_security_group_ids", "public_ip_id_by_address", "load_balancer_pools", "gateway_pools",
    }
)  # fmt: skip
MANUAL = {
    "type": "manual",
    "ip": "10.0.16.7",
    "netmask": "255.255.240.0",
    "gateway": "10.0.16.1",
    "dns": ["168.63.129.16"],
    "default": ["dns", "gateway"],
    "cloud_properties": {"virtual_network_name": "fake-vnet", "subnet_name": "fake-subnet"},
}


class CallLog(list[tuple[Any, ...]]):
    """Calls of all fakes in order; ``writes()`` leaves out reads."""

    def writes(self) -> list[tuple[Any, ...]]:
        return [call for call in self if call[0] not in READS]

    def named(self, *methods: str) -> list[tuple[Any, ...]]:
        return [call for call in self if call[0] in methods]


@dataclass
class _Rule:
    method: str
    name: str | None
    error: BaseException
    times: int


@dataclass
class Faults:
    """``add("create_nic", error, name="vm-1")``: that call raises ``error`` (``times`` times, default once)."""

    rules: list[_Rule] = field(default_factory=list)

    def add(self, method: str, error: BaseException, *, name: str | None = None, times: int = 1) -> None:
        self.rules.append(_Rule(method, name, error, times))

    def check(self, method: str, name: str) -> None:
        for rule in self.rules:
            if rule.method == method and rule.name in (None, name) and rule.times > 0:
                rule.times -= 1
                raise rule.error


class Recorder:
    def __init__(self, log: CallLog | None, faults: Faults | None) -> None:
        self.log = log if log is not None else CallLog()
        self.faults = faults if faults is not None else Faults()
        self._lock = threading.Lock()

    def _call(self, method: str, *args: Any, name: str = "") -> None:
        with self._lock:
            self.log.append((method, *args))
        self.faults.check(method, name)


class FakeVmService(Recorder):
    """VmService stand-in: VMs (SDK models) by (group, name), availability sets, SKUs."""

    def __init__(self, log: CallLog | None = None, faults: Faults | None = None) -> None:
        super().__init__(log, faults)
        self.vms: dict[tuple[str, str], m.VirtualMachine] = {}
        self.availability_sets: dict[tuple[str, str], AvailabilitySetSpec] = {}
        self.bodies: list[m.VirtualMachine] = []
        self.skus: list[m.ResourceSku] = []

    def with_deadline(self, deadline: Any) -> Any:
        self.cleanup_deadline = deadline
        return self

    def ensure_resource_group(self, group: str, location: str) -> None:
        self._call("ensure_resource_group", group, location, name=group)

    def ensure_availability_set(self, group: str, spec: AvailabilitySetSpec, location: str) -> str:
        self._call("ensure_availability_set", group, spec.name, location, name=spec.name)
        self.availability_sets[(group, spec.name)] = spec
        return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}/providers/Microsoft.Compute/availabilitySets/{spec.name}"

    def create(self, group: str, name: str, body: m.VirtualMachine) -> m.VirtualMachine:
        self.bodies.append(body)
        self._call("create_vm", group, name, name=name)
        self.vms[(group, name)] = body
        return body

    def find(self, group: str, name: str, *, instance_view: bool = False) -> m.VirtualMachine | None:
        self._call("find", group, name, name=name)
        return self.vms.get((group, name))

    def delete(self, group: str, name: str) -> bool:
        self._call("delete_vm", group, name, name=name)
        return self.vms.pop((group, name), None) is not None

    def delete_disk(self, group: str, name: str) -> bool:
        self._call("delete_disk", group, name, name=name)
        return True

    def restart(self, group: str, name: str) -> None:
        self._call("restart", group, name, name=name)

    def set_tags(self, group: str, name: str, tags: Callable[[dict[str, str]], dict[str, str]]) -> None:
        self._call("set_tags", group, name, name=name)
        vm = self.vms[(group, name)]
        vm.tags = tags(dict(vm.tags or {}))

    def delete_availability_set_if_empty(self, group: str, name: str) -> bool:
        self._call("delete_availability_set_if_empty", group, name, name=name)
        return self.availability_sets.pop((group, name), None) is not None

    def set_disk_performance(self, group: str, name: str, iops: int | None, mbps: int | None) -> None:
        self._call("set_disk_performance", group, name, iops, mbps, name=name)

    def list_skus(self, location: str) -> list[m.ResourceSku]:
        self._call("list_skus", location, name=location)
        return self.skus


class FakeStemcells(Recorder):
    """StemcellService.resolve stand-in; ``before_error`` runs just before a programmed failure."""

    def __init__(self, log: CallLog | None = None, faults: Faults | None = None, image: VmImage = IMAGE) -> None:
        super().__init__(log, faults)
        self.image = image
        self.before_error: Callable[[], None] | None = None

    def resolve(self, cid: StemcellCid, region: str) -> VmImage:
        try:
            self._call("resolve", str(cid), region, name=str(cid))
        except BaseException:
            if self.before_error is not None:
                self.before_error()
            raise
        return self.image


def cpi_config(**azure: Any) -> CpiConfig:
    """The test ``CpiConfig``: ``fake_azure_config(**azure)`` and an agent block with mbus and ntp."""
    return CpiConfig(
        azure=fake_azure_config(**azure), agent=AgentConfig(mbus="nats://fake-director:4222", ntp=("fake-ntp",))
    )


def vm_request(
    props: dict[str, Any] | None = None,
    networks: dict[str, Any] | None = None,
    *,
    env: dict[str, Any] | None = None,
    disk_cids: tuple[DiskCid, ...] = (),
    agent_id: str = AGENT,
) -> VmRequest:
    """A parsed ``create_vm`` request; by default one manual network and a Standard_D2_v5 without a group."""
    env = env if env is not None else {}
    networks = networks if networks is not None else {"fake-net": MANUAL}
    group = env.get("bosh", {}).get("group", "")
    return VmRequest(
        agent_id=agent_id,
        stemcell=StemcellCid.parse(STEMCELL),
        props=VmProps.from_dict(
            props if props is not None else {"instance_type": "Standard_D2_v5"}, default_group=group
        ),
        plan=NetworkPlan.from_dict(networks),
        networks=networks,
        disk_cids=disk_cids,
        env=env,
    )


def sdk_vm(tags: dict[str, str] | None = None, **properties: Any) -> m.VirtualMachine:
    """A VM as Azure returns it (wire-format ``properties``)."""
    return m.VirtualMachine({"location": "eastus", "tags": tags or {}, "properties": properties})


def disk_id(name: str, group: str = RESOURCE_GROUP) -> str:
    return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}/providers/Microsoft.Compute/disks/{name}"
