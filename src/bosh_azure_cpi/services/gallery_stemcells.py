"""Stemcells as Azure Compute Gallery image versions: create, delete, and resolve for a VM's region.

One lock per image version (a blob lease named ``gallery/<gallery>/<definition>/<version>``, shared by every CPI
process and host using the storage account) serialises creating the version, changing its references and
changing its replication, so concurrent uploads never lose a reference and concurrent ``create_vm`` calls
needing a new region cause exactly one update. Gallery image versions have no ETag in Microsoft's API, so the
lock, plus a read-back after each tag write, is what guards them.

References: every stemcell CID using a version is listed in ``stemcell_references`` (chunked, Ruby-compatible)
and is also a tag of its own (``<cid>: stemcell_reference``) so ``create_vm`` finds the version by one tag search.
Which version a CID names never changes, so it is also kept in a local cache file (``local_cache``) written by
``create_stemcell`` and read by ``create_vm`` on the same Director: one ARM request less per VM.
Image definitions are never deleted: they cost nothing, are reused by the next stemcell of the series, and
deleting one would race with another director uploading into the same series.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from bosh_azure_cpi.config import AzureConfig, Gallery
from bosh_azure_cpi.errors import CloudError, CpiError, InvalidArgument
from bosh_azure_cpi.models.cids import StemcellCid
from bosh_azure_cpi.models.deadline import Deadline
from bosh_azure_cpi.models.images import GalleryVersion, UploadResult, VmImage, normalize_region
from bosh_azure_cpi.models.stemcell import (
    PUBLISHER,
    SHA_TAG,
    StemcellProps,
    created_by_cpi,
    encode_metadata,
    normalize_architecture,
    read_references,
    tag_safe,
    write_references,
)
from bosh_azure_cpi.services import local_cache
from bosh_azure_cpi.services.gallery import GalleryService
from bosh_azure_cpi.services.params.gallery import build_image_version_params
from bosh_azure_cpi.services.stemcell_store import StemcellStore

logger = logging.getLogger(__name__)
CID_TAG_VALUE = "stemcell_reference"
MAX_TAGS = 50  # Azure's limit of tags per resource
CLEANUP_GRACE_S = 600  # how long removing a failed image version may take after the call's deadline


def with_cid_tag(tags: dict[str, str], cid: StemcellCid) -> dict[str, str]:
    """Add the per-stemcell tag that ``create_vm`` searches by, while Azure's 50-tag limit allows; without it the
    version is still found through the stemcell blob's metadata (one more lookup), and the reference is kept in
    ``stemcell_references`` either way."""
    if len(tags) + 1 > MAX_TAGS:
        logger.info("Image version has %d tags; %s is referenced without its own tag", len(tags), cid)
        return tags
    return {**tags, cid.name: CID_TAG_VALUE}


TAG_WRITE_ATTEMPTS = 5


class GalleryStemcells:
    def __init__(self, store: StemcellStore, gallery: GalleryService, config: AzureConfig) -> None:
        self._store = store
        self._gallery = gallery
        self._config = config
        assert config.gallery is not None
        self._settings: Gallery = config.gallery

    def create(self, image_path: str, props: StemcellProps, extra_tags: dict[str, str]) -> StemcellCid:
        """Upload the VHD, then create the version (or add a reference to an identical one). Returns the CID."""
        cid = StemcellCid.new()
        definition, version = props.definition_name, props.gallery_version()
        self._refuse_foreign(definition, version)
        self._store.ensure_account()
        self._store.delete_abandoned_uploads()
        metadata = self._blob_metadata(props)
        upload = self._store.upload(cid, image_path, metadata)
        try:
            with self._store.locks().hold(self._lock_name(definition, version)):
                self._publish(cid, props, upload, {**metadata, **extra_tags, SHA_TAG: upload.sha256})
        except BaseException:
            self._store.delete(cid)
            raise
        local_cache.write(self._cache_name(cid), [definition, version])
        return cid

    def delete(self, cid: StemcellCid) -> None:
        """Drop ``cid``'s reference; delete the version when it was the last one; delete the blob."""
        found = self._locate(cid)
        if found is None:
            logger.info("No gallery image version references %s", cid)
        else:
            with self._store.locks().hold(self._lock_name(*found)):
                image = self._gallery.find_version(*found)
                if image is not None:
                    self._release(cid, image)
        self._store.delete(cid)
        local_cache.forget(self._cache_name(cid))

    def resolve(self, cid: StemcellCid, region: str) -> VmImage:
        """The version for ``cid``, replicated to ``region`` with the configured replica count (waits)."""
        found = self._locate(cid)
        image = None if found is None else self._gallery.find_version(*found, replication=True)
        if image is None:
            image = self._recover(cid, region)
        elif not self._ready(image, region):
            image = self._replicate(image, region)
        return _vm_image(image)

    # --- creation -----------------------------------------------------------------------------------------

    def _refuse_foreign(self, definition: str, version: str) -> None:
        existing = self._gallery.find_version(definition, version)
        if existing is not None and not created_by_cpi(existing.tags):
            raise CloudError(
                f"Gallery image version {self._settings.name}/{definition}:{version} already exists but was not "
                "created by BOSH CPI. Please use a different stemcell version or delete the existing image."
            )

    def _blob_metadata(self, props: StemcellProps) -> dict[str, str]:
        image = {
            "publisher": PUBLISHER,
            "offer": props.definition_name,
            "sku": props.generation,
            "version": props.gallery_version(),
        }
        return {
            **encode_metadata(props.raw),
            "image": json.dumps(image, separators=(",", ":")),
            "compute_gallery_name": self._settings.name,
            "compute_gallery_image_definition": props.definition_name,
        }

    def _publish(self, cid: StemcellCid, props: StemcellProps, upload: UploadResult, metadata: dict[str, str]) -> None:
        definition, version = props.definition_name, props.gallery_version()
        existing = self._gallery.find_version(definition, version)
        if existing is not None:
            self._check_same_content(existing, upload.sha256)
            self._add_reference(cid, existing)
            return
        self._gallery.ensure_definition(props, self._config.location)
        tags = tag_safe(with_cid_tag(write_references(metadata, [cid.name]), cid))
        regions = [self._config.location, *self._settings.target_regions]
        body = build_image_version_params(upload.blob, tags, self._settings, regions)
        try:
            self._gallery.create_version(definition, version, body)
        except BaseException:  # Terminated (SIGTERM) too: the version is this call's to remove
            self._remove_failed_version(definition, version, cid)
            raise

    def _check_same_content(self, existing: GalleryVersion, sha256: str) -> None:
        if not created_by_cpi(existing.tags):
            raise CloudError(
                f"Gallery image version {self._settings.name}/{existing.definition}:{existing.name} already exists "
                "but was not created by BOSH CPI. Please use a different stemcell version or delete the existing image."
            )
        found = existing.tags.get(SHA_TAG, "")
        if found and sha256 and found != sha256:
            raise CloudError(
                f"Gallery image version {self._settings.name}/{existing.definition}:{existing.name} already exists "
                f"but has different content (SHA256 mismatch). Expected: {sha256}, Found: {found}. Please use a "
                "different stemcell version or verify the image integrity."
            )

    def _remove_failed_version(self, definition: str, version: str, cid: StemcellCid) -> None:
        """Delete the version this call created, with a fresh deadline (the call's own may be what failed); a
        failure here is logged so the caller raises the original error."""
        gallery = self._gallery.with_deadline(Deadline(CLEANUP_GRACE_S))
        try:
            leftover = gallery.find_version(definition, version)
            if leftover is not None and cid.name in read_references(leftover.tags) + list(leftover.tags):
                logger.info("Removing the failed image version %s/%s", definition, version)
                gallery.delete_version(definition, version)
        except CpiError as error:
            logger.error("Could not remove the failed image version %s/%s: %s", definition, version, error.message)

    # --- references -----------------------------------------------------------------------------------------

    def _add_reference(self, cid: StemcellCid, image: GalleryVersion) -> None:
        def add(tags: dict[str, str]) -> dict[str, str]:
            refs = read_references(tags)
            return with_cid_tag(write_references(tags, [*refs, cid.name]), cid)

        self._write_tags(image, add, lambda tags: cid.name in read_references(tags))
        logger.info("Stemcell %s now references image version %s/%s", cid, image.definition, image.name)

    def _release(self, cid: StemcellCid, image: GalleryVersion) -> None:
        refs = read_references(image.tags)
        if cid.name not in refs and cid.name not in image.tags:
            logger.info("Image version %s/%s does not reference %s", image.definition, image.name, cid)
            return
        remaining = [ref for ref in refs if ref != cid.name]
        if not remaining:
            self._gallery.delete_version(image.definition, image.name)
            return

        def remove(tags: dict[str, str]) -> dict[str, str]:
            rest = [ref for ref in read_references(tags) if ref != cid.name]
            return {k: v for k, v in write_references(tags, rest).items() if k != cid.name}

        self._write_tags(image, remove, lambda tags: cid.name not in read_references(tags))

    def _write_tags(self, image: GalleryVersion, change: Any, done: Any) -> None:
        """Apply ``change`` to the latest tags and verify by reading back (guards against writers without the lock)."""
        current = image
        for _ in range(TAG_WRITE_ATTEMPTS):
            written = self._gallery.set_tags(current, tag_safe(change(current.tags)))
            if done(written.tags):
                return
            logger.warning("Tags of %s/%s changed concurrently; retrying", image.definition, image.name)
            current = self._gallery.find_version(image.definition, image.name) or written
        raise CloudError(f"Updating the references of image version {image.definition}/{image.name} kept conflicting")

    # --- resolution -----------------------------------------------------------------------------------------

    def _locate(self, cid: StemcellCid) -> tuple[str, str] | None:
        """(definition, version) for ``cid``: from the local cache, by tag search, else from the blob's metadata."""
        cached = local_cache.read(self._cache_name(cid))
        if isinstance(cached, list) and len(cached) == 2 and all(isinstance(part, str) for part in cached):
            return cached[0], cached[1]
        found = self._gallery.find_version_ids_by_tag(cid.name)
        if found:
            local_cache.write(self._cache_name(cid), list(found[0]))
            return found[0]
        metadata = self._store.metadata(cid)
        if not metadata or metadata.get("compute_gallery_name") != self._settings.name:
            return None
        try:
            version = json.loads(metadata.get("image", "{}"))["version"]
        except (ValueError, KeyError, TypeError):
            return None
        definition = metadata.get("compute_gallery_image_definition", "")
        return (definition, str(version)) if definition else None

    def _cache_name(self, cid: StemcellCid) -> str:
        gallery = f"{self._config.subscription_id}-{self._config.resource_group_name}-{self._settings.name}"
        return f"stemcell-{gallery}-{cid.name}.json".lower()

    def _ready(self, image: GalleryVersion, region: str) -> bool:
        return image.replicated_to(region) and image.replica_count == self._settings.replicas

    def _replicate(self, image: GalleryVersion, region: str) -> GalleryVersion:
        with self._store.locks().hold(self._lock_name(image.definition, image.name)):
            current = self._gallery.find_version(image.definition, image.name, replication=True) or image
            if self._ready(current, region):
                return current  # another CPI process did it while we waited for the lock
            regions = [*current.target_regions, normalize_region(region)]
            return self._gallery.set_regions(current, regions, self._settings.replicas)

    def _recover(self, cid: StemcellCid, region: str) -> GalleryVersion:
        """Recreate a missing version from the stemcell's blob when its metadata says it belongs to this gallery."""
        metadata = self._store.metadata(cid)
        if not metadata or metadata.get("compute_gallery_name") != self._settings.name:
            raise CloudError(f"Stemcell '{cid}' does not exist in gallery '{self._settings.name}' or its storage")
        props = StemcellProps.from_dict(metadata)
        definition, version = props.definition_name, props.gallery_version()
        logger.warning("Image version %s/%s for %s is missing; recreating it from its blob", definition, version, cid)
        upload = UploadResult(
            blob=self._store.location(cid), sha256=metadata.get(SHA_TAG, ""), vhd_size=0, bytes_sent=0
        )
        with self._store.locks().hold(self._lock_name(definition, version)):
            existing = self._gallery.find_version(definition, version, replication=True)
            if existing is None:
                self._gallery.ensure_definition(props, self._config.location)
                tags = tag_safe(with_cid_tag(write_references(metadata, [cid.name]), cid))
                regions = list(dict.fromkeys([self._config.location, region, *self._settings.target_regions]))
                body = build_image_version_params(upload.blob, tags, self._settings, regions)
                return self._gallery.create_version(definition, version, body)
            self._add_reference(cid, existing)
        return self._replicate(existing, region) if not self._ready(existing, region) else existing

    def _lock_name(self, definition: str, version: str) -> str:
        return f"gallery/{self._settings.name}/{definition}/{version}".lower()


def _vm_image(image: GalleryVersion) -> VmImage:
    tags = image.tags
    try:
        disk = int(tags.get("disk", "") or 3072)
    except ValueError:
        disk = 3072
    return VmImage(
        image_id=image.id,
        os_type=(tags.get("os_type") or "linux").capitalize(),
        disk_mib=disk,
        generation=tags.get("generation") or "gen1",
        architecture=_architecture(tags.get("architecture", "")),
    )


def _architecture(tag: str) -> str:
    """The tag holds the stemcell's own spelling (``x86_64``); VMs need Azure's (``x64``/``Arm64``)."""
    try:
        return normalize_architecture(tag)
    except InvalidArgument:
        return tag
