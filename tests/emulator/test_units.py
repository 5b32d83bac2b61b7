"""Pure helpers of the emulator: path parsing, regions, filters, VHD footers, blob URLs."""

from __future__ import annotations

import pytest

from arm_emulator import ids, regions
from arm_emulator.blobs import parse_blob_url
from arm_emulator.listing import compile_filter
from arm_emulator.store import Record
from arm_emulator.vhd import build_footer, parse_footer
from arm_emulator.wire import ArmError

SUB = "/subscriptions/s1"


def test_paths_parse_into_types_and_names() -> None:
    version = ids.parse(f"{SUB}/resourceGroups/RG/providers/Microsoft.Compute/galleries/g/images/i/versions/1.0.0")
    assert version is not None
    assert (version.resource_group, version.types, version.names) == (
        "RG",
        ("galleries", "images", "versions"),
        ("g", "i", "1.0.0"),
    )
    assert version.type_key == "microsoft.compute/galleries/images/versions"
    assert version.is_instance
    parent = version.parent()
    assert parent is not None
    assert parent.resource_id() == f"{SUB}/resourceGroups/RG/providers/Microsoft.Compute/galleries/g/images/i"
    collection = ids.parse(f"{SUB}/resourceGroups/RG/providers/Microsoft.Compute/galleries/g/images")
    assert collection is not None
    assert collection.is_collection
    group = ids.parse(f"{SUB}/resourcegroups/RG")
    assert group is not None
    assert (group.is_resource_group, group.resource_id()) == (True, f"{SUB}/resourceGroups/RG")
    assert ids.parse(f"{SUB}/resources") == ids.ArmPath(kind=ids.PathKind.GENERIC_LIST, subscription="s1")
    assert ids.parse("/tenant/oauth2/v2.0/token") is None
    assert ids.parse_resource_id(f"{SUB}/resourceGroups/RG/providers/Microsoft.Compute/galleries") is None


def test_regions_normalise_and_display() -> None:
    assert regions.normalize("East US 2") == "eastus2"
    assert regions.display_name("eastus2") == "East US 2"
    assert regions.display_name("somewhere") == "somewhere"
    assert regions.is_known("West Europe")


def _record(tags: dict[str, str], type_name: str = "Microsoft.Compute/galleries") -> Record:
    body = {"name": "n", "id": "/x", "type": type_name, "location": "eastus", "tags": tags}
    return Record(
        id="/x", type_key=type_name.lower(), body=body, subscription="s1", resource_group="rg", parent_key=None
    )


def test_filters() -> None:
    tagged = compile_filter("tagName eq 'Sha' and tagValue eq 'a''b'")
    assert tagged.hides_tags
    assert tagged.accepts(_record({"sha": "a'b"}))
    assert not tagged.accepts(_record({"sha": "A'B"}))
    by_type = compile_filter("resourceType eq 'microsoft.compute/galleries' and location eq 'East US'")
    assert by_type.accepts(_record({})) and not by_type.hides_tags
    assert compile_filter("substringof('N', name)").accepts(_record({}))
    assert compile_filter(None).accepts(_record({}))
    for bad in ("tagName ne 'x'", "identity eq 'x'", "tagName eq 'x' and name eq 'n'", "tagValue eq 'v'"):
        with pytest.raises(ArmError, match="InvalidFilterInQueryString"):
            compile_filter(bad)


def test_vhd_footer_round_trip() -> None:
    footer = parse_footer(build_footer(30 * 1024**3))
    assert (footer.cookie, footer.current_size, footer.disk_type, footer.checksum_ok) == (
        b"conectix",
        30 * 1024**3,
        2,
        True,
    )
    tampered = bytearray(build_footer(1024**2))
    tampered[50] ^= 1
    assert not parse_footer(bytes(tampered)).checksum_ok


def test_blob_urls_host_and_path_style() -> None:
    host = parse_blob_url("https://acct.blob.core.windows.net/stemcell/a/b.vhd")
    assert host is not None
    assert (host.account, host.container, host.blob, host.account_url) == (
        "acct",
        "stemcell",
        "a/b.vhd",
        "https://acct.blob.core.windows.net",
    )
    path = parse_blob_url("http://127.0.0.1:10000/devstoreaccount1/stemcell/x.vhd")
    assert path is not None
    assert (path.account, path.account_url) == ("devstoreaccount1", "http://127.0.0.1:10000/devstoreaccount1")
    assert parse_blob_url("http://127.0.0.1:10000/devstoreaccount1/only-container") is None
    assert parse_blob_url("ftp://x/y/z") is None
