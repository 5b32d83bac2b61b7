"""Shared fixtures: the Ruby job's rendered cpi.json and helpers to write config variants."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


def ruby_job_config() -> dict[str, Any]:
    """The cpi.json that the Ruby Azure CPI's job template renders (gallery mode)."""
    return json.loads((FIXTURES / "ruby-job-cpi.json").read_text())


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """Write the Ruby job's cpi.json with ``azure`` keys overridden (None deletes a key); returns the path."""

    def write(name: str = "cpi.json", **azure: Any) -> Path:
        doc = ruby_job_config()
        props = doc["cloud"]["properties"]["azure"]
        for key, value in azure.items():
            if value is None:
                props.pop(key, None)
            else:
                props[key] = value
        path = tmp_path / name
        path.write_text(json.dumps(doc))
        return path

    return write
