"""Process edge: read one request from stdin, write exactly one JSON response to stdout, log to stderr.

``main`` takes injectable streams and a services builder so contract tests run it in-process. ``info`` is
answered right here from the registry's action, without loading the configuration, logging or the dispatcher:
the Director and bosh-cli call it before (bosh-cli: before every) other call, so its start-up time matters.
Everything else goes to ``runner``. The exit status is 0 even for error responses.
"""

from __future__ import annotations

import json
import os
import sys

from bosh_azure_cpi.protocol import SUPPORTED_API_VERSIONS, render_response

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs start-up time
if TYPE_CHECKING:
    from typing import BinaryIO, TextIO

    from bosh_azure_cpi.runner import ServicesBuilder

DEFAULT_CONFIG_PATH = "/var/vcap/jobs/azure_cpi/config/cpi.json"


def main(
    argv: list[str] | None = None,
    *,
    stdin: BinaryIO | None = None,
    stdout: BinaryIO | None = None,
    stderr: TextIO | None = None,
    services_builder: ServicesBuilder | None = None,
) -> int:
    """Handle one CPI call; returns the process exit status (always 0)."""
    args = sys.argv[1:] if argv is None else argv
    config_path = args[0] if args else _default_config_path()
    raw = (stdin or sys.stdin.buffer).read()
    answer = _info_answer(raw)
    if answer is not None:
        out = stdout or sys.stdout.buffer
        out.write(answer)
        out.flush()
        return 0
    from bosh_azure_cpi import runner  # noqa: PLC0415 - everything but info pays for logging, config, dispatch

    return runner.run(raw, config_path, stdout=stdout, stderr=stderr or sys.stderr, services_builder=services_builder)


def _info_answer(raw: bytes) -> bytes | None:
    """The response to a well-formed ``info`` request, or None (anything else takes the full path)."""
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):  # the full path answers with an error envelope
        return None
    if not isinstance(doc, dict) or doc.get("method") != "info" or doc.get("arguments") != []:
        return None
    version = doc.get("api_version")
    context = doc.get("context", {})
    if (version is not None and (isinstance(version, bool) or version not in SUPPORTED_API_VERSIONS)) or not (
        context is None or isinstance(context, dict)
    ):
        return None
    from bosh_azure_cpi.actions.info import info  # noqa: PLC0415 - the registry's info action, imports nothing

    return render_response(info(None), None, "")


def _default_config_path() -> str:
    jobs_dir = os.environ.get("BOSH_JOBS_DIR")
    if jobs_dir:
        return os.path.join(jobs_dir, "azure_cpi", "config", "cpi.json")
    return DEFAULT_CONFIG_PATH
