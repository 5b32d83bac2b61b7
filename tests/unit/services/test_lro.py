"""lro: SDK exceptions -> CPI errors, not-found as None, and deadline-bounded waits on fake pollers."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.core.pipeline.transport import HttpRequest
from azure.mgmt.core.exceptions import ARMErrorFormat
from azure.mgmt.core.polling.arm_polling import AzureAsyncOperationPolling

from bosh_azure_cpi.errors import AzureError, CloudError, DeadlineExceeded
from bosh_azure_cpi.models.deadline import Deadline
from bosh_azure_cpi.services import lro
from tests.fakes.http import CannedResponse
from tests.fakes.pollers import FakeClock, FakePoller

IDS = {"x-ms-request-id": "fake-req", "x-ms-correlation-request-id": "fake-corr"}


def arm_failure(status: int, code: str, message: str = "fake message\nmore detail", **kind: Any) -> HttpResponseError:
    """The exception a generated ARM client raises for an error answer."""
    response = CannedResponse(
        HttpRequest("PUT", "https://fake/x"), status, {"error": {"code": code, "message": message}}, IDS
    )
    error_type = kind.get("error_type", HttpResponseError)
    return error_type(response=response, error_format=ARMErrorFormat)  # type: ignore[no-any-return]


def raised(exc: BaseException) -> BaseException:
    with pytest.raises(Exception) as caught, lro.azure_errors("Creating fake thing"):
        raise exc
    return caught.value


def test_arm_errors_carry_code_status_request_ids_and_the_first_line() -> None:
    error = raised(arm_failure(409, "OperationNotAllowed", "Operation results in exceeding quota limits\nDetails"))
    assert isinstance(error, AzureError)
    assert error.message == "Creating fake thing: OperationNotAllowed: Operation results in exceeding quota limits"
    assert (error.code, error.status, error.ok_to_retry) == ("OperationNotAllowed", 409, False)
    assert error.request_id == "x-ms-request-id=fake-req x-ms-correlation-request-id=fake-corr"
    assert isinstance(error.__cause__, HttpResponseError)


def test_storage_errors_take_the_code_from_the_header() -> None:
    response = CannedResponse(
        HttpRequest("PUT", "https://fake/x"), 412, b"<Error/>", {"x-ms-error-code": "LeaseIdMissing"}
    )
    error = raised(HttpResponseError(message="There is currently a lease on the blob.", response=response))
    assert isinstance(error, AzureError)
    assert (error.code, error.status) == ("LeaseIdMissing", 412)
    assert error.message.startswith("Creating fake thing: LeaseIdMissing: There is currently a lease")


@pytest.mark.parametrize(
    ("status", "code", "transient"),
    [
        (503, "ServerBusy", True),
        (429, "TooManyRequests", True),
        (500, "InternalServerError", True),
        (409, "AnotherOperationInProgress", True),
        (409, "RetryableErrorDueToAnotherOperation", True),
        (409, "Conflict", False),
        (400, "InvalidParameter", False),
        (409, "SkuNotAvailable", False),
        (500, "ZonalAllocationFailed", False),
        (429, "QuotaExceeded", False),
        (404, "NotFound", False),
        (200, "InternalExecutionError", True),  # a failed long-running operation's body
        (200, "Conflict", False),
    ],
)
def test_ok_to_retry_is_true_only_for_errors_that_waiting_can_heal(status: int, code: str, transient: bool) -> None:
    error = raised(arm_failure(status, code))
    assert isinstance(error, AzureError)
    assert error.ok_to_retry is transient
    assert lro.is_transient(status, code) is transient


def test_authentication_failures_say_so() -> None:
    error = raised(ClientAuthenticationError(message="AADSTS7000215: Invalid client secret provided.\nTrace ID: x"))
    assert type(error) is CloudError
    assert error.message == (
        "Creating fake thing: authentication with Azure failed: AADSTS7000215: Invalid client secret provided."
    )
    assert error.ok_to_retry is False


@pytest.mark.parametrize("error_type", [ServiceRequestError, ServiceResponseError])
def test_network_failures_may_be_retried(error_type: type[Exception]) -> None:
    error = raised(error_type("fake connection reset\nstack"))
    assert isinstance(error, AzureError)
    assert error.message == "Creating fake thing: cannot reach Azure: fake connection reset"
    assert error.ok_to_retry is True


def test_other_exceptions_pass_through() -> None:
    original = ValueError("fake bug")
    assert raised(original) is original


# --- find / ignore_missing ----------------------------------------------------------------------------------------


def test_find_returns_the_value() -> None:
    assert lro.find("Getting fake", lambda: "fake-value") == "fake-value"


@pytest.mark.parametrize(
    "error",
    [ResourceNotFoundError("fake gone"), arm_failure(404, "ResourceGroupNotFound")],
)
def test_find_returns_none_when_not_found(error: Exception) -> None:
    def call() -> None:
        raise error

    assert lro.find("Getting fake", call) is None


def test_find_translates_other_failures() -> None:
    def call() -> None:
        raise arm_failure(403, "AuthorizationFailed")

    with pytest.raises(AzureError, match="^Getting fake: AuthorizationFailed: fake message$"):
        lro.find("Getting fake", call)


def test_ignore_missing_tells_whether_something_was_deleted() -> None:
    def gone() -> None:
        raise ResourceNotFoundError("fake gone")

    assert lro.ignore_missing("Deleting fake", lambda: None) is True
    assert lro.ignore_missing("Deleting fake", gone) is False


# --- wait -----------------------------------------------------------------------------------------------------------


def test_wait_returns_the_result_once_done() -> None:
    poller = FakePoller("fake-result", polls=3)
    assert lro.wait(poller, "Creating fake", Deadline(60)) == "fake-result"  # type: ignore[arg-type]
    assert len(poller.timeouts) == 3


def test_wait_raises_deadline_exceeded_naming_the_operation() -> None:
    clock = FakeClock()
    poller = FakePoller(polls=10**6, status="Replicating", clock=clock)

    with pytest.raises(DeadlineExceeded) as caught:
        lro.wait(poller, "Creating gallery image version 'g/d/1.0.0'", Deadline(25, clock))  # type: ignore[arg-type]

    assert (
        caught.value.message
        == "Creating gallery image version 'g/d/1.0.0' did not finish within 25s (status Replicating)"
    )
    assert caught.value.ok_to_retry is True
    assert poller.timeouts == [10.0, 10.0, 5.0]


def test_wait_translates_a_failed_operation() -> None:
    poller = FakePoller(error=arm_failure(400, "InvalidParameter", "bad source"))
    with pytest.raises(AzureError, match="^Creating fake: InvalidParameter: bad source$"):
        lro.wait(poller, "Creating fake", Deadline(60))  # type: ignore[arg-type]


def test_wait_logs_progress_while_the_operation_runs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(lro, "PROGRESS_INTERVAL_S", 0.0)  # every poll is a progress interval
    poller = FakePoller("fake-result", polls=3, status="Replicating")

    with caplog.at_level(logging.INFO, "bosh_azure_cpi.services.lro"):
        lro.wait(poller, "Creating fake", Deadline(60))  # type: ignore[arg-type]

    assert len(caplog.messages) == 2
    assert all(message.startswith("Creating fake: still Replicating after ") for message in caplog.messages)


def test_status_is_final_polls_the_async_operation_without_reading_the_resource_back():
    polling = lro.status_is_final(2.0)
    first = polling._lro_algorithms[0]
    assert isinstance(first, AzureAsyncOperationPolling)
    assert first.get_final_get_url(None) is None
    assert polling._timeout == 2.0
