"""Logging for one CPI call: stderr plus a capture for the response's ``log`` field, both redacted.

Only ``cli`` calls ``start_capture``. Every line passes a redacting formatter (including tracebacks), which
removes registered secrets (``register_secret``) and anything that looks like a credential: SAS signatures,
account keys (also bare, as 64-byte base64), bearer tokens, PEM private keys, ``client_secret``/``customData``/
``password`` values.
"""

from __future__ import annotations

import io
import logging
import re
import time
from typing import TextIO

REDACTED = "<redacted>"
_PATTERNS = (
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.S),
    re.compile(r"(?i)((?:^|[?&;\s])(?:sig|se|skoid|sktid|skt|ske|sks|skv)=)[^&;\s\"']+"),
    re.compile(r"(?i)(AccountKey=)[^;\s\"']+"),
    re.compile(r"(?i)(SharedAccessSignature=)[^;\s\"']+"),
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?(?:Bearer|SharedKey)\s+)[^\s'\",]+"),
    re.compile(
        r"(?i)([\"']?(?:client_secret|clientSecret|customData|custom_data|adminPassword|password|"
        r"private_key|access_token|refresh_token)[\"']?\s*[:=]\s*[\"'])[^\"']*"
    ),
    re.compile(r"\beyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*"),  # JWTs
    # Storage account (and Kerberos) keys: 64 bytes in base64, e.g. in the listKeys answer that debug logging shows.
    re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{86}==(?![A-Za-z0-9+/=])"),
)
_secrets: set[str] = set()
_LOG_FORMAT = "%(asctime)s.%(msecs)03d %(levelname)s [%(request_tag)s] %(name)s: %(message)s"


def register_secret(value: str | None) -> None:
    """Redact ``value`` (and each line of it, for multi-line PEMs) from every later log line."""
    if not value or len(value) < 4:
        return
    _secrets.add(value)
    for line in value.splitlines():
        if len(line.strip()) >= 16:
            _secrets.add(line.strip())


def redact(text: str) -> str:
    """Remove registered secrets and credential-looking substrings from ``text``."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(_keep_prefix, text)
    return text


def _keep_prefix(match: re.Match[str]) -> str:
    prefix = match.group(1) if match.re.groups else ""
    return prefix + REDACTED


class RedactingFormatter(logging.Formatter):
    """Formats with a request tag and redacts the complete text, traceback included."""

    converter = time.gmtime  # type: ignore[assignment]

    def __init__(self, request_tag: str) -> None:
        super().__init__(_LOG_FORMAT, "%Y-%m-%dT%H:%M:%S")
        self.request_tag = request_tag

    def format(self, record: logging.LogRecord) -> str:
        record.request_tag = self.request_tag
        return redact(super().format(record))


class LogCapture:
    """Handlers for one call; ``text()`` is what the response ``log`` field carries."""

    def __init__(self, stderr: TextIO, level: int) -> None:
        self.formatter = RedactingFormatter("cpi")
        self._buffer = io.StringIO()
        self._handlers: list[logging.Handler] = [logging.StreamHandler(stderr), logging.StreamHandler(self._buffer)]
        self._level = level
        for handler in self._handlers:
            handler.setFormatter(self.formatter)

    def set_request_id(self, request_id: str) -> None:
        self.formatter.request_tag = f"req_id {request_id}" if request_id else "cpi"

    def install(self) -> None:
        root = logging.getLogger()
        root.setLevel(self._level)
        for handler in self._handlers:
            root.addHandler(handler)
        # The SDKs log every HTTP exchange at INFO; keep them to warnings unless debugging.
        sdk_level = logging.DEBUG if self._level <= logging.DEBUG else logging.WARNING
        logging.getLogger("azure").setLevel(sdk_level)
        logging.getLogger("msal").setLevel(sdk_level)
        logging.getLogger("urllib3").setLevel(logging.WARNING)

    def uninstall(self) -> None:
        root = logging.getLogger()
        for handler in self._handlers:
            handler.flush()
            root.removeHandler(handler)

    def set_level(self, level: int) -> None:
        self._level = level
        logging.getLogger().setLevel(level)
        sdk_level = logging.DEBUG if level <= logging.DEBUG else logging.WARNING
        logging.getLogger("azure").setLevel(sdk_level)
        logging.getLogger("msal").setLevel(sdk_level)

    def text(self) -> str:
        return self._buffer.getvalue()


def start_capture(stderr: TextIO, level: int = logging.INFO) -> LogCapture:
    capture = LogCapture(stderr, level)
    capture.install()
    return capture
