import pytest

from bosh_azure_cpi import errors


@pytest.mark.parametrize(
    ("cls", "wire", "retry"),
    [
        (errors.CpiError, "Bosh::Clouds::CpiError", False),
        (errors.InvalidArgument, "Bosh::Clouds::CpiError", False),
        (errors.MethodNotImplemented, "Bosh::Clouds::NotImplemented", False),
        (errors.NotSupported, "Bosh::Clouds::NotSupported", False),
        (errors.CloudError, "Bosh::Clouds::CloudError", False),
        (errors.DeadlineExceeded, "Bosh::Clouds::CloudError", True),
        (errors.VMNotFound, "Bosh::Clouds::VMNotFound", False),
        (errors.DiskNotFound, "Bosh::Clouds::DiskNotFound", False),
        (errors.DiskNotAttached, "Bosh::Clouds::DiskNotAttached", False),
        (errors.NoDiskSpace, "Bosh::Clouds::NoDiskSpace", False),
        (errors.VMCreationFailed, "Bosh::Clouds::VMCreationFailed", False),
        (errors.StemcellNotFound, "Bosh::Clouds::StemcellNotFound", False),
    ],
)
def test_each_error_carries_its_wire_type_and_default_retry_flag(cls, wire, retry):
    error = cls("boom")
    assert (error.wire_type, error.ok_to_retry, error.message) == (wire, retry, "boom")
    assert error.wire_type in errors.WIRE_TYPES


def test_ok_to_retry_can_be_set_per_error():
    assert errors.VMCreationFailed("capacity", ok_to_retry=True).ok_to_retry is True


def test_with_context_keeps_type_retry_flag_and_details():
    original = errors.AzureError("throttled", code="TooManyRequests", status=429, ok_to_retry=True)
    wrapped = original.with_context("Creating VM 'x'")
    assert isinstance(wrapped, errors.AzureError)
    assert wrapped.message == "Creating VM 'x': throttled"
    assert (wrapped.ok_to_retry, wrapped.code, wrapped.status) == (True, "TooManyRequests", 429)
