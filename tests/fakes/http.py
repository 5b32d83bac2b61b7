"""CannedTransport: an azure-core ``HttpTransport`` that answers from a script, so real pipelines (retry policy,
error parsing) run without a network. It records requests, the keyword options that reached it and sleeps;
``clock`` (a FakeClock) advances by each sleep, so deadlines pass without waiting.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

from azure.core.pipeline import Pipeline
from azure.core.pipeline.policies import HTTPPolicy
from azure.core.pipeline.transport import HttpRequest, HttpResponse, HttpTransport
from azure.core.utils import CaseInsensitiveDict

from tests.fakes.pollers import FakeClock

Answer = tuple[int, Any, dict[str, str]] | BaseException


class CannedResponse(HttpResponse):
    def __init__(self, request: HttpRequest, status: int, body: Any = b"", headers: dict[str, str] | None = None):
        super().__init__(request, None)
        self.status_code = status
        self.reason = HTTPStatus(status).phrase
        self.headers = CaseInsensitiveDict(headers or {})
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        if not isinstance(body, bytes):
            self.headers.setdefault("Content-Type", "application/json")
        self.content_type = self.headers.get("Content-Type")
        self._body = raw

    def body(self) -> bytes:
        return self._body


def answer(status: int, body: Any = b"", **headers: str) -> Answer:
    """One scripted answer; header names use ``_`` for ``-`` (``x_ms_request_id="..."``)."""
    return (status, body, {name.replace("_", "-"): value for name, value in headers.items()})


def arm_error(status: int, code: str, message: str = "fake message", **headers: str) -> Answer:
    return answer(status, {"error": {"code": code, "message": message}}, **headers)


class CannedTransport(HttpTransport):  # type: ignore[type-arg]
    def __init__(self, answers: Iterable[Answer], clock: FakeClock | None = None) -> None:
        self.answers = list(answers)
        self.clock = clock
        self.requests: list[HttpRequest] = []
        self.options: list[dict[str, Any]] = []
        self.sleeps: list[float] = []

    def send(self, request: HttpRequest, **kwargs: Any) -> CannedResponse:
        self.requests.append(request)
        self.options.append(kwargs)
        scripted = self.answers.pop(0)
        if isinstance(scripted, BaseException):
            raise scripted
        status, body, headers = scripted
        return CannedResponse(request, status, body, headers)

    def sleep(self, duration: float) -> None:
        self.sleeps.append(duration)
        if self.clock is not None:
            self.clock.advance(duration)

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __exit__(self, *args: object) -> None:
        pass


def run(policy: HTTPPolicy[Any, Any], transport: CannedTransport, method: str = "GET", **options: Any) -> Any:
    """Send one request through ``policy`` to ``transport``; returns the final http response."""
    pipeline = Pipeline(transport, policies=[policy])
    request = HttpRequest(method, "https://management.example/subscriptions/fake/resource?api-version=1&sig=fake")
    return pipeline.run(request, **options).http_response
