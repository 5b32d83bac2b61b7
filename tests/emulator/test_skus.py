"""Resource SKUs, VM size lists and platform images (static catalogs), read through the Compute SDK."""

from __future__ import annotations

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.compute import ComputeManagementClient

from arm_emulator import ArmEmulator
from tests.emulator.compute_support import COMPUTE_API, SKU_API
from tests.emulator.conftest import Raw
from tests.peers import SUBSCRIPTION_ID, not_recorded

SKUS_PATH = f"/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.Compute/skus"


def _caps(sku: object) -> dict[str, str]:
    return {c.name: c.value for c in sku.capabilities}  # type: ignore[attr-defined]


def test_sku_list_filtered_by_location_has_real_capabilities(compute: ComputeManagementClient) -> None:
    skus = list(compute.resource_skus.list(filter="location eq 'eastus'"))
    by_name = {s.name: s for s in skus}
    assert len(skus) >= 12
    assert all(s.locations == ["eastus"] and s.resource_type == "virtualMachines" for s in skus)
    d2s = _caps(by_name["Standard_D2s_v5"])
    assert (d2s["vCPUs"], d2s["MemoryGB"], d2s["MaxDataDiskCount"], d2s["PremiumIO"]) == ("2", "8", "4", "True")
    assert (d2s["HyperVGenerations"], d2s["CpuArchitectureType"], d2s["EphemeralOSDiskSupported"]) == (
        "V1,V2",
        "x64",
        "False",
    )
    v6 = _caps(by_name["Standard_D2s_v6"])
    assert (v6["HyperVGenerations"], v6["DiskControllerTypes"]) == ("V2", "NVMe")
    assert _caps(by_name["Standard_F2s_v2"])["CachedDiskBytes"] == str(32 * 1024**3)
    assert _caps(by_name["Standard_D2_v5"])["PremiumIO"] == "False"
    assert by_name["Standard_D2s_v5"].location_info[0].zones == ["1", "2", "3"]
    assert by_name["Standard_D2s_v5"].restrictions == []


def test_restrictions_name_region_and_zone(compute: ComputeManagementClient) -> None:
    by_name = {s.name: s for s in compute.resource_skus.list(filter="location eq 'eastus'")}
    region = by_name["Standard_L8s_v3"].restrictions[0]
    assert (region.type, region.reason_code, region["values"]) == (
        "Location",
        "NotAvailableForSubscription",
        ["eastus"],
    )
    zone = by_name["Standard_E4s_v5"].restrictions[0]
    assert (zone.type, zone.restriction_info.zones) == ("Zone", ["3"])
    west = {s.name for s in compute.resource_skus.list(filter="location eq 'westus'")}
    assert "Standard_D2s_v6" not in west
    westus_zones = [s.location_info[0].zones for s in compute.resource_skus.list(filter="location eq 'westus'")]
    assert all(zones == [] for zones in westus_zones)


def test_sku_list_pages_and_covers_every_region(raw: Raw, arm: ArmEmulator, compute: ComputeManagementClient) -> None:
    arm.knobs.page_size = 7
    first = raw("GET", SKUS_PATH, api_version=SKU_API).json()
    assert len(first["value"]) == 7
    assert "$skiptoken=7" in first["nextLink"]
    everything = list(compute.resource_skus.list())
    regions = {s.locations[0] for s in everything}
    assert regions >= {"eastus", "eastus2", "westus2", "westeurope"}
    assert len(everything) == len({(s.name, s.locations[0]) for s in everything})


def test_unsupported_sku_filter_is_refused(raw: Raw) -> None:
    response = raw("GET", SKUS_PATH, api_version=SKU_API, params={"$filter": "name eq 'Standard_B2s'"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "InvalidFilterInQueryString"


def test_vm_sizes_of_a_location(compute: ComputeManagementClient) -> None:
    sizes = {s.name: s for s in compute.virtual_machine_sizes.list("eastus")}
    assert sizes["Standard_D4s_v5"].number_of_cores == 4
    assert sizes["Standard_D4s_v5"].memory_in_mb == 16384
    assert sizes["Standard_D4s_v5"].max_data_disk_count == 8


def test_platform_image_versions_list_and_get(compute: ComputeManagementClient) -> None:
    images = compute.virtual_machine_images
    versions = images.list("eastus", "pivotal", "bosh-ubuntu-jammy", "jammy")
    assert [v.name for v in versions] == ["1.181.0", "1.200.0"]
    assert versions[0].id.startswith(f"/Subscriptions/{SUBSCRIPTION_ID}/Providers/Microsoft.Compute/Locations/eastus/")
    newest = images.list("eastus", "pivotal", "bosh-ubuntu-jammy", "jammy", orderby="name desc", top=1)
    assert [v.name for v in newest] == ["1.200.0"]
    image = images.get("eastus", "Canonical", "ubuntu-24_04-lts", "server", "24.04.202502210")
    assert image.hyper_v_generation == "V2"
    assert image.os_disk_image.operating_system == "Linux"
    assert image.plan is None
    assert images.get("eastus", "bitnami", "nginxstack", "1-9", "1.25.4").plan.product == "nginxstack"
    assert [s.name for s in images.list_skus("eastus", "Canonical", "ubuntu-24_04-lts")] == ["server", "server-gen1"]


@pytest.mark.parametrize(
    ("publisher", "offer", "sku", "version"),
    [("nobody", "bosh-ubuntu-jammy", "jammy", None), ("pivotal", "bosh-ubuntu-jammy", "jammy", "9.9.9")],
)
def test_unknown_platform_images_are_404(
    compute: ComputeManagementClient, publisher: str, offer: str, sku: str, version: str | None
) -> None:
    images = compute.virtual_machine_images
    with pytest.raises(ResourceNotFoundError) as caught:
        if version is None:
            images.list("eastus", publisher, offer, sku)
        else:
            images.get("eastus", publisher, offer, sku, version)
    assert caught.value.error is not None
    assert (caught.value.error.code, caught.value.error.message) == ("NotFound", "Artifact: VMImage was not found.")


def test_catalog_types_refuse_writes(raw: Raw, arm: ArmEmulator) -> None:
    with not_recorded(arm):  # no spec operation describes these requests
        response = raw("PUT", f"{SKUS_PATH}/Standard_B2s", api_version=SKU_API, json={})
        assert response.status_code == 405
        assert response.json()["error"]["code"] == "MethodNotAllowed"
        sizes = f"/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.Compute/locations/eastus/vmSizes"
        assert raw("DELETE", sizes, api_version=COMPUTE_API).status_code == 405
