import re

import pytest

from bosh_azure_cpi.errors import InvalidArgument, NotSupported
from bosh_azure_cpi.models.cids import DiskCid, StemcellCid, VmCid

AGENT = "5f0a2a4e-8f6c-4a43-9b0e-3f9d2c8e1a11"
DISK = "bosh-disk-data-0b9a1f3e-5c1d-4d8e-a2b7-6f0e8d9c1b22"


@pytest.mark.parametrize(
    ("cid", "agent", "rg", "account", "plain"),
    [
        (f"agent_id:{AGENT};resource_group_name:rg-1", AGENT, "rg-1", "", False),
        (f"resource_group_name:rg-1;agent_id:{AGENT}", AGENT, "rg-1", "", False),
        (f"agent_id:{AGENT}", AGENT, "rg-default", "", True),  # one pair without ';' is a plain id in Ruby too
        (AGENT, AGENT, "rg-default", "", True),
        (f"sa1-{AGENT}", AGENT, "rg-default", "sa1", True),
        (f"agent_id:{AGENT};resource_group_name:rg;storage_account_name:sa", AGENT, "rg", "sa", False),
    ],
)
def test_vm_cids_of_the_ruby_cpi_parse(cid, agent, rg, account, plain):
    if cid == f"agent_id:{AGENT}":
        with pytest.raises(InvalidArgument):
            VmCid.parse(cid, "rg-default")
        return
    parsed = VmCid.parse(cid, "rg-default")
    assert (parsed.agent_id, parsed.resource_group_name, parsed.storage_account_name, parsed.plain) == (
        agent,
        rg,
        account,
        plain,
    )
    assert parsed.vm_name == agent


def test_vm_cid_renders_sorted_pairs_like_the_ruby_cpi():
    cid = VmCid(agent_id=AGENT, resource_group_name="rg-bosh")
    assert str(cid) == f"agent_id:{AGENT};resource_group_name:rg-bosh"
    assert VmCid.parse(str(cid), "other") == cid


@pytest.mark.parametrize(
    "cid", ["", "   ", "short", "agent_id:;resource_group_name:rg", f"agent_id:{AGENT};resource_group_name:", "a;b"]
)
def test_invalid_vm_cids_are_rejected(cid):
    with pytest.raises(InvalidArgument):
        VmCid.parse(cid, "rg")


def test_unmanaged_vms_are_refused():
    with pytest.raises(NotSupported, match="unmanaged"):
        VmCid.parse(f"sa1-{AGENT}", "rg").require_managed()


def test_disk_cid_round_trip_and_ruby_format():
    cid = DiskCid(disk_name=DISK, caching="None", resource_group_name="rg-bosh")
    assert str(cid) == f"caching:None;disk_name:{DISK};resource_group_name:rg-bosh"
    assert DiskCid.parse(str(cid), "other") == cid


def test_new_disk_cid_has_managed_prefix():
    cid = DiskCid.new("ReadOnly", "rg")
    assert cid.disk_name.startswith("bosh-disk-data-") and cid.managed and cid.caching == "ReadOnly"


def test_legacy_plain_managed_disk_cid_parses():
    cid = DiskCid.parse(f"{DISK}-ReadWrite", "rg-default")
    assert (cid.disk_name, cid.caching, cid.resource_group_name, cid.managed) == (
        f"{DISK}-ReadWrite",
        "ReadWrite",
        "rg-default",
        True,
    )
    assert str(cid) == f"{DISK}-ReadWrite"


@pytest.mark.parametrize(
    "cid",
    [
        "caching:None;disk_name:bosh-data-abc;storage_account_name:sa1",
        "bosh-data-sa1-0b9a1f3e-5c1d-4d8e-a2b7-6f0e8d9c1b22-None",
    ],
)
def test_unmanaged_disks_parse_but_are_refused(cid):
    parsed = DiskCid.parse(cid, "rg")
    assert not parsed.managed
    with pytest.raises(NotSupported, match="unmanaged"):
        parsed.require_managed()


@pytest.mark.parametrize(
    ("cid", "message"),
    [
        ("caching:Fast;disk_name:x;resource_group_name:rg", "caching must be one of"),
        ("caching:None;resource_group_name:rg", "disk_name is missing"),
        ("caching:None;disk_name:x;resource_group_name:", "resource_group_name is empty"),
        ("something-else", "Invalid disk id (plain)"),
        (f"{DISK}-Sometimes", "unknown caching"),
        ("caching:None;nocolon", "is not in key:value format"),
    ],
)
def test_invalid_disk_cids_are_rejected_with_reason(cid, message):
    with pytest.raises(InvalidArgument, match=re.escape(message)):
        DiskCid.parse(cid, "rg")


def test_stemcell_cids():
    heavy = StemcellCid.parse("bosh-stemcell-0b9a1f3e-5c1d-4d8e-a2b7-6f0e8d9c1b22")
    light = StemcellCid.parse("bosh-light-stemcell-0b9a1f3e-5c1d-4d8e-a2b7-6f0e8d9c1b22")
    assert (heavy.light, light.light) == (False, True)
    assert heavy.uuid == light.uuid == "0b9a1f3e-5c1d-4d8e-a2b7-6f0e8d9c1b22"
    assert heavy.blob_name == "bosh-stemcell-0b9a1f3e-5c1d-4d8e-a2b7-6f0e8d9c1b22.vhd"
    assert StemcellCid.new().name.startswith("bosh-stemcell-")
    assert StemcellCid.new(light=True).light


@pytest.mark.parametrize("cid", ["", "ami-123", "bosh-stemcell-", "bosh-stemcell-a/b", 42])
def test_invalid_stemcell_cids_are_rejected(cid):
    with pytest.raises(InvalidArgument):
        StemcellCid.parse(cid)
