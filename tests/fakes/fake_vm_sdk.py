"""SDK-level fakes for VmService and NetworkService tests: autospec'd operation groups and Azure HTTP errors."""

from __future__ import annotations

from typing import Any
from unittest.mock import create_autospec

from azure.core.exceptions import HttpResponseError, ODataV4Format
from azure.mgmt.compute.operations import (
    AvailabilitySetsOperations,
    DisksOperations,
    ResourceSkusOperations,
    VirtualMachinesOperations,
)
from azure.mgmt.network.operations import (
    ApplicationGatewaysOperations,
    ApplicationSecurityGroupsOperations,
    LoadBalancersOperations,
    NetworkInterfacesOperations,
    NetworkSecurityGroupsOperations,
    PublicIPAddressesOperations,
    VirtualNetworksOperations,
)


class FakeComputeClient:
    """The operation groups of ComputeManagementClient that VmService uses (a misspelled method fails)."""

    def __init__(self) -> None:
        self.virtual_machines = create_autospec(VirtualMachinesOperations, instance=True)
        self.availability_sets = create_autospec(AvailabilitySetsOperations, instance=True)
        self.disks = create_autospec(DisksOperations, instance=True)
        self.resource_skus = create_autospec(ResourceSkusOperations, instance=True)


class FakeNetworkClient:
    """The operation groups of NetworkManagementClient that NetworkService uses."""

    def __init__(self) -> None:
        self.virtual_networks = create_autospec(VirtualNetworksOperations, instance=True)
        self.network_security_groups = create_autospec(NetworkSecurityGroupsOperations, instance=True)
        self.application_security_groups = create_autospec(ApplicationSecurityGroupsOperations, instance=True)
        self.public_ip_addresses = create_autospec(PublicIPAddressesOperations, instance=True)
        self.load_balancers = create_autospec(LoadBalancersOperations, instance=True)
        self.application_gateways = create_autospec(ApplicationGatewaysOperations, instance=True)
        self.network_interfaces = create_autospec(NetworkInterfacesOperations, instance=True)


def http_error(
    status: int, code: str = "", message: str = "fake failure", kind: type[HttpResponseError] = HttpResponseError
) -> HttpResponseError:
    """What the SDK raises for an ARM error response: HTTP status and the ``{"error": {code, message}}`` body."""
    error = kind(message=message)
    error.status_code = status
    if code:
        error.error = ODataV4Format({"error": {"code": code, "message": message}})
    return error


def calls(mock: Any) -> list[tuple[Any, ...]]:
    """A mock's calls as ``(args..., {kwargs})`` tuples (kwargs only when present)."""
    return [(*call.args, call.kwargs) if call.kwargs else tuple(call.args) for call in mock.call_args_list]
