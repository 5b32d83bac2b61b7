import io
import logging

import pytest

from bosh_azure_cpi import logs


@pytest.fixture
def capture():
    stderr = io.StringIO()
    capture = logs.start_capture(stderr, logging.DEBUG)
    yield capture, stderr
    capture.uninstall()


def test_lines_go_to_stderr_and_to_the_log_field_with_the_request_id(capture):
    cap, stderr = capture
    cap.set_request_id("cpi-123456")
    logging.getLogger("bosh_azure_cpi.x").info("hello %s", "world")
    assert "[req_id cpi-123456] bosh_azure_cpi.x: hello world" in stderr.getvalue()
    assert cap.text() == stderr.getvalue()


def test_registered_secrets_are_redacted_including_each_pem_line(capture):
    cap, stderr = capture
    pem = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUXYZabcdefghijkl0123\n-----END CERTIFICATE-----"
    logs.register_secret("s3cr3t-value-123")
    logs.register_secret(pem)
    logging.getLogger("t").error("auth failed with s3cr3t-value-123 and MIIBszCCAVmgAwIBAgIUXYZabcdefghijkl0123")
    assert "s3cr3t-value-123" not in cap.text()
    assert "MIIBszCCAVmgAwIBAgIUXYZabcdefghijkl0123" not in cap.text()
    assert logs.REDACTED in stderr.getvalue()


@pytest.mark.parametrize(
    "text",
    [
        "https://a.blob.core.windows.net/c/b?sv=2025-11-05&se=2026&sp=r&sig=abcDEF123%2Bxyz%3D",
        "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq==;",
        "Authorization: Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL21hbmFnZW1lbnQifQ.c2lnbmF0dXJl",
        '{"client_secret": "hunter2-abc", "x": 1}',
        '{"customData": "eyJhZ2VudF9pZCI6ICJ4In0="}',
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
    ],
)
def test_credential_shapes_are_redacted_even_when_not_registered(capture, text):
    cap, _ = capture
    logging.getLogger("t").warning("%s", text)
    for secret in ("abcDEF123", "Eby8vdM02", "c2lnbmF0dXJl", "hunter2", "eyJhZ2VudF9pZCI6", "MIIEpAIBAAKCAQEA"):
        assert secret not in cap.text()


def test_tracebacks_are_redacted(capture):
    cap, _ = capture
    logs.register_secret("tb-secret-0987654321")
    try:
        raise RuntimeError("failed with tb-secret-0987654321")
    except RuntimeError:
        logging.getLogger("t").exception("boom")
    assert "Traceback" in cap.text()
    assert "tb-secret-0987654321" not in cap.text()


def test_sdk_loggers_are_quiet_unless_debugging():
    stderr = io.StringIO()
    cap = logs.start_capture(stderr, logging.INFO)
    try:
        logging.getLogger("azure.core.pipeline.policies.http_logging_policy").info("Request URL: x")
        assert "Request URL" not in stderr.getvalue()
        cap.set_level(logging.DEBUG)
        logging.getLogger("azure.core.pipeline.policies.http_logging_policy").info("Request URL: y")
        assert "Request URL: y" in stderr.getvalue()
    finally:
        cap.uninstall()
