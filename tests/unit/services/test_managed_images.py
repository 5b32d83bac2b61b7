"""ManagedImageStemcells: image names, reuse of existing images, region limits; autospec'd ImagesOperations."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from unittest.mock import call, create_autospec

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.compute import models as m
from azure.mgmt.compute.operations import ImagesOperations

from bosh_azure_cpi.errors import AzureError, CloudError, NotSupported
from bosh_azure_cpi.models.cids import StemcellCid
from bosh_azure_cpi.models.deadline import Deadline
from bosh_azure_cpi.models.images import VmImage
from bosh_azure_cpi.models.stemcell import StemcellProps, encode_metadata
from bosh_azure_cpi.services.managed_images import ManagedImageStemcells
from tests.fakes.config import RESOURCE_GROUP, fake_azure_config
from tests.fakes.pollers import FakePoller
from tests.fakes.stemcell_store import FakeStemcellStore

MF = {"name": "fake-stemcell", "version": "1.2", "os_type": "linux", "disk": 4096, "architecture": "x86_64"}
CID = StemcellCid.parse("bosh-stemcell-00000000-0000-0000-0000-0000000000bb")
UUID = CID.uuid


def image_id(name: str) -> str:
    return f"/subscriptions/fake/resourceGroups/{RESOURCE_GROUP}/providers/Microsoft.Compute/images/{name}"


def image(name: str, state: str = "Succeeded") -> m.Image:
    return m.Image(
        {"id": image_id(name), "name": name, "location": "eastus", "properties": {"provisioningState": state}}
    )


class World:
    def __init__(self, existing: dict[str, m.Image] | None = None, **config: Any) -> None:
        self.store = FakeStemcellStore()
        self.images = create_autospec(ImagesOperations, instance=True)
        self.existing = existing or {}
        self.images.get.side_effect = self.get
        self.images.begin_create_or_update.side_effect = lambda group, name, body: FakePoller(image(name), polls=1)
        self.clients = SimpleNamespace(compute=SimpleNamespace(images=self.images))
        settings = {"compute_gallery_name": None, **config}
        self.service = ManagedImageStemcells(self.store, self.clients, fake_azure_config(**settings), Deadline(60))  # type: ignore[arg-type]

    def get(self, group: str, name: str, **_: Any) -> m.Image:
        if name not in self.existing:
            raise ResourceNotFoundError("fake not found")
        return self.existing[name]

    def stored(self, mf: dict[str, Any] = MF) -> None:
        self.store.blobs[CID.blob_name] = {**encode_metadata(mf), "image_sha256": "fake-sha256"}

    def created_names(self) -> list[str]:
        return [c.args[1] for c in self.images.begin_create_or_update.call_args_list]


def test_create_uploads_and_builds_the_image_in_the_location() -> None:
    world = World()

    cid = world.service.create("fake-image", StemcellProps.from_dict(MF), {"director": "fake-director"})

    assert world.store.journal == ["ensure_account", "delete_abandoned_uploads", f"upload {cid}"]
    (group, name, body), _ = world.images.begin_create_or_update.call_args
    assert (group, name) == (RESOURCE_GROUP, f"{cid.uuid}-S-eastus")
    assert body.as_dict() == {
        "location": "eastus",
        "tags": {**encode_metadata(MF), "director": "fake-director", "image_sha256": "fake-sha256"},
        "properties": {
            "hyperVGeneration": "V1",
            "storageProfile": {
                "osDisk": {
                    "osType": "Linux",
                    "osState": "Generalized",
                    "blobUri": world.store.location(cid).url,
                    "caching": "ReadWrite",
                    "storageAccountType": "Standard_LRS",
                }
            },
        },
    }
    assert world.store.blobs[cid.blob_name]["name"] == "fake-stemcell"


def test_a_failed_image_build_deletes_the_blob() -> None:
    world = World()
    world.images.begin_create_or_update.side_effect = None
    world.images.begin_create_or_update.return_value = FakePoller(error=ResourceNotFoundError("fake blob missing"))
    with pytest.raises(AzureError, match="Creating managed image"):
        world.service.create("fake-image", StemcellProps.from_dict(MF), {})
    assert world.store.blobs == {}


@pytest.mark.parametrize("suffix", ["S", "SSSD", "P"])
def test_resolve_reuses_an_existing_image_of_any_storage_sku(suffix: str) -> None:
    name = f"{UUID}-{suffix}-eastus"
    world = World({name: image(name)})
    world.stored()

    found = world.service.resolve(CID, "East US")

    assert found == VmImage(image_id=image_id(name), os_type="Linux", disk_mib=4096, generation="gen1",
                            architecture="x64")  # fmt: skip
    world.images.begin_create_or_update.assert_not_called()


def test_resolve_looks_the_names_up_in_order() -> None:
    world = World()
    world.stored()
    world.service.resolve(CID, "eastus")
    assert world.images.get.call_args_list[:3] == [
        call(RESOURCE_GROUP, f"{UUID}-S-eastus"),
        call(RESOURCE_GROUP, f"{UUID}-SSSD-eastus"),
        call(RESOURCE_GROUP, f"{UUID}-P-eastus"),
    ]


def test_resolve_builds_a_missing_or_unfinished_image() -> None:
    name = f"{UUID}-S-eastus"
    world = World({name: image(name, state="Failed")})
    world.stored({**MF, "generation": "gen2"})

    found = world.service.resolve(CID, "eastus")

    assert world.created_names() == [name]
    assert world.images.begin_create_or_update.call_args.args[2].properties.hyper_v_generation == "V2"
    assert (found.image_id, found.generation) == (image_id(name), "gen2")


def test_other_regions_need_a_gallery() -> None:
    world = World()
    world.stored()
    with pytest.raises(NotSupported) as caught:
        world.service.resolve(CID, "westus2")
    assert caught.value.message == (
        f"Stemcell '{CID}' is stored in 'eastus' and cannot boot VMs in 'westus2' without a Compute Gallery; "
        "set 'azure.compute_gallery_name'"
    )
    world.images.begin_create_or_update.assert_not_called()


def test_an_image_already_in_another_region_is_used() -> None:
    name = f"{UUID}-P-westus2"
    world = World({name: image(name)})
    world.stored()
    assert world.service.resolve(CID, "West US 2").image_id == image_id(name)


def test_resolve_of_a_missing_stemcell() -> None:
    with pytest.raises(CloudError, match=f"Stemcell '{CID}' does not exist in storage account 'fakeaccount'"):
        World().service.resolve(CID, "eastus")


def test_delete_removes_every_image_of_the_stemcell_and_the_blob() -> None:
    world = World()
    world.stored()
    names = [f"{UUID}-S-eastus", f"{UUID}-P-westus", f"{CID}-S-eastus", "bosh-stemcell-other-S-eastus"]
    world.images.list_by_resource_group.return_value = [image(name) for name in names]
    world.images.begin_delete.return_value = FakePoller()

    world.service.delete(CID)

    world.images.list_by_resource_group.assert_called_once_with(RESOURCE_GROUP)
    assert [c.args for c in world.images.begin_delete.call_args_list] == [(RESOURCE_GROUP, n) for n in names[:3]]
    assert world.store.blobs == {}


def test_images_need_a_location() -> None:
    world = World(location=None)
    with pytest.raises(CloudError, match="'azure.location' is required"):
        world.service.create("fake-image", StemcellProps.from_dict(MF), {})
    assert world.store.blobs == {}
