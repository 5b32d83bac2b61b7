"""cli.main fed JSON through in-memory streams, as the Director would call bin/cpi."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from bosh_azure_cpi import cli


class StrictServices:
    """A services bundle that fails on any use: the calls below must not touch Azure."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"service '{name}' must not be used")


def call(config_path, request: bytes | dict, builder=None) -> tuple[dict, str]:
    raw = request if isinstance(request, bytes) else json.dumps(request).encode()
    stdout, stderr = io.BytesIO(), io.StringIO()
    status = cli.main(
        [str(config_path)],
        stdin=io.BytesIO(raw),
        stdout=stdout,
        stderr=stderr,
        services_builder=builder or (lambda config, deadline: StrictServices()),
    )
    assert status == 0
    out = stdout.getvalue()
    assert out.count(b"\n") == 1 and out.endswith(b"\n")
    return json.loads(out), stderr.getvalue()


def test_info_returns_api_version_and_formats(write_config):
    response, _ = call(write_config(), {"method": "info", "arguments": [], "context": {"director_uuid": "d"}})
    assert response == {
        "result": {"api_version": 2, "stemcell_formats": ["azure-vhd", "azure-light"]},
        "error": None,
        "log": response["log"],
    }
    assert isinstance(response["log"], str)


@pytest.mark.parametrize("api_version", [None, 1, 2, 3])
def test_info_accepts_every_api_version(write_config, api_version):
    request: dict[str, Any] = {"method": "info", "arguments": [], "context": {}}
    if api_version is not None:
        request["api_version"] = api_version
    response, _ = call(write_config(), request)
    assert response["error"] is None


def test_log_field_carries_what_went_to_stderr(write_config):
    response, stderr = call(write_config(), {"method": "nope", "arguments": [], "context": {"request_id": "cpi-42"}})
    assert response["log"] == stderr
    assert "[req_id cpi-42]" in stderr


def test_info_is_answered_without_reading_the_configuration(tmp_path):
    response, stderr = call(tmp_path / "absent.json", {"method": "info", "arguments": [], "api_version": 2})
    assert response["result"]["api_version"] == 2
    assert (response["log"], stderr) == ("", "")


@pytest.mark.parametrize(
    ("raw", "message"),
    [(b"not json", "Request is not valid JSON"), (b"[1]", "must be a JSON object"),
     (b'{"method":"info","arguments":"x"}', "'arguments' must be an array")],
)  # fmt: skip
def test_malformed_requests_get_cpi_error_envelopes(write_config, raw, message):
    response, _ = call(write_config(), raw)
    assert response["result"] is None
    assert response["error"]["type"] == "Bosh::Clouds::CpiError"
    assert message in response["error"]["message"]
    assert response["error"]["ok_to_retry"] is False


def test_unknown_method_gets_not_implemented(write_config):
    response, _ = call(write_config(), {"method": "nope", "arguments": [], "context": {}})
    assert response["error"] == {
        "type": "Bosh::Clouds::NotImplemented",
        "message": "Method is not known, got 'nope'",
        "ok_to_retry": False,
    }


def test_wrong_argument_count_names_the_arguments(write_config):
    response, _ = call(write_config(), {"method": "info", "arguments": ["extra"], "context": {}})
    assert response["error"]["type"] == "Bosh::Clouds::CpiError"
    assert "expected 0" in response["error"]["message"]


def test_invalid_config_is_an_error_envelope_naming_the_key(write_config):
    response, _ = call(write_config(subscription_id=None), {"method": "has_vm", "arguments": ["x" * 36], "context": {}})
    assert response["error"]["message"] == "'azure.subscription_id' is required"


def test_prints_during_the_action_go_to_stderr_not_stdout(write_config, monkeypatch):
    from bosh_azure_cpi.actions import has_vm as module

    def noisy(call: Any, vm_cid: str) -> bool:
        print("stray output from a library")
        return True

    monkeypatch.setattr(module, "has_vm", noisy)
    response, stderr = call(write_config(), {"method": "has_vm", "arguments": ["x"], "context": {}})
    assert response["error"] is None
    assert "stray output from a library" in stderr


def test_unexpected_exception_is_one_line_cloud_error_with_traceback_in_log_only(write_config, monkeypatch):
    from bosh_azure_cpi.actions import has_vm as module

    def broken(call: Any, vm_cid: str) -> Any:
        raise RuntimeError("fake-client-secret-Zx9!q leaked?\nsecond line")

    monkeypatch.setattr(module, "has_vm", broken)
    response, stderr = call(write_config(), {"method": "has_vm", "arguments": ["x"], "context": {}})
    assert response["error"]["type"] == "Bosh::Clouds::CloudError"
    assert "\n" not in response["error"]["message"]
    assert "Traceback" in response["log"]
    assert "fake-client-secret-Zx9!q" not in response["log"]
    assert "fake-client-secret-Zx9!q" not in stderr
