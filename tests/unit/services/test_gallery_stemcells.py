"""GalleryStemcells with fakes: naming, tags, reference counting, locks, idempotency, replication, recovery."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bosh_azure_cpi.errors import AzureError, CloudError
from bosh_azure_cpi.models.cids import StemcellCid
from bosh_azure_cpi.models.images import VmImage
from bosh_azure_cpi.models.stemcell import StemcellProps, read_references
from bosh_azure_cpi.services.gallery_stemcells import GalleryStemcells
from tests.fakes.config import GALLERY, fake_azure_config
from tests.fakes.gallery import FakeGalleryService, version_id
from tests.fakes.stemcell_store import FakeStemcellStore

MF = {
    "name": "fake-stemcell",
    "version": "1.181",
    "infrastructure": "azure",
    "disk": 5120,
    "os_type": "linux",
    "os_distro": "ubuntu",
    "architecture": "x86_64",
}
DEF, VER = "fake-stemcell", "1.181.0"
LOCK = f"gallery/{GALLERY}/{DEF}/{VER}"
SHA = "fake-sha256"
OTHER = "bosh-stemcell-00000000-0000-0000-0000-000000000001"


class World:
    """The service under test wired to fakes that share one journal."""

    def __init__(self, **config: Any) -> None:
        self.journal: list[str] = []
        self.gallery = FakeGalleryService(self.journal)
        self.store = FakeStemcellStore(self.journal, sha256=SHA)
        self.locks = self.store.locks()
        self.service = GalleryStemcells(self.store, self.gallery, fake_azure_config(**config))  # type: ignore[arg-type]

    def create(self, mf: dict[str, Any] | None = None, tags: dict[str, str] | None = None) -> StemcellCid:
        return self.service.create("fake-image-path", StemcellProps.from_dict(mf or MF), tags or {})

    def version(self, definition: str = DEF, version: str = VER) -> Any:
        return self.gallery.versions.get((definition, version))

    def cpi_version(self, refs: list[str], **kwargs: Any) -> Any:
        tags = {"name": DEF, "os_type": "linux", "stemcell_references": ",".join(refs), "image_sha256": SHA}
        return self.gallery.add_version(DEF, VER, {**tags, **{ref: "stemcell_reference" for ref in refs}}, **kwargs)

    def uploaded(self) -> str:
        return next(line.split()[1] for line in self.journal if line.startswith("upload "))

    def after(self, line: str) -> list[str]:
        return self.journal[self.journal.index(line) + 1 :]


@pytest.fixture
def world() -> World:
    return World()


# --- create ---------------------------------------------------------------------------------------------------


def test_create_uploads_then_creates_the_version_under_its_lock(world: World) -> None:
    cid = world.create(tags={"director": "fake-director"})

    assert world.journal == [
        f"find_version {DEF} {VER}",
        "ensure_account",
        "delete_abandoned_uploads",
        f"upload {cid}",
        f"lock {LOCK}",
        f"find_version {DEF} {VER}",
        f"ensure_definition {DEF} eastus",
        f"create_version {DEF} {VER}",
        f"unlock {LOCK}",
    ]
    body = world.gallery.bodies[0].as_dict()
    assert body["location"] == "eastus"
    assert body["properties"]["publishingProfile"]["targetRegions"] == [
        {"name": "eastus", "storageAccountType": "Standard_LRS"}
    ]
    assert body["properties"]["publishingProfile"]["replicaCount"] == 3
    assert body["properties"]["storageProfile"]["osDiskImage"]["source"] == {
        "uri": world.store.location(cid).url,
        "storageAccountId": world.store.account.id,
    }
    assert f"{cid}.vhd" in world.store.blobs


def test_version_tags_carry_metadata_sha_references_and_the_cid_tag(world: World) -> None:
    cid = world.create(tags={"director": "fake-director"})

    tags = world.version().tags
    assert tags["stemcell_references"] == cid.name
    assert tags[cid.name] == "stemcell_reference"
    assert tags["image_sha256"] == SHA
    assert tags["compute_gallery_name"] == GALLERY
    assert tags["compute_gallery_image_definition"] == DEF
    assert json.loads(tags["image"]) == {"publisher": "bosh", "offer": DEF, "sku": "gen1", "version": VER}
    assert tags["director"] == "fake-director"
    assert (tags["name"], tags["version"], tags["disk"], tags["architecture"]) == (DEF, "1.181", "5120", "x86_64")


def test_blob_metadata_records_the_gallery_for_recovery(world: World) -> None:
    cid = world.create()
    metadata = world.store.blobs[f"{cid}.vhd"]
    assert metadata["compute_gallery_name"] == GALLERY
    assert metadata["compute_gallery_image_definition"] == DEF
    assert json.loads(metadata["image"])["version"] == VER
    assert "stemcell_references" not in metadata


def test_gen2_stemcells_get_their_own_definition_and_sku() -> None:
    world = World()
    world.create({**MF, "generation": "gen2", "version": "621"})
    image = world.version(f"{DEF}-gen2", "621.0.0")
    assert image is not None
    assert json.loads(image.tags["image"]) == {"publisher": "bosh", "offer": f"{DEF}-gen2", "sku": "gen2",
                                               "version": "621.0.0"}  # fmt: skip
    assert f"lock gallery/{GALLERY}/{DEF}-gen2/621.0.0" in world.journal


def test_lock_names_are_lower_case() -> None:
    world = World(compute_gallery_name="Fake_Gallery")
    world.create({**MF, "name": "Fake-Stemcell"})
    assert "lock gallery/fake_gallery/fake-stemcell/1.181.0" in world.journal


def test_configured_target_regions_are_replicated_at_creation() -> None:
    world = World(
        compute_gallery_target_regions=["westus2", "eastus"], compute_gallery_storage_account_type="Premium_LRS"
    )
    world.create()
    profile = world.gallery.bodies[0].as_dict()["properties"]["publishingProfile"]
    assert [t["name"] for t in profile["targetRegions"]] == ["eastus", "westus2"]
    assert profile["storageAccountType"] == "Premium_LRS"


def test_long_tag_values_are_truncated_but_blob_metadata_keeps_them(world: World) -> None:
    cid = world.create({**MF, "os_distro": "x" * 300})
    assert world.version().tags["os_distro"] == "x" * 256
    assert world.store.blobs[f"{cid}.vhd"]["os_distro"] == "x" * 300


def test_same_content_adds_a_reference_instead_of_a_version(world: World) -> None:
    world.cpi_version([OTHER])

    cid = world.create()

    assert f"create_version {DEF} {VER}" not in world.journal
    assert world.after(f"lock {LOCK}") == [f"find_version {DEF} {VER}", f"set_tags {DEF} {VER}", f"unlock {LOCK}"]
    tags = world.version().tags
    assert read_references(tags) == [OTHER, cid.name]
    assert tags[cid.name] == tags[OTHER] == "stemcell_reference"
    assert f"{cid}.vhd" in world.store.blobs  # every stemcell keeps its own blob


def test_a_version_without_sha_accepts_a_reference(world: World) -> None:
    world.gallery.add_version(DEF, VER, {"stemcell_name": OTHER})  # made by an old Ruby CPI

    cid = world.create()

    assert read_references(world.version().tags) == [OTHER, cid.name]
    assert "stemcell_name" not in world.version().tags  # the legacy tag is folded into stemcell_references


def test_different_content_is_refused_and_the_new_blob_deleted(world: World) -> None:
    world.cpi_version([OTHER])
    world.store.sha256 = "fake-other-sha"

    with pytest.raises(CloudError, match="SHA256 mismatch") as caught:
        world.create()

    assert "Expected: fake-other-sha, Found: fake-sha256" in caught.value.message
    assert world.store.blobs == {}
    assert read_references(world.version().tags) == [OTHER]
    assert not [line for line in world.journal if line.startswith("set_tags")]
    assert world.journal[-2:] == [f"unlock {LOCK}", f"delete {world.uploaded()}"]


def test_a_version_not_created_by_the_cpi_is_refused_before_uploading(world: World) -> None:
    world.gallery.add_version(DEF, VER, {"owner": "someone-else"})

    with pytest.raises(CloudError, match="not created by BOSH CPI"):
        world.create()

    assert world.journal == [f"find_version {DEF} {VER}"]
    assert world.store.blobs == {}


def test_a_foreign_version_appearing_during_the_upload_is_refused_and_the_blob_deleted(world: World) -> None:
    world.locks.on_acquire = lambda _: world.gallery.add_version(DEF, VER, {"owner": "someone-else"})

    with pytest.raises(CloudError, match="not created by BOSH CPI"):
        world.create()

    assert world.store.blobs == {}
    assert world.version().tags == {"owner": "someone-else"}


def test_failed_creation_removes_the_half_created_version_and_the_blob(world: World) -> None:
    world.gallery.fail_create = AzureError("fake replication failed", code="fake-code")

    with pytest.raises(AzureError, match="fake replication failed"):
        world.create()

    assert world.version() is None
    assert world.after(f"create_version {DEF} {VER}")[:2] == [
        f"find_version {DEF} {VER}",
        f"delete_version {DEF} {VER}",
    ]
    assert world.store.blobs == {}
    assert world.journal[-2:] == [f"unlock {LOCK}", f"delete {world.uploaded()}"]


def test_failed_creation_leaves_a_version_it_did_not_create(world: World) -> None:
    world.gallery.fail_create = AzureError("fake conflict")
    world.gallery.leave_half_created = False

    with pytest.raises(AzureError):
        world.create()

    assert not [line for line in world.journal if line.startswith("delete_version")]


def test_failed_upload_leaves_no_version_and_takes_no_lock(world: World) -> None:
    world.store.upload_error = AzureError("fake upload failed")
    with pytest.raises(AzureError):
        world.create()
    assert world.gallery.versions == {}
    assert not [line for line in world.journal if line.startswith("lock")]


# --- references -------------------------------------------------------------------------------------------------


def test_references_spill_into_numbered_tags_beyond_256_characters(world: World) -> None:
    refs = [f"bosh-stemcell-00000000-0000-0000-0000-00000000000{i}" for i in range(5)]
    world.cpi_version(refs)

    cid = world.create()

    tags = world.version().tags
    assert tags["stemcell_references"] == ",".join(refs)
    assert len(tags["stemcell_references"]) <= 256
    assert tags["stemcell_references_2"] == cid.name
    assert read_references(tags) == [*refs, cid.name]


def test_delete_drops_one_reference_and_keeps_the_version(world: World) -> None:
    world.cpi_version([OTHER])
    cid = world.create()
    world.journal.clear()

    world.service.delete(cid)

    assert world.journal == [  # the version is known from the cache that create() wrote
        f"lock {LOCK}",
        f"find_version {DEF} {VER}",
        f"set_tags {DEF} {VER}",
        f"unlock {LOCK}",
        f"delete {cid}",
    ]
    tags = world.version().tags
    assert read_references(tags) == [OTHER]
    assert cid.name not in tags
    assert f"{cid}.vhd" not in world.store.blobs


def test_deleting_the_last_reference_deletes_the_version(world: World) -> None:
    cid = world.create()
    world.journal.clear()

    world.service.delete(cid)

    assert world.after(f"lock {LOCK}") == [
        f"find_version {DEF} {VER}",
        f"delete_version {DEF} {VER}",
        f"unlock {LOCK}",
        f"delete {cid}",
    ]
    assert world.gallery.versions == {}
    assert world.store.blobs == {}


def test_delete_of_an_unknown_stemcell_only_deletes_its_blob(world: World) -> None:
    world.cpi_version([OTHER])
    cid = StemcellCid.new()

    world.service.delete(cid)

    assert world.journal == [f"find_version_ids_by_tag {cid}", f"delete {cid}"]
    assert read_references(world.version().tags) == [OTHER]


def test_delete_keeps_a_version_that_does_not_reference_the_stemcell(world: World) -> None:
    world.cpi_version([OTHER])
    cid = StemcellCid.new()
    world.store.blobs[cid.blob_name] = {"compute_gallery_name": GALLERY, "compute_gallery_image_definition": DEF,
                                        "image": json.dumps({"version": VER})}  # fmt: skip
    world.service.delete(cid)

    assert world.version() is not None
    assert not [line for line in world.journal if line.startswith(("set_tags", "delete_version"))]
    assert f"lock {LOCK}" in world.journal


def test_a_lost_tag_write_is_detected_by_reading_back_and_redone(world: World) -> None:
    world.cpi_version([OTHER])
    racer = "bosh-stemcell-00000000-0000-0000-0000-0000000000ff"

    def racing_writer(tags: dict[str, str]) -> dict[str, str]:  # read before our write, wrote after it
        return {**tags, "stemcell_references": f"{tags['stemcell_references']},{racer}", racer: "stemcell_reference"}

    world.gallery.racing_writers.append(racing_writer)

    cid = world.create()

    assert world.journal.count(f"set_tags {DEF} {VER}") == 2
    assert read_references(world.version().tags) == [OTHER, racer, cid.name]


def test_tag_writes_give_up_after_repeated_conflicts(world: World) -> None:
    world.cpi_version([OTHER])
    world.gallery.racing_writers.extend([dict] * 5)

    with pytest.raises(CloudError, match="kept conflicting"):
        world.create()

    assert world.journal.count(f"set_tags {DEF} {VER}") == 5
    assert world.store.blobs == {}


# --- resolve ----------------------------------------------------------------------------------------------------


def test_resolve_uses_a_replicated_version_without_locking_or_writing(world: World) -> None:
    cid = world.create()
    world.journal.clear()

    image = world.service.resolve(cid, "East US")

    assert image == VmImage(image_id=version_id(DEF, VER), os_type="Linux", disk_mib=5120, generation="gen1",
                            architecture="x64")  # fmt: skip
    assert world.journal == [f"find_version {DEF} {VER} +replication"]  # located through the local cache


def test_resolve_finds_a_stemcell_uploaded_elsewhere_by_its_tag_and_caches_it(world: World, tmp_path: Path) -> None:
    cid = world.create()
    for cached in (tmp_path / "bosh-azure-cpi-cache").glob("stemcell-*.json"):
        cached.unlink()  # as on another Director
    world.journal.clear()

    world.service.resolve(cid, "East US")
    world.service.resolve(cid, "East US")

    assert world.journal == [
        f"find_version_ids_by_tag {cid}",
        f"find_version {DEF} {VER} +replication",
        f"find_version {DEF} {VER} +replication",
    ]


def test_resolve_replicates_to_a_new_region_once_under_the_lock(world: World) -> None:
    cid = world.create()
    world.journal.clear()

    image = world.service.resolve(cid, "westus2")

    assert image.image_id == version_id(DEF, VER)
    assert world.after(f"find_version {DEF} {VER} +replication") == [
        f"lock {LOCK}",
        f"find_version {DEF} {VER} +replication",
        f"set_regions {DEF} {VER} eastus,westus2 x3",
        f"unlock {LOCK}",
    ]
    assert world.version().target_regions == ("eastus", "westus2")


@pytest.mark.parametrize(
    ("regions", "replicas", "states", "expected"),
    [
        (("eastus", "westus2"), 3, {"westus2": "Replicating"}, "eastus,westus2 x3"),  # not completed yet
        (("eastus", "westus2"), 3, {"westus2": "Failed"}, "eastus,westus2 x3"),
        (("eastus", "westus2"), 2, {}, "eastus,westus2 x3"),  # compute_gallery_replicas changed
        (("eastus",), 3, {}, "eastus,westus2 x3"),
    ],
)
def test_resolve_updates_replication_when_needed(world: World, regions, replicas, states, expected) -> None:
    cid = StemcellCid.new()
    world.cpi_version([cid.name], regions=regions, replicas=replicas, states=states)

    world.service.resolve(cid, "West US 2")

    assert [line for line in world.journal if line.startswith("set_regions")] == [f"set_regions {DEF} {VER} {expected}"]


def test_resolve_does_nothing_when_another_process_replicated_while_it_waited(world: World) -> None:
    cid = StemcellCid.new()
    world.cpi_version([cid.name])
    world.locks.on_acquire = lambda _: world.cpi_version([cid.name], regions=("eastus", "westus2"))

    world.service.resolve(cid, "westus2")

    assert world.after(f"lock {LOCK}") == [f"find_version {DEF} {VER} +replication", f"unlock {LOCK}"]


def test_resolve_finds_a_ruby_created_version_through_the_blob_metadata(world: World) -> None:
    cid = StemcellCid.new()
    world.gallery.add_version(DEF, VER, {"stemcell_references": cid.name, "os_type": "linux"})  # no per-CID tag
    world.store.blobs[cid.blob_name] = _gallery_metadata()

    image = world.service.resolve(cid, "eastus")

    assert image.image_id == version_id(DEF, VER)
    assert not [line for line in world.journal if line.startswith(("lock", "create_version"))]


def test_resolve_recreates_a_missing_version_from_the_blob(world: World) -> None:
    cid = StemcellCid.new()
    world.store.blobs[cid.blob_name] = _gallery_metadata()

    image = world.service.resolve(cid, "westus2")

    assert image.image_id == version_id(DEF, VER)
    assert world.after(f"lock {LOCK}") == [
        f"find_version {DEF} {VER} +replication",
        f"ensure_definition {DEF} eastus",
        f"create_version {DEF} {VER}",
        f"unlock {LOCK}",
    ]
    body = world.gallery.bodies[0]
    assert [t.name for t in body.properties.publishing_profile.target_regions] == ["eastus", "westus2"]
    assert body.properties.storage_profile.os_disk_image.source.uri == world.store.location(cid).url
    assert read_references(body.tags) == [cid.name]
    assert body.tags[cid.name] == "stemcell_reference"
    assert body.tags["image_sha256"] == SHA


def test_recovery_adds_a_reference_when_another_process_recreated_the_version(world: World) -> None:
    cid = StemcellCid.new()
    world.store.blobs[cid.blob_name] = _gallery_metadata()
    world.locks.on_acquire = lambda _: world.cpi_version([OTHER], regions=("eastus", "westus2"))

    world.service.resolve(cid, "westus2")

    assert f"create_version {DEF} {VER}" not in world.journal
    assert read_references(world.version().tags) == [OTHER, cid.name]


def test_resolve_refuses_a_stemcell_of_another_gallery(world: World) -> None:
    cid = StemcellCid.new()
    world.store.blobs[cid.blob_name] = {**_gallery_metadata(), "compute_gallery_name": "fake-other-gallery"}
    with pytest.raises(CloudError, match=f"does not exist in gallery '{GALLERY}'"):
        world.service.resolve(cid, "eastus")
    assert world.gallery.versions == {}


def test_resolve_refuses_an_unknown_stemcell(world: World) -> None:
    with pytest.raises(CloudError, match="does not exist"):
        world.service.resolve(StemcellCid.new(), "eastus")


def _gallery_metadata() -> dict[str, str]:
    image = {"publisher": "bosh", "offer": DEF, "sku": "gen1", "version": VER}
    return {
        **{k: str(v) for k, v in MF.items()},
        "image": json.dumps(image),
        "compute_gallery_name": GALLERY,
        "compute_gallery_image_definition": DEF,
        "image_sha256": SHA,
    }


def test_the_per_stemcell_tag_is_skipped_at_azures_tag_limit():
    from bosh_azure_cpi.models.cids import StemcellCid
    from bosh_azure_cpi.services.gallery_stemcells import with_cid_tag

    cid = StemcellCid.parse("bosh-stemcell-0b9a1f3e-5c1d-4d8e-a2b7-6f0e8d9c1b22")
    assert with_cid_tag({"a": "1"}, cid) == {"a": "1", cid.name: "stemcell_reference"}
    full = {f"k{i}": "v" for i in range(50)}
    assert with_cid_tag(full, cid) == full
