"""Fault injection against the real SDK retry policy, and the request log that shows what happened."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ServiceResponseError
from azure.core.pipeline.transport import RequestsTransport
from azure.mgmt.compute import ComputeManagementClient

from arm_emulator import ArmEmulator, FaultRule, Reset, Respond, server_error, throttle
from arm_emulator.faults import FaultInjector
from arm_emulator.requestlog import ARM
from tests.peers import GALLERY, LOCATION, RESOURCE_GROUP, SUBSCRIPTION_ID, Peers, credential, mgmt_kwargs

GALLERY_GET = f"/galleries/{GALLERY}$"


class SleepRecorder(RequestsTransport):
    """A transport that records the retry policy's sleeps instead of sleeping."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sleeps: list[float] = []

    def sleep(self, duration: float) -> None:
        self.sleeps.append(duration)


@pytest.fixture
def recorded_client(peers: Peers) -> Iterator[tuple[ComputeManagementClient, SleepRecorder]]:
    transport = SleepRecorder(connection_verify=str(peers.emulator.ca_path))
    with ComputeManagementClient(
        credential(peers), SUBSCRIPTION_ID, transport=transport, **mgmt_kwargs(peers)
    ) as client:
        yield client, transport


def _statuses(arm: ArmEmulator, mark: int) -> list[tuple[int, str | None]]:
    return [(e.status, e.fault) for e in arm.requests.select(path=GALLERY_GET, since=mark)]


def test_throttling_retry_after_is_honoured(recorded_client: Any, arm: ArmEmulator) -> None:
    client, transport = recorded_client
    arm.faults.add(FaultRule(throttle(retry_after=7), method="GET", path=GALLERY_GET, name="throttle"))
    mark = arm.requests.mark()
    assert client.galleries.get(RESOURCE_GROUP, GALLERY).name == GALLERY
    assert _statuses(arm, mark) == [(429, "throttle"), (200, None)]
    assert transport.sleeps == [7.0]


def test_server_error_burst_is_retried(compute: ComputeManagementClient, arm: ArmEmulator) -> None:
    arm.faults.add(FaultRule(server_error(500), method="GET", path=GALLERY_GET, times=2))
    arm.faults.add(FaultRule(server_error(503, "ServerBusy"), method="GET", path=GALLERY_GET, times=1))
    mark = arm.requests.mark()
    assert compute.galleries.get(RESOURCE_GROUP, GALLERY).name == GALLERY
    assert [s for s, _ in _statuses(arm, mark)] == [500, 500, 503, 200]


def test_conflict_with_a_given_code(compute: ComputeManagementClient, arm: ArmEmulator, name: str) -> None:
    arm.faults.add(FaultRule(Respond(409, "OperationNotAllowed", "Busy."), method="PUT", path=f"/{name}$"))
    with pytest.raises(ResourceExistsError) as caught:
        compute.galleries.begin_create_or_update(RESOURCE_GROUP, name, {"location": LOCATION})
    assert caught.value.error is not None
    assert caught.value.error.code == "OperationNotAllowed"


def test_connection_reset_before_the_answer_is_retried(compute: ComputeManagementClient, arm: ArmEmulator) -> None:
    arm.faults.add(FaultRule(Reset(), method="GET", path=GALLERY_GET))
    mark = arm.requests.mark()
    assert compute.galleries.get(RESOURCE_GROUP, GALLERY).name == GALLERY
    assert [s for s, _ in _statuses(arm, mark)] == [0, 200]


def test_reset_in_the_middle_of_the_answer(peers: Peers, arm: ArmEmulator) -> None:
    arm.faults.add(FaultRule(Reset(mid_response=True), method="GET", path=GALLERY_GET, times=None))
    kwargs = mgmt_kwargs(peers, retry_total=1, retry_backoff_factor=0.01)
    with ComputeManagementClient(credential(peers), SUBSCRIPTION_ID, **kwargs) as client:
        with pytest.raises((ServiceResponseError, HttpResponseError)):
            client.galleries.get(RESOURCE_GROUP, GALLERY)
    assert arm.requests.count(path=GALLERY_GET) >= 1
    assert all(e.status == 0 for e in arm.requests.select(path=GALLERY_GET)[-2:])


def test_rule_counting_every_after_times() -> None:
    injector = FaultInjector()
    rule = injector.add(FaultRule(server_error(), method="GET", path="/x", every=2, after=1, times=2))
    fired = [injector.pick("GET", "/x", {}) is rule for _ in range(8)]
    assert fired == [False, True, False, True, False, False, False, False]
    assert injector.pick("PUT", "/x", {}) is None


def test_request_log_counts_arm_requests_without_polls(
    compute: ComputeManagementClient, arm: ArmEmulator, name: str
) -> None:
    mark = arm.requests.mark()
    compute.galleries.begin_create_or_update(
        RESOURCE_GROUP, name, {"location": LOCATION}, headers={"x-ms-client-request-id": "rid-1"}
    ).result()
    entries = arm.requests.since(mark)
    assert [e.kind for e in entries] == ["arm", "poll", "poll", "arm"]
    assert entries[0].client_request_id == "rid-1"
    assert arm.requests.count(since=mark) == 2
    assert arm.requests.count(method="PUT", since=mark) == 1
    routes = arm.requests.counts_by_route(since=mark)
    gallery = (
        f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{RESOURCE_GROUP}/providers/Microsoft.Compute/galleries/{name}"
    )
    assert routes[f"PUT {gallery}"] == 1
    assert arm.requests.count(kinds=(ARM,), path="capsOperations", since=mark) == 0
