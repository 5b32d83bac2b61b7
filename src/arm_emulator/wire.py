"""Transport-neutral request/reply values and the ARM error type shared by every emulator module.

The HTTP layer turns bytes into a :class:`Request`; services answer with a :class:`Reply`; an
:class:`ArmError` raised anywhere below the HTTP layer becomes ARM's error body
``{"error": {"code", "message"[, "target"]}}`` with its status code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """One HTTP request as the emulator sees it.

    ``path`` is percent-decoded; ``query`` maps lower-cased parameter names to their first value
    (ARM treats query parameter names case-insensitively); ``headers`` has lower-cased names.
    ``base_url`` is ``<scheme>://<Host header>`` so generated links point back where the client called.
    """

    method: str
    path: str
    raw_query: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    base_url: str

    @classmethod
    def build(cls, method: str, target: str, headers: Mapping[str, str], body: bytes, base_url: str) -> Request:
        """Parse ``target`` (path + query as on the request line) into a Request."""
        parts = urlsplit(target)
        query: dict[str, str] = {}
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            query.setdefault(key.lower(), value)
        return cls(
            method=method.upper(),
            path=unquote(parts.path),
            raw_query=parts.query,
            query=query,
            headers={k.lower(): v for k, v in headers.items()},
            body=body,
            base_url=base_url,
        )

    def json_body(self) -> Any:
        """Return the decoded JSON body, or raise ArmError 400 InvalidRequestContent."""
        if not self.body.strip():
            raise ArmError(400, "InvalidRequestContent", "The request content was invalid: empty body.")
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ArmError(
                400,
                "InvalidRequestContent",
                f"The request content was invalid and could not be deserialized: '{exc}'.",
            ) from exc


@dataclass(slots=True, kw_only=True)
class Reply:
    """A response to send: ``body`` is a JSON value, raw bytes, or None for an empty body."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        """Return the body bytes and the headers to send (Content-Type added for JSON bodies)."""
        headers = dict(self.headers)
        if self.body is None:
            return b"", headers
        if isinstance(self.body, bytes):
            return self.body, headers
        headers.setdefault("Content-Type", JSON_CONTENT_TYPE)
        return json.dumps(self.body).encode(), headers


class ArmError(Exception):
    """An error ARM answers with ``{"error": {"code", "message"}}`` and ``status``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        target: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        self.headers = dict(headers or {})

    def error_body(self) -> dict[str, Any]:
        """The ``{"code", "message"[, "target"]}`` object."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target is not None:
            body["target"] = self.target
        return body

    def reply(self) -> Reply:
        return Reply(status=self.status, body={"error": self.error_body()}, headers=dict(self.headers))


def invalid_parameter(message: str, target: str | None = None) -> ArmError:
    """Compute RP's generic validation error (400 InvalidParameter)."""
    return ArmError(400, "InvalidParameter", message, target=target)


def missing_parameter(name: str) -> ArmError:
    """Compute RP's wording for a missing required property."""
    return ArmError(400, "InvalidParameter", f"Required parameter '{name}' is missing (null).", target=name)


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_time(moment: datetime) -> str:
    """ISO 8601 with 7 fractional digits and ``+00:00``, as Compute RP prints times."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0+00:00"
