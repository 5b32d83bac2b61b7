"""Helpers and fixtures for the VM, disk, network and image tests (import the fixtures you use).

The seeded network (``tests/peers_seed.py``) gives the subnets; tests create their own NICs, disks and VMs
with fresh names. ``gallery_version`` and ``managed_image`` are made once per session from the fixture VHD.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.network import NetworkManagementClient

from tests.emulator.conftest import RG_PATH, version_body
from tests.peers import GALLERY, LOCATION, RESOURCE_GROUP, SUBSCRIPTION_ID, Peers, credential, mgmt_kwargs
from tests.peers_seed import DYNAMIC_SUBNET, VNET, WEST_LOCATION, WEST_VNET

COMPUTE_API = "2026-04-01"
DISK_API = "2026-03-02"
NETWORK_API = "2026-03-01"
SKU_API = "2021-07-01"
COMPUTE = f"{RG_PATH}/providers/Microsoft.Compute"
NETWORK = f"{RG_PATH}/providers/Microsoft.Network"
SUBNET_ID = f"{NETWORK}/virtualNetworks/{VNET}/subnets/{DYNAMIC_SUBNET}"
WEST_SUBNET_ID = f"{NETWORK}/virtualNetworks/{WEST_VNET}/subnets/bosh"
UBUNTU = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server", "version": "latest"}
UBUNTU_GEN1 = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server-gen1", "version": "latest"}


def fresh(prefix: str = "t") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def disk_id(name: str) -> str:
    return f"{COMPUTE}/disks/{name}"


def vm_id(name: str) -> str:
    return f"{COMPUTE}/virtualMachines/{name}"


def nic_id(name: str) -> str:
    return f"{NETWORK}/networkInterfaces/{name}"


@pytest.fixture(scope="session")
def network(peers: Peers) -> Iterator[NetworkManagementClient]:
    kwargs = mgmt_kwargs(peers, retry_backoff_factor=0.01)
    with NetworkManagementClient(credential(peers), SUBSCRIPTION_ID, **kwargs) as client:
        yield client


def make_nic(network: NetworkManagementClient, subnet: str = SUBNET_ID, location: str = LOCATION, **props: Any) -> str:
    """A fresh NIC with one dynamic ip configuration in ``subnet``; returns its id."""
    name = fresh("nic")
    config = {"name": "ipconfig1", "properties": {"subnet": {"id": subnet}}}
    body = {"location": location, "properties": {"ipConfigurations": [config], **props}}
    return str(network.network_interfaces.begin_create_or_update(RESOURCE_GROUP, name, body).result().id)


def vm_body(
    nics: list[str],
    image: dict[str, Any] | None = None,
    size: str = "Standard_D2s_v5",
    location: str = LOCATION,
    **props: Any,
) -> dict[str, Any]:
    """A VM body booting ``image`` (Ubuntu gen2 by default) with ``nics`` (the first primary); ``storage``
    adds to the storage profile, ``tags``/``zones``/``plan``/``identity`` go top-level, the rest into properties."""
    storage = props.pop("storage", {})
    top = {key: props.pop(key) for key in ("tags", "zones", "plan", "identity") if key in props}
    body: dict[str, Any] = {
        **top,
        "location": location,
        "properties": {
            "hardwareProfile": {"vmSize": size},
            "storageProfile": {"imageReference": image or UBUNTU, "osDisk": {"createOption": "FromImage"}, **storage},
            "osProfile": {
                "computerName": "bosh-vm",
                "adminUsername": "vcap",
                "linuxConfiguration": {
                    "disablePasswordAuthentication": True,
                    "ssh": {"publicKeys": [{"path": "/home/vcap/.ssh/authorized_keys", "keyData": "ssh-rsa AAAA"}]},
                },
            },
            "networkProfile": {
                "networkInterfaces": [
                    {"id": nic, "properties": {"primary": index == 0}} for index, nic in enumerate(nics)
                ]
            },
            **props,
        },
    }
    return body


def create_vm(compute: ComputeManagementClient, network: NetworkManagementClient, **kwargs: Any) -> tuple[str, Any]:
    """A fresh VM (``vm_body`` keyword arguments) with a new NIC; returns (name, VirtualMachine)."""
    name = fresh("vm")
    nics = kwargs.pop("nics", None) or [make_nic(network)]
    body = vm_body(nics, **kwargs)
    return name, compute.virtual_machines.begin_create_or_update(RESOURCE_GROUP, name, body).result()


@pytest.fixture(scope="session")
def gallery_version(compute: ComputeManagementClient, vhd_uri: str) -> str:
    """A gallery image version (gen1 definition) replicated to eastus only; returns its id."""
    name = fresh("def")
    definition = {
        "location": LOCATION,
        "properties": {
            "osType": "Linux",
            "osState": "Generalized",
            "identifier": {"publisher": "bosh", "offer": name, "sku": "gen1"},
        },
    }
    compute.gallery_images.begin_create_or_update(RESOURCE_GROUP, GALLERY, name, definition).result()
    body = version_body(vhd_uri, [LOCATION])
    version = compute.gallery_image_versions.begin_create_or_update(RESOURCE_GROUP, GALLERY, name, "1.0.0", body)
    return str(version.result().id)


@pytest.fixture(scope="session")
def managed_image(compute: ComputeManagementClient, vhd_uri: str) -> str:
    """A managed image from the fixture VHD in eastus; returns its id."""
    body = {
        "location": LOCATION,
        "properties": {"storageProfile": {"osDisk": {"osType": "Linux", "osState": "Generalized", "blobUri": vhd_uri}}},
    }
    return str(compute.images.begin_create_or_update(RESOURCE_GROUP, fresh("img"), body).result().id)


__all__ = [
    "COMPUTE",
    "COMPUTE_API",
    "DISK_API",
    "NETWORK",
    "NETWORK_API",
    "SKU_API",
    "SUBNET_ID",
    "UBUNTU",
    "UBUNTU_GEN1",
    "WEST_LOCATION",
    "WEST_SUBNET_ID",
    "create_vm",
    "disk_id",
    "fresh",
    "gallery_version",
    "make_nic",
    "managed_image",
    "network",
    "nic_id",
    "vm_body",
    "vm_id",
]
