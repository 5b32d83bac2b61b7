"""Bad input through bin/cpi against the peers: malformed requests, wrong arguments, invalid CIDs, wrong cloud
properties, broken configurations, hostile stemcell images and oversized agent settings.

Each answer is an error envelope with exit status 0 (``run_cpi`` checks both) and a precise one-line message, and
Azure is unchanged: the emulator's resources and Azurite's blobs are the same before and after, and (unless a case
says otherwise) not one write request reached the emulator or Azurite.

Not repeated here: the parser's unit tests (tests/unit/test_protocol.py), the hypothesis fuzzing of parser and
dispatcher (tests/unit/test_fuzz_protocol.py), the in-process contract tests (tests/contract), the configuration
unit tests (tests/unit/test_config.py) and the bad VM CIDs of test_vms.py. test_stemcells.py refuses every hostile
image kind checking the stemcell container and the gallery versions; here the kinds issue 8 names are checked
against all of Azure.
"""

from __future__ import annotations

import contextlib
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench import fixtures
from tests import peers as P  # noqa: N812 - short alias for the harness
from tests.integration import vm_support as V  # noqa: N812
from tests.support import images

MIB = 1024 * 1024
CPI_ERROR = "Bosh::Clouds::CpiError"
NOT_IMPLEMENTED = "Bosh::Clouds::NotImplemented"
VM_CREATION_FAILED = "Bosh::Clouds::VMCreationFailed"
SIZE = "Standard_D2s_v5"
STEMCELL = "bosh-stemcell-5a4b2c1d-0000-4000-8000-000000000001"  # well-formed; never reached
VM = V.vm_cid("8d7c6b5a-0000-4000-8000-000000000002")
DISK = "caching:None;disk_name:bosh-disk-data-0f1e2d3c-0000-4000-8000-000000000003;resource_group_name:bosh-rg"
NETWORKS = {"private": V.dynamic()}
READS = ("GET", "HEAD")
READ_ACTIONS = ("/listKeys",)  # POSTs that only read


@contextlib.contextmanager
def azure_unchanged(peers: P.Peers, *, writes: bool = False) -> Iterator[None]:
    """Azure holds the same resources and blobs afterwards; without ``writes``, nothing was even written."""
    before = V.azure_state(peers, everything=True)
    arm_mark, storage_mark = peers.emulator.requests.mark(), peers.proxy.requests.mark()
    yield
    assert V.azure_state(peers, everything=True) == before
    if not writes:
        arm = [
            f"{e.method} {e.path}"
            for e in peers.emulator.requests.select(since=arm_mark)
            if e.method not in READS and not e.path.endswith(READ_ACTIONS)
        ]
        storage = [f"{e.method} {e.path}?{e.query}" for e in peers.proxy.requests.since(storage_mark)]
        assert arm == [], "ARM writes"
        assert [w for w in storage if not w.startswith(READS)] == [], "storage writes"


def refused(response: P.CpiResponse, error_type: str, message: str) -> None:
    """An error envelope of ``error_type`` whose message contains ``message``; never retryable."""
    error_type_, text, retry = V.error_of(response)
    assert (error_type_, retry) == (error_type, False), text
    assert message in text
    assert "\n" not in text


def run_raw(config: Path, raw: bytes, workdir: Path) -> P.CpiResponse:
    """bin/cpi fed ``raw`` as the request, in the Director's environment."""
    env = {"PATH": P.DIRECTOR_PATH, "TMPDIR": str(workdir), "HOME": str(workdir)}
    proc = subprocess.run(
        [str(P.ROOT / "bin" / "cpi"), str(config)], input=raw, capture_output=True, env=env, timeout=120, check=False
    )
    return P.parse_response(proc.returncode, proc.stdout, proc.stderr.decode(errors="replace"))


# ---- requests -----------------------------------------------------------------------------------------------------

DEEP = 100_000  # nesting levels: far beyond Python's recursion limit

MALFORMED = [
    pytest.param(b"", CPI_ERROR, "Request is not valid JSON: Expecting value: line 1 column 1 (char 0)", id="empty"),
    pytest.param(b'{"method":"create_vm","arguments":["agent-1"', CPI_ERROR,
                 "Request is not valid JSON: Expecting ',' delimiter: line 1 column 45 (char 44)", id="truncated"),
    pytest.param(b"\xff\xfe{}", CPI_ERROR, "Request is not valid JSON", id="not_utf8"),
    pytest.param(b"[" * DEEP + b"]" * DEEP, CPI_ERROR, "Request is not valid JSON: it is nested too deeply",
                 id="nested_too_deeply"),
    pytest.param(b'{"method":"delete_vm","arguments":[' + b"[" * DEEP + b"]" * DEEP + b"]}", CPI_ERROR,
                 "Request is not valid JSON: it is nested too deeply", id="arguments_nested_too_deeply"),
    pytest.param(b'{"method":"DELETE_VM","arguments":["x"]}', NOT_IMPLEMENTED, "Method is not known, got 'DELETE_VM'",
                 id="method_in_capitals"),
    pytest.param(b'{"method":"__init__","arguments":[]}', NOT_IMPLEMENTED, "Method is not known, got '__init__'",
                 id="module_attribute_as_method"),
    pytest.param(b'{"method":"create_network","arguments":[{}]}', NOT_IMPLEMENTED,
                 "managed networks ('create_network') are not supported by the Azure CPI", id="create_network"),
]  # fmt: skip


@pytest.mark.parametrize(("raw", "error_type", "message"), MALFORMED)
def test_malformed_requests(peers, cpi_config_path, tmp_path, raw, error_type, message):
    with azure_unchanged(peers):
        refused(run_raw(cpi_config_path, raw, tmp_path), error_type, message)


WRONG_ARGUMENTS = [
    ("create_vm", ["agent-1", STEMCELL, {}, NETWORKS, []],
     "Arguments are not correct for 'create_vm': expected 6 (agent_id, stemcell_cid, cloud_properties, networks, "
     "disk_cids, environment), got 5"),
    ("delete_vm", [VM, VM], "Arguments are not correct for 'delete_vm': expected 1 (vm_cid), got 2"),
    ("create_vm", [5, STEMCELL, {}, NETWORKS, [], {}],
     "Argument 1 'agent_id' of 'create_vm' must be a string, got number"),
    ("create_disk", ["10", {}, None], "Argument 1 'size' of 'create_disk' must be an integer, got string"),
    ("attach_disk", [[VM], DISK], "Argument 1 'vm_cid' of 'attach_disk' must be a string, got array"),
    ("delete_stemcell", [None], "Argument 1 'stemcell_cid' of 'delete_stemcell' must be a string, got null"),
    ("create_stemcell", ["/tmp/image", []],
     "Argument 2 'cloud_properties' of 'create_stemcell' must be an object, got array"),
    ("set_vm_metadata", [VM, "job=web"], "Argument 2 'metadata' of 'set_vm_metadata' must be an object, got string"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "arguments", "message"), WRONG_ARGUMENTS, ids=[m for m, _, _ in WRONG_ARGUMENTS])
def test_wrong_argument_counts_and_types(cpi, peers, method, arguments, message):
    with azure_unchanged(peers):
        refused(cpi(method, *arguments), CPI_ERROR, message)


# ---- CIDs ---------------------------------------------------------------------------------------------------------

TRAVERSING_DISK = "caching:None;disk_name:../../snapshots/x;resource_group_name:bosh-rg"
OTHER_GROUP_DISK = "caching:None;disk_name:bosh-disk-data-x;resource_group_name:../other"
INVALID_CIDS = [
    ("attach_disk", [VM, "not-a-disk"], CPI_ERROR, "Invalid disk id (plain) 'not-a-disk'"),
    ("attach_disk", [VM, TRAVERSING_DISK], CPI_ERROR,
     f"Invalid disk id '{TRAVERSING_DISK}': disk_name '../../snapshots/x' is not a valid Azure resource name"),
    ("delete_disk", [OTHER_GROUP_DISK], CPI_ERROR,
     f"Invalid disk id '{OTHER_GROUP_DISK}': resource_group_name '../other' is not a valid Azure resource name"),
    ("delete_vm", ["agent_id:x;resource_group_name:a/b"], CPI_ERROR,
     "Invalid VM id 'agent_id:x;resource_group_name:a/b': resource_group_name 'a/b' is not a valid Azure resource "
     "name"),
    ("delete_vm", ["?" * 36], CPI_ERROR, f"Invalid VM id (plain) '{'?' * 36}'"),
    ("snapshot_disk", ["bosh-disk-data-x-Sometimes", {}], CPI_ERROR,
     "Invalid disk id (plain) 'bosh-disk-data-x-Sometimes': unknown caching 'Sometimes'"),
    ("delete_stemcell", ["not-a-stemcell"], CPI_ERROR,
     "Invalid stemcell id 'not-a-stemcell': expected 'bosh-stemcell-<uuid>' or 'bosh-light-stemcell-<uuid>'"),
    ("delete_stemcell", ["bosh-stemcell-../../etc"], CPI_ERROR, "Invalid stemcell id 'bosh-stemcell-../../etc'"),
    ("create_vm", ["agent-1", "not-a-stemcell", {"instance_type": SIZE}, NETWORKS, [], {}], VM_CREATION_FAILED,
     "Invalid stemcell id 'not-a-stemcell'"),
    ("create_vm", ["agent-1", STEMCELL, {"instance_type": SIZE}, NETWORKS, ["no-disk"], {}], VM_CREATION_FAILED,
     "Invalid disk id (plain) 'no-disk'"),
]  # fmt: skip


# ---- cloud properties -----------------------------------------------------------------------------------------------


def vm_with(**props: Any) -> list[Any]:
    return ["agent-1", STEMCELL, {"instance_type": SIZE, **props}, NETWORKS, [], {}]


def stemcell_props(**changes: Any) -> dict[str, Any]:
    props = fixtures.cloud_properties("bosh-azure-hyperv-ubuntu-jammy-go_agent", "400.0", 8 * MIB, "gen1")
    return {key: value for key, value in {**props, **changes}.items() if value is not None}


WRONG_PROPERTIES = [
    ("create_vm", vm_with(instance_type=5), VM_CREATION_FAILED,
     "'vm_type.cloud_properties.instance_type' must be a string, got number"),
    ("create_vm", vm_with(ephemeral_disk="big"), VM_CREATION_FAILED,
     "'vm_type.cloud_properties.ephemeral_disk' must be an object, got string"),
    ("create_vm", vm_with(root_disk={"size": "30G"}), VM_CREATION_FAILED,
     "'vm_type.cloud_properties.root_disk.size' must be an integer, got string"),
    ("create_vm", vm_with(availability_zone="7"), VM_CREATION_FAILED,
     "'vm_type.cloud_properties.availability_zone' '7' is not a valid zone. Available zones are: 1, 2, 3"),
    ("create_vm", vm_with(storage_account_type="Gold_LRS"), VM_CREATION_FAILED,
     "'vm_type.cloud_properties.storage_account_type' must be one of Standard_LRS, StandardSSD_LRS, StandardSSD_ZRS, "
     "Premium_LRS, Premium_ZRS, PremiumV2_LRS, UltraSSD_LRS; got 'Gold_LRS'"),
    ("create_vm", ["agent-1", STEMCELL, {"instance_type": SIZE}, {"private": {"type": "dynamic", "cloud_properties": {
        "subnet_name": "dyn"}}}, [], {}], VM_CREATION_FAILED,
     "'networks.private.cloud_properties.virtual_network_name' is required"),
    ("create_vm", ["agent-1", STEMCELL, {"instance_type": SIZE}, {"private": {**V.dynamic(), "type": "overlay"}}, [],
     {}], VM_CREATION_FAILED,
     "Invalid network type 'overlay' for Azure, can only handle 'dynamic', 'vip', or 'manual' network types"),
    ("create_disk", [1024, {"storage_account_type": "Gold_LRS"}, None], CPI_ERROR,
     "'disk_type.cloud_properties.storage_account_type' must be one of Standard_LRS"),
    ("create_disk", [1024, {"caching": "Sometimes"}, None], CPI_ERROR,
     "'disk_type.cloud_properties.caching' must be one of None, ReadOnly, ReadWrite; got 'Sometimes'"),
    ("create_disk", [-5, {}, None], CPI_ERROR, "Azure's minimum disk size is 1 GiB (1024 MiB), got -5 MiB"),
    ("create_stemcell", ["/tmp/image", stemcell_props(version=None)], CPI_ERROR,
     "'stemcell.cloud_properties.version' is required"),
    ("create_stemcell", ["/tmp/image", stemcell_props(disk="big")], CPI_ERROR,
     "'stemcell.cloud_properties.disk' must be an integer, got string"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "arguments", "error_type", "message"), INVALID_CIDS + WRONG_PROPERTIES)
def test_invalid_cids_and_cloud_properties_are_named_before_azure_is_called(
    cpi, peers, method, arguments, error_type, message
):
    with azure_unchanged(peers):
        refused(cpi(method, *arguments), error_type, message)


# ---- configuration ------------------------------------------------------------------------------------------------

BROKEN_CONFIGS = [
    ({"resource_group_name": P.DELETE}, "'azure.resource_group_name' is required"),
    ({"client_secret": P.DELETE}, "'azure.client_secret' or 'certificate' is required when credentials_source is "
                                  "'static'"),
    ({"ssh_public_key": P.DELETE}, "'azure.ssh_public_key' is required"),
    ({"location": P.DELETE}, "'azure.location' is required when 'compute_gallery_name' is set"),
    ({"timeouts": {"create_vm": "soon"}}, "'azure.timeouts.create_vm' must be an integer"),
]  # fmt: skip


@pytest.mark.parametrize(("overrides", "message"), BROKEN_CONFIGS, ids=[next(iter(o)) for o, _ in BROKEN_CONFIGS])
def test_config_missing_required_keys_or_with_wrong_types(cpi, peers, overrides, message):
    broken = cpi.with_config(**overrides)
    with azure_unchanged(peers):
        refused(broken("delete_vm", VM), CPI_ERROR, message)


def test_config_file_missing(peers, tmp_path):
    absent = tmp_path / "absent.json"
    with azure_unchanged(peers):
        response = P.run_cpi(absent, "delete_vm", [VM], workdir=tmp_path)
    refused(response, CPI_ERROR, f"Cannot read CPI config '{absent}': No such file or directory")


# ---- stemcell images ----------------------------------------------------------------------------------------------

IMAGE_KINDS = [
    ("not_gzip", "not a gzip file"),
    ("gzip_not_tar", "not a tar archive inside the gzip data"),
    ("missing_root_vhd", "no root.vhd in the archive"),
    ("parent_traversal", "member '../root.vhd' has a '..' path component"),
    ("absolute_path", "member '/root.vhd' has an absolute path"),
    ("symlink", "root.vhd is a symbolic link, not a regular file"),
    ("char_device", "root.vhd is a character device, not a regular file"),
    ("dynamic_vhd", "root.vhd is a dynamic VHD (it starts with a footer copy), only fixed VHDs are supported"),
    ("bad_checksum", "root.vhd footer checksum is 0x"),
]
WRITTEN_THEN_DELETED = ("bad_checksum",)  # the footer ends the stream: the blob is written, then deleted


@pytest.mark.parametrize(("kind", "message"), IMAGE_KINDS, ids=[kind for kind, _ in IMAGE_KINDS])
def test_hostile_stemcell_images_leave_azure_unchanged(cpi, peers, tmp_path, kind, message):
    """A series of its own, so an image definition created by mistake would show."""
    hostile = images.hostile_image(tmp_path, kind)
    props = stemcell_props(name="bosh-azure-hyperv-ubuntu-bad-input-go_agent", version="401.0", disk=1)
    with azure_unchanged(peers, writes=kind in WRITTEN_THEN_DELETED):
        response = cpi("create_stemcell", str(hostile.path), props)
    refused(response, CPI_ERROR, f"Stemcell image {hostile.path}: {message}")


# ---- agent settings -----------------------------------------------------------------------------------------------


def test_agent_settings_over_the_custom_data_limit(cpi, peers, cpi_config_path):
    """A huge ``env`` (e.g. certificates) makes customData exceed Azure's 64 KiB: refused, nothing is left."""
    stemcell = V.shared_stemcell(peers, cpi_config_path)
    env = {"bosh": {"certificates": "x" * 70_000}}
    arguments = [str(uuid.uuid4()), stemcell, {"instance_type": SIZE}, NETWORKS, [], env]
    with azure_unchanged(peers):  # refused before anything is created
        response = cpi("create_vm", *arguments)
    refused(response, VM_CREATION_FAILED, "over Azure's custom data limit of 65535 bytes; reduce the size of 'env'")
