"""Fault matrix through bin/cpi: create_stemcell, delete_stemcell, create_vm, attach_disk and delete_vm while the ARM
emulator or the storage fault proxy throttles (429 + Retry-After), fails (500/503 bursts), resets connections
(also in the middle of a Put Page upload), ends long-running operations ``Failed``, never ends them (deadlines from
``azure.timeouts``) or answers 409 to tag updates.

Each case asserts that the call succeeds after retries, or fails with the right wire type and ``ok_to_retry``; that
afterwards the emulator and Azurite hold nothing the call created (every ARM resource and every blob is compared;
image definitions and lock blobs are kept on purpose, see README); and that a repeat of a failed call succeeds.

Retry-After 0 makes azure-core fall back to its exponential backoff (0.5-1 s, 1-2 s, ...), so cases that exhaust
the retries send a fractional Retry-After (azure-core parses it as a float) to keep the waits short.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from itertools import zip_longest
from pathlib import Path
from typing import Any

import pytest

from arm_emulator.faults import (
    FailOperation,
    FaultAction,
    FaultRule,
    Reset,
    Respond,
    StuckOperation,
    server_error,
    throttle,
)
from bench import fixtures
from tests import peers as P  # noqa: N812 - short alias for the harness
from tests.integration import vm_support as V  # noqa: N812

MIB = 1024 * 1024
SIZE = "Standard_D2s_v5"
QUICK = 0.05  # seconds of Retry-After for cases that exhaust the retries
CLOUD_ERROR = "Bosh::Clouds::CloudError"
VM_CREATION_FAILED = "Bosh::Clouds::VMCreationFailed"
PUT_PAGE = {"comp": "page"}
MANY = None  # a rule that fires on every matching request


@dataclass(frozen=True, slots=True)
class Fault:
    """One row of the matrix: the rule (``path`` formatted with the call's names), where it goes (``arm`` or
    ``storage``), and the outcome: ``error`` None means success after retries, else (wire type, ok_to_retry).
    ``fired`` is how often the rule must have fired (None: more than once, the client retried until it gave up)."""

    name: str
    where: str
    method: str
    path: str
    action: FaultAction
    times: int | None = 1
    query: dict[str, str] = field(default_factory=dict)
    error: tuple[str, bool] | None = None
    message: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    fired: int | None = 1

    def install(self, peers: P.Peers, **names: str) -> FaultRule:
        escaped = {key: re.escape(value) for key, value in names.items()}
        rule = FaultRule(self.action, self.method, self.path.format(**escaped), self.query, self.times, name=self.name)
        return (peers.emulator.faults if self.where == "arm" else peers.proxy.faults).add(rule)

    def check(self, response: P.CpiResponse, rule: FaultRule, names: dict[str, str]) -> None:
        """The outcome; ``message`` (formatted with ``names``) must be part of the error message."""
        if self.error is None:
            response.unwrap()
        else:
            error_type, message, retry = V.error_of(response)
            assert (error_type, retry) == self.error, message
            assert self.message.format(**names) in message
            assert "\n" not in message
        assert rule.fired > 1 if self.fired is None else rule.fired == self.fired


def ids(faults: list[Fault]) -> list[str]:
    return [fault.name for fault in faults]


def clear_faults(peers: P.Peers) -> None:
    peers.emulator.faults.clear()
    peers.proxy.faults.clear()


def call_under(fault: Fault | None, peers: P.Peers, call: Callable[..., P.CpiResponse], **names: str) -> P.CpiResponse:
    """Run ``call`` with ``fault`` injected (``config=`` its config overrides) and check the outcome. After an
    expected failure, check that Azure holds nothing new, then return the response of a repeat without the fault."""
    if fault is None:
        return call(config={})
    before = V.azure_state(peers)
    rule = fault.install(peers, **names)
    response = call(config=fault.config)
    fault.check(response, rule, names)
    clear_faults(peers)
    if fault.error is None:
        return response
    left = V.azure_state(peers) - before
    assert not left, f"the failed call left {sorted(left)}"
    return call(config={})


def runner(cpi: Any, config: dict[str, Any]) -> Any:
    return cpi.with_config(**config) if config else cpi


def paired(first: list[Fault], second: list[Fault]) -> list[Any]:
    """Rows of (row number, fault of the first call, fault of the second call) covering both lists."""
    rows = enumerate(zip_longest(first, second))
    return [pytest.param(i, a, b, id="+".join(f.name for f in (a, b) if f is not None)) for i, (a, b) in rows]


# ---- stemcells ----------------------------------------------------------------------------------------------------

VERSION_PATH = "/images/{definition}/versions/{version}$"
CREATING_VERSION = f"Creating gallery image version '{P.GALLERY}/{{definition}}/{{version}}'"
DELETING_VERSION = f"Deleting gallery image version '{P.GALLERY}/{{definition}}/{{version}}'"


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> fixtures.StemcellFixture:
    """One 8 MiB stemcell image; each case gives it a version of its own in the cloud properties."""
    return fixtures.build_stemcell(tmp_path_factory.mktemp("fault-stemcell"), 8 * MIB, version="1.0", compresslevel=1)


@dataclass(frozen=True, slots=True)
class Stemcell:
    """create_stemcell / delete_stemcell of one version of the fixture image."""

    cpi: Any
    peers: P.Peers
    image: fixtures.StemcellFixture
    version: str

    @property
    def names(self) -> dict[str, str]:
        return {"definition": self.image.cloud_properties["name"], "version": f"{self.version}.0"}

    def create(self, fault: Fault | None = None) -> str:
        props = {**self.image.cloud_properties, "version": self.version}
        call = partial(self._run, "create_stemcell", str(self.image.image), props)
        cid = str(call_under(fault, self.peers, call, **self.names).unwrap())
        assert f"blob:stemcell/{cid}.vhd" in V.azure_state(self.peers)
        assert cid in self.references()
        return cid

    def delete(self, cid: str, fault: Fault | None = None) -> None:
        call = partial(self._run, "delete_stemcell", cid)
        call_under(fault, self.peers, call, **self.names, cid=cid).unwrap()
        assert f"blob:stemcell/{cid}.vhd" not in V.azure_state(self.peers)

    def references(self) -> list[str]:
        found = self.peers.emulator.resource(V.gallery_version_id(*self.names.values()))
        assert found is not None, f"gallery image version {self.names} is missing"
        assert found["properties"]["provisioningState"] == "Succeeded"
        tags = found.get("tags") or {}
        refs = (r for key, value in tags.items() if key.startswith("stemcell_references") for r in value.split(","))
        return sorted(refs)

    def _run(self, method: str, *arguments: Any, config: dict[str, Any]) -> P.CpiResponse:
        return runner(self.cpi, config)(method, *arguments)


CREATE_STEMCELL = [
    Fault("429_on_version_put", "arm", "PUT", VERSION_PATH, throttle(1)),
    Fault("503_burst_on_put_page", "storage", "PUT", "/stemcell/", Respond(503, "ServerBusy", "Busy.", 1),
          times=3, query=PUT_PAGE, fired=3),
    Fault("503_on_every_put_page", "storage", "PUT", "/stemcell/", Respond(503, "ServerBusy", "Busy.", QUICK),
          times=MANY, query=PUT_PAGE, error=(CLOUD_ERROR, True), message="ServerBusy: Busy.", fired=None),
    Fault("reset_mid_put_page", "storage", "PUT", "/stemcell/", Reset(mid_response=True), times=2, query=PUT_PAGE,
          fired=2),
    Fault("version_operation_failed", "arm", "PUT", VERSION_PATH, FailOperation("InternalServerError", "Boom."),
          error=(CLOUD_ERROR, True), message=f"{CREATING_VERSION}: InternalServerError: Boom."),
    Fault("replication_never_completes", "arm", "PUT", VERSION_PATH, StuckOperation(), error=(CLOUD_ERROR, True),
          message=f"{CREATING_VERSION} did not finish within 2s", config={"timeouts": {"replication": 2}}),
    Fault("call_deadline_passes_while_replicating", "arm", "PUT", VERSION_PATH, StuckOperation(),
          error=(CLOUD_ERROR, True), message=f"{CREATING_VERSION} did not finish within 5s",
          config={"timeouts": {"create_stemcell": 5}}),
]  # fmt: skip
DELETE_STEMCELL = [
    Fault("429_on_version_delete", "arm", "DELETE", VERSION_PATH, throttle(1)),
    Fault("503_burst_on_blob_delete", "storage", "DELETE", "/stemcell/{cid}.vhd$",
          Respond(503, "ServerBusy", "Busy.", QUICK), times=2, fired=2),
    Fault("500_on_every_version_delete", "arm", "DELETE", VERSION_PATH,
          Respond(500, "InternalServerError", "Encountered internal server error.", QUICK), times=MANY,
          error=(CLOUD_ERROR, True), message=f"{DELETING_VERSION}: InternalServerError: Encountered", fired=None),
    Fault("version_delete_operation_failed", "arm", "DELETE", VERSION_PATH,
          FailOperation("InternalServerError", "Boom."), error=(CLOUD_ERROR, True),
          message=f"{DELETING_VERSION}: InternalServerError: Boom."),
]  # fmt: skip


@pytest.mark.parametrize(("row", "create_fault", "delete_fault"), paired(CREATE_STEMCELL, DELETE_STEMCELL))
def test_create_and_delete_stemcell(cpi, peers, image, row, create_fault, delete_fault):
    stemcell = Stemcell(cpi, peers, image, f"{310 + row}.0")
    before = V.azure_state(peers)
    cid = stemcell.create(create_fault)
    assert stemcell.references() == [cid]
    stemcell.delete(cid, delete_fault)
    assert V.azure_state(peers) == before


RETRYABLE_CONFLICT = Fault(
    "retryable_409_on_removing_a_reference", "arm", "PATCH", VERSION_PATH,
    Respond(409, "AnotherOperationInProgress", "Another operation on this or dependent resource is in progress.", 1),
    times=2, fired=2,
)  # fmt: skip
CONFLICT = Fault(
    "409_conflict_on_adding_a_reference", "arm", "PATCH", VERSION_PATH,
    Respond(409, "Conflict", "The request conflicts with the current state of the resource."), times=MANY,
    error=(CLOUD_ERROR, False), message="Updating the tags of gallery image version",
)  # fmt: skip


def test_conflicts_on_reference_tag_updates(cpi, peers, image):
    """A second upload of an identical version only adds its reference to the version's tags; deleting it removes
    the reference again. A plain 409 on adding fails the upload (its blob is deleted); a retryable one is waited out."""
    stemcell = Stemcell(cpi, peers, image, "330.0")
    before = V.azure_state(peers)
    first = stemcell.create()
    second = stemcell.create(CONFLICT)
    assert stemcell.references() == sorted([first, second])
    stemcell.delete(second, RETRYABLE_CONFLICT)
    assert stemcell.references() == [first]
    stemcell.delete(first)
    assert V.azure_state(peers) == before


# ---- VMs ----------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stemcell_cid(peers, cpi_config_path):
    return V.shared_stemcell(peers, cpi_config_path)


def vm_arguments(agent_id: str, stemcell: str) -> list[Any]:
    """create_vm arguments: a dynamic IP, a public IP of its own, and the shared availability set from the env."""
    vm_props = {"instance_type": SIZE, "assign_dynamic_public_ip": True}
    return [agent_id, stemcell, vm_props, {"private": V.dynamic()}, [], V.ENV]


def run_with(cpi: Any, method: str, *arguments: Any, config: dict[str, Any]) -> P.CpiResponse:
    return runner(cpi, config)(method, *arguments)


VM_PATH = "/virtualMachines/{agent}$"
CREATE_VM = [
    Fault("429_on_nic_put", "arm", "PUT", "/networkInterfaces/{agent}-0$", throttle(1)),
    Fault("500_burst_on_vm_put", "arm", "PUT", VM_PATH, server_error(500), times=2, fired=2),
    Fault("reset_on_public_ip_put", "arm", "PUT", "/publicIPAddresses/{agent}$", Reset()),
    Fault("vm_operation_failed", "arm", "PUT", VM_PATH, FailOperation("InternalServerError", "Boom."),
          error=(VM_CREATION_FAILED, True), message="Creating VM '{agent}': InternalServerError: Boom."),
    Fault("call_deadline_passes_while_creating_the_vm", "arm", "PUT", VM_PATH, StuckOperation(),
          error=(VM_CREATION_FAILED, True), message="Creating VM '{agent}' did not finish within 3s",
          config={"timeouts": {"create_vm": 3}}),
]  # fmt: skip
DELETE_VM = [
    Fault("429_on_vm_delete", "arm", "DELETE", VM_PATH, throttle(1)),
    Fault("500_on_every_vm_delete", "arm", "DELETE", VM_PATH,
          Respond(500, "InternalServerError", "Encountered internal server error.", QUICK), times=MANY,
          error=(CLOUD_ERROR, True), message="Deleting VM '{agent}': InternalServerError: Encountered", fired=None),
    Fault("vm_delete_operation_failed", "arm", "DELETE", VM_PATH, FailOperation("InternalServerError", "Boom."),
          error=(CLOUD_ERROR, True), message="Deleting VM '{agent}': InternalServerError: Boom."),
]  # fmt: skip


@pytest.mark.parametrize(("row", "create_fault", "delete_fault"), paired(CREATE_VM, DELETE_VM))
def test_create_and_delete_vm(cpi, peers, stemcell_cid, row, create_fault, delete_fault):
    before = V.azure_state(peers)
    agent_id = str(uuid.uuid4())
    cid = V.vm_cid(agent_id)
    create = partial(run_with, cpi, "create_vm", *vm_arguments(agent_id, stemcell_cid))
    assert call_under(create_fault, peers, create, agent=agent_id).unwrap()[0] == cid
    assert V.resource(peers, V.network_id("publicIPAddresses", agent_id)) is not None
    assert call_under(delete_fault, peers, partial(run_with, cpi, "delete_vm", cid), agent=agent_id).unwrap() is None
    assert V.azure_state(peers) == before


@dataclass(frozen=True, slots=True)
class Attachable:
    agent_id: str
    vm_cid: str
    disk_cid: str


@pytest.fixture(scope="module")
def attachable(peers, cpi_config_path, stemcell_cid, tmp_path_factory) -> Iterator[Attachable]:
    """A VM and a detached persistent disk, shared by the attach_disk cases (each detaches what it attached)."""
    workdir: Path = tmp_path_factory.mktemp("attach")
    agent_id = str(uuid.uuid4())
    vm_cid = V.vm_cid(agent_id)
    P.run_cpi(cpi_config_path, "create_vm", vm_arguments(agent_id, stemcell_cid), workdir=workdir).unwrap()
    disk_cid = P.run_cpi(cpi_config_path, "create_disk", [1024, {}, vm_cid], workdir=workdir).unwrap()
    yield Attachable(agent_id, vm_cid, disk_cid)
    P.run_cpi(cpi_config_path, "delete_vm", [vm_cid], workdir=workdir).unwrap()
    P.run_cpi(cpi_config_path, "delete_disk", [disk_cid], workdir=workdir).unwrap()


def persistent_luns(peers: P.Peers, agent_id: str) -> list[int]:
    vm = V.resource(peers, V.vm_id(agent_id))
    assert vm is not None
    disks = vm["properties"]["storageProfile"].get("dataDisks") or []
    return [d["lun"] for d in disks if not d["name"].endswith("-ephemeral-disk")]


ATTACH_DISK = [
    Fault("429_on_vm_update", "arm", "PATCH", VM_PATH, throttle(1)),
    Fault("409_concurrent_write_on_vm_update", "arm", "PATCH", VM_PATH,
          Respond(409, "ConflictingConcurrentWriteNotAllowed", "A concurrent write is not allowed."), times=2,
          fired=2),
    Fault("503_on_every_vm_update", "arm", "PATCH", VM_PATH,
          Respond(503, "ServiceUnavailable", "The service is temporarily unavailable.", QUICK), times=MANY,
          error=(CLOUD_ERROR, True), message="to VM '{agent}': ServiceUnavailable: The service is", fired=None),
    Fault("vm_update_operation_failed", "arm", "PATCH", VM_PATH, FailOperation("InternalServerError", "Boom."),
          error=(CLOUD_ERROR, True), message="to VM '{agent}': InternalServerError: Boom."),
]  # fmt: skip


@pytest.mark.parametrize("fault", ATTACH_DISK, ids=ids(ATTACH_DISK))
def test_attach_disk(cpi, peers, attachable, fault):
    """The VM update that attaches the disk also writes its ``disk-id-*`` tag: 409s here are tag conflicts too."""
    before = V.azure_state(peers)
    attach = partial(run_with, cpi, "attach_disk", attachable.vm_cid, attachable.disk_cid)
    assert call_under(fault, peers, attach, agent=attachable.agent_id).unwrap() == {
        "lun": "1",
        "host_device_id": V.HOST_DEVICE_ID,
    }
    assert persistent_luns(peers, attachable.agent_id) == [1]
    cpi("detach_disk", attachable.vm_cid, attachable.disk_cid).unwrap()
    assert persistent_luns(peers, attachable.agent_id) == []
    assert V.azure_state(peers) == before
