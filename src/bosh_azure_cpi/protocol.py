"""CPI wire protocol: parse one request, render one response. Pure; knows no cloud.

Request: ``{"method": str, "arguments": [...], "context": {...}, "api_version": int?}``.
Response: ``{"result": any, "error": null | {"type", "message", "ok_to_retry"}, "log": str}``,
strict JSON (no NaN/Infinity), ASCII-escaped. See shared/reference/cpi-protocol.md §2-§3.
"""

from __future__ import annotations

import json

from bosh_azure_cpi.errors import CpiError

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any

SUPPORTED_API_VERSIONS = (1, 2, 3)


class Request:
    """One parsed request (a plain slotted class, not a dataclass: this module is on every call's start-up path)."""

    __slots__ = ("api_version", "arguments", "context", "method")

    def __init__(
        self, *, method: str, arguments: list[Any], context: dict[str, Any] | None = None, api_version: int = 1
    ) -> None:
        self.method = method
        self.arguments = arguments
        self.context = {} if context is None else context
        self.api_version = api_version

    @property
    def request_id(self) -> str:
        value = self.context.get("request_id")
        return value if isinstance(value, str) else ""


class ErrorBody:
    """The ``error`` object of a response."""

    __slots__ = ("message", "ok_to_retry", "type")

    def __init__(self, *, type: str, message: str, ok_to_retry: bool) -> None:  # noqa: A002 - the wire name
        self.type = type
        self.message = message
        self.ok_to_retry = ok_to_retry

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ErrorBody) and (self.type, self.message, self.ok_to_retry) == (
            other.type,
            other.message,
            other.ok_to_retry,
        )

    def __hash__(self) -> int:
        return hash((self.type, self.message, self.ok_to_retry))

    def __repr__(self) -> str:
        return f"ErrorBody(type={self.type!r}, message={self.message!r}, ok_to_retry={self.ok_to_retry!r})"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def parse_request(raw: bytes) -> Request:
    """Parse and validate a request; raises CpiError naming what is wrong."""
    try:
        doc = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CpiError(f"Request is not valid JSON: {_first_line(str(exc))}") from exc
    except RecursionError as exc:  # json.loads recurses per nesting level
        raise CpiError("Request is not valid JSON: it is nested too deeply") from exc
    if not isinstance(doc, dict):
        raise CpiError(f"Request must be a JSON object, got {json_type(doc)}")
    method = doc.get("method")
    if not isinstance(method, str) or not method:
        raise CpiError("Request key 'method' must be a non-empty string")
    arguments = doc.get("arguments")
    if not isinstance(arguments, list):
        raise CpiError(f"Request key 'arguments' must be an array, got {json_type(arguments)}")
    context = doc.get("context", {})
    if context is None:
        context = {}
    if not isinstance(context, dict):
        raise CpiError(f"Request key 'context' must be an object, got {json_type(context)}")
    return Request(method=method, arguments=arguments, context=context, api_version=_api_version(doc))


def _api_version(doc: dict[str, Any]) -> int:
    value = doc.get("api_version")
    if value is None:
        return 1
    if isinstance(value, bool) or not isinstance(value, int):
        raise CpiError(f"Request key 'api_version' must be an integer, got {json_type(value)}")
    if value not in SUPPORTED_API_VERSIONS:
        raise CpiError(f"Request api_version {value} is not supported; this CPI accepts 1, 2 and 3")
    return value


def render_response(result: Any, error: ErrorBody | None, log: str) -> bytes:
    """Render the one-line response; a result that is not strict JSON becomes a CloudError envelope."""
    error_doc = None
    if error is not None:
        error_doc = {"type": error.type, "message": error.message, "ok_to_retry": error.ok_to_retry}
    try:
        text = json.dumps({"result": result, "error": error_doc, "log": log}, allow_nan=False)
    except (TypeError, ValueError) as exc:
        fallback = {
            "result": None,
            "error": {
                "type": "Bosh::Clouds::CloudError",
                "message": f"CPI produced a result that is not valid JSON: {_first_line(str(exc))}",
                "ok_to_retry": False,
            },
            "log": log,
        }
        text = json.dumps(fallback, allow_nan=False, default=str)
    return text.encode("ascii") + b"\n"


def json_type(value: Any) -> str:
    """Name of a value's JSON type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unknown error"
