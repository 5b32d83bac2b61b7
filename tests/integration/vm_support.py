"""Helpers for the VM and disk integration tests: a stemcell shared by the session, network specs, the VM
request body as sent (from the oav traffic recording), resource snapshots and a full VM cycle.

``shared_stemcell`` uploads one small stemcell per pytest session and remembers its CID in a file under the
peers' work directory, so every module reuses it without a session fixture in ``conftest.py``.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import fixtures
from tests import peers as P  # noqa: N812 - short alias for the harness
from tests import peers_seed as S  # noqa: N812

MIB = 1024 * 1024
SHARED_VERSION = "96.0"
HOST_DEVICE_ID = "{f8b3781b-1e82-4818-a1c3-63d806ec15bb}"
SUB = P.SUBSCRIPTION_ID
RG = P.RESOURCE_GROUP
COMPUTE = f"/subscriptions/{SUB}/resourceGroups/{{group}}/providers/Microsoft.Compute"
NETWORK = f"/subscriptions/{SUB}/resourceGroups/{{group}}/providers/Microsoft.Network"
GROUP = "bosh-director-dep-web"
ENV = {
    "bosh": {
        "group": GROUP,
        "groups": ["bosh-director", "dep", "web"],
        "tags": {"deployment": "dep", "team": "blue"},
        "mbus": {"cert": {"ca": "CA-PEM", "certificate": "CERT-PEM", "private_key": "KEY-PEM"}},
        "password": "$6$salt$hash",
    }
}
# Resource types a VM cycle may create; everything of these types must be gone after delete_vm.
TRACKED = (
    "microsoft.compute/virtualmachines",
    "microsoft.compute/disks",
    "microsoft.compute/availabilitysets",
    "microsoft.compute/snapshots",
    "microsoft.network/networkinterfaces",
    "microsoft.network/publicipaddresses",
)


# ---- the shared stemcell -------------------------------------------------------------------------------------


def shared_stemcell(peers: P.Peers, config_path: Path) -> str:
    """The CID of a small gallery stemcell (in eastus) uploaded once per session."""
    marker = peers.workdir / "vm-support-stemcell-cid"
    if marker.exists():
        return marker.read_text()
    directory = peers.workdir / "vm-support-stemcell"
    fx = fixtures.build_stemcell(directory, 8 * MIB, version=SHARED_VERSION, compresslevel=1)
    cid = P.run_cpi(config_path, "create_stemcell", [str(fx.image), fx.cloud_properties], workdir=directory).unwrap()
    marker.write_text(cid)
    return str(cid)


def new_stemcell(peers: P.Peers, config_path: Path, version: str) -> tuple[str, str]:
    """Upload a stemcell of its own; returns its CID and the gallery image version's resource id."""
    directory = peers.workdir / f"vm-support-stemcell-{version}"
    fx = fixtures.build_stemcell(directory, 8 * MIB, version=version, compresslevel=1)
    cid = P.run_cpi(config_path, "create_stemcell", [str(fx.image), fx.cloud_properties], workdir=directory).unwrap()
    return str(cid), gallery_version_id(fx.cloud_properties["name"], f"{version}.0")


def gallery_version_id(definition: str, version: str) -> str:
    return f"{COMPUTE.format(group=RG)}/galleries/{P.GALLERY}/images/{definition}/versions/{version}"


# ---- network specs (cpi-protocol.md §7) --------------------------------------------------------------------


def manual(ip: str, subnet: str = S.SUBNET, *, default: bool = True, **cloud: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "type": "manual",
        "ip": ip,
        "prefix": "32",
        "netmask": "255.255.255.0",
        "gateway": ip.rsplit(".", 1)[0] + ".1",
        "dns": ["168.63.129.16"],
        "cloud_properties": {"virtual_network_name": S.VNET, "subnet_name": subnet, **cloud},
    }
    if default:
        spec["default"] = ["dns", "gateway"]
    return spec


def dynamic(subnet: str = S.DYNAMIC_SUBNET, *, default: bool = True, **cloud: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "type": "dynamic",
        "prefix": "32",
        "dns": ["10.0.0.2"],
        "cloud_properties": {"virtual_network_name": S.VNET, "subnet_name": subnet, **cloud},
    }
    if default:
        spec["default"] = ["dns", "gateway"]
    return spec


def vip(ip: str = S.VIP_ADDRESS) -> dict[str, Any]:
    return {"type": "vip", "ip": ip, "prefix": "32", "cloud_properties": {}}


# ---- ids and emulator state --------------------------------------------------------------------------------


def vm_cid(agent_id: str, group: str = RG) -> str:
    return f"agent_id:{agent_id};resource_group_name:{group}"


def vm_id(agent_id: str, group: str = RG) -> str:
    return f"{COMPUTE.format(group=group)}/virtualMachines/{agent_id}"


def compute_id(kind: str, name: str, group: str = RG) -> str:
    return f"{COMPUTE.format(group=group)}/{kind}/{name}"


def network_id(kind: str, name: str, group: str = RG) -> str:
    return f"{NETWORK.format(group=group)}/{kind}/{name}"


def resource(peers: P.Peers, resource_id: str) -> dict[str, Any] | None:
    return peers.emulator.resource(resource_id)


def snapshot(peers: P.Peers) -> set[str]:
    """Lower-cased ids of every resource of the tracked types."""
    return {str(r["id"]).lower() for r in peers.emulator.resources() if str(r.get("type", "")).lower() in TRACKED}


def left_behind(peers: P.Peers, before: set[str]) -> list[str]:
    return sorted(snapshot(peers) - before)


def same_id(left: str, right: str) -> bool:
    return left.lower() == right.lower()


def vm_request(peers: P.Peers, agent_id: str, method: str = "PUT") -> dict[str, Any]:
    """The body of the last ``method`` request on the VM as the CPI sent it (from the oav traffic recording:
    the emulator, like Azure, never returns ``customData``)."""
    directory = peers.emulator.options.traffic_dir
    assert directory is not None, "integration sessions record Microsoft.Compute traffic"
    suffix = f"/virtualmachines/{agent_id}?".lower()
    found: list[tuple[float, dict[str, Any]]] = []
    for path in directory.glob(f"*-{method}.json"):
        exchange = json.loads(path.read_text())
        request = exchange["liveRequest"]
        if suffix in request["url"].lower():
            found.append((path.stat().st_mtime_ns, request.get("body") or {}))
    assert found, f"no recorded {method} of VM {agent_id}"
    return max(found, key=lambda item: item[0])[1]


def custom_data(body: Mapping[str, Any]) -> dict[str, Any]:
    encoded = body["properties"]["osProfile"]["customData"]
    return dict(json.loads(base64.b64decode(encoded)))


def expected_settings(
    cid: str, agent_id: str, networks: dict[str, Any], env: dict[str, Any], dns: list[str], ephemeral: bool = True
) -> dict[str, Any]:
    """The agent settings of cpi-protocol.md §9 for the test config's ``agent`` section."""
    disks: dict[str, Any] = {"system": "/dev/sda", "persistent": {}}
    if ephemeral:
        disks["ephemeral"] = {"lun": "0", "host_device_id": HOST_DEVICE_ID}
    settings: dict[str, Any] = {
        "server": {"name": cid},
        "vm": {"name": agent_id},
        "agent_id": agent_id,
        "networks": {name: {**spec, "use_dhcp": True} for name, spec in networks.items()},
        "disks": disks,
        "env": env,
        "mbus": "nats://nats:nats-password@10.0.0.4:4222",
        "ntp": ["0.pool.ntp.org"],
    }
    if dns:
        settings["dns"] = {"nameserver": dns}
    return settings


# ---- the VM cycle ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreatedVm:
    agent_id: str
    cid: str
    networks: dict[str, Any]
    group: str
    before: set[str]

    @property
    def id(self) -> str:
        return vm_id(self.agent_id, self.group)

    def body(self, peers: P.Peers) -> dict[str, Any]:
        found = peers.emulator.resource(self.id)
        assert found is not None, f"VM {self.id} is missing"
        return found

    def nic(self, peers: P.Peers, index: int) -> dict[str, Any]:
        found = peers.emulator.resource(network_id("networkInterfaces", f"{self.agent_id}-{index}", self.group))
        assert found is not None, f"NIC {self.agent_id}-{index} is missing"
        return found


def create_vm(
    cpi: Callable[..., P.CpiResponse],
    peers: P.Peers,
    stemcell: str,
    props: dict[str, Any],
    networks: dict[str, Any],
    *,
    env: dict[str, Any] | None = None,
    group: str = RG,
    disk_cids: list[str] | None = None,
) -> CreatedVm:
    """create_vm (API v2): asserts the result is exactly ``[cid, networks]``."""
    before = snapshot(peers)
    agent_id = str(uuid.uuid4())
    arguments = (agent_id, stemcell, props, networks, disk_cids or [], ENV if env is None else env)
    result = cpi("create_vm", *arguments).unwrap()
    cid = vm_cid(agent_id, group)
    assert result == [cid, networks]
    return CreatedVm(agent_id=agent_id, cid=cid, networks=networks, group=group, before=before)


def finish_cycle(cpi: Callable[..., P.CpiResponse], peers: P.Peers, vm: CreatedVm) -> None:
    """has_vm → reboot_vm → set_vm_metadata → delete_vm → has_vm false, and nothing of the VM left."""
    assert cpi("has_vm", vm.cid).unwrap() is True
    assert cpi("reboot_vm", vm.cid).unwrap() is None
    metadata = {"director": "bosh", "deployment": "dep", "job": "web", "index": "0", "name": "web/abc"}
    assert cpi("set_vm_metadata", vm.cid, metadata).unwrap() is None
    tags = vm.body(peers)["tags"]
    assert {k: tags.get(k) for k in metadata} == metadata
    assert tags["user-agent"] == "bosh"
    assert cpi("delete_vm", vm.cid).unwrap() is None
    assert cpi("has_vm", vm.cid).unwrap() is False
    assert left_behind(peers, vm.before) == []


def rg_exists(peers: P.Peers, group: str) -> bool:
    return peers.emulator.resource(f"/subscriptions/{SUB}/resourceGroups/{group}") is not None


def error_of(response: P.CpiResponse) -> tuple[str, str, bool]:
    """``(type, message, ok_to_retry)`` of an error response (AssertionError when the call succeeded)."""
    assert response.error is not None, f"expected an error, got result {response.result!r}"
    return response.error["type"], response.error["message"], response.error["ok_to_retry"]


# ---- persistent disks --------------------------------------------------------------------------------------------


def cpi_runner(config_path: Path, workdir: Path) -> Callable[..., P.CpiResponse]:
    """``run(method, *arguments, api_version=2)`` like the ``cpi`` fixture, for module-scoped fixtures."""

    def run(method: str, *arguments: Any, api_version: int | None = 2) -> P.CpiResponse:
        return P.run_cpi(config_path, method, arguments, workdir=workdir, api_version=api_version)

    return run


def disk_name(cid: str) -> str:
    """The ``disk_name`` of a v2 disk or snapshot CID."""
    pairs = dict(item.split(":", 1) for item in cid.split(";"))
    return pairs["disk_name"]


def disk(peers: P.Peers, name: str, group: str = RG) -> dict[str, Any]:
    found = peers.emulator.resource(compute_id("disks", name, group))
    assert found is not None, f"disk {name} is missing"
    return found


def persistent_disks(peers: P.Peers, agent_id: str, group: str = RG) -> dict[str, int]:
    """``{disk name: LUN}`` of the VM's data disks other than its ephemeral disk."""
    found = peers.emulator.resource(vm_id(agent_id, group))
    assert found is not None, f"VM {agent_id} is missing"
    data = found["properties"]["storageProfile"].get("dataDisks") or []
    return {d["name"]: d["lun"] for d in data if not d["name"].endswith("-ephemeral-disk")}


LOCK_CONTAINER = "bosh-cpi-locks"  # the CPI's lock blobs stay for reuse (README "Concurrency")
DEFINITION_TYPE = "microsoft.compute/galleries/images"  # never deleted, reused by the next stemcell (README)


def azure_state(peers: P.Peers, *, everything: bool = False) -> set[str]:
    """Every ARM resource id and every blob; without ``everything``, only what a call may leave behind: no image
    definitions and no lock blobs (both kept for reuse by design)."""
    resources = {
        str(r["id"]).lower()
        for r in peers.emulator.resources()
        if everything or str(r["type"]).lower() != DEFINITION_TYPE
    }
    service = P.blob_service(peers)
    blobs = {
        f"blob:{container.name}/{blob.name}"
        for container in service.list_containers()
        if everything or container.name != LOCK_CONTAINER
        for blob in service.get_container_client(container.name).list_blobs()
    }
    return resources | blobs
