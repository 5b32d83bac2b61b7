"""create_stemcell / delete_stemcell through bin/cpi against Azurite and the ARM emulator (gallery mode)."""

from __future__ import annotations

import gzip
import io
import json
import resource
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest

from bench import fixtures
from tests import peers as P  # noqa: N812 - short alias for the harness
from tests.support import images

GALLERY_VERSIONS = "Microsoft.Compute/galleries/images/versions"
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def fixture_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("stemcell-fixtures")


def stemcell(directory: Path, version: str, **extra: Any) -> fixtures.StemcellFixture:
    return fixtures.build_stemcell(
        directory, 16 * MIB, version=version, extra_cloud_properties=extra or None, compresslevel=1
    )


def version_resource(peers: P.Peers, definition: str, version: str) -> dict[str, Any] | None:
    return peers.emulator.resource(
        f"/subscriptions/{P.SUBSCRIPTION_ID}/resourceGroups/{P.RESOURCE_GROUP}/providers/Microsoft.Compute"
        f"/galleries/{P.GALLERY}/images/{definition}/versions/{version}"
    )


def stemcell_blobs(peers: P.Peers) -> set[str]:
    container = P.blob_service(peers).get_container_client("stemcell")
    return {blob.name for blob in container.list_blobs()}


def references(resource: dict[str, Any]) -> list[str]:
    tags = resource.get("tags") or {}
    refs = [r for key, value in tags.items() if key.startswith("stemcell_references") for r in value.split(",")]
    return sorted(refs)


def test_create_reference_conflict_and_delete_cycle(cpi, peers, fixture_dir):
    fx = stemcell(fixture_dir, "71.1")
    name = fx.cloud_properties["name"]
    first = cpi("create_stemcell", str(fx.image), fx.cloud_properties).unwrap()
    assert first.startswith("bosh-stemcell-")
    version = version_resource(peers, name, "71.1.0")
    assert version is not None
    assert version["properties"]["provisioningState"] == "Succeeded"
    assert version["tags"]["image_sha256"] == fx.image_sha256
    assert version["tags"]["compute_gallery_image_definition"] == name
    assert references(version) == [first]
    assert f"{first}.vhd" in stemcell_blobs(peers)

    second = cpi("create_stemcell", str(fx.image), fx.cloud_properties).unwrap()
    assert references(version_resource(peers, name, "71.1.0")) == sorted([first, second])

    other = stemcell(fixture_dir / "other", "71.1", os_distro="ubuntu-rebuilt")
    before_conflict = stemcell_blobs(peers)
    response = cpi("create_stemcell", str(other.image), other.cloud_properties)
    assert response.error is not None
    assert "SHA256 mismatch" in response.error["message"]
    assert references(version_resource(peers, name, "71.1.0")) == sorted([first, second])
    assert stemcell_blobs(peers) == before_conflict

    assert cpi("delete_stemcell", first).error is None
    assert references(version_resource(peers, name, "71.1.0")) == [second]
    assert f"{first}.vhd" not in stemcell_blobs(peers)

    assert cpi("delete_stemcell", second).error is None
    assert version_resource(peers, name, "71.1.0") is None
    assert f"{second}.vhd" not in stemcell_blobs(peers)
    assert cpi("delete_stemcell", second).error is None  # already gone: still succeeds


def test_conflicting_upload_leaves_no_blob(cpi, peers, fixture_dir):
    fx = stemcell(fixture_dir, "72.0")
    cid = cpi("create_stemcell", str(fx.image), fx.cloud_properties).unwrap()
    before = stemcell_blobs(peers)
    other = stemcell(fixture_dir / "other72", "72.0", os_distro="changed")
    assert cpi("create_stemcell", str(other.image), other.cloud_properties).error is not None
    assert stemcell_blobs(peers) == before
    cpi("delete_stemcell", cid).unwrap()


def test_uploaded_blob_equals_root_vhd_and_holds_only_the_non_zero_blocks(cpi, peers, fixture_dir):
    fx = stemcell(fixture_dir, "73.0")
    cid = cpi("create_stemcell", str(fx.image), fx.cloud_properties).unwrap()
    with tarfile.open(fx.image, "r:gz") as tar:
        member = tar.extractfile("root.vhd")
        assert member is not None
        original = member.read()
    blob = P.blob_service(peers).get_blob_client("stemcell", f"{cid}.vhd")
    assert blob.download_blob().readall() == original
    stored = sum(r.end - r.start + 1 for r in blob.list_page_ranges() if not r.cleared)
    assert stored == fx.nonzero_block_bytes  # every 4 KiB block holding data, nothing else
    cpi("delete_stemcell", cid).unwrap()


def test_a_version_not_created_by_the_cpi_is_refused_before_uploading(cpi, peers, fixture_dir):
    fx = stemcell(fixture_dir, "74.0")
    name = fx.cloud_properties["name"]
    before = stemcell_blobs(peers)
    version_id = (
        f"/subscriptions/{P.SUBSCRIPTION_ID}/resourceGroups/{P.RESOURCE_GROUP}/providers/Microsoft.Compute"
        f"/galleries/{P.GALLERY}/images/{name}/versions/74.0.0"
    )
    created = cpi("create_stemcell", str(fx.image), fx.cloud_properties).unwrap()
    record = peers.emulator.store.get(version_id)
    record.body["tags"] = {"owner": "someone-else"}  # as if made by hand
    response = cpi("create_stemcell", str(fx.image), fx.cloud_properties)
    assert response.error is not None and "not created by BOSH CPI" in response.error["message"]
    assert stemcell_blobs(peers) == before | {f"{created}.vhd"}


REFUSED_KINDS = [k for k in images.HOSTILE_KINDS if k not in ("dot_slash_member", "trailing_zeros", "trailing_garbage")]


def props_for(version: str) -> dict[str, Any]:
    return fixtures.cloud_properties("bosh-azure-hyperv-ubuntu-jammy-go_agent", version, 16 * MIB, "gen1")


@pytest.mark.parametrize("kind", REFUSED_KINDS)
def test_hostile_images_are_refused_and_create_nothing(cpi, peers, tmp_path, kind):
    hostile = images.hostile_image(tmp_path, kind)
    before_blobs = stemcell_blobs(peers)
    before_versions = len(peers.emulator.resources(GALLERY_VERSIONS))
    props = props_for("75.0")
    response = cpi("create_stemcell", str(hostile.path), props)
    assert response.error is not None
    assert response.error["type"] == "Bosh::Clouds::CpiError"
    assert "\n" not in response.error["message"]
    assert hostile.expected_error is None or hostile.expected_error in response.error["message"]
    assert stemcell_blobs(peers) == before_blobs
    assert len(peers.emulator.resources(GALLERY_VERSIONS)) == before_versions


def test_no_temporary_copy_of_the_vhd_is_written(peers, cpi_config_path, fixture_dir, tmp_path):
    """RLIMIT_FSIZE caps every file the CPI process may write far below the VHD size."""
    fx = stemcell(fixture_dir, "76.0")
    limit = 4 * MIB
    assert fx.vhd_size > 4 * limit

    def cap_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    request = json.dumps({"method": "create_stemcell", "arguments": [str(fx.image), fx.cloud_properties],
                          "context": {"director_uuid": "d"}, "api_version": 2}).encode()  # fmt: skip
    (tmp_path / "tmp").mkdir()
    env = {"PATH": P.DIRECTOR_PATH, "TMPDIR": str(tmp_path / "tmp"), "HOME": str(tmp_path)}
    proc = subprocess.run(
        [str(P.ROOT / "bin" / "cpi"), str(cpi_config_path)],
        input=request,
        capture_output=True,
        env=env,
        preexec_fn=cap_file_size,
        timeout=300,
        check=False,
    )
    response = P.parse_response(proc.returncode, proc.stdout, proc.stderr.decode(errors="replace"))
    cid = response.unwrap()
    sizes = [p.stat().st_size for p in (tmp_path / "tmp").rglob("*") if p.is_file()]
    assert max(sizes, default=0) < limit
    P.run_cpi(cpi_config_path, "delete_stemcell", [cid], workdir=tmp_path).unwrap()


def test_corrupt_footer_is_refused_and_leaves_nothing(cpi, peers, tmp_path):
    vhd = bytearray(images.vhd_bytes(2 * MIB))
    vhd[-512 + 64] ^= 0xFF  # checksum byte
    image = tmp_path / "image"
    with gzip.open(image, "wb") as raw, tarfile.open(fileobj=raw, mode="w") as tar:
        info = tarfile.TarInfo("root.vhd")
        info.size = len(vhd)
        tar.addfile(info, io.BytesIO(bytes(vhd)))
    before = stemcell_blobs(peers)
    response = cpi("create_stemcell", str(image), props_for("77.0"))
    assert response.error is not None and "checksum" in response.error["message"].lower()
    assert stemcell_blobs(peers) == before


def test_bad_version_is_refused_before_anything_is_created(cpi, peers, fixture_dir):
    fx = stemcell(fixture_dir, "78.0")
    before = stemcell_blobs(peers)
    response = cpi("create_stemcell", str(fx.image), {**fx.cloud_properties, "version": "4294967296.1"})
    assert response.error is not None and "does not fit in 32 bits" in response.error["message"]
    assert stemcell_blobs(peers) == before


def test_light_stemcell_is_checked_and_recorded(cpi, peers):
    props = {**props_for("79.0"), "image": {"publisher": "no", "offer": "such", "sku": "image", "version": "1"}}
    response = cpi("create_stemcell", "", props)
    assert response.error is not None and "Cannot find the light stemcell image" in response.error["message"]
