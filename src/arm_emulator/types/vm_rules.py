"""VM checks other than disks: size, zones, availability set, image fit, OS profile, network, identity.

Sources of codes and messages: Microsoft's "Understand common error messages when you manage virtual
machines" (error-messages.md), "Resolve errors for SKU not available", answers reported from the service
(generation mismatch, ``SkuNotAvailable``) — see the README's table for each rule.
"""

from __future__ import annotations

import base64
import binascii
import copy
import re
import uuid
from typing import Any

from arm_emulator import regions
from arm_emulator.store import Record
from arm_emulator.types.base import Ctx
from arm_emulator.types.compute_common import as_object, require
from arm_emulator.types.links import compute_casing, owner_of, same_id
from arm_emulator.types.network_common import NIC_KEY, invalid_reference, ref_id
from arm_emulator.types.sku_catalog import VmSize
from arm_emulator.types.skus import find_size, restricted, sizes_in
from arm_emulator.types.vm_images import ImageInfo
from arm_emulator.wire import ArmError, invalid_parameter, missing_parameter

MAX_CUSTOM_DATA = 87380
AS_KEY = "microsoft.compute/availabilitysets"
_LINUX_NAME = re.compile(r"^[A-Za-z0-9.\-]{1,64}$")
_RESERVED_USERS = frozenset(
    [
        "administrator", "admin", "user", "user1", "test", "user2", "test1", "user3", "admin1", "1", "123", "a",
        "actuser", "adm", "admin2", "aspnet", "backup", "console", "david", "guest", "john", "owner", "root",
        "server", "sql", "support", "support_388945a0", "sys", "test2", "test3", "user4", "user5",
    ]
)  # fmt: skip


def check_not_deleting(existing: Record | None, operation: str) -> None:
    if existing is not None and existing.properties().get("provisioningState") == "Deleting":
        raise ArmError(
            409,
            "OperationNotAllowed",
            f"Operation '{operation}' is not allowed on VM '{existing.name}' since the VM is marked for deletion. You "
            "can only retry the Delete operation (or wait for an ongoing one to complete).",
        )


def hardware(props: dict[str, Any], location: str, zones: list[str], vm_id: str) -> VmSize:
    """The catalog size of ``hardwareProfile.vmSize`` in ``location``; 400 unknown, 409 restricted."""
    profile = as_object(props.get("hardwareProfile"), "properties.hardwareProfile")
    name = str(require(profile, "vmSize", "hardwareProfile.vmSize"))
    size = find_size(name, location)
    if size is None:
        offered = ",".join(s.name for s in sizes_in(location))
        raise invalid_parameter(
            f"The requested VM size {name} is not available in the current region. The sizes available in the current "
            f"region are: {offered}. Find out more on the available VM sizes in each region at "
            "https://aka.ms/azure-regions.",
            "vmSize",
        )
    if restricted(size, location, zones):
        raise ArmError(
            409,
            "SkuNotAvailable",
            f"The requested size for resource '{vm_id}' is currently not available in location "
            f"'{regions.normalize(location)}' zones '{','.join(zones)}' for subscription '{vm_id.split('/')[2]}'. "
            "Please try another size or deploy to a different location or zones. See "
            "https://aka.ms/azureskunotavailable for details.",
        )
    return size


def availability_set(ctx: Ctx, props: dict[str, Any], location: str, zones: list[str]) -> str | None:
    """The id of the VM's availability set (Compute casing), or None."""
    set_id = ref_id(props.get("availabilitySet"))
    if set_id is None:
        return None
    if zones:
        raise invalid_parameter(
            "The virtual machine cannot be created because both an Availability Zone and an Availability Set were "
            "specified. Deploying an Availability Set to an Availability Zone is not supported.",
            "availabilitySet",
        )
    record = ctx.store.get(set_id)
    if record is None or regions.normalize(str(record.body.get("location"))) != regions.normalize(location):
        raise ArmError(404, "NotFound", f"The Availability Set '{set_id}' cannot be found.")
    if record.body.get("sku", {}).get("name") != "Aligned":
        raise ArmError(
            400,
            "BadRequest",
            "Addition of a VM with managed disks to non-managed Availability Set or addition of a VM with blob based "
            "disks to managed Availability Set is not supported. Please create an Availability Set with 'managed' "
            "property set in order to add a VM with managed disks to it.",
        )
    return compute_casing(record.id)


def check_image_fits(size: VmSize, info: ImageInfo, controller: str | None) -> None:
    """Hyper-V generation, CPU architecture and NVMe controller of the image against the size."""
    generation = info.hyperv.upper().removeprefix("V")
    if info.hyperv.upper() not in size.generations:
        raise ArmError(
            400,
            "BadRequest",
            f"The selected VM size '{size.name}' cannot boot Hypervisor Generation '{generation}'. If this was a "
            "Create operation please check that the Hypervisor Generation of the Image matches the Hypervisor "
            f"Generation of the selected VM Size. If this was an Update operation please select a Hypervisor "
            f"Generation '{generation}' VM Size. For more information, see https://aka.ms/azuregen2vm",
        )
    if info.arch.lower() != size.arch.lower():
        raise ArmError(
            400,
            "BadRequest",
            f"The selected VM size '{size.name}' with architecture '{size.arch}' cannot boot an image of architecture "
            f"'{info.arch}'.",
        )
    wants_nvme = (controller or ("NVMe" if size.nvme_only else "SCSI")).lower() == "nvme"
    if size.nvme_only and not wants_nvme:
        raise invalid_parameter(
            f"The VM size '{size.name}' supports only the NVMe disk controller type.", "diskControllerType"
        )
    if wants_nvme and not info.nvme:
        raise invalid_parameter(
            f"The VM size '{size.name}' needs the NVMe disk controller type, which the image does not support.",
            "diskControllerType",
        )


def os_profile(props: dict[str, Any], info: ImageInfo) -> dict[str, Any]:
    """The stored ``osProfile`` (no ``customData``/``adminPassword``: the service never returns them)."""
    profile = as_object(props.get("osProfile"), "properties.osProfile")
    if not profile:
        raise missing_parameter("osProfile")
    name = str(require(profile, "computerName", "osProfile.computerName"))
    user = str(require(profile, "adminUsername", "osProfile.adminUsername"))
    if user.lower() in _RESERVED_USERS:
        raise invalid_parameter("The Admin Username specified is not allowed.", "adminUsername")
    if info.os_type == "Linux" and (not _LINUX_NAME.match(name) or name.isdigit()):
        raise invalid_parameter(
            "Linux host name cannot exceed 64 characters in length or contain the following characters: "
            "` ~ ! @ # $ % ^ & * ( ) = + _ [ ] { } \\ | ; : ' \" , < > / ?.",
            "computerName",
        )
    _check_custom_data(profile.get("customData"))
    linux = as_object(profile.get("linuxConfiguration"), "osProfile.linuxConfiguration")
    default_path = f"/home/{user}/.ssh/authorized_keys"
    for key in as_object(linux.get("ssh"), "linuxConfiguration.ssh").get("publicKeys") or []:
        if as_object(key, "publicKeys").get("path", default_path) != default_path:
            raise invalid_parameter(
                f"Destination path for Ssh public keys is currently limited to its default value {default_path}  due "
                "to a known issue in Linux provisioning agent.",
                "linuxConfiguration.ssh.publicKeys.path",
            )
    stored = {k: copy.deepcopy(v) for k, v in profile.items() if k not in ("customData", "adminPassword")}
    stored.setdefault("secrets", [])
    stored.setdefault("allowExtensionOperations", True)
    stored.setdefault("requireGuestProvisionSignal", True)
    if info.os_type == "Linux":
        stored.setdefault("linuxConfiguration", {"disablePasswordAuthentication": False})
        stored["linuxConfiguration"].setdefault("provisionVMAgent", True)
    return stored


def _check_custom_data(value: Any) -> None:
    if value is None:
        return
    message = (
        f"Custom data in OSProfile must be in Base64 encoding and with a maximum length of {MAX_CUSTOM_DATA} "
        "characters."
    )
    if not isinstance(value, str) or len(value) > MAX_CUSTOM_DATA:
        raise invalid_parameter(message, "customData")
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ArmError(400, "InvalidParameter", message, target="customData") from exc


def network(ctx: Ctx, props: dict[str, Any], location: str, vm_id: str, size: VmSize) -> dict[str, Any]:
    """The stored ``networkProfile``: NICs exist in the region, are free, one is primary, fit the size."""
    profile = as_object(props.get("networkProfile"), "properties.networkProfile")
    refs = [as_object(r, "networkProfile.networkInterfaces") for r in profile.get("networkInterfaces") or []]
    if not refs:
        raise missing_parameter("networkProfile")
    if len(refs) > size.max_nics:
        raise invalid_parameter(
            f"The number of network interfaces {len(refs)} exceeds the maximum {size.max_nics} allowed for the VM "
            f"size {size.name}.",
            "networkProfile.networkInterfaces",
        )
    primaries = [r for r in refs if as_object(r.get("properties"), "properties").get("primary")]
    if len(refs) > 1 and len(primaries) != 1:
        raise invalid_parameter(
            f"Virtual machine {vm_id.rsplit('/', 1)[-1]} must have one network interface set as the primary.",
            "networkProfile",
        )
    stored = []
    for ref in refs:
        nic = _free_nic(ctx, ref_id(ref) or "", location, vm_id)
        if nic.properties().get("enableAcceleratedNetworking") and not size.accelerated_networking:
            raise ArmError(
                400,
                "VMSizeIsNotPermittedToEnableAcceleratedNetworking",
                f"Virtual Machine size {size.name} is not in the allowed list of VM sizes for accelerated networking "
                f"to be enabled on the nic {nic.id}. See aka.ms/AccelNet for supported VM sizes.",
            )
        entry = copy.deepcopy(ref)
        entry["properties"] = {"deleteOption": "Detach", **as_object(ref.get("properties"), "properties")}
        stored.append(entry)
    return {
        **{k: copy.deepcopy(v) for k, v in profile.items() if k != "networkInterfaces"},
        "networkInterfaces": stored,
    }


def _free_nic(ctx: Ctx, nic_id: str, location: str, vm_id: str) -> Record:
    nic = ctx.store.get(nic_id)
    if nic is None or nic.type_key != NIC_KEY:
        raise invalid_reference(nic_id, vm_id)
    if regions.normalize(str(nic.body.get("location"))) != regions.normalize(location):
        raise invalid_reference(nic_id, vm_id)
    owner = owner_of(nic)
    if owner is not None and not same_id(owner, vm_id):
        raise ArmError(400, "NicInUse", f"Network Interface {nic.id} is used by existing resource {owner}.")
    return nic


def identity(given: Any, old: dict[str, Any] | None, subscription: str) -> dict[str, Any] | None:
    """The stored ``identity`` with server-filled principal and client ids."""
    if not isinstance(given, dict) or not given:
        return copy.deepcopy(old)
    kind = str(given.get("type", "None"))
    if kind == "None":
        return None
    result: dict[str, Any] = {"type": kind}
    if "SystemAssigned" in kind:
        result["principalId"] = (old or {}).get("principalId") or str(uuid.uuid4())
        result["tenantId"] = str(uuid.uuid5(uuid.NAMESPACE_URL, subscription))
    if "UserAssigned" in kind:
        ids = as_object(given.get("userAssignedIdentities"), "identity.userAssignedIdentities")
        if not ids:
            raise missing_parameter("identity.userAssignedIdentities")
        result["userAssignedIdentities"] = {
            key: {
                "principalId": str(uuid.uuid5(uuid.NAMESPACE_URL, key)),
                "clientId": str(uuid.uuid5(uuid.NAMESPACE_DNS, key)),
            }
            for key in ids
        }
    return result
