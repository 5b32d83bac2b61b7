"""Method lookup, positional-argument binding and the one place where exceptions become error envelopes.

Unknown methods answer ``Bosh::Clouds::NotImplemented`` "Method is not known, got '<m>'" (what bosh-cpi-ruby
sends and the Director maps); a wrong argument count or type answers ``Bosh::Clouds::CpiError`` naming the
argument; an unexpected exception answers ``Bosh::Clouds::CloudError`` with a one-line message while its
traceback goes to the log only.
"""

from __future__ import annotations

import importlib
import logging
import types
import typing
from collections.abc import Callable
from typing import Any

from bosh_azure_cpi.actions import REGISTRY
from bosh_azure_cpi.errors import CloudError, CpiError, MethodNotImplemented, Terminated
from bosh_azure_cpi.protocol import ErrorBody, Request, json_type
from bosh_azure_cpi.services.interfaces import Call

logger = logging.getLogger(__name__)


def load_action(method: str) -> Callable[..., Any]:
    """Return the action function for ``method``; raises MethodNotImplemented for unknown or pending ones."""
    info = REGISTRY.get(method)
    if info is None:
        raise MethodNotImplemented(f"Method is not known, got '{method}'")
    if not info.implemented:
        raise MethodNotImplemented(info.not_implemented_reason)
    module = importlib.import_module(info.module_name(method))
    function: Callable[..., Any] = getattr(module, method)
    return function


def bind_arguments(function: Callable[..., Any], method: str, arguments: list[Any]) -> list[Any]:
    """Check ``arguments`` against the action's wire parameters (all but the leading ``call``)."""
    names, required = _wire_parameters(function)
    if not required <= len(arguments) <= len(names):
        expected = _count_text(required, len(names))
        raise CpiError(
            f"Arguments are not correct for '{method}': expected {expected} ({', '.join(names) or 'none'}), "
            f"got {len(arguments)}"
        )
    hints = typing.get_type_hints(function) if arguments else {}
    for position, (name, value) in enumerate(zip(names, arguments, strict=False)):
        expected_type = hints.get(name, Any)
        if not _matches(value, expected_type):
            raise CpiError(
                f"Argument {position + 1} '{name}' of '{method}' must be {_describe(expected_type)}, "
                f"got {json_type(value)}"
            )
    return arguments


def _wire_parameters(function: Callable[..., Any]) -> tuple[list[str], int]:
    """Names of the positional parameters after ``call`` and how many are required (no ``inspect``: start-up)."""
    code = function.__code__
    names = list(code.co_varnames[1 : code.co_argcount])
    return names, len(names) - len(function.__defaults__ or ())


def dispatch(request: Request, make_call: Callable[[], Call]) -> Any:
    """Run the action for ``request``; exceptions propagate (see ``run``)."""
    function = load_action(request.method)
    arguments = bind_arguments(function, request.method, request.arguments)
    return function(make_call(), *arguments)


def run(request: Request, make_call: Callable[[], Call]) -> tuple[Any, ErrorBody | None]:
    """Dispatch and translate any exception into an error body: ``(result, None)`` or ``(None, error)``."""
    try:
        return dispatch(request, make_call), None
    except CpiError as exc:
        logger.error("%s failed: %s (%s, ok_to_retry=%s)", request.method, exc.message, exc.wire_type, exc.ok_to_retry)
        logger.debug("Traceback of the failure", exc_info=True)
        return None, error_body(exc)
    except Terminated:
        logger.error("%s was terminated (SIGTERM); what it created so far was cleaned up", request.method)
        message = f"The CPI process was terminated during '{request.method}'"
        return None, ErrorBody(type=CloudError.wire_type, message=message, ok_to_retry=True)
    except Exception as exc:
        logger.exception("%s failed with an unexpected error", request.method)
        return None, error_body(exc)


def error_body(exc: BaseException) -> ErrorBody:
    """The wire error for ``exc``: typed CPI errors keep their type; anything else is a one-line CloudError."""
    if isinstance(exc, CpiError):
        return ErrorBody(type=exc.wire_type, message=_one_line(exc.message), ok_to_retry=exc.ok_to_retry)
    first_line = (str(exc).strip().splitlines() or [""])[0]
    message = f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__
    return ErrorBody(type=CloudError.wire_type, message=message, ok_to_retry=False)


def _one_line(message: str) -> str:
    """Error messages are one line (the Director shows them in task output); input echoed in them may not be."""
    return " ".join(message.splitlines()) if "\n" in message or "\r" in message else message


def _matches(value: Any, expected: Any) -> bool:
    if expected is Any:
        return True
    origin = typing.get_origin(expected)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, option) for option in typing.get_args(expected))
    if expected is type(None):
        return value is None
    base = origin or expected
    if base is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if base is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, base)


def _describe(expected: Any) -> str:
    names = {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "a boolean",
        dict: "an object",
        list: "an array",
        type(None): "null",
    }
    origin = typing.get_origin(expected)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(option) for option in typing.get_args(expected))
    return names.get(origin or expected, str(expected))


def _count_text(required: int, total: int) -> str:
    return str(total) if required == total else f"{required} to {total}"
