"""Azure exceptions to CPI errors, not-found as a value, and bounded waits on long-running operations.

The only module that handles ``azure.core.exceptions``. ``azure_errors(what)`` turns SDK failures into
``AzureError`` (code, HTTP status, request ids, a truthful ``ok_to_retry``); ``find(what, fn)`` returns None on
404; ``wait(poller, what, deadline)`` bounds every LRO by the call's deadline and logs progress;
``status_is_final(interval)`` is the polling for creates whose result the CPI does not read.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.core.polling import LROPoller
from azure.core.polling.base_polling import LocationPolling, StatusCheckPolling
from azure.mgmt.core.polling.arm_polling import ARMPolling, AzureAsyncOperationPolling, BodyContentPolling

from bosh_azure_cpi.errors import AzureError, CloudError, DeadlineExceeded
from bosh_azure_cpi.models.deadline import Deadline
from bosh_azure_cpi.services.retry import NON_RETRYABLE_CODES, RETRY_STATUSES, RETRYABLE_CONFLICTS, request_ids

logger = logging.getLogger(__name__)
T = TypeVar("T")
PROGRESS_INTERVAL_S = 10.0


class _AsyncOperationWithoutFinalGet(AzureAsyncOperationPolling):  # type: ignore[type-arg]
    def get_final_get_url(self, pipeline_response: Any) -> None:
        return None


def status_is_final(interval: float) -> ARMPolling:
    """ARM polling that ends when the ``Azure-AsyncOperation`` status says Succeeded, without the GET of the
    resource that follows by default: one ARM read less per write whose result is not used (NIC and VM creation;
    the CPI knows their ids). The poller's ``result()`` is then not the resource: do not read it."""
    return ARMPolling(
        interval,
        lro_algorithms=[
            _AsyncOperationWithoutFinalGet(),
            LocationPolling(),
            BodyContentPolling(),
            StatusCheckPolling(),
        ],
    )


@contextlib.contextmanager
def azure_errors(what: str) -> Iterator[None]:
    """Translate SDK exceptions raised inside the block into CPI errors whose message starts with ``what``."""
    try:
        yield
    except ClientAuthenticationError as exc:  # before HttpResponseError, its base class
        raise CloudError(f"{what}: authentication with Azure failed: {_first_line(exc)}") from exc
    except HttpResponseError as exc:
        raise to_azure_error(exc, what) from exc
    except (ServiceRequestError, ServiceResponseError) as exc:
        raise AzureError(f"{what}: cannot reach Azure: {_first_line(exc)}", ok_to_retry=True) from exc


def to_azure_error(exc: HttpResponseError, what: str) -> AzureError:
    code = _code(exc)
    status = exc.status_code
    ids = request_ids(exc.response) if exc.response is not None else ""
    if ids:
        logger.error("%s failed: HTTP %s %s (%s)", what, status, code, ids)
    message = _message(exc)
    text = f"{what}: {code + ': ' if code else ''}{message}"
    return AzureError(text, code=code, status=status, request_id=ids, ok_to_retry=is_transient(status, code))


# Codes that also arrive in a failed long-running operation's body (whose HTTP status is 200), e.g. a VM whose
# provisioning failed with Azure's "InternalExecutionError".
_TRANSIENT_CODES = frozenset(
    {"TooManyRequests", "InternalServerError", "ServerBusy", "InternalExecutionError", "InternalOperationError"}
)


def is_transient(status: int | None, code: str) -> bool:
    """Whether waiting and retrying may succeed (throttling, server errors, ARM's retryable conflicts); false for
    quota/SKU/capacity."""
    if code in NON_RETRYABLE_CODES:
        return False
    if status == 409 and code in RETRYABLE_CONFLICTS:
        return True
    return status in RETRY_STATUSES or code in _TRANSIENT_CODES


def find(what: str, call: Callable[[], T]) -> T | None:
    """Run ``call``; a 404 becomes None, anything else a CPI error."""
    with azure_errors(what):
        try:
            return call()
        except ResourceNotFoundError:
            return None
        except HttpResponseError as exc:
            if exc.status_code == 404:
                return None
            raise


def ignore_missing(what: str, call: Callable[[], Any]) -> bool:
    """Run a delete-like ``call``; returns False when the target was already gone (404)."""
    return find(what, lambda: call() or True) is not None


def wait(poller: LROPoller[T], what: str, deadline: Deadline) -> T:
    """Wait for an LRO, failing with DeadlineExceeded when the deadline passes; logs progress while waiting."""
    started = time.monotonic()
    last_log = started
    with azure_errors(what):
        while not poller.done():
            remaining = deadline.remaining()
            if remaining <= 0:
                raise DeadlineExceeded(
                    f"{what} did not finish within {deadline.seconds:.0f}s (status {poller.status()})"
                )
            poller.wait(min(remaining, PROGRESS_INTERVAL_S))
            now = time.monotonic()
            if not poller.done() and now - last_log >= PROGRESS_INTERVAL_S:
                logger.info("%s: still %s after %.0fs", what, poller.status(), now - started)
                last_log = now
        return poller.result()


def _code(exc: HttpResponseError) -> str:
    if exc.error is not None and exc.error.code:
        return str(exc.error.code)
    if exc.response is not None:
        header = getattr(exc.response, "headers", {}).get("x-ms-error-code")
        if header:
            return str(header)
    return ""


def _message(exc: HttpResponseError) -> str:
    if exc.error is not None and exc.error.message:
        return _first_line(exc.error.message)
    return _first_line(exc.message or exc.reason or "request failed")


def _first_line(value: object) -> str:
    text = str(value).strip()
    return text.splitlines()[0] if text else ""
