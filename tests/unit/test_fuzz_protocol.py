"""Hypothesis fuzzing of the request parser and the dispatcher: any input gives one well-formed envelope."""

from __future__ import annotations

import io
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bosh_azure_cpi import cli
from bosh_azure_cpi.actions import REGISTRY
from bosh_azure_cpi.errors import WIRE_TYPES

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
requests = st.fixed_dictionaries(
    {
        "method": st.sampled_from(sorted(REGISTRY)) | st.text(max_size=12),
        "arguments": st.lists(json_values, max_size=7),
    },
    optional={"context": json_values, "api_version": st.integers(-1, 5) | json_values},
)


class NoAzure:
    def __getattr__(self, name: str) -> Any:
        raise RuntimeError("no Azure in fuzz tests")


def run(config_path: str, raw: bytes) -> dict[str, Any]:
    out = io.BytesIO()
    assert (
        cli.main(
            [config_path],
            stdin=io.BytesIO(raw),
            stdout=out,
            stderr=io.StringIO(),
            services_builder=lambda config, deadline: NoAzure(),
        )
        == 0
    )
    text = out.getvalue().decode("ascii")
    assert text.endswith("\n") and text.count("\n") == 1
    doc = json.loads(text)
    assert set(doc) == {"result", "error", "log"} and isinstance(doc["log"], str)
    if doc["error"] is not None:
        assert set(doc["error"]) == {"type", "message", "ok_to_retry"}
        assert doc["error"]["type"] in WIRE_TYPES
        assert isinstance(doc["error"]["ok_to_retry"], bool)
        assert "\n" not in doc["error"]["message"]
    return doc


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=200))
def test_arbitrary_bytes_give_an_envelope(write_config, raw):
    run(str(write_config()), raw)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=requests)
def test_arbitrary_requests_give_an_envelope(write_config, request):
    doc = run(str(write_config()), json.dumps(request).encode())
    if doc["error"] is None:
        assert request["method"] == "info"
