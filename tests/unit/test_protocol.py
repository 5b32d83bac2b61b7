import json

import pytest

from bosh_azure_cpi.errors import CpiError
from bosh_azure_cpi.protocol import ErrorBody, json_type, parse_request, render_response


def test_parse_request_reads_all_fields():
    raw = b'{"method":"has_vm","arguments":["vm-1"],"context":{"request_id":"cpi-1"},"api_version":2}'
    request = parse_request(raw)
    assert (request.method, request.arguments, request.api_version) == ("has_vm", ["vm-1"], 2)
    assert request.request_id == "cpi-1"


def test_parse_request_defaults_when_api_version_and_context_are_absent():
    request = parse_request(b'{"method":"info","arguments":[]}')
    assert request.api_version == 1
    assert request.context == {}
    assert request.request_id == ""


@pytest.mark.parametrize("version", [1, 2, 3])
def test_parse_request_accepts_supported_api_versions(version):
    assert (
        parse_request(json.dumps({"method": "info", "arguments": [], "api_version": version}).encode()).api_version
        == version
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "not valid JSON"),
        (b'{"method":"info"', "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b'{"method":"info","arguments":[NaN]}', "not valid JSON"),
        (b"[]", "must be a JSON object, got array"),
        (b'"info"', "must be a JSON object, got string"),
        (b'{"arguments":[]}', "'method' must be a non-empty string"),
        (b'{"method":7,"arguments":[]}', "'method' must be a non-empty string"),
        (b'{"method":"info"}', "'arguments' must be an array, got null"),
        (b'{"method":"info","arguments":{}}', "'arguments' must be an array, got object"),
        (b'{"method":"info","arguments":[],"context":[]}', "'context' must be an object, got array"),
        (b'{"method":"info","arguments":[],"api_version":"2"}', "'api_version' must be an integer, got string"),
        (b'{"method":"info","arguments":[],"api_version":true}', "'api_version' must be an integer, got boolean"),
        (b'{"method":"info","arguments":[],"api_version":4}', "api_version 4 is not supported"),
    ],
)
def test_parse_request_rejects_malformed_requests_with_cpi_error(raw, message):
    with pytest.raises(CpiError) as caught:
        parse_request(raw)
    assert type(caught.value) is CpiError
    assert message in caught.value.message


def test_render_response_has_three_keys_and_ends_with_newline():
    out = render_response({"a": 1}, None, "log text")
    assert out.endswith(b"\n")
    assert json.loads(out) == {"result": {"a": 1}, "error": None, "log": "log text"}


def test_render_response_renders_error_body():
    out = json.loads(
        render_response(None, ErrorBody(type="Bosh::Clouds::VMNotFound", message="gone", ok_to_retry=False), "")
    )
    assert out["error"] == {"type": "Bosh::Clouds::VMNotFound", "message": "gone", "ok_to_retry": False}


def test_render_response_is_ascii_and_strict():
    out = render_response("caf\u00e9 \u2713", None, "")
    out.decode("ascii")
    assert json.loads(out)["result"] == "caf\u00e9 \u2713"


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), {"x": object()}])
def test_render_response_turns_invalid_results_into_cloud_error(bad):
    out = json.loads(render_response(bad, None, "kept"))
    assert out["result"] is None
    assert out["error"]["type"] == "Bosh::Clouds::CloudError"
    assert out["log"] == "kept"


@pytest.mark.parametrize(
    ("value", "name"),
    [(None, "null"), (True, "boolean"), (1, "number"), (1.5, "number"), ("s", "string"), ([], "array"), ({}, "object")],
)
def test_json_type_names_values(value, name):
    assert json_type(value) == name
