"""A VmCreator wired to the VM fakes, sharing one call log and one set of faults (for create_vm tests)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import pytest

from bosh_azure_cpi.config import CpiConfig
from bosh_azure_cpi.errors import AzureError, VMCreationFailed
from bosh_azure_cpi.models.deadline import Deadline
from bosh_azure_cpi.models.images import VmImage
from bosh_azure_cpi.models.vm_spec import VmRequest
from bosh_azure_cpi.services.lro import to_azure_error
from bosh_azure_cpi.services.vm_creator import VmCreator
from tests.fakes.fake_network import FakeNetworkService
from tests.fakes.fake_vm import AGENT, CallLog, FakeStemcells, FakeVmService, Faults, cpi_config
from tests.fakes.fake_vm_sdk import http_error


@dataclass
class World:
    log: CallLog
    faults: Faults
    vms: FakeVmService
    network: FakeNetworkService
    stemcells: FakeStemcells
    config: CpiConfig

    def creator(self) -> VmCreator:
        return VmCreator(self.vms, self.network, self.stemcells, self.config, Deadline(60))  # type: ignore[arg-type]

    def create(self, request: VmRequest) -> str:
        return str(self.creator().create(request))

    def fail(self, request: VmRequest) -> VMCreationFailed:
        with pytest.raises(VMCreationFailed) as caught:
            self.creator().create(request)
        return caught.value

    def settings(self, index: int = -1) -> dict[str, Any]:
        """The agent settings decoded from the custom data of the ``index``-th VM body sent."""
        body = self.vms.bodies[index].as_dict()
        return json.loads(base64.b64decode(body["properties"]["osProfile"]["customData"]))  # type: ignore[no-any-return]


def world(image: VmImage | None = None, network: FakeNetworkService | None = None, **azure: Any) -> World:
    """Fakes sharing a log and faults; ``azure`` overrides keys of the fake config (None removes one)."""
    log, faults = CallLog(), Faults()
    if network is not None:
        network.log, network.faults = log, faults
    stemcells = FakeStemcells(log, faults) if image is None else FakeStemcells(log, faults, image)
    vms, network = FakeVmService(log, faults), network or FakeNetworkService(log, faults)
    return World(log, faults, vms, network, stemcells, cpi_config(**azure))


def azure_error(status: int, code: str, message: str = "fake failure") -> AzureError:
    """The AzureError the services raise for an ARM error response while creating the VM."""
    return to_azure_error(http_error(status, code, message), f"Creating VM '{AGENT}'")
