"""bench.fixtures builds a BOSH Azure stemcell: manifest + gzip image of a fixed VHD (MBR, ext4), cached."""

from __future__ import annotations

import gzip
import hashlib
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from bench import fixtures
from tests.support.images import chs_geometry, nonzero_ranges, parse_footer

MIB = fixtures.MIB
SIZE = 16 * MIB


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fixtures")


@pytest.fixture(scope="module")
def built(out_dir: Path) -> fixtures.StemcellFixture:
    return fixtures.build_stemcell(out_dir, SIZE)


@pytest.fixture(scope="module")
def vhd(built: fixtures.StemcellFixture) -> bytes:
    with tarfile.open(built.image, "r:gz") as tar:
        reader = tar.extractfile("root.vhd")
        assert reader is not None
        return reader.read()


def test_tarball_holds_the_manifest_and_the_image(built: fixtures.StemcellFixture) -> None:
    with tarfile.open(built.tarball, "r:gz") as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]

    assert built.tarball.name == "bosh-stemcell-1.181-azure-hyperv-ubuntu-jammy-go_agent.tgz"
    assert list(members) == ["stemcell.MF", "image"]
    assert members["stemcell.MF"] == built.manifest.read_bytes()
    assert members["image"] == built.image.read_bytes()
    assert built.tarball_size == built.tarball.stat().st_size


def test_manifest_describes_the_image(built: fixtures.StemcellFixture) -> None:
    image = built.image.read_bytes()

    manifest = yaml.safe_load(built.manifest.read_text())

    assert manifest["name"] == "bosh-azure-hyperv-ubuntu-jammy-go_agent"
    assert (manifest["version"], manifest["bosh_protocol"], manifest["api_version"]) == ("1.181", "1", 3)
    assert manifest["sha1"] == hashlib.sha1(image).hexdigest() == built.image_sha1
    assert built.image_sha256 == hashlib.sha256(image).hexdigest()
    assert (manifest["operating_system"], manifest["stemcell_formats"]) == ("ubuntu-jammy", ["azure-vhd"])
    assert manifest["cloud_properties"] == built.cloud_properties
    assert built.cloud_properties | {"disk": 16, "infrastructure": "azure", "hypervisor": "hyperv"} == (
        built.cloud_properties
    )
    assert {"generation", "disk_controller_types", "accelerated_networking"}.isdisjoint(built.cloud_properties)


def test_image_is_a_complete_gzip_tar_holding_only_root_vhd(built: fixtures.StemcellFixture, vhd: bytes) -> None:
    with tarfile.open(built.image, "r:gz") as tar:
        members = tar.getmembers()

    assert [(m.name, m.isfile(), m.size) for m in members] == [("root.vhd", True, SIZE + 512)]
    assert len(gzip.decompress(built.image.read_bytes())) % 10240 == 0  # whole stream: CRC-32 and size checked
    assert len(vhd) == built.vhd_size == SIZE + 512
    assert built.image_size == built.image.stat().st_size


def test_root_vhd_ends_with_a_fixed_footer(vhd: bytes) -> None:
    footer = parse_footer(vhd[-512:])

    assert (footer["cookie"], footer["disk_type"], footer["checksum_valid"]) == (b"conectix", 2, True)
    assert (footer["features"], footer["version"], footer["data_offset"]) == (2, 0x10000, 2**64 - 1)
    assert footer["current_size"] == footer["original_size"] == len(vhd) - 512
    assert footer["current_size"] % MIB == 0
    assert (footer["cylinders"], footer["heads"], footer["sectors_per_track"]) == chs_geometry(SIZE)
    assert footer["unique_id"] != bytes(16)
    assert vhd[:512] != vhd[-512:]  # no footer copy at the start: not a dynamic VHD


def test_root_vhd_has_one_linux_partition_at_one_mib(vhd: bytes) -> None:
    entry = vhd[446:462]

    assert vhd[510:512] == b"\x55\xaa"
    assert entry[4] == 0x83
    assert int.from_bytes(entry[8:12], "little") == 2048
    assert int.from_bytes(entry[12:16], "little") == SIZE // 512 - 2048
    assert vhd[462:510] == bytes(48)


def test_partition_holds_ext4_filling_it(vhd: bytes) -> None:
    superblock = vhd[MIB + 1024 : MIB + 2048]
    blocks = int.from_bytes(superblock[4:8], "little")
    block_size = 1024 << int.from_bytes(superblock[24:28], "little")

    assert superblock[56:58] == b"\x53\xef"
    assert blocks * block_size == SIZE - MIB


def test_nonzero_counters_match_a_recount(built: fixtures.StemcellFixture, vhd: bytes) -> None:
    sector_bytes = sum(length for _, length in nonzero_ranges(vhd))

    assert built.nonzero_sector_bytes == sector_bytes
    blocks = range(0, len(vhd), 4096)
    assert built.nonzero_block_bytes == sum(len(vhd[b : b + 4096]) for b in blocks if vhd[b : b + 4096].strip(b"\0"))
    assert sector_bytes <= built.nonzero_block_bytes
    assert built.nonzero_bytes == len(vhd) - vhd.count(0)
    assert 0.25 * SIZE < built.nonzero_bytes <= built.nonzero_sector_bytes < 0.8 * SIZE
    assert built.file_count > 10


def test_same_parameters_reuse_the_cache(out_dir: Path, built: fixtures.StemcellFixture) -> None:
    mtime = built.image.stat().st_mtime_ns

    again = fixtures.build_stemcell(out_dir, SIZE)

    assert not built.reused
    assert again.reused
    assert again.image == built.image
    assert again.image_sha256 == built.image_sha256
    assert again.image.stat().st_mtime_ns == mtime


def test_a_damaged_cache_entry_is_rebuilt(tmp_path: Path) -> None:
    first = fixtures.build_stemcell(tmp_path, 8 * MIB)
    first.image.unlink()

    second = fixtures.build_stemcell(tmp_path, 8 * MIB)

    assert not second.reused
    assert second.image == first.image
    assert second.image.is_file()
    assert [p.name for p in tmp_path.iterdir()] == [first.image.parent.name]  # no leftover work folder


def test_gen2_tree_and_extra_properties(out_dir: Path, built: fixtures.StemcellFixture, tmp_path: Path) -> None:
    marker = b"fake-marker-" * 50
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "marker").write_bytes(marker)
    (tmp_path / "hello.txt").write_text("hello\n")

    other = fixtures.build_stemcell(
        out_dir, SIZE, tree=tmp_path, generation="gen2", extra_cloud_properties={"accelerated_networking": None}
    )

    with tarfile.open(other.image, "r:gz") as tar:
        vhd = tar.extractfile("root.vhd").read()  # type: ignore[union-attr]
    assert other.image.parent != built.image.parent
    assert other.cloud_properties["generation"] == "gen2"
    assert other.cloud_properties["disk_controller_types"] == ["scsi", "nvme"]
    assert "accelerated_networking" not in other.cloud_properties
    assert other.file_count == 2
    assert marker in vhd


def test_without_a_python_tree_files_are_generated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "base_prefix", str(tmp_path / "no-python"))

    generated = fixtures.build_stemcell(tmp_path / "out", SIZE)

    fs_size = SIZE - MIB
    assert generated.file_count > 10
    assert 0.3 * fs_size < generated.nonzero_sector_bytes < 0.8 * fs_size
    assert generated.image_size < generated.nonzero_bytes  # the text and binary-like files compress


@pytest.mark.parametrize(
    ("size", "generation", "message"),
    [(SIZE + 512, "gen1", "whole number of MiB"), (4 * MIB, "gen1", "at least 8 MiB"), (SIZE, "gen3", "gen1 or gen2")],
)
def test_invalid_parameters_are_refused(tmp_path: Path, size: int, generation: str, message: str) -> None:
    with pytest.raises(fixtures.FixtureError, match=message):
        fixtures.build_stemcell(tmp_path, size, generation=generation)


@pytest.mark.parametrize(
    ("text", "size"), [("3G", 3 << 30), ("64M", 64 * MIB), ("512MiB", 512 * MIB), ("16mb", 16 * MIB), ("4096", 4096)]
)
def test_parse_size(text: str, size: int) -> None:
    assert fixtures.parse_size(text) == size


def test_cli_prints_the_report(
    out_dir: Path, built: fixtures.StemcellFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    status = fixtures.main(["--size", "16M", "--out", str(out_dir)])

    report = capsys.readouterr().out
    assert status == 0
    assert str(built.tarball) in report
    assert f"({built.nonzero_sector_bytes} bytes" in report
    assert f"({built.nonzero_bytes} bytes) literal" in report
    assert "reused from the cache" in report
