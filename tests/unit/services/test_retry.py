"""CpiRetryPolicy in a real azure-core pipeline over a scripted transport: what retries, how long it waits, logs."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from azure.core.exceptions import ServiceRequestError

from bosh_azure_cpi.models.deadline import Deadline
from bosh_azure_cpi.services.retry import CpiRetryPolicy, CpiStorageRetryPolicy
from tests.fakes.http import CannedTransport, answer, arm_error, run
from tests.fakes.pollers import FakeClock

OK = answer(200, {"fine": True})


def high(low: float, high: float) -> float:
    """A jitter that always picks the top of the range, so waits are exact."""
    return high


def policy(**kwargs: Any) -> CpiRetryPolicy:
    kwargs.setdefault("jitter", high)
    return CpiRetryPolicy(**kwargs)


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_transient_statuses_are_retried(status: int) -> None:
    transport = CannedTransport([answer(status), OK])
    assert run(policy(), transport).status_code == 200
    assert len(transport.requests) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 412, 501])
def test_other_statuses_are_not_retried(status: int) -> None:
    transport = CannedTransport([answer(status, Retry_After="1"), OK])  # not even with Retry-After
    assert run(policy(), transport).status_code == status
    assert len(transport.requests) == 1


@pytest.mark.parametrize(
    "code",
    ["RetryableErrorDueToAnotherOperation", "AnotherOperationInProgress", "OperationPreempted", "RetryableError"],
)
def test_arm_retryable_conflicts_are_retried(code: str) -> None:
    transport = CannedTransport([arm_error(409, code), OK])
    assert run(policy(), transport).status_code == 200


def test_the_error_code_header_counts_like_the_body() -> None:
    transport = CannedTransport([answer(409, b"<xml/>", x_ms_error_code="OperationPreempted"), OK])
    assert run(policy(), transport).status_code == 200


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (409, "QuotaExceeded"),
        (429, "QuotaExceeded"),
        (409, "SkuNotAvailable"),
        (500, "ZonalAllocationFailed"),
        (503, "OverconstrainedAllocationRequest"),
        (500, "AllocationFailed"),
        (409, "OperationNotAllowed"),
        (409, "Conflict"),
    ],
)
def test_capacity_quota_and_other_permanent_errors_are_never_retried(status: int, code: str) -> None:
    transport = CannedTransport([arm_error(status, code), OK])
    assert run(policy(), transport).status_code == status
    assert len(transport.requests) == 1


@pytest.mark.parametrize("method", ["POST", "PATCH", "PUT", "DELETE"])
def test_writes_are_retried_too(method: str) -> None:
    transport = CannedTransport([answer(502), answer(429), OK])
    assert run(policy(), transport, method).status_code == 200
    assert [r.method for r in transport.requests] == [method] * 3


def test_connection_errors_are_retried(caplog: pytest.LogCaptureFixture) -> None:
    transport = CannedTransport([ServiceRequestError("fake connection refused\nsecond line"), OK])
    with caplog.at_level(logging.WARNING, "bosh_azure_cpi.services.retry"):
        assert run(policy(), transport, "PUT").status_code == 200
    assert caplog.messages == [
        "Retrying PUT https://management.example/subscriptions/fake/resource after ServiceRequestError: "
        "fake connection refused"
    ]


def test_retry_after_header_is_honoured() -> None:
    transport = CannedTransport([answer(503, Retry_After="7"), OK])
    run(policy(), transport)
    assert transport.sleeps == [7.0]


@pytest.mark.parametrize(
    "message",
    [
        "Operation throttled. Please retry after 12 seconds.",
        "The request is being throttled, retry in 12s",
        "Try again after 12 sec",
    ],
)
def test_retry_after_hints_in_the_message_are_honoured(message: str) -> None:
    transport = CannedTransport([arm_error(429, "TooManyRequests", message), OK])
    run(policy(), transport)
    assert transport.sleeps == [12.0]


def test_backoff_is_exponential_jittered_and_bounded() -> None:
    ranges: list[tuple[float, float]] = []

    def jitter(low: float, high: float) -> float:
        ranges.append((low, high))
        return low

    transport = CannedTransport([answer(500)] * 6 + [OK])
    run(CpiRetryPolicy(jitter=jitter, retry_backoff_factor=2.0, retry_backoff_max=20), transport)

    assert ranges == [(1, 2), (2, 4), (4, 8), (8, 16), (10, 20), (10, 20)]
    assert transport.sleeps == [1, 2, 4, 8, 10, 10]


def test_retries_stop_after_the_configured_number() -> None:
    transport = CannedTransport([answer(503)] * 5)
    assert run(policy(retry_total=2), transport).status_code == 503
    assert len(transport.requests) == 3


def test_waits_never_pass_the_deadline_and_retries_stop_after_it() -> None:
    clock = FakeClock()
    transport = CannedTransport([answer(503, Retry_After="30"), answer(503), OK], clock)

    response = run(policy(deadline=Deadline(10, clock)), transport)

    assert transport.sleeps == [10.0]
    assert response.status_code == 503
    assert len(transport.requests) == 2


def test_backoff_is_capped_by_the_deadline() -> None:
    clock = FakeClock()
    deadline = Deadline(3, clock)
    transport = CannedTransport([answer(500)] * 3 + [OK], clock)
    run(policy(deadline=deadline, retry_backoff_factor=2.0), transport)
    assert transport.sleeps == [2.0, 1.0]
    assert len(transport.requests) == 3


def test_connection_errors_after_the_deadline_are_raised() -> None:
    clock = FakeClock()
    transport = CannedTransport([ServiceRequestError("fake refused")] * 3 + [OK], clock)
    with pytest.raises(ServiceRequestError):
        run(policy(deadline=Deadline(3, clock), retry_backoff_factor=2.0), transport)
    assert transport.sleeps == [2.0, 1.0]


def test_each_retry_is_logged_with_request_ids_and_without_the_query(caplog: pytest.LogCaptureFixture) -> None:
    ids = {"x_ms_request_id": "fake-req", "x_ms_correlation_request_id": "fake-corr"}
    transport = CannedTransport([arm_error(503, "ServerBusy", **ids), answer(429), OK])
    with caplog.at_level(logging.WARNING, "bosh_azure_cpi.services.retry"):
        run(policy(), transport)
    url = "https://management.example/subscriptions/fake/resource"
    assert caplog.messages == [
        f"Retrying GET {url} after HTTP 503 ServerBusy (x-ms-request-id=fake-req x-ms-correlation-request-id=fake-corr)",
        f"Retrying GET {url} after HTTP 429 Too Many Requests (no request id)",
    ]
    assert "sig=" not in caplog.text


def test_storage_only_options_are_dropped_before_the_transport() -> None:
    transport = CannedTransport([answer(503), OK])
    storage_options = {"hosts": {"primary": "x"}, "location_mode": "primary", "retry_to_secondary": False}
    run(CpiStorageRetryPolicy(jitter=high), transport, retry_hook=None, **storage_options)
    assert all(not set(options) & {*storage_options, "retry_hook"} for options in transport.options)


def test_storage_policy_reports_the_primary_location() -> None:
    transport = CannedTransport([OK])
    assert run(CpiStorageRetryPolicy(), transport).location_mode == "primary"


def test_defaults_allow_eight_retries_with_one_second_base_and_one_minute_cap() -> None:
    settings = CpiRetryPolicy().configure_retries({})
    assert (settings["total"], settings["backoff"], settings["max_backoff"]) == (8, 1.0, 60)
