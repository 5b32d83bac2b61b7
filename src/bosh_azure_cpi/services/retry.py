"""The one retry policy for every Azure request (ARM and storage).

Retries 408, 429, 500, 502, 503, 504, ARM's "retryable" conflicts and connection errors, for every method
(ARM writes are idempotent PUT/PATCH/DELETE/POST-actions; Put Page is idempotent). Waits honour ``Retry-After``
and ARM's "retry after N seconds" hints, else jittered exponential backoff; never past the call's deadline.
Never retries errors that cannot heal by waiting: other 4xx, quota, SKU and allocation failures.
Each retry is logged with its reason and Azure's request ids.
"""

from __future__ import annotations

import json
import logging
import random
import re
from collections.abc import Callable
from typing import Any

from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import RetryPolicy

from bosh_azure_cpi.models.deadline import Deadline

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
RETRYABLE_CONFLICTS = frozenset(
    {"RetryableErrorDueToAnotherOperation", "AnotherOperationInProgress", "OperationPreempted", "RetryableError"}
)
NON_RETRYABLE_CODES = frozenset(
    {
        "SkuNotAvailable",
        "ZonalAllocationFailed",
        "AllocationFailed",
        "OverconstrainedAllocationRequest",
        "OverconstrainedZonalAllocationRequest",
        "QuotaExceeded",
        "OperationNotAllowed",
        "InvalidParameter",
        "InvalidTemplateDeployment",
        "SubscriptionNotRegistered",
    }
)
STORAGE_RETRY_OPTIONS = ("hosts", "location_mode", "retry_to_secondary", "retry_hook")
_HINT = re.compile(r"(?:retr(?:y|ied)\s+(?:in|after)\s+|after\s+)(\d{1,4})\s*(?:s\b|sec|second)", re.I)


def error_code(response: Any) -> str:
    """Azure's error code from a response (``x-ms-error-code`` header or the ARM/OData body)."""
    header = response.headers.get("x-ms-error-code")
    if header:
        return str(header)
    try:
        # Responses of long-running operations' first requests are streamed: text() raises ResponseNotReadError
        # until the (small) error body is read, which would turn every 4xx into a retried "connection error".
        if callable(getattr(response, "read", None)):
            response.read()
        body = json.loads(response.text() or "{}")
    except Exception:  # a body that cannot be read or parsed has no code; the status decides
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    return str(error.get("code", "")) if isinstance(error, dict) else ""


def request_ids(response: Any) -> str:
    """The request ids Azure support asks for, as ``key=value`` pairs."""
    headers = response.headers
    names = ("x-ms-request-id", "x-ms-correlation-request-id", "x-ms-client-request-id")
    return " ".join(f"{name}={headers[name]}" for name in names if headers.get(name))


class CpiRetryPolicy(RetryPolicy):  # type: ignore[type-arg]
    """azure-core RetryPolicy with Azure-aware classification, jitter, hints and a deadline."""

    def __init__(
        self,
        *,
        deadline: Deadline | None = None,
        jitter: Callable[[float, float], float] = random.uniform,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("retry_total", 8)
        kwargs.setdefault("retry_connect", 4)
        kwargs.setdefault("retry_read", 4)
        kwargs.setdefault("retry_status", 8)
        kwargs.setdefault("retry_backoff_factor", 1.0)
        kwargs.setdefault("retry_backoff_max", 60)
        super().__init__(**kwargs)
        self._method_whitelist = frozenset(["HEAD", "GET", "PUT", "DELETE", "OPTIONS", "TRACE", "POST", "PATCH"])
        self.deadline = deadline
        self._jitter = jitter

    def configure_retries(self, options: dict[str, Any]) -> dict[str, Any]:
        # azure-storage-blob's pipeline passes options its own retry policy would consume; this policy replaces
        # it (primary endpoint only), so drop them before they reach the HTTP transport.
        for key in STORAGE_RETRY_OPTIONS:
            options.pop(key, None)
        return dict(super().configure_retries(options))

    def is_retry(self, settings: dict[str, Any], response: PipelineResponse[Any, Any]) -> bool:
        http = response.http_response
        if http.status_code < 400 or not settings["total"]:
            return False
        if self.deadline is not None and self.deadline.expired():
            return False
        code = error_code(http)
        retry = code not in NON_RETRYABLE_CODES and (
            http.status_code in RETRY_STATUSES or (http.status_code == 409 and code in RETRYABLE_CONFLICTS)
        )
        if retry:
            logger.warning(
                "Retrying %s %s after HTTP %d %s (%s)",
                response.http_request.method,
                _short_url(response.http_request.url),
                http.status_code,
                code or http.reason,
                request_ids(http) or "no request id",
            )
        return retry

    def increment(
        self,
        settings: dict[str, Any],
        response: PipelineRequest[Any] | PipelineResponse[Any, Any] | None = None,
        error: Exception | None = None,
    ) -> bool:
        if error is not None and isinstance(response, PipelineRequest):
            logger.warning(
                "Retrying %s %s after %s: %s",
                response.http_request.method,
                _short_url(response.http_request.url),
                type(error).__name__,
                str(error).splitlines()[0] if str(error) else "",
            )
        if self.deadline is not None and self.deadline.expired():
            return False
        return bool(super().increment(settings, response=response, error=error))

    def get_backoff_time(self, settings: dict[str, Any]) -> float:
        attempts = max(1, len(settings["history"]))
        ceiling = min(settings["max_backoff"], settings["backoff"] * (2 ** (attempts - 1)))
        return self._cap(self._jitter(ceiling / 2, ceiling))

    def get_retry_after(self, response: PipelineResponse[Any, Any]) -> float | None:
        value = super().get_retry_after(response)
        if value is None:
            value = _hinted_delay(response.http_response)
        return None if value is None else self._cap(value)

    def _cap(self, seconds: float) -> float:
        if self.deadline is None:
            return seconds
        return max(0.0, min(seconds, self.deadline.remaining()))


def _hinted_delay(response: Any) -> float | None:
    try:
        text = response.text() or ""
    except (ValueError, TypeError, UnicodeDecodeError):
        return None
    match = _HINT.search(text[:4096])
    return float(match.group(1)) if match else None


def _short_url(url: str) -> str:
    return url.split("?", 1)[0]


class CpiStorageRetryPolicy(CpiRetryPolicy):
    """The same policy in azure-storage-blob's pipeline, which expects its retry policy to record the location
    mode on each response (this CPI always uses the primary endpoint)."""

    def send(self, request: PipelineRequest[Any]) -> PipelineResponse[Any, Any]:
        response = super().send(request)
        response.http_response.location_mode = "primary"
        return response
