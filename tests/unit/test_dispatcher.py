from __future__ import annotations

from typing import Any

import pytest

from bosh_azure_cpi import dispatcher
from bosh_azure_cpi.actions import REGISTRY
from bosh_azure_cpi.errors import CpiError, MethodNotImplemented, VMNotFound
from bosh_azure_cpi.protocol import Request

CPI_METHODS = {
    "info", "create_stemcell", "delete_stemcell", "create_vm", "delete_vm", "has_vm", "reboot_vm", "set_vm_metadata",
    "calculate_vm_cloud_properties", "create_disk", "delete_disk", "has_disk", "attach_disk", "detach_disk",
    "set_disk_metadata", "get_disks", "resize_disk", "update_disk", "snapshot_disk", "delete_snapshot",
    "current_vm_id", "create_network", "delete_network", "configure_networks", "ping",
}  # fmt: skip


def sample_action(call: Any, vm_cid: str, metadata: dict[str, Any], size: int | None = None) -> Any:
    return [vm_cid, metadata, size]


def never_called() -> Any:
    raise AssertionError("the call must not be built")


def test_registry_knows_every_cpi_method():
    assert set(REGISTRY) == CPI_METHODS


@pytest.mark.parametrize("method", sorted(m for m, info in REGISTRY.items() if info.implemented))
def test_every_implemented_method_has_a_module_with_a_function_of_its_name(method):
    assert callable(dispatcher.load_action(method))


@pytest.mark.parametrize("method", sorted(m for m, info in REGISTRY.items() if not info.implemented))
def test_pending_methods_answer_not_implemented(method):
    with pytest.raises(MethodNotImplemented):
        dispatcher.load_action(method)


def test_unknown_method_answers_the_directors_not_implemented_message():
    result, error = dispatcher.run(Request(method="frobnicate", arguments=[]), never_called)
    assert result is None
    assert error is not None
    assert (error.type, error.message) == ("Bosh::Clouds::NotImplemented", "Method is not known, got 'frobnicate'")


def test_bind_arguments_accepts_optional_trailing_argument():
    assert dispatcher.bind_arguments(sample_action, "m", ["vm", {}]) == ["vm", {}]
    assert dispatcher.bind_arguments(sample_action, "m", ["vm", {}, None]) == ["vm", {}, None]
    assert dispatcher.bind_arguments(sample_action, "m", ["vm", {}, 3]) == ["vm", {}, 3]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "expected 2 to 3 (vm_cid, metadata, size), got 0"),
        (["vm", {}, 1, 2], "expected 2 to 3 (vm_cid, metadata, size), got 4"),
        ([1, {}], "Argument 1 'vm_cid' of 'm' must be a string, got number"),
        (["vm", []], "Argument 2 'metadata' of 'm' must be an object, got array"),
        (["vm", {}, "3"], "Argument 3 'size' of 'm' must be an integer or null, got string"),
        (["vm", {}, True], "Argument 3 'size' of 'm' must be an integer or null, got boolean"),
    ],
)
def test_bind_arguments_rejects_wrong_count_and_types_naming_the_argument(arguments, message):
    with pytest.raises(CpiError) as caught:
        dispatcher.bind_arguments(sample_action, "m", arguments)
    assert message in caught.value.message
    assert caught.value.wire_type == "Bosh::Clouds::CpiError"


def test_run_turns_cpi_errors_into_their_wire_type(monkeypatch):
    def failing(call: Any) -> Any:
        raise VMNotFound("VM 'x' cannot be found")

    monkeypatch.setattr(dispatcher, "load_action", lambda method: failing)
    _, error = dispatcher.run(Request(method="has_vm", arguments=[]), lambda: None)  # type: ignore[arg-type,return-value]
    assert error is not None
    assert (error.type, error.message, error.ok_to_retry) == (
        "Bosh::Clouds::VMNotFound",
        "VM 'x' cannot be found",
        False,
    )


def test_run_turns_unexpected_exceptions_into_one_line_cloud_error(monkeypatch, caplog):
    def failing(call: Any) -> Any:
        raise KeyError("first line\nsecond line")

    monkeypatch.setattr(dispatcher, "load_action", lambda method: failing)
    _, error = dispatcher.run(Request(method="has_vm", arguments=[]), lambda: None)  # type: ignore[arg-type,return-value]
    assert error is not None
    assert error.type == "Bosh::Clouds::CloudError"
    assert "\n" not in error.message
    assert error.message.startswith("KeyError")
    assert "Traceback" in caplog.text
