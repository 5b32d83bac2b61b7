"""Small JSON files shared by the CPI processes of one Director, to save Azure requests.

A cache is never the source of truth: a missing, unreadable or stale entry only costs the request it would have
saved, and callers must check what they read against Azure when it matters. Files live in
``/var/vcap/sys/run/azure_cpi/cache`` on a BOSH VM, else in ``$TMPDIR/bosh-azure-cpi-cache``; writes are atomic
(temporary file + rename), so concurrent processes never see half a file.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

BOSH_CACHE_DIR = Path("/var/vcap/sys/run/azure_cpi/cache")


def cache_path(name: str) -> Path:
    base = BOSH_CACHE_DIR if BOSH_CACHE_DIR.is_dir() else Path(tempfile.gettempdir()) / "bosh-azure-cpi-cache"
    return base / name


def read(name: str, max_age_s: float | None = None) -> Any | None:
    """The value stored under ``name``, or None when absent, unreadable or older than ``max_age_s``."""
    path = cache_path(name)
    try:
        if max_age_s is not None and time.time() - path.stat().st_mtime >= max_age_s:
            return None
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def write(name: str, value: Any) -> None:
    """Store ``value`` (JSON) under ``name``; a failure is logged, never raised."""
    path = cache_path(name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{name}-")
        with os.fdopen(fd, "w") as handle:
            json.dump(value, handle)
        os.replace(temp, path)
    except OSError as exc:
        logger.warning("Cannot write the cache file %s: %s", path, exc)


def forget(name: str) -> None:
    """Remove the entry ``name`` if present; never raises."""
    try:
        cache_path(name).unlink(missing_ok=True)
    except OSError as exc:
        logger.warning("Cannot remove the cache file %s: %s", cache_path(name), exc)
