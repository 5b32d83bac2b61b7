"""Managed images from VHD blobs, and availability sets with their VM back-references."""

from __future__ import annotations

from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.storage import StorageManagementClient

from tests.emulator.compute_support import COMPUTE, COMPUTE_API, create_vm, fresh, managed_image, network
from tests.emulator.conftest import Raw
from tests.peers import LOCATION, RESOURCE_GROUP, STORAGE_ACCOUNT, Peers, blob_service

__all__ = ["managed_image", "network"]


def _image_body(uri: str, **os_disk: Any) -> dict[str, Any]:
    disk = {"osType": "Linux", "osState": "Generalized", "blobUri": uri, **os_disk}
    return {"location": LOCATION, "properties": {"storageProfile": {"osDisk": disk}}}


def _error(caught: pytest.ExceptionInfo[HttpResponseError]) -> tuple[int | None, str]:
    assert caught.value.error is not None
    return caught.value.status_code, str(caught.value.error.code)


def test_managed_image_from_a_vhd_blob(compute: ComputeManagementClient, managed_image: str, raw: Raw) -> None:
    image = compute.images.get(RESOURCE_GROUP, managed_image.rsplit("/", 1)[-1])
    os_disk = image.storage_profile.os_disk
    assert (image.provisioning_state, image.hyper_v_generation) == ("Succeeded", "V1")
    assert (os_disk.disk_size_gb, os_disk.os_state, os_disk.storage_account_type) == (1, "Generalized", "Standard_LRS")
    assert image.id in [i.id for i in compute.images.list_by_resource_group(RESOURCE_GROUP)]
    assert image.id in [i.id for i in compute.images.list()]
    name = fresh("img")
    created = raw("PUT", f"{COMPUTE}/images/{name}", api_version=COMPUTE_API, json=_image_body(os_disk.blob_uri))
    assert created.status_code == 201
    assert created.json()["properties"]["provisioningState"] == "Creating"
    assert "/locations/eastus/operations/" in created.headers["Azure-AsyncOperation"]
    compute.images.begin_delete(RESOURCE_GROUP, name).result()
    with pytest.raises(ResourceNotFoundError):
        compute.images.get(RESOURCE_GROUP, name)


def test_vm_from_a_managed_image(
    compute: ComputeManagementClient, network: NetworkManagementClient, managed_image: str
) -> None:
    _, vm = create_vm(
        compute,
        network,
        image={"id": managed_image},
        storage={"osDisk": {"createOption": "FromImage", "diskSizeGB": 8}},
    )
    disk = compute.disks.get(RESOURCE_GROUP, vm.storage_profile.os_disk.name)
    assert (disk.disk_size_gb, disk.creation_data.image_reference.id, disk.hyper_v_generation) == (
        8,
        managed_image,
        "V1",
    )


def test_managed_image_source_rules(
    compute: ComputeManagementClient, peers: Peers, storage: StorageManagementClient, managed_image: str
) -> None:
    uri = compute.images.get(RESOURCE_GROUP, managed_image.rsplit("/", 1)[-1]).storage_profile.os_disk.blob_uri
    with pytest.raises(HttpResponseError) as caught:
        compute.images.begin_create_or_update(
            RESOURCE_GROUP, fresh("img"), _image_body(uri.replace(".vhd", "-gone.vhd"))
        )
    assert _error(caught) == (404, "ImageBlobNotFound")
    with blob_service(peers) as service:
        block = service.get_blob_client("stemcell", f"{fresh('block')}.vhd")
        block.upload_blob(b"not a page blob")
        block_url = str(block.url)
    with pytest.raises(HttpResponseError) as caught:
        compute.images.begin_create_or_update(RESOURCE_GROUP, fresh("img"), _image_body(block_url))
    assert _error(caught) == (400, "IncorrectImageBlobType")
    west = {**_image_body(uri), "location": "westus2"}
    with pytest.raises(HttpResponseError) as caught:
        compute.images.begin_create_or_update(RESOURCE_GROUP, fresh("img"), west)
    assert _error(caught) == (400, "StorageAccountLocationMismatch")
    assert STORAGE_ACCOUNT in str(caught.value.error.message)  # type: ignore[union-attr]
    foreign = uri.replace(f"/{STORAGE_ACCOUNT}/", "/nosuchaccount/")
    with pytest.raises(HttpResponseError) as caught:
        compute.images.begin_create_or_update(RESOURCE_GROUP, fresh("img"), _image_body(foreign))
    assert _error(caught) == (404, "StorageAccountNotFound")


def _set_body(**props: Any) -> dict[str, Any]:
    sku = props.pop("sku", "Aligned")
    return {"location": props.pop("location", LOCATION), "sku": {"name": sku}, "properties": props}


def test_availability_set_defaults_limits_and_changes(compute: ComputeManagementClient) -> None:
    sets = compute.availability_sets
    name = fresh("as")
    created = sets.create_or_update(RESOURCE_GROUP, name, _set_body(platformFaultDomainCount=3))
    assert (created.sku.name, created.platform_fault_domain_count, created.platform_update_domain_count) == (
        "Aligned",
        3,
        5,
    )
    assert created.virtual_machines == []
    classic = sets.create_or_update(RESOURCE_GROUP, fresh("as"), {"location": LOCATION})
    assert (classic.sku.name, classic.platform_fault_domain_count) == ("Classic", 2)
    for body, code in (
        (_set_body(platformFaultDomainCount=3, location="westus2"), "InvalidParameter"),
        (_set_body(platformUpdateDomainCount=21), "InvalidParameter"),
    ):
        with pytest.raises(HttpResponseError) as caught:
            sets.create_or_update(RESOURCE_GROUP, fresh("as"), body)
        assert _error(caught) == (400, code)
    with pytest.raises(HttpResponseError) as caught:
        sets.create_or_update(RESOURCE_GROUP, fresh("as"), _set_body(platformFaultDomainCount=3, location="westus2"))
    assert caught.value.error.message == "The specified fault domain count 3 must fall in the range 1 to 2."  # type: ignore[union-attr]
    with pytest.raises(HttpResponseError) as caught:
        sets.create_or_update(RESOURCE_GROUP, name, _set_body(sku="Classic", platformFaultDomainCount=3))
    assert _error(caught) == (409, "OperationNotAllowed")
    with pytest.raises(HttpResponseError) as caught:
        sets.create_or_update(RESOURCE_GROUP, name, _set_body(platformFaultDomainCount=2))
    assert _error(caught) == (409, "PropertyChangeNotAllowed")
    assert sets.update(RESOURCE_GROUP, name, {"tags": {"k": "v"}}).tags == {"k": "v"}
    assert name in [s.name for s in sets.list(RESOURCE_GROUP)]
    assert "Standard_D2s_v5" in [s.name for s in sets.list_available_sizes(RESOURCE_GROUP, name)]


def test_vms_join_and_leave_availability_sets(
    compute: ComputeManagementClient, network: NetworkManagementClient, raw: Raw
) -> None:
    name = fresh("as")
    set_id = compute.availability_sets.create_or_update(RESOURCE_GROUP, name, _set_body(platformFaultDomainCount=2)).id
    vm_name, vm = create_vm(compute, network, availabilitySet={"id": set_id})
    assert (
        vm.availability_set.id
        == f"{set_id.rsplit('/resourceGroups/', 1)[0]}/resourceGroups/{RESOURCE_GROUP.upper()}/providers/Microsoft.Compute/availabilitySets/{name.upper()}"
    )
    members = compute.availability_sets.get(RESOURCE_GROUP, name).virtual_machines
    assert [m.id.lower() for m in members] == [vm.id.lower()]
    with pytest.raises(HttpResponseError) as caught:
        compute.availability_sets.delete(RESOURCE_GROUP, name)
    assert _error(caught) == (409, "OperationNotAllowed")
    assert "cannot be deleted. Before deleting an Availability Set" in caught.value.error.message  # type: ignore[union-attr]
    for body_extra, expected in (
        ({"zones": ["1"]}, (400, "InvalidParameter")),
        ({"availabilitySet": {"id": set_id + "x"}}, (404, "NotFound")),
    ):
        with pytest.raises(HttpResponseError) as caught:
            create_vm(
                compute,
                network,
                availabilitySet=body_extra.get("availabilitySet", {"id": set_id}),
                **{k: v for k, v in body_extra.items() if k == "zones"},
            )
        assert _error(caught) == expected
    classic = compute.availability_sets.create_or_update(RESOURCE_GROUP, fresh("as"), {"location": LOCATION}).id
    with pytest.raises(HttpResponseError) as caught:
        create_vm(compute, network, availabilitySet={"id": classic})
    assert _error(caught) == (400, "BadRequest")
    compute.virtual_machines.begin_delete(RESOURCE_GROUP, vm_name).result()
    assert compute.availability_sets.get(RESOURCE_GROUP, name).virtual_machines == []
    compute.availability_sets.delete(RESOURCE_GROUP, name)
    with pytest.raises(ResourceNotFoundError):
        compute.availability_sets.get(RESOURCE_GROUP, name)
    assert raw("DELETE", f"{COMPUTE}/availabilitySets/{name}", api_version=COMPUTE_API).status_code == 204
