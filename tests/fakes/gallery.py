"""FakeGalleryService: image definitions and versions of one gallery in memory.

Every call is appended to ``journal`` as one readable line (``"create_version def 1.0.0"``), shared with the
other fakes so tests can assert the order of calls and locks. ``find_version`` hides replication status unless
asked for it and ``find_version_ids_by_tag`` matches tag names case-insensitively, as the real service does.
Programmable: ``fail_create`` (raised by ``create_version``, after leaving a failed version when
``leave_half_created``) and ``racing_writers`` (each turns the next ``set_tags`` into a lost write: the racer
read the tags before us and wrote after us).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from bosh_azure_cpi.errors import CpiError
from bosh_azure_cpi.models.images import GalleryVersion, normalize_region
from bosh_azure_cpi.models.stemcell import StemcellProps
from tests.fakes.config import GALLERY, RESOURCE_GROUP, SUBSCRIPTION


def version_id(definition: str, version: str, gallery: str = GALLERY) -> str:
    return (
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}/providers/Microsoft.Compute"
        f"/galleries/{gallery}/images/{definition}/versions/{version}"
    )


class FakeGalleryService:
    def __init__(self, journal: list[str] | None = None) -> None:
        self.journal = journal if journal is not None else []
        self.definitions: dict[str, StemcellProps] = {}
        self.versions: dict[tuple[str, str], GalleryVersion] = {}
        self.bodies: list[Any] = []
        self.fail_create: CpiError | None = None
        self.leave_half_created = True
        self.racing_writers: list[Callable[[dict[str, str]], dict[str, str]]] = []

    # --- seeding --------------------------------------------------------------------------------------------

    def add_version(
        self,
        definition: str,
        version: str,
        tags: dict[str, str],
        *,
        regions: Iterable[str] = ("eastus",),
        replicas: int = 3,
        states: dict[str, str] | None = None,
    ) -> GalleryVersion:
        """Store a version; every region is replicated (``Completed``) unless ``states`` says otherwise."""
        targets = tuple(normalize_region(r) for r in regions)
        image = GalleryVersion(
            id=version_id(definition, version),
            definition=definition,
            name=version,
            location="eastus",
            tags=dict(tags),
            target_regions=targets,
            replica_count=replicas,
            provisioning_state="Succeeded",
            replication={r: "Completed" for r in targets} | (states or {}),
            source=("https://fake/stemcell/fake.vhd", "fake-account-id", "ReadWrite"),
        )
        self.versions[(definition, version)] = image
        return image

    # --- GalleryService -------------------------------------------------------------------------------------

    def with_deadline(self, deadline: Any) -> FakeGalleryService:
        return self

    def find_definition(self, definition: str) -> StemcellProps | None:
        return self.definitions.get(definition)

    def ensure_definition(self, props: StemcellProps, location: str) -> None:
        self.journal.append(f"ensure_definition {props.definition_name} {location}")
        self.definitions.setdefault(props.definition_name, props)

    def find_version(self, definition: str, version: str, *, replication: bool = False) -> GalleryVersion | None:
        self.journal.append(f"find_version {definition} {version}{' +replication' if replication else ''}")
        found = self.versions.get((definition, version))
        return found if found is None or replication else replace(found, replication={})

    def create_version(self, definition: str, version: str, body: Any) -> GalleryVersion:
        self.journal.append(f"create_version {definition} {version}")
        self.bodies.append(body)
        profile = body.properties.publishing_profile
        image = self.add_version(
            definition,
            version,
            dict(body.tags or {}),
            regions=[t.name for t in profile.target_regions],
            replicas=profile.replica_count,
        )
        if self.fail_create is not None:
            if self.leave_half_created:
                self.versions[(definition, version)] = replace(image, provisioning_state="Failed", replication={})
            else:
                del self.versions[(definition, version)]
            raise self.fail_create
        return replace(image, replication={})

    def set_tags(self, image: GalleryVersion, tags: dict[str, str]) -> GalleryVersion:
        self.journal.append(f"set_tags {image.definition} {image.name}")
        key = (image.definition, image.name)
        before = dict(self.versions[key].tags)
        written = self.racing_writers.pop(0)(before) if self.racing_writers else dict(tags)
        self.versions[key] = replace(self.versions[key], tags=written)
        return replace(self.versions[key], replication={})

    def set_regions(self, image: GalleryVersion, regions: list[str], replicas: int) -> GalleryVersion:
        targets = tuple(dict.fromkeys(normalize_region(r) for r in regions))  # the request body has no duplicates
        self.journal.append(f"set_regions {image.definition} {image.name} {','.join(targets)} x{replicas}")
        key = (image.definition, image.name)
        self.versions[key] = replace(
            self.versions[key],
            target_regions=targets,
            replica_count=replicas,
            replication={r: "Completed" for r in targets},
        )
        return replace(self.versions[key], replication={})

    def delete_version(self, definition: str, version: str) -> None:
        self.journal.append(f"delete_version {definition} {version}")
        self.versions.pop((definition, version), None)

    def find_version_ids_by_tag(self, tag_name: str) -> list[tuple[str, str]]:
        self.journal.append(f"find_version_ids_by_tag {tag_name}")
        wanted = tag_name.lower()
        return [key for key, image in self.versions.items() if wanted in {name.lower() for name in image.tags}]
