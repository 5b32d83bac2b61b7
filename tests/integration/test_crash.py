"""bin/cpi killed in the middle of create_stemcell (during the page upload or the replication) and of create_vm,
with SIGTERM and SIGKILL; then the cleanup README "Failure handling" documents is checked against the emulator and
Azurite.

Where the call is when the signal comes is made certain, not timed: the storage fault proxy answers every Put Page
with 503 + Retry-After (the upload waits in its retries), or the emulator never ends the image version's, VM's or
NIC's create operation. The signal goes out once the fault has fired.

Documented behaviour checked: on SIGTERM the CPI deletes what the call created and answers a retryable CloudError;
after SIGKILL the next call of the same method succeeds; an interrupted upload leaves a blob marked
``bosh_upload_state=in_progress`` under a 60 s lease, which create_stemcell deletes once it has not been written for
an hour (the hour and the lease expiry cannot pass in a test: the lease is broken and the CPI's own clean-up function
is run with its clock an hour ahead); an interrupted create_vm leaves resources named after its agent id, which
appears in the log as ``Creating VM '<agent id>'``, and ``delete_vm`` with that id removes them.
"""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobLeaseClient

from arm_emulator.faults import FaultRule, Respond, StuckOperation
from bench import fixtures
from bosh_azure_cpi.services.blob_upload import MARKER_IN_PROGRESS, MARKER_KEY, delete_abandoned_uploads
from bosh_azure_cpi.services.stemcell_store import ABANDONED_AFTER_S
from tests import peers as P  # noqa: N812 - short alias for the harness
from tests.integration import vm_support as V  # noqa: N812

MIB = 1024 * 1024
SIZE = "Standard_D2s_v5"
WAIT = 120.0  # safety net for each wait below; never reached when the code is right
TERMINATED = {"type": "Bosh::Clouds::CloudError", "ok_to_retry": True}


class RunningCpi:
    """bin/cpi started as the Director starts it (request on stdin, stdin closed) and left running; its output is
    read by threads so that it never blocks."""

    def __init__(self, config: Path, method: str, arguments: list[Any], workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        env = {"PATH": P.DIRECTOR_PATH, "TMPDIR": str(workdir), "HOME": str(workdir)}
        request = {"method": method, "arguments": arguments, "context": {"request_id": "cpi-crash"}, "api_version": 2}
        self.proc = subprocess.Popen(
            [str(P.ROOT / "bin" / "cpi"), str(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,
        )
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(request).encode())
        self.proc.stdin.close()
        self._out: list[bytes] = []
        self._err: list[bytes] = []
        self._readers = [self._reader(self.proc.stdout, self._out), self._reader(self.proc.stderr, self._err)]

    @staticmethod
    def _reader(stream: Any, sink: list[bytes]) -> threading.Thread:
        thread = threading.Thread(target=lambda: sink.extend(iter(lambda: stream.read1(65536), b"")), daemon=True)
        thread.start()
        return thread

    def stderr(self) -> str:
        return b"".join(self._err).decode(errors="replace")

    def wait_for(self, condition: Callable[[], bool], what: str) -> None:
        """Poll ``condition`` until true; fail if the process ends first (or the safety net is reached)."""
        deadline = time.monotonic() + WAIT
        while not condition():
            assert self.proc.poll() is None, f"bin/cpi ended before {what}:\n{self.stderr()[-3000:]}"
            assert time.monotonic() < deadline, f"no {what} within {WAIT} s"
            time.sleep(0.05)

    def kill(self, signum: int) -> None:
        os.kill(self.proc.pid, signum)

    def finish(self) -> tuple[int, bytes, str]:
        """Exit status, stdout and stderr once the process has ended."""
        self.proc.wait(timeout=WAIT)
        for reader in self._readers:
            reader.join(timeout=WAIT)
        self.close()
        return self.proc.returncode, b"".join(self._out), self.stderr()

    def close(self) -> None:
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()

    def response(self) -> P.CpiResponse:
        return P.parse_response(*self.finish())


@pytest.fixture
def running(peers: P.Peers, tmp_path: Path) -> Iterator[Callable[..., RunningCpi]]:
    started: list[RunningCpi] = []

    def start(config: Path, method: str, *arguments: Any) -> RunningCpi:
        started.append(RunningCpi(config, method, list(arguments), tmp_path / f"run-{len(started)}"))
        return started[-1]

    yield start
    for cpi in started:
        if cpi.proc.poll() is None:
            os.killpg(cpi.proc.pid, signal.SIGKILL)
        cpi.finish()


def terminated(response: P.CpiResponse, method: str) -> None:
    assert response.error is not None, f"the call ended normally: {response.result!r}"
    assert {k: response.error[k] for k in TERMINATED} == TERMINATED
    assert response.error["message"] == f"The CPI process was terminated during '{method}'"


# ---- create_stemcell ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> fixtures.StemcellFixture:
    return fixtures.build_stemcell(tmp_path_factory.mktemp("crash-stemcell"), 8 * MIB, version="1.0", compresslevel=1)


def stalled_upload(peers: P.Peers, retry_after: float) -> FaultRule:
    """Every Put Page answers 503 ServerBusy with ``retry_after``: the upload waits in its retries."""
    busy = Respond(503, "ServerBusy", "The server is busy.", retry_after)  # type: ignore[arg-type]  # a float works
    return peers.proxy.faults.add(FaultRule(busy, "PUT", "/stemcell/", {"comp": "page"}, None, name="stall"))


def stalled_replication(peers: P.Peers, definition: str, version: str) -> FaultRule:
    """The creation of the gallery image version (its replication) never ends."""
    path = f"/images/{definition}/versions/{version}$"
    return peers.emulator.faults.add(FaultRule(StuckOperation(), "PUT", path, name="stall"))


@pytest.mark.parametrize("stage", ["page_upload", "replication"])
def test_sigterm_during_create_stemcell_deletes_what_it_created(cpi, peers, image, running, cpi_config_path, stage):
    """In the upload: the blob; in the replication: the image version and the blob."""
    version = {"page_upload": "360.0", "replication": "362.0"}[stage]
    props = {**image.cloud_properties, "version": version}
    before = V.azure_state(peers)
    if stage == "page_upload":
        stall = stalled_upload(peers, 0.25)  # not cleared: the cleanup waits until the upload's retries give up
    else:
        stall = stalled_replication(peers, props["name"], f"{version}.0")
    upload = running(cpi_config_path, "create_stemcell", str(image.image), props)
    upload.wait_for(lambda: stall.fired > 0, stage)
    upload.kill(signal.SIGTERM)
    terminated(upload.response(), "create_stemcell")
    peers.proxy.faults.clear()
    assert V.azure_state(peers) == before

    cid = cpi("create_stemcell", str(image.image), props).unwrap()
    cpi("delete_stemcell", cid).unwrap()
    assert V.azure_state(peers) == before


def test_sigkill_during_the_page_upload_leaves_a_marked_blob_that_the_cleanup_deletes(
    cpi, peers, image, running, cpi_config_path
):
    props = {**image.cloud_properties, "version": "361.0"}
    before = V.azure_state(peers)
    stall = stalled_upload(peers, 1)
    upload = running(cpi_config_path, "create_stemcell", str(image.image), props)
    upload.wait_for(lambda: stall.fired > 0, "Put Page")
    upload.kill(signal.SIGKILL)
    assert upload.finish()[0] == -signal.SIGKILL
    peers.proxy.faults.clear()
    [leftover] = V.azure_state(peers) - before
    container = P.blob_service(peers).get_container_client("stemcell")
    blob = container.get_blob_client(leftover.removeprefix("blob:stemcell/")).get_blob_properties()
    assert blob.metadata[MARKER_KEY] == MARKER_IN_PROGRESS
    assert (blob.lease.state, blob.lease.duration) == ("leased", "fixed")  # a 60 s lease, not an infinite one

    cid = cpi("create_stemcell", str(image.image), props).unwrap()  # the next call succeeds ...
    assert leftover in V.azure_state(peers)  # ... and keeps the blob of an upload that may still be alive
    cpi("delete_stemcell", cid).unwrap()

    # What create_stemcell runs first (StemcellStore.delete_abandoned_uploads), once the lease has expired (broken
    # here) and the blob has not been written for an hour (the clock is set ahead).
    BlobLeaseClient(container.get_blob_client(blob.name)).break_lease(lease_break_period=0)
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=ABANDONED_AFTER_S + 60)
    assert delete_abandoned_uploads(container, ABANDONED_AFTER_S, now=later) == [blob.name]
    assert V.azure_state(peers) == before


# ---- create_vm ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stemcell_cid(peers, cpi_config_path):
    return V.shared_stemcell(peers, cpi_config_path)


def vm_arguments(agent_id: str, stemcell: str) -> list[Any]:
    """A dynamic IP, a public IP of its own and the availability set of the env's group: all named after the VM."""
    return [
        agent_id,
        stemcell,
        {"instance_type": SIZE, "assign_dynamic_public_ip": True},
        {"p": V.dynamic()},
        [],
        V.ENV,
    ]


def stalled_create(peers: P.Peers, path: str) -> FaultRule:
    """The create operation started by the PUT on ``path`` never ends (until the test ends it)."""
    return peers.emulator.faults.add(FaultRule(StuckOperation(), "PUT", path, name="stall"))


def test_sigterm_during_create_vm_deletes_what_it_created(cpi, peers, stemcell_cid, running, cpi_config_path):
    before = V.azure_state(peers)
    agent_id = str(uuid.uuid4())
    stall = stalled_create(peers, f"/virtualMachines/{agent_id}$")
    creating = running(cpi_config_path, "create_vm", *vm_arguments(agent_id, stemcell_cid))
    creating.wait_for(lambda: stall.fired > 0, "the VM PUT")
    creating.kill(signal.SIGTERM)
    terminated(creating.response(), "create_vm")
    assert V.azure_state(peers) == before

    again = str(uuid.uuid4())
    assert cpi("create_vm", *vm_arguments(again, stemcell_cid)).unwrap()[0] == V.vm_cid(again)
    cpi("delete_vm", V.vm_cid(again)).unwrap()
    assert V.azure_state(peers) == before


def leftovers(agent_id: str, vm_created: bool) -> set[str]:
    """Names of what a create_vm killed before (or after) sending the VM PUT leaves behind."""
    names = {f"{agent_id}-0", agent_id, V.GROUP}  # NIC, public IP (and VM), availability set
    return names | ({f"bosh-disk-os-{agent_id}", f"bosh-disk-os-{agent_id}-ephemeral-disk"} if vm_created else set())


@pytest.mark.parametrize("stalled", ["virtualMachines/{}", "networkInterfaces/{}-0"], ids=["at_the_vm", "at_the_nic"])
def test_sigkill_during_create_vm_then_delete_vm_with_the_agent_id(
    cpi, peers, stemcell_cid, running, cpi_config_path, stalled
):
    """At the NIC, the VM itself is never created; either way Azure finishes the started operation on its own."""
    before = V.azure_state(peers)
    agent_id = str(uuid.uuid4())
    stall = stalled_create(peers, f"/{stalled.format(agent_id)}$")
    creating = running(cpi_config_path, "create_vm", *vm_arguments(agent_id, stemcell_cid))
    creating.wait_for(lambda: stall.fired > 0, f"the PUT on {stalled}")
    creating.kill(signal.SIGKILL)
    status, _, stderr = creating.finish()
    assert status == -signal.SIGKILL
    assert f"Creating VM '{agent_id}'" in stderr  # how the operator finds the agent id
    peers.emulator.faults.clear()
    peers.emulator.complete_operations()
    left = {item.rsplit("/", 1)[-1] for item in V.azure_state(peers) - before}
    assert left == leftovers(agent_id, vm_created=stalled.startswith("virtualMachines")) - {
        name.rsplit("/", 1)[-1] for name in before
    }

    again = str(uuid.uuid4())
    assert cpi("create_vm", *vm_arguments(again, stemcell_cid)).unwrap()[0] == V.vm_cid(again)
    cpi("delete_vm", V.vm_cid(again)).unwrap()
    cpi("delete_vm", agent_id).unwrap()  # the documented clean-up: delete_vm with the agent id
    assert V.azure_state(peers) == before
