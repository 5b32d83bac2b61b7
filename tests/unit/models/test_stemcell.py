import pytest

from bosh_azure_cpi.errors import InvalidArgument
from bosh_azure_cpi.models.stemcell import (
    StemcellProps,
    created_by_cpi,
    encode_metadata,
    gallery_version_name,
    read_references,
    write_references,
)

MF = {
    "name": "bosh-azure-hyperv-ubuntu-jammy-go_agent",
    "version": "1.181",
    "infrastructure": "azure",
    "hypervisor": "hyperv",
    "disk": 3072,
    "disk_format": "vhd",
    "container_format": "bare",
    "os_type": "linux",
    "os_distro": "ubuntu",
    "architecture": "x86_64",
    "root_device_name": "/dev/sda1",
}


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1.181", "1.181.0"),
        ("621", "621.0.0"),
        ("1.2.3", "1.2.3"),
        ("1.2.3.4", "1.2.3"),
        ("2147483647.0", "2147483647.0.0"),
    ],
)
def test_gallery_version_names_follow_the_ruby_cpi(version, expected):
    assert gallery_version_name(version) == expected


@pytest.mark.parametrize(
    ("version", "message"),
    [("2147483648", "does not fit in 32 bits"), ("1.99999999999", "does not fit in 32 bits"),
     ("1.181-rc.1", "is not a number"), ("", "is not a number"), ("1..2", "is not a number")],
)  # fmt: skip
def test_invalid_versions_are_rejected_clearly(version, message):
    with pytest.raises(InvalidArgument, match=message):
        gallery_version_name(version)


def test_gen1_definition_is_the_stemcell_name_without_features():
    props = StemcellProps.from_dict(MF)
    assert props.definition_name == "bosh-azure-hyperv-ubuntu-jammy-go_agent"
    assert (props.generation, props.hyper_v_generation, props.os_type, props.architecture) == (
        "gen1",
        "V1",
        "Linux",
        "x64",
    )
    assert props.features() == []
    assert props.disk_mib == 3072


def test_gen2_definition_has_suffix_and_features_in_ruby_order():
    props = StemcellProps.from_dict(
        {**MF, "generation": "gen2", "disk_controller_types": ["scsi", "nvme"], "accelerated_networking": True,
         "hibernation": "false", "security_type": "TrustedLaunchSupported"}
    )  # fmt: skip
    assert props.definition_name == "bosh-azure-hyperv-ubuntu-jammy-go_agent-gen2"
    assert props.hyper_v_generation == "V2"
    assert props.features() == [
        {"name": "DiskControllerTypes", "value": "SCSI,NVMe"},
        {"name": "IsAcceleratedNetworkSupported", "value": "True"},
        {"name": "IsHibernateSupported", "value": "False"},
        {"name": "SecurityType", "value": "TrustedLaunchSupported"},
    ]


def test_controller_types_recovered_from_blob_metadata_strings():
    props = StemcellProps.from_dict({**MF, "generation": "gen2", "disk_controller_types": '["scsi", "nvme"]'})
    assert props.disk_controller_types == ("SCSI", "NVMe")


@pytest.mark.parametrize(
    ("arch", "expected"), [("aarch64", "Arm64"), ("arm64", "Arm64"), ("amd64", "x64"), ("", "x64")]
)
def test_architecture_normalisation(arch, expected):
    assert StemcellProps.from_dict({**MF, "architecture": arch}).architecture == expected


@pytest.mark.parametrize(
    ("change", "message"),
    [({"name": None}, "'stemcell.cloud_properties.name' is required"), ({"os_type": "plan9"}, "Invalid os_type 'plan9'"),
     ({"architecture": "sparc"}, "Invalid architecture"), ({"disk": "big"}, "'stemcell.cloud_properties.disk'"),
     ({"image": {"publisher": "p"}}, "'stemcell.cloud_properties.image.offer' is required")],
)  # fmt: skip
def test_bad_stemcell_properties_are_named(change, message):
    doc = {**MF, **change}
    with pytest.raises(InvalidArgument, match=message):
        StemcellProps.from_dict({k: v for k, v in doc.items() if v is not None})


def test_light_stemcell_image_reference():
    image = {"publisher": "pivotal", "offer": "bosh-ubuntu", "sku": "jammy", "version": "1.181.0"}
    props = StemcellProps.from_dict({**MF, "image": image})
    assert props.light_image is not None and props.light_image.as_dict() == image


def test_encode_metadata_matches_ruby_to_s_for_common_values():
    assert encode_metadata({"disk": 3072, "flag": True, "none": None, "list": ["scsi", "nvme"], "s": "x"}) == {
        "disk": "3072",
        "flag": "true",
        "none": "",
        "list": '["scsi", "nvme"]',
        "s": "x",
    }


def test_references_read_legacy_name_and_overflow_tags():
    tags = {"stemcell_references": "bosh-stemcell-a, bosh-stemcell-b", "stemcell_references_2": "bosh-stemcell-c",
            "stemcell_name": "bosh-stemcell-old"}  # fmt: skip
    assert read_references(tags) == ["bosh-stemcell-a", "bosh-stemcell-b", "bosh-stemcell-c", "bosh-stemcell-old"]


def test_references_are_split_into_tags_of_at_most_256_characters():
    refs = [f"bosh-stemcell-0b9a1f3e-5c1d-4d8e-a2b7-6f0e8d9c1b{i:02d}" for i in range(12)]
    tags = write_references({"name": "x", "stemcell_name": "legacy"}, refs)
    assert all(len(v) <= 256 for v in tags.values())
    assert "stemcell_name" not in tags
    assert tags["name"] == "x"
    assert read_references(tags) == refs
    assert len([k for k in tags if k.startswith("stemcell_references")]) == 3


def test_writing_fewer_references_drops_stale_overflow_tags():
    refs = [f"bosh-stemcell-0b9a1f3e-5c1d-4d8e-a2b7-6f0e8d9c1b{i:02d}" for i in range(12)]
    tags = write_references({}, refs)
    assert write_references(tags, refs[:1]) == {"stemcell_references": refs[0]}
    assert write_references(tags, []) == {}


def test_created_by_cpi_requires_reference_tags():
    assert created_by_cpi({"stemcell_references": "x"})
    assert created_by_cpi({"stemcell_name": "x"})
    assert not created_by_cpi({"owner": "someone"})
    assert not created_by_cpi(None)
