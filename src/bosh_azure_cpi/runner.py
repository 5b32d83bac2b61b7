"""One CPI call after the request was read: logging capture, stdout guard, configuration, dispatch.

While the action runs, anything printed to stdout (Python ``print`` or a C library writing to fd 1) is diverted
to stderr; the response goes to the saved real stdout. SIGTERM raises ``Terminated`` so cleanup code runs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import IO, Any, BinaryIO, TextIO

from bosh_azure_cpi import dispatcher, logs
from bosh_azure_cpi.config import CpiConfig, load_config
from bosh_azure_cpi.errors import CpiError, Terminated
from bosh_azure_cpi.models.deadline import Deadline
from bosh_azure_cpi.protocol import Request, parse_request, render_response
from bosh_azure_cpi.services.interfaces import Call, Services
from bosh_azure_cpi.wiring import build_services

logger = logging.getLogger("bosh_azure_cpi")

ServicesBuilder = Callable[[CpiConfig, Deadline], Services]


def run(
    raw: bytes,
    config_path: str,
    *,
    stdout: BinaryIO | None,
    stderr: TextIO,
    services_builder: ServicesBuilder | None = None,
) -> int:
    """Answer the request ``raw``; returns the exit status (always 0)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    with _stdout_guard(stdout, stderr) as response_out:
        capture = logs.start_capture(stderr)
        try:
            response = handle(raw, config_path, capture, services_builder or build_services)
        finally:
            capture.uninstall()
        response_out.write(response)
        response_out.flush()
    return 0


def handle(raw: bytes, config_path: str, capture: logs.LogCapture, services_builder: ServicesBuilder) -> bytes:
    """Parse, dispatch and render; never raises."""
    started = time.monotonic()
    try:
        request = parse_request(raw)
    except CpiError as exc:
        logger.error("Rejected request: %s", exc.message)
        return render_response(None, dispatcher.error_body(exc), capture.text())
    capture.set_request_id(request.request_id)
    logger.info("Starting %s (api_version %d)", request.method, request.api_version)
    result, error = dispatcher.run(request, _call_factory(request, config_path, capture, services_builder))
    outcome = f"failed ({error.type})" if error else "succeeded"
    logger.info("%s %s in %.2fs", request.method, outcome, time.monotonic() - started)
    return render_response(result, error, capture.text())


def _call_factory(
    request: Request, config_path: str, capture: logs.LogCapture, services_builder: ServicesBuilder
) -> Callable[[], Call]:
    def make_call() -> Call:
        config = load_config(config_path, request.context)
        for secret in config.secrets():
            logs.register_secret(secret)
        if config.azure.debug_mode:
            capture.set_level(logging.DEBUG)
        deadline = Deadline(config.azure.timeout_for(request.method))
        services = services_builder(config, deadline)
        return Call(
            method=request.method,
            api_version=request.api_version,
            config=config,
            services=services,
            deadline=deadline,
        )

    return make_call


def _terminate(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends the process at once
    raise Terminated


@contextlib.contextmanager
def _stdout_guard(stdout: BinaryIO | None, stderr: TextIO) -> Iterator[IO[Any]]:
    """Yield the stream for the response while everything else that targets stdout goes to stderr."""
    if stdout is not None:
        with contextlib.redirect_stdout(stderr):
            yield stdout
        return
    sys.stdout.flush()
    saved_fd = os.dup(1)
    try:
        os.dup2(sys.stderr.fileno(), 1)
        with os.fdopen(os.dup(saved_fd), "wb") as real_stdout, contextlib.redirect_stdout(stderr):
            yield real_stdout
    finally:
        sys.stdout.flush()
        os.dup2(saved_fd, 1)
        os.close(saved_fd)
