"""VM cloud properties: every key, its default, each accepted shape and the precise error for wrong input."""

from __future__ import annotations

from typing import Any

import pytest

from bosh_azure_cpi.errors import InvalidArgument
from bosh_azure_cpi.models.refs import ManagedIdentity, SecurityGroupRef
from bosh_azure_cpi.models.vm_props import (
    AvailabilitySetSpec,
    EphemeralDisk,
    PoolRef,
    RootDisk,
    VmProps,
    availability_set_name,
)

P = "vm_type.cloud_properties"
AS, MI, SG, R = AvailabilitySetSpec, ManagedIdentity, SecurityGroupRef, PoolRef
SIZE = {"instance_type": "Standard_D2_v5"}
# Computed with `echo -n NAME | md5sum` and `tail -c 40`, not with the code under test.
LONG_GROUP = "fake-director-fake-deployment-with-a-rather-long-name-fake-instance-group-name-z1"  # 81 characters
LONG_GROUP_HASHED = "az-0652e2e2f47287489b5287f9a76a9b59-er-long-name-fake-instance-group-name-z1"
UNICODE_GROUP = "fake-dïrector-ünicode-deployment-with-a-rather-long-name-fake-instance-group-name"  # 81 characters
UNICODE_GROUP_HASHED = "az-a50fb1132b6827f2f2dca3992f65621d-ather-long-name-fake-instance-group-name"


def parse(default_group: str = "", **props: Any) -> VmProps:
    return VmProps.from_dict({**SIZE, **props}, default_group=default_group)


def error_of(default_group: str = "", **props: Any) -> str:
    with pytest.raises(InvalidArgument) as caught:
        VmProps.from_dict(props, default_group=default_group)
    return caught.value.message


def test_defaults_of_every_key():
    props = VmProps.from_dict(SIZE)
    assert props == VmProps(instance_types=("Standard_D2_v5",))
    assert props.instance_type == "Standard_D2_v5"
    assert props.root_disk == RootDisk(size_mib=None, type="", placement="remote", disk_encryption_set_name="")
    assert props.ephemeral_disk == EphemeralDisk(
        use_root_disk=False, size_mib=None, type="", caching="ReadWrite", iops=None, mbps=None
    )
    assert (props.caching, props.availability_zone, props.availability_set) == ("ReadWrite", "", None)
    assert (props.load_balancers, props.application_gateways, props.managed_identity) == ((), (), None)
    assert (props.security_group, props.application_security_groups) == (None, None)
    assert (props.assign_dynamic_public_ip, props.ip_forwarding, props.accelerated_networking) == (False, None, None)
    assert (props.resource_group_name, props.tags, props.capacity_reservation_group) == ("", {}, "")
    assert (props.storage_account_type, props.security_type, props.secure_boot, props.vtpm) == ("", "", None, None)


def test_every_key_is_read():
    props = parse(
        root_disk={"size": 51200, "type": "premium_lrs", "placement": "cache-disk", "disk_encryption_set_name": "des"},
        ephemeral_disk={"use_root_disk": True, "size": "20480", "type": "PremiumV2_LRS", "iops": 5000, "mbps": 200},
        caching="readonly",
        availability_zone=2,
        load_balancer="fake-lb",
        application_gateway={"name": "fake-agw", "backend_pool_name": "fake-pool"},
        managed_identity={"type": "UserAssigned", "user_assigned_identity_name": "fake-id"},
        security_group={"name": "fake-nsg", "resource_group_name": "fake-nsg-rg"},
        application_security_groups=["fake-asg"],
        assign_dynamic_public_ip=True,
        ip_forwarding="true",
        accelerated_networking=False,
        resource_group_name="fake-vm-rg",
        tags={"team": "fake", "index": 0, "canary": True},
        capacity_reservation_group="fake-crg",
        storage_account_type="StandardSSD_LRS",
        security_profile={
            "security_type": "TrustedLaunch",
            "uefi_settings": {"secure_boot_enabled": True, "v_tpm_enabled": False},
        },
    )
    assert props == VmProps(
        instance_types=("Standard_D2_v5",),
        root_disk=RootDisk(size_mib=51200, type="Premium_LRS", placement="cache-disk", disk_encryption_set_name="des"),
        ephemeral_disk=EphemeralDisk(
            use_root_disk=True, size_mib=20480, type="PremiumV2_LRS", caching="None", iops=5000, mbps=200
        ),
        caching="ReadOnly",
        availability_zone="2",
        availability_set=None,
        load_balancers=(R(name="fake-lb"),),
        application_gateways=(R(name="fake-agw", backend_pool_name="fake-pool"),),
        managed_identity=MI(type="UserAssigned", user_assigned_identity_name="fake-id"),
        security_group=SG(name="fake-nsg", resource_group_name="fake-nsg-rg"),
        application_security_groups=("fake-asg",),
        assign_dynamic_public_ip=True,
        ip_forwarding=True,
        accelerated_networking=False,
        resource_group_name="fake-vm-rg",
        tags={"team": "fake", "index": "0", "canary": "true"},
        capacity_reservation_group="fake-crg",
        storage_account_type="StandardSSD_LRS",
        security_type="TrustedLaunch",
        secure_boot=True,
        vtpm=False,
    )


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({"instance_type": "Standard_F4s_v2"}, ("Standard_F4s_v2",)),
        ({"instance_types": ["Standard_D2s_v5", "Standard_B2s"]}, ("Standard_D2s_v5", "Standard_B2s")),
        ({"instance_type": "Standard_F4", "instance_types": ["Standard_B2s"]}, ("Standard_F4",)),
        ({"instance_type": "", "instance_types": ["Standard_B2s"]}, ("Standard_B2s",)),
    ],
)
def test_instance_type_or_the_instance_types_of_vm_resources(props, expected):
    assert VmProps.from_dict(props).instance_types == expected
    assert VmProps.from_dict(props).instance_type == expected[0]


@pytest.mark.parametrize("props", [{}, {"instance_types": []}, {"instance_type": ""}, {"instance_type": None}])
def test_an_instance_type_is_required(props):
    with pytest.raises(InvalidArgument) as caught:
        VmProps.from_dict(props)
    assert caught.value.message == "You need to specify one of 'vm_type/instance_type' or 'vm_resources'"


@pytest.mark.parametrize("disk", ["root_disk", "ephemeral_disk"])
@pytest.mark.parametrize(
    ("size", "expected", "message"),
    [
        (1024, 1024, None),
        ("2048", 2048, None),
        (1023, None, "must be at least 1024 MiB (Azure's minimum disk size is 1 GiB), got 1023"),
        (0, None, "must be at least 1024 MiB (Azure's minimum disk size is 1 GiB), got 0"),
        (1536.5, None, "must be an integer, got number"),
        ("big", None, "must be an integer, got string"),
    ],
)
def test_disk_sizes_are_mib_of_at_least_one_gib(disk, size, expected, message):
    if message is None:
        assert getattr(parse(**{disk: {"size": size}}), disk).size_mib == expected
    else:
        assert error_of(**SIZE, **{disk: {"size": size}}) == f"'{P}.{disk}.size' {message}"


@pytest.mark.parametrize("disk", ["root_disk", "ephemeral_disk"])
def test_disk_types_are_canonicalised_and_checked(disk):
    assert getattr(parse(**{disk: {"type": "standardssd_lrs"}}), disk).type == "StandardSSD_LRS"
    assert error_of(**SIZE, **{disk: {"type": "Standard_GRS"}}) == (
        f"'{P}.{disk}.type' must be one of Standard_LRS, StandardSSD_LRS, StandardSSD_ZRS, Premium_LRS, Premium_ZRS, "
        "PremiumV2_LRS, UltraSSD_LRS; got 'Standard_GRS'"
    )


@pytest.mark.parametrize("placement", ["remote", "resource-disk", "cache-disk", "Resource-Disk"])
def test_root_disk_placements(placement):
    assert parse(root_disk={"placement": placement}).root_disk.placement == placement.lower()


def test_an_unknown_root_disk_placement_is_refused():
    assert error_of(**SIZE, root_disk={"placement": "local"}) == (
        f"'{P}.root_disk.placement' must be one of remote, resource-disk, cache-disk; got 'local'"
    )


@pytest.mark.parametrize(
    ("ephemeral", "caching"),
    [
        ({}, "ReadWrite"),
        ({"type": "Premium_LRS"}, "ReadWrite"),
        ({"type": "Premium_LRS", "caching": "ReadOnly"}, "ReadOnly"),
        ({"type": "PremiumV2_LRS"}, "None"),
        ({"type": "UltraSSD_LRS"}, "None"),
        ({"type": "PremiumV2_LRS", "caching": "none"}, "None"),
    ],
)
def test_ephemeral_disk_caching_defaults(ephemeral, caching):
    assert parse(ephemeral_disk=ephemeral).ephemeral_disk.caching == caching


@pytest.mark.parametrize("disk_type", ["PremiumV2_LRS", "UltraSSD_LRS"])
@pytest.mark.parametrize("caching", ["ReadOnly", "ReadWrite"])
def test_premium_v2_and_ultra_disks_need_caching_none(disk_type, caching):
    assert error_of(**SIZE, ephemeral_disk={"type": disk_type, "caching": caching}) == (
        f"'{P}.ephemeral_disk.caching' must be None for {disk_type} disks"
    )


def test_os_disk_caching_is_checked():
    assert parse(caching="None").caching == "None"
    assert error_of(**SIZE, caching="Write") == f"'{P}.caching' must be one of None, ReadOnly, ReadWrite; got 'Write'"


@pytest.mark.parametrize(("zone", "expected"), [("1", "1"), ("2", "2"), ("3", "3"), (1, "1"), (3, "3")])
def test_availability_zones(zone, expected):
    assert parse(availability_zone=zone).availability_zone == expected


@pytest.mark.parametrize(("zone", "shown"), [("4", "4"), (0, "0"), ("zone1", "zone1"), (True, "True"), (1.0, "1.0")])
def test_invalid_availability_zones(zone, shown):
    assert error_of(**SIZE, availability_zone=zone) == (
        f"'{P}.availability_zone' '{shown}' is not a valid zone. Available zones are: 1, 2, 3"
    )


@pytest.mark.parametrize("availability_set", ["fake-set", {"name": "fake-set"}, {}])
def test_a_zone_and_an_availability_set_exclude_each_other(availability_set):
    assert error_of(**SIZE, availability_zone="1", availability_set=availability_set) == (
        "Only one of 'availability_zone' and 'availability_set' is allowed to be configured for the VM "
        "but you have configured both"
    )


def test_a_zonal_vm_gets_no_default_availability_set():
    assert parse("fake-group", availability_zone="1").availability_set is None


UD, FD = "platform_update_domain_count", "platform_fault_domain_count"


@pytest.mark.parametrize(
    ("props", "default_group", "expected"),
    [
        ({}, "", None),
        ({}, "fake-group", AS(name="fake-group")),
        ({"availability_set": "fake-set"}, "fake-group", AS(name="fake-set")),
        ({"availability_set": ""}, "fake-group", AS(name="fake-group")),
        ({"availability_set": {"name": "fake-set"}}, "", AS(name="fake-set")),
        ({"availability_set": {}}, "fake-group", AS(name="fake-group")),
        ({"availability_set": {"name": "s", UD: 3, FD: 1}}, "", AS(name="s", update_domains=3, fault_domains=1)),
        # legacy top-level counts go with a name (or the group default)
        ({"availability_set": "s", UD: 4, FD: 3}, "", AS(name="s", update_domains=4, fault_domains=3)),
        ({UD: 1, FD: "1"}, "g", AS(name="g", update_domains=1, fault_domains=1)),
        # with an object, the Ruby CPI reads the counts from the object only
        ({"availability_set": {"name": "s"}, UD: 4}, "", AS(name="s", update_domains=5, fault_domains=2)),
        ({"availability_set": LONG_GROUP}, "", AS(name=LONG_GROUP_HASHED)),
        ({}, LONG_GROUP, AS(name=LONG_GROUP_HASHED)),
    ],
)
def test_availability_set_shapes(props, default_group, expected):
    assert parse(default_group, **props).availability_set == expected


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"availability_set": ["s"]}, f"'{P}.availability_set' must be a name or an object with 'name'"),
        ({"availability_set": 5}, f"'{P}.availability_set' must be a name or an object with 'name'"),
        ({"availability_set": {"name": 5}}, f"'{P}.availability_set.name' must be a string, got number"),
        ({"availability_set": {"name": "s", FD: 0}}, f"'{P}.availability_set.{FD}' must be at least 1, got 0"),
        ({"availability_set": "s", UD: "five"}, f"'{P}.{UD}' must be an integer, got string"),
    ],
)
def test_invalid_availability_sets(props, message):
    assert error_of(**SIZE, **props) == message


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("fake-set", "fake-set"),
        (LONG_GROUP[:80], LONG_GROUP[:80]),  # 80 characters are kept
        (LONG_GROUP, LONG_GROUP_HASHED),
        (UNICODE_GROUP, UNICODE_GROUP_HASHED),  # md5 of the UTF-8 bytes, as Ruby's Digest::MD5
    ],
)
def test_availability_set_names_over_80_characters_are_hashed(name, expected):
    assert availability_set_name(name) == expected
    assert len(availability_set_name(LONG_GROUP)) == 76


@pytest.mark.parametrize("key", ["load_balancer", "application_gateway"])
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("fake-a", (R(name="fake-a"),)),
        ("fake-a, fake-b,,", (R(name="fake-a"), R(name="fake-b"))),
        (
            {"name": "fake-a", "resource_group_name": "fake-rg2", "backend_pool_name": "fake-pool"},
            (R(name="fake-a", resource_group_name="fake-rg2", backend_pool_name="fake-pool"),),
        ),
        (
            [{"name": "fake-a"}, "fake-b,fake-c", {"name": "fake-d", "backend_pool_name": "Fake-Pool"}],
            (R(name="fake-a"), R(name="fake-b"), R(name="fake-c"), R(name="fake-d", backend_pool_name="Fake-Pool")),
        ),
        ([], ()),
    ],
)
def test_load_balancer_and_application_gateway_shapes(key, value, expected):
    assert getattr(parse(**{key: value}), key + "s") == expected
    assert getattr(parse(**{key + "s": value}), key + "s") == expected


@pytest.mark.parametrize("key", ["load_balancer", "load_balancers", "application_gateway", "application_gateways"])
@pytest.mark.parametrize(
    ("value", "path", "problem"),
    [
        ({"name": ""}, ".name", "must not be empty"),
        ({"backend_pool_name": "p"}, ".name", "is required"),
        ([{"name": 5}], "[0].name", "must be a string, got number"),
        (["fake-a", 5], "[1]", "must be an object, got number"),
        (5, "", "must be an object, got number"),
    ],
)
def test_invalid_pool_references_name_their_key(key, value, path, problem):
    assert error_of(**SIZE, **{key: value}) == f"'{P}.{key}{path}' {problem}"


@pytest.mark.parametrize(
    ("identity", "expected"),
    [
        ({}, None),
        ({"type": "SystemAssigned"}, MI(type="SystemAssigned")),
        ({"type": "systemassigned"}, MI(type="SystemAssigned")),
        (
            {"type": "UserAssigned", "user_assigned_identity_name": "fake-id"},
            MI(type="UserAssigned", user_assigned_identity_name="fake-id"),
        ),
    ],
)
def test_managed_identity(identity, expected):
    assert parse(managed_identity=identity).managed_identity == expected


@pytest.mark.parametrize(
    ("identity", "message"),
    [
        ({"type": "UserAssigned"}, ".user_assigned_identity_name' is required when type is 'UserAssigned'"),
        ({"type": "Both"}, ".type' must be one of SystemAssigned, UserAssigned; got 'Both'"),
        ({"user_assigned_identity_name": "fake-id"}, ".type' is required"),
        ("SystemAssigned", "' must be an object, got string"),
    ],
)
def test_invalid_managed_identities(identity, message):
    assert error_of(**SIZE, managed_identity=identity) == f"'{P}.managed_identity{message}"


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        ("fake-nsg", SG(name="fake-nsg")),
        ({"name": "fake-nsg"}, SG(name="fake-nsg")),
        ({"name": "fake-nsg", "resource_group_name": "fake-rg2"}, SG(name="fake-nsg", resource_group_name="fake-rg2")),
    ],
)
def test_security_group_shapes(group, expected):
    assert parse(security_group=group).security_group == expected


@pytest.mark.parametrize(
    ("group", "message"),
    [
        ("", "' cannot be an empty string (network security group name)"),
        ({}, ".name' is required"),
        ({"name": ""}, ".name' must not be empty"),
        (["fake-nsg"], "' must be an object, got array"),
    ],
)
def test_invalid_security_groups(group, message):
    assert error_of(**SIZE, security_group=group) == f"'{P}.security_group{message}"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("instance_type", 5, "'instance_type' must be a string, got number"),
        ("instance_types", "Standard_B2s", "'instance_types' must be an array, got string"),
        ("instance_types", ["Standard_B2s", 2], "'instance_types[1]' must be a string, got number"),
        ("root_disk", "big", "'root_disk' must be an object, got string"),
        ("ephemeral_disk", {"use_root_disk": 1}, "'ephemeral_disk.use_root_disk' must be a boolean, got number"),
        ("ephemeral_disk", {"iops": 0}, "'ephemeral_disk.iops' must be at least 1, got 0"),
        ("ephemeral_disk", {"mbps": "fast"}, "'ephemeral_disk.mbps' must be an integer, got string"),
        ("tags", ["a"], "'tags' must be an object, got array"),
        ("assign_dynamic_public_ip", "yes", "'assign_dynamic_public_ip' must be a boolean, got string"),
        ("ip_forwarding", 1, "'ip_forwarding' must be a boolean, got number"),
        ("accelerated_networking", "on", "'accelerated_networking' must be a boolean, got string"),
        ("application_security_groups", "fake-asg", "'application_security_groups' must be an array, got string"),
        ("application_security_groups", [{}], "'application_security_groups[0]' must be a string, got object"),
        ("resource_group_name", 5, "'resource_group_name' must be a string, got number"),
        ("capacity_reservation_group", ["a"], "'capacity_reservation_group' must be a string, got array"),
        ("storage_account_type", "Standard_GRS", "'storage_account_type' must be one of"),
        ("security_profile", {"security_type": "Secure"}, "'security_profile.security_type' must be one of"),
        (
            "security_profile",
            {"uefi_settings": {"secure_boot_enabled": "maybe"}},
            "'security_profile.uefi_settings.secure_boot_enabled' must be a boolean, got string",
        ),
    ],
)
def test_wrong_types_name_the_key_path(key, value, message):
    instance = {} if key.startswith("instance_type") else SIZE
    assert error_of(**instance, **{key: value}).startswith(f"'{P}.{message[1:]}")


def test_cloud_properties_must_be_an_object():
    with pytest.raises(InvalidArgument) as caught:
        VmProps.from_dict(["Standard_D2_v5"])
    assert caught.value.message == f"'{P}' must be an object, got array"


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({"capacity_reservation_group": "fake-crg"}, "fake-crg"),
        ({"capacity_reservation_group_id": "/subscriptions/s/crg"}, "/subscriptions/s/crg"),
        (
            {"capacity_reservation_group_id": "/subscriptions/s/crg", "capacity_reservation_group": "x"},
            "/subscriptions/s/crg",
        ),
    ],
)
def test_capacity_reservation_group_name_or_id(props, expected):
    assert parse(**props).capacity_reservation_group == expected


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({}, (None, None, None, False)),
        (
            {"application_security_groups": [], "ip_forwarding": False, "accelerated_networking": True},
            ((), False, True, False),
        ),
        ({"assign_dynamic_public_ip": "true"}, (None, None, None, True)),
    ],
)
def test_network_overrides_are_none_when_absent(props, expected):
    parsed = parse(**props)
    assert (
        parsed.application_security_groups,
        parsed.ip_forwarding,
        parsed.accelerated_networking,
        parsed.assign_dynamic_public_ip,
    ) == expected
