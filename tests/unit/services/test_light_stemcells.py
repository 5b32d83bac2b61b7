"""LightStemcells (marketplace references) and the Stemcells dispatcher; autospec'd VirtualMachineImagesOperations."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any
from unittest.mock import create_autospec

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.compute import models as m
from azure.mgmt.compute.operations import VirtualMachineImagesOperations

from bosh_azure_cpi.errors import CloudError, InvalidArgument
from bosh_azure_cpi.models.cids import StemcellCid
from bosh_azure_cpi.models.images import VmImage
from bosh_azure_cpi.models.stemcell import StemcellProps
from bosh_azure_cpi.services.light_stemcells import LightStemcells
from bosh_azure_cpi.services.stemcells import Stemcells
from tests.fakes.config import fake_azure_config
from tests.fakes.stemcell_store import FakeStemcellStore

IMAGE = {"publisher": "fake-publisher", "offer": "fake-offer", "sku": "fake-sku", "version": "1.0.2"}
MF = {"name": "fake-light", "version": "1.0", "os_type": "linux", "disk": 3072, "image": IMAGE}


class World:
    def __init__(self, versions: list[str] | None = None, **config: Any) -> None:
        self.store = FakeStemcellStore()
        self.images = create_autospec(VirtualMachineImagesOperations, instance=True)
        found = [m.VirtualMachineImageResource({"name": v, "location": "eastus"}) for v in versions or []]
        self.images.list.return_value = found
        clients = SimpleNamespace(compute=SimpleNamespace(virtual_machine_images=self.images))
        self.service = LightStemcells(self.store, clients, fake_azure_config(**config))  # type: ignore[arg-type]


def test_create_checks_the_image_in_the_location_and_writes_a_marker() -> None:
    world = World(["1.0.1", "1.0.2"])

    cid = world.service.create(StemcellProps.from_dict(MF))

    assert cid.light and cid.name.startswith("bosh-light-stemcell-")
    world.images.list.assert_called_once_with("eastus", "fake-publisher", "fake-offer", "fake-sku")
    assert world.store.journal == ["ensure_account", f"write_marker {cid}"]
    metadata = world.store.blobs[cid.blob_name]
    assert json.loads(metadata["image"]) == IMAGE
    assert (metadata["name"], metadata["disk"]) == ("fake-light", "3072")


@pytest.mark.parametrize(("versions", "wanted"), [(["1.0.1"], "1.0.2"), ([], "latest")])
def test_create_refuses_an_image_that_does_not_exist(versions: list[str], wanted: str) -> None:
    world = World(versions)
    with pytest.raises(CloudError) as caught:
        world.service.create(StemcellProps.from_dict({**MF, "image": {**IMAGE, "version": wanted}}))
    assert caught.value.message == (
        f"Cannot find the light stemcell image fake-publisher:fake-offer:fake-sku:{wanted} in the location 'eastus'"
    )
    assert world.store.blobs == {}


def test_latest_is_accepted_when_any_version_exists() -> None:
    world = World(["1.0.1"])
    cid = world.service.create(StemcellProps.from_dict({**MF, "image": {**IMAGE, "version": "latest"}}))
    assert json.loads(world.store.blobs[cid.blob_name]["image"])["version"] == "latest"


def test_an_unknown_offer_counts_as_missing() -> None:
    world = World()
    world.images.list.side_effect = ResourceNotFoundError("fake no such offer")
    with pytest.raises(CloudError, match="Cannot find the light stemcell image"):
        world.service.create(StemcellProps.from_dict(MF))


def test_create_needs_an_image_and_a_location() -> None:
    with pytest.raises(InvalidArgument, match="needs 'image'"):
        World(["1.0.2"]).service.create(StemcellProps.from_dict({k: v for k, v in MF.items() if k != "image"}))
    with pytest.raises(InvalidArgument, match="'azure.location' is required"):
        World(["1.0.2"], location=None, compute_gallery_name=None).service.create(StemcellProps.from_dict(MF))


def test_resolve_checks_the_image_in_the_vm_region() -> None:
    world = World(["1.0.2"])
    cid = world.service.create(StemcellProps.from_dict({**MF, "generation": "gen2", "architecture": "arm64"}))

    found = world.service.resolve(cid, "westus2")

    world.images.list.assert_called_with("westus2", "fake-publisher", "fake-offer", "fake-sku")
    assert found == VmImage(marketplace=IMAGE, os_type="Linux", disk_mib=3072, generation="gen2", architecture="Arm64")


def test_resolve_fails_when_the_image_is_not_offered_in_the_region() -> None:
    world = World(["1.0.2"])
    cid = world.service.create(StemcellProps.from_dict(MF))
    world.images.list.return_value = []
    with pytest.raises(CloudError, match="in the location 'westus2'"):
        world.service.resolve(cid, "westus2")


def test_resolve_of_a_missing_or_broken_marker() -> None:
    world = World(["1.0.2"])
    cid = StemcellCid.new(light=True)
    with pytest.raises(CloudError, match="does not exist"):
        world.service.resolve(cid, "eastus")
    world.store.blobs[cid.blob_name] = {"name": "fake-light", "version": "1.0"}
    with pytest.raises(CloudError, match="has no image reference"):
        world.service.resolve(cid, "eastus")


def test_delete_removes_the_marker() -> None:
    world = World(["1.0.2"])
    cid = world.service.create(StemcellProps.from_dict(MF))
    world.service.delete(cid)
    assert world.store.blobs == {}


# --- Stemcells dispatch --------------------------------------------------------------------------------------------


class RecordingHeavy:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def create(self, image_path: str, props: StemcellProps, extra_tags: dict[str, str]) -> StemcellCid:
        self.calls.append(("create", image_path))
        return StemcellCid.parse("bosh-stemcell-fake")

    def delete(self, cid: StemcellCid) -> None:
        self.calls.append(("delete", cid.name))

    def resolve(self, cid: StemcellCid, region: str) -> VmImage:
        self.calls.append(("resolve", cid.name))
        return VmImage(image_id="fake-id")


def test_stemcells_send_light_stemcells_to_the_light_service_and_the_rest_to_the_heavy_one() -> None:
    world = World(["1.0.2"])
    heavy = RecordingHeavy()
    stemcells = Stemcells(heavy, world.service)

    light = stemcells.create("", StemcellProps.from_dict(MF), {})
    stemcells.resolve(light, "eastus")
    stemcells.delete(light)
    uploaded = stemcells.create("fake-image", StemcellProps.from_dict({**MF, "image": None}), {})
    stemcells.resolve(uploaded, "eastus")
    stemcells.delete(uploaded)

    assert light.light and not uploaded.light
    assert heavy.calls == [("create", "fake-image"), ("resolve", uploaded.name), ("delete", uploaded.name)]
    assert world.store.blobs == {}
