"""GalleryService: image definitions and versions in the configured Azure Compute Gallery.

Reads return None when absent; writes wait for their long-running operation (bounded by the call's deadline).
Versions are found for a stemcell by an ARM tag search on the stemcell CID (each referencing CID is a tag on
the version), so ``create_vm`` needs one search and one GET.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from azure.core.rest import HttpRequest

from bosh_azure_cpi.config import AzureConfig, Gallery
from bosh_azure_cpi.models.deadline import Deadline
from bosh_azure_cpi.models.images import GalleryVersion, normalize_region
from bosh_azure_cpi.models.stemcell import StemcellProps
from bosh_azure_cpi.services.lro import azure_errors, find, wait
from bosh_azure_cpi.services.params.gallery import (
    build_image_definition_params,
    build_regions_update,
    build_tags_update,
)

if TYPE_CHECKING:
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.compute import models as m

logger = logging.getLogger(__name__)
RESOURCES_API_VERSION = "2021-04-01"
VERSION_TYPE = "microsoft.compute/galleries/images/versions"


class GalleryService:
    def __init__(self, compute: ComputeManagementClient, config: AzureConfig, deadline: Deadline) -> None:
        if config.gallery is None:
            raise ValueError("GalleryService needs compute_gallery_name")
        self._compute = compute
        self._config = config
        self.gallery: Gallery = config.gallery
        self.resource_group = config.resource_group_name
        self.subscription_id = config.subscription_id
        self.deadline = deadline

    def with_deadline(self, deadline: Deadline) -> GalleryService:
        """The same service bounded by another deadline (cleanup after the call's deadline has passed)."""
        return GalleryService(self._compute, self._config, deadline)

    def _replication_deadline(self) -> Deadline:
        """Waits for replication end at ``timeouts.replication`` or the call's deadline, whichever comes first."""
        return self.deadline.sooner(self._config.timeout_for("replication"))

    def _names(self, definition: str, version: str = "") -> str:
        return f"gallery image {'version' if version else 'definition'} '{self.gallery.name}/{definition}" + (
            f"/{version}'" if version else "'"
        )

    def find_definition(self, definition: str) -> m.GalleryImage | None:
        what = f"Getting {self._names(definition)}"
        return find(what, lambda: self._compute.gallery_images.get(self.resource_group, self.gallery.name, definition))

    def ensure_definition(self, props: StemcellProps, location: str) -> None:
        """Create the image definition for the stemcell series unless it exists (it is never modified)."""
        if self.find_definition(props.definition_name) is not None:
            return
        what = f"Creating {self._names(props.definition_name)}"
        logger.info("%s", what)
        body = build_image_definition_params(props, location)
        with azure_errors(what):
            poller = self._compute.gallery_images.begin_create_or_update(
                self.resource_group, self.gallery.name, props.definition_name, body
            )
        wait(poller, what, self.deadline)

    def find_version(self, definition: str, version: str, *, replication: bool = False) -> GalleryVersion | None:
        what = f"Getting {self._names(definition, version)}"
        model = find(
            what,
            lambda: self._compute.gallery_image_versions.get(
                self.resource_group,
                self.gallery.name,
                definition,
                version,
                expand="ReplicationStatus" if replication else None,
            ),
        )
        return None if model is None else to_gallery_version(model, definition)

    def create_version(self, definition: str, version: str, body: m.GalleryImageVersion) -> GalleryVersion:
        """Create a version and wait until it is provisioned and replicated to every target region."""
        what = f"Creating {self._names(definition, version)}"
        logger.info("%s (replicating; this can take several minutes)", what)
        with azure_errors(what):
            poller = self._compute.gallery_image_versions.begin_create_or_update(
                self.resource_group, self.gallery.name, definition, version, body
            )
        return to_gallery_version(wait(poller, what, self._replication_deadline()), definition)

    def set_tags(self, image: GalleryVersion, tags: dict[str, str]) -> GalleryVersion:
        what = f"Updating the tags of {self._names(image.definition, image.name)}"
        with azure_errors(what):
            poller = self._compute.gallery_image_versions.begin_update(
                self.resource_group, self.gallery.name, image.definition, image.name, build_tags_update(tags)
            )
        return to_gallery_version(wait(poller, what, self.deadline), image.definition)

    def set_regions(self, image: GalleryVersion, regions: list[str], replicas: int) -> GalleryVersion:
        """Set target regions and replica count; waits until replication to every region has completed."""
        what = f"Replicating {self._names(image.definition, image.name)} to {', '.join(regions)}"
        logger.info("%s with %d replicas per region", what, replicas)
        body = build_regions_update(image.source, regions, replicas)
        with azure_errors(what):
            poller = self._compute.gallery_image_versions.begin_update(
                self.resource_group, self.gallery.name, image.definition, image.name, body
            )
        return to_gallery_version(wait(poller, what, self._replication_deadline()), image.definition)

    def delete_version(self, definition: str, version: str) -> None:
        what = f"Deleting {self._names(definition, version)}"
        logger.info("%s", what)
        with azure_errors(what):
            poller = self._compute.gallery_image_versions.begin_delete(
                self.resource_group, self.gallery.name, definition, version
            )
        wait(poller, what, self.deadline)

    def find_version_ids_by_tag(self, tag_name: str) -> list[tuple[str, str]]:
        """(definition, version) of this gallery's versions carrying the tag ``tag_name`` (ARM tag search)."""
        found = []
        marker = f"/galleries/{self.gallery.name.lower()}/images/"
        for item in self._search_tag(tag_name):
            resource_id = str(item.get("id", ""))
            if str(item.get("type", "")).lower() != VERSION_TYPE or marker not in resource_id.lower():
                continue
            parts = resource_id.split("/")
            found.append((parts[-3], parts[-1]))
        return found

    def _search_tag(self, tag_name: str) -> Iterator[dict[str, Any]]:
        path = (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}/resources"
            f"?$filter={quote(_tag_filter(tag_name))}&api-version={RESOURCES_API_VERSION}"
        )
        what = f"Searching gallery image versions tagged '{tag_name}'"
        url: str | None = path
        while url:
            with azure_errors(what):
                response = self._compute.send_request(HttpRequest("GET", url))
                response.raise_for_status()
            page = response.json()
            yield from page.get("value", [])
            url = page.get("nextLink")


def to_gallery_version(model: m.GalleryImageVersion, definition: str) -> GalleryVersion:
    props = model.properties
    profile = props.publishing_profile if props else None
    regions = tuple(normalize_region(r.name) for r in (profile.target_regions or [])) if profile else ()
    replication: dict[str, str] = {}
    if props and props.replication_status and props.replication_status.summary:
        for item in props.replication_status.summary:
            replication[normalize_region(item.region or "")] = _text(item.state)
    return GalleryVersion(
        id=model.id or "",
        definition=definition,
        name=model.name or "",
        location=model.location,
        tags=dict(model.tags or {}),
        target_regions=regions,
        replica_count=profile.replica_count if profile else None,
        provisioning_state=_text(props.provisioning_state) if props else "",
        replication=replication,
        source=_source(props),
    )


def _source(props: m.GalleryImageVersionProperties | None) -> tuple[str, str, str]:
    image = props.storage_profile.os_disk_image if props and props.storage_profile else None
    source = image.source if image else None
    if image is None or source is None:
        return ("", "", "")
    return (source.uri or "", source.storage_account_id or "", _text(image.host_caching))


def _text(value: object) -> str:
    """An SDK enum's wire value (``str()`` of the SDK's str enums gives ``ReplicationState.COMPLETED``)."""
    return str(getattr(value, "value", value) or "")


def _tag_filter(tag_name: str) -> str:
    escaped = tag_name.replace("'", "''")
    return f"tagName eq '{escaped}'"
