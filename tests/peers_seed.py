"""The seeders of :data:`tests.peers.DEFAULT_SEEDERS`: resource group ``bosh-rg``, storage account
``devstoreaccount1`` (containers ``bosh`` and ``stemcell``), gallery ``bosh_gallery`` (through the SDKs), and
the Microsoft.Network environment below.

The network resources are PUT in-process (``ArmEmulator.seed``), so they are exactly what a client's PUT
makes; only the public IP ``vip-1`` gets its fixed address written afterwards.

=====================  =========================================================================================
``bosh-rg`` (eastus)   vnet ``boshnet`` 10.0.0.0/16 with subnets ``bosh`` 10.0.0.0/24 and ``dyn`` 10.0.1.0/24;
                       vnet ``westnet`` (westus2) 10.1.0.0/16 with subnet ``bosh`` 10.1.0.0/24; NSG ``nsg-bosh``;
                       ASG ``asg-bosh``; Standard static public IP ``vip-1`` = 20.1.2.3; Standard load balancer
                       ``lb-bosh`` (frontend on public IP ``lb-bosh-frontend``, pools ``pool-a``/``pool-b``, NAT
                       rule ``ssh-nat``); application gateway ``agw-bosh`` (pool ``agw-pool``)
``bosh-network-rg``    NSG ``nsg-other`` (eastus)
=====================  =========================================================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.peers import Peers

NETWORK_API = "2026-03-01"
NETWORK_RG = "bosh-network-rg"
VNET = "boshnet"
SUBNET = "bosh"
DYNAMIC_SUBNET = "dyn"
WEST_VNET = "westnet"
WEST_LOCATION = "westus2"
NSG = "nsg-bosh"
OTHER_NSG = "nsg-other"
ASG = "asg-bosh"
VIP = "vip-1"
VIP_ADDRESS = "20.1.2.3"
LOAD_BALANCER = "lb-bosh"
LB_FRONTEND_IP = "lb-bosh-frontend"
LB_POOLS = ("pool-a", "pool-b")
LB_NAT_RULE = "ssh-nat"
APP_GATEWAY = "agw-bosh"
AGW_POOL = "agw-pool"


def seed_resource_group(peers: Peers) -> None:
    from tests.peers import LOCATION, RESOURCE_GROUP, SUBSCRIPTION_ID

    path = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{RESOURCE_GROUP}"
    peers.emulator.seed(path, {"location": LOCATION}, "2021-04-01")


def seed_storage_account(peers: Peers) -> None:
    from azure.mgmt.storage import StorageManagementClient

    from tests.peers import (
        CONTAINERS,
        LOCATION,
        RESOURCE_GROUP,
        STORAGE_ACCOUNT,
        SUBSCRIPTION_ID,
        blob_service,
        credential,
        mgmt_kwargs,
    )

    with StorageManagementClient(credential(peers), SUBSCRIPTION_ID, **mgmt_kwargs(peers)) as client:
        body = {"location": LOCATION, "sku": {"name": "Standard_LRS"}, "kind": "StorageV2"}
        client.storage_accounts.begin_create(RESOURCE_GROUP, STORAGE_ACCOUNT, body).result()
    with blob_service(peers) as service:
        for name in CONTAINERS:
            service.create_container(name)


def seed_gallery(peers: Peers) -> None:
    from azure.mgmt.compute import ComputeManagementClient

    from tests.peers import GALLERY, LOCATION, RESOURCE_GROUP, SUBSCRIPTION_ID, credential, mgmt_kwargs

    with ComputeManagementClient(credential(peers), SUBSCRIPTION_ID, **mgmt_kwargs(peers)) as client:
        client.galleries.begin_create_or_update(RESOURCE_GROUP, GALLERY, {"location": LOCATION}).result()


def network_id(subscription: str, group: str, kind: str, name: str) -> str:
    """``/subscriptions/S/resourceGroups/G/providers/Microsoft.Network/<kind>/<name>``."""
    return f"/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.Network/{kind}/{name}"


def _vnet(prefix: str, subnets: dict[str, str], location: str) -> dict[str, Any]:
    return {
        "location": location,
        "properties": {
            "addressSpace": {"addressPrefixes": [prefix]},
            "subnets": [{"name": n, "properties": {"addressPrefix": p}} for n, p in subnets.items()],
        },
    }


def _load_balancer(lb_id: str, frontend_ip_id: str, location: str) -> dict[str, Any]:
    frontend = f"{lb_id}/frontendIPConfigurations/frontend"
    nat = {"frontendIPConfiguration": {"id": frontend}, "protocol": "Tcp", "frontendPort": 50001, "backendPort": 22}
    return {
        "location": location,
        "sku": {"name": "Standard", "tier": "Regional"},
        "properties": {
            "frontendIPConfigurations": [
                {"name": "frontend", "properties": {"publicIPAddress": {"id": frontend_ip_id}}}
            ],
            "backendAddressPools": [{"name": name} for name in LB_POOLS],
            "inboundNatRules": [{"name": LB_NAT_RULE, "properties": nat}],
        },
    }


def seed_network(peers: Peers) -> None:
    """Create the network environment above (about 20 ms in-process)."""
    from tests.peers import LOCATION, RESOURCE_GROUP, SUBSCRIPTION_ID

    arm = peers.emulator

    def put(group: str, kind: str, name: str, body: dict[str, Any]) -> str:
        resource_id = network_id(SUBSCRIPTION_ID, group, kind, name)
        arm.seed(resource_id, body, NETWORK_API)
        return resource_id

    arm.seed(f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{NETWORK_RG}", {"location": LOCATION}, "2021-04-01")
    put(
        RESOURCE_GROUP,
        "virtualNetworks",
        VNET,
        _vnet("10.0.0.0/16", {SUBNET: "10.0.0.0/24", DYNAMIC_SUBNET: "10.0.1.0/24"}, LOCATION),
    )
    put(RESOURCE_GROUP, "virtualNetworks", WEST_VNET, _vnet("10.1.0.0/16", {SUBNET: "10.1.0.0/24"}, WEST_LOCATION))
    put(RESOURCE_GROUP, "networkSecurityGroups", NSG, {"location": LOCATION})
    put(NETWORK_RG, "networkSecurityGroups", OTHER_NSG, {"location": LOCATION})
    put(RESOURCE_GROUP, "applicationSecurityGroups", ASG, {"location": LOCATION})
    static = {"publicIPAllocationMethod": "Static"}
    standard = {"location": LOCATION, "sku": {"name": "Standard"}, "properties": static}
    vip_id = put(RESOURCE_GROUP, "publicIPAddresses", VIP, standard)
    with arm.lock:
        record = arm.store.get(vip_id)
        assert record is not None
        record.properties()["ipAddress"] = VIP_ADDRESS
    frontend_ip = put(RESOURCE_GROUP, "publicIPAddresses", LB_FRONTEND_IP, standard)
    lb_id = network_id(SUBSCRIPTION_ID, RESOURCE_GROUP, "loadBalancers", LOAD_BALANCER)
    put(RESOURCE_GROUP, "loadBalancers", LOAD_BALANCER, _load_balancer(lb_id, frontend_ip, LOCATION))
    agw = {
        "location": LOCATION,
        "properties": {
            "sku": {"name": "Standard_v2", "tier": "Standard_v2", "capacity": 1},
            "backendAddressPools": [{"name": AGW_POOL, "properties": {"backendAddresses": []}}],
        },
    }
    put(RESOURCE_GROUP, "applicationGateways", APP_GATEWAY, agw)
