"""create_vm / has_vm / reboot_vm / set_vm_metadata / delete_vm / calculate_vm_cloud_properties through bin/cpi
against the ARM emulator: the VM body as sent, failures mid-way with exact cleanup, idempotent deletes, the error
types the Director maps, and tags under concurrent writers."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError
from azure.mgmt.compute import ComputeManagementClient

from arm_emulator.faults import FaultRule, Respond, capacity
from tests import peers as P  # noqa: N812 - short alias for the harness
from tests.integration import vm_support as V  # noqa: N812

SIZE = "Standard_D2s_v5"


@pytest.fixture(scope="module")
def stemcell(peers, cpi_config_path):
    return V.shared_stemcell(peers, cpi_config_path)


def vm_put_rule(agent_id: str, action: Any, times: int | None = 1) -> FaultRule:
    return FaultRule(action, method="PUT", path=f"/virtualMachines/{agent_id}$", times=times)


def test_manual_network_cycle_sends_the_expected_vm_body(cpi, peers, stemcell, cpi_config_path):
    networks = {"private": V.manual("10.0.0.140")}
    props = {"instance_type": SIZE, "tags": {"owner": "team-a"}}
    vm = V.create_vm(cpi, peers, stemcell, props, networks)

    body = V.vm_request(peers, vm.agent_id)
    image = V.resource(peers, V.gallery_version_id(*_definition_and_version(peers, stemcell)))
    assert image is not None
    assert V.same_id(body["properties"]["storageProfile"]["imageReference"]["id"], image["id"])
    settings = V.expected_settings(vm.cid, vm.agent_id, networks, V.ENV, ["168.63.129.16"])
    assert V.custom_data(body) == settings
    os_profile = body["properties"]["osProfile"]
    config = json.loads(cpi_config_path.read_text())["cloud"]["properties"]["azure"]
    assert os_profile["adminUsername"] == "vcap"
    assert os_profile["linuxConfiguration"]["ssh"]["publicKeys"] == [
        {"path": "/home/vcap/.ssh/authorized_keys", "keyData": config["ssh_public_key"]}
    ]
    assert os_profile["linuxConfiguration"]["disablePasswordAuthentication"] is True
    assert body["tags"] == {"user-agent": "bosh", "deployment": "dep", "team": "blue", "owner": "team-a"}
    storage = body["properties"]["storageProfile"]
    assert storage["osDisk"]["deleteOption"] == "Delete"
    assert storage["osDisk"]["name"] == f"bosh-disk-os-{vm.agent_id}"
    assert [(d["lun"], d["name"], d["deleteOption"]) for d in storage["dataDisks"]] == [
        (0, f"bosh-disk-os-{vm.agent_id}-ephemeral-disk", "Delete")
    ]
    nic_refs = body["properties"]["networkProfile"]["networkInterfaces"]
    assert [(r["properties"]["primary"], r["properties"]["deleteOption"]) for r in nic_refs] == [(True, "Delete")]
    assert body["properties"]["hardwareProfile"]["vmSize"] == SIZE
    assert V.same_id(body["properties"]["availabilitySet"]["id"], V.compute_id("availabilitySets", V.GROUP))

    ipconfig = vm.nic(peers, 0)["properties"]["ipConfigurations"][0]["properties"]
    assert (ipconfig["privateIPAddress"], ipconfig["privateIPAllocationMethod"]) == ("10.0.0.140", "Static")
    assert V.same_id(ipconfig["subnet"]["id"], V.network_id("virtualNetworks", "boshnet/subnets/bosh"))
    assert vm.body(peers)["properties"]["provisioningState"] == "Succeeded"
    V.finish_cycle(cpi, peers, vm)


def _definition_and_version(peers: P.Peers, cid: str) -> tuple[str, str]:
    for version in peers.emulator.resources("Microsoft.Compute/galleries/images/versions"):
        if cid in (version.get("tags") or {}).get("stemcell_references", ""):
            parts = version["id"].split("/")
            return parts[-3], parts[-1]
    raise AssertionError(f"no gallery image version references {cid}")


def test_v1_create_vm_returns_the_bare_cid_and_use_root_disk_has_no_ephemeral_disk(cpi, peers, stemcell):
    before = V.snapshot(peers)
    agent_id = str(uuid.uuid4())
    networks = {"private": V.manual("10.0.0.141")}
    props = {"instance_type": SIZE, "ephemeral_disk": {"use_root_disk": True}}
    result = cpi("create_vm", agent_id, stemcell, props, networks, [], V.ENV, api_version=1).unwrap()
    assert result == V.vm_cid(agent_id)
    body = V.vm_request(peers, agent_id)
    assert "ephemeral" not in V.custom_data(body)["disks"]
    assert body["properties"]["storageProfile"].get("dataDisks", []) == []
    assert body["properties"]["storageProfile"]["osDisk"]["diskSizeGB"] == 30
    assert cpi("delete_vm", result, api_version=1).unwrap() is None
    assert V.left_behind(peers, before) == []


# ---- failure mid-way -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "props"),
    [
        ("AllocationFailed", {}),
        ("ZonalAllocationFailed", {"availability_zone": "2"}),
        ("SkuNotAvailable", {}),
        ("QuotaExceeded", {}),
    ],
)
def test_capacity_errors_fail_without_retry_and_leave_nothing(cpi, peers, stemcell, kind, props):
    before = V.snapshot(peers)
    agent_id = str(uuid.uuid4())
    rule = peers.emulator.faults.add(vm_put_rule(agent_id, capacity(kind)))
    networks = {"private": V.manual("10.0.0.142")}
    response = cpi("create_vm", agent_id, stemcell, {"instance_type": SIZE, **props}, networks, [], V.ENV)
    error_type, message, retry = V.error_of(response)
    assert (error_type, retry) == ("Bosh::Clouds::VMCreationFailed", False)
    assert (kind if kind != "QuotaExceeded" else "quota") in message
    assert rule.fired == 1
    assert V.left_behind(peers, before) == []
    assert peers.emulator.requests.count("PUT", f"/virtualMachines/{agent_id}$", since=0) == 1  # no blind retry


def test_transient_errors_beyond_the_retries_are_retryable_and_a_repeat_succeeds(cpi, peers, stemcell):
    before = V.snapshot(peers)
    agent_id = str(uuid.uuid4())
    # Retry-After in (fractional) seconds keeps the client's waits short; azure-core parses it as a float.
    burst = Respond(503, "ServiceUnavailable", "The service is temporarily unavailable.", retry_after=0.05)
    rule = peers.emulator.faults.add(vm_put_rule(agent_id, burst, times=None))
    networks = {"private": V.manual("10.0.0.143")}
    arguments = (agent_id, stemcell, {"instance_type": SIZE}, networks, [], V.ENV)
    error_type, message, retry = V.error_of(cpi("create_vm", *arguments))
    assert (error_type, retry) == ("Bosh::Clouds::VMCreationFailed", True)
    assert "ServiceUnavailable" in message
    assert rule.fired > 1  # the client retried before giving up
    assert V.left_behind(peers, before) == []

    peers.emulator.faults.clear()
    assert cpi("create_vm", *arguments).unwrap() == [V.vm_cid(agent_id), networks]
    assert cpi("delete_vm", V.vm_cid(agent_id)).unwrap() is None
    assert V.left_behind(peers, before) == []


def test_keep_failed_vms_keeps_and_names_what_was_created(cpi, peers, stemcell):
    before = V.snapshot(peers)
    agent_id = str(uuid.uuid4())
    peers.emulator.faults.add(vm_put_rule(agent_id, capacity("AllocationFailed")))
    keeping = cpi.with_config(keep_failed_vms=True)
    networks = {"private": V.manual("10.0.0.144")}
    response = keeping("create_vm", agent_id, stemcell, {"instance_type": SIZE}, networks, [], V.ENV)
    error_type, message, retry = V.error_of(response)
    assert (error_type, retry) == ("Bosh::Clouds::VMCreationFailed", False)
    kept = V.left_behind(peers, before)
    names = sorted(item.rsplit("/", 1)[-1] for item in kept)
    assert names == sorted(
        [agent_id, f"{agent_id}-0", f"bosh-disk-os-{agent_id}", f"bosh-disk-os-{agent_id}-ephemeral-disk", V.GROUP]
    )
    for name in (agent_id, f"{agent_id}-0", f"bosh-disk-os-{agent_id}"):
        assert name in message
    assert cpi("delete_vm", V.vm_cid(agent_id)).unwrap() is None
    assert V.left_behind(peers, before) == []


# ---- delete_vm idempotency, errors ----------------------------------------------------------------------------


def test_delete_vm_twice_and_on_a_vm_that_never_existed_but_left_its_nic(cpi, peers, stemcell):
    vm = V.create_vm(cpi, peers, stemcell, {"instance_type": SIZE}, {"private": V.manual("10.0.0.145")})
    assert cpi("delete_vm", vm.cid).unwrap() is None
    assert cpi("delete_vm", vm.cid).unwrap() is None
    assert V.left_behind(peers, vm.before) == []

    agent_id = str(uuid.uuid4())
    nic_id = V.network_id("networkInterfaces", f"{agent_id}-0")
    subnet = V.network_id("virtualNetworks", "boshnet/subnets/bosh")
    config = {"name": "ipconfig0", "properties": {"subnet": {"id": subnet}, "privateIPAllocationMethod": "Dynamic"}}
    peers.emulator.seed(nic_id, {"location": "eastus", "properties": {"ipConfigurations": [config]}}, "2026-03-01")
    assert cpi("delete_vm", V.vm_cid(agent_id)).unwrap() is None
    assert V.resource(peers, nic_id) is None
    assert V.left_behind(peers, vm.before) == []


def test_methods_on_a_missing_vm(cpi):
    cid = V.vm_cid(str(uuid.uuid4()))
    assert cpi("has_vm", cid).unwrap() is False
    for method, arguments in (("reboot_vm", ()), ("set_vm_metadata", ({"job": "web"},)), ("get_disks", ())):
        error_type, message, _ = V.error_of(cpi(method, cid, *arguments))
        assert error_type == "Bosh::Clouds::VMNotFound", method
        assert cid in message or cid.split(";")[0].split(":")[1] in message


BAD_VM_CIDS = ["agent_id:;resource_group_name:bosh-rg", "not-a-vm", "agent_id:x;broken"]


def test_bad_vm_cids_are_refused_naming_the_cid(cpi):
    calls = [("has_vm", bad) for bad in BAD_VM_CIDS] + [("delete_vm", BAD_VM_CIDS[1]), ("reboot_vm", BAD_VM_CIDS[2])]
    for method, bad in calls:
        error_type, message, retry = V.error_of(cpi(method, bad))
        assert (error_type, retry) == ("Bosh::Clouds::CpiError", False), method
        assert bad in message, method


# ---- set_vm_metadata ------------------------------------------------------------------------------------------


def test_set_vm_metadata_from_concurrent_writers_keeps_every_tag(cpi, peers, stemcell):
    vm = V.create_vm(cpi, peers, stemcell, {"instance_type": SIZE}, {"private": V.manual("10.0.0.146")})
    mark = peers.emulator.requests.mark()
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda i: cpi("set_vm_metadata", vm.cid, {f"writer-{i}": str(i)}), range(6)))
    assert [r.error for r in responses] == [None] * 6
    tags = vm.body(peers)["tags"]
    assert {k: v for k, v in tags.items() if k.startswith("writer-")} == {f"writer-{i}": str(i) for i in range(6)}
    assert tags["user-agent"] == "bosh" and tags["team"] == "blue"
    assert peers.emulator.requests.count("PATCH", f"/virtualMachines/{vm.agent_id}$", since=mark) >= 6

    stale = peers.emulator.faults.add(
        FaultRule(
            Respond(412, "PreconditionFailed", "The specified precondition failed."),
            method="PATCH",
            path=f"/virtualMachines/{vm.agent_id}$",
        )
    )
    assert cpi("set_vm_metadata", vm.cid, {"after-conflict": "yes"}).unwrap() is None
    assert stale.fired == 1
    assert vm.body(peers)["tags"]["after-conflict"] == "yes"
    assert_stale_if_match_is_refused(peers, vm.agent_id)
    assert cpi("delete_vm", vm.cid).unwrap() is None
    assert V.left_behind(peers, vm.before) == []


def assert_stale_if_match_is_refused(peers: P.Peers, name: str) -> None:
    """The emulator models ARM's ETag guard: a PATCH with an outdated If-Match answers 412."""
    with ComputeManagementClient(P.credential(peers), P.SUBSCRIPTION_ID, **P.mgmt_kwargs(peers)) as client:
        etag = client.virtual_machines.get(V.RG, name).etag
        guarded = {"etag": etag, "match_condition": MatchConditions.IfNotModified}
        client.virtual_machines.begin_update(V.RG, name, {"tags": {"x": "1"}}, **guarded).result()
        with pytest.raises(HttpResponseError) as refused:
            client.virtual_machines.begin_update(V.RG, name, {"tags": {"x": "2"}}, **guarded)
    assert refused.value.status_code == 412


# ---- calculate_vm_cloud_properties ------------------------------------------------------------------------------

# eastus, cpu 2 / ram 4096: premium-capable first, then fewer vCPUs, less memory, better series (D 5, F/E 4, B 3,
# A 2), newer _vN, name; E4s_v5 (restricted in zone 3) and L8s_v3 (restricted) are left out, DS1_v2 has 1 vCPU.
RANKED = [
    "Standard_F2s_v2", "Standard_B2s", "Standard_D2s_v6", "Standard_D2ds_v5", "Standard_D2ps_v5", "Standard_D2s_v5",
    "Standard_E2s_v5", "Standard_F4s_v2", "Standard_D4ds_v5", "Standard_D4s_v5", "Standard_D8s_v5",
    "Standard_A2_v2", "Standard_D2_v5",
]  # fmt: skip


def test_calculate_vm_cloud_properties_ranks_the_sku_catalog(cpi):
    result = cpi("calculate_vm_cloud_properties", {"cpu": 2, "ram": 4096, "ephemeral_disk_size": 10000}).unwrap()
    assert result == {"instance_types": RANKED, "ephemeral_disk": {"size": 10240}}
    exact = cpi("calculate_vm_cloud_properties", {"cpu": 8, "ram": 32768, "ephemeral_disk_size": 2048}).unwrap()
    assert exact == {"instance_types": ["Standard_D8s_v5"], "ephemeral_disk": {"size": 2048}}

    error_type, message, _ = V.error_of(
        cpi("calculate_vm_cloud_properties", {"cpu": 64, "ram": 4096, "ephemeral_disk_size": 1024})
    )
    assert error_type == "Bosh::Clouds::CloudError"
    assert message.startswith("Unable to meet desired instance size: 64 CPU, 4096 MB RAM")
    error_type, message, _ = V.error_of(cpi("calculate_vm_cloud_properties", {"cpu": 2}))
    assert error_type == "Bosh::Clouds::CpiError"
    assert "'ram'" in message and "'ephemeral_disk_size'" in message
