"""Request bodies for virtual machines and availability sets (ComputeRP 2026-04-01)."""

from __future__ import annotations

from azure.mgmt.compute import models as m

from bosh_azure_cpi.models.vm_props import AvailabilitySetSpec
from bosh_azure_cpi.models.vm_spec import AttachedDisk, DataDiskSpec, OsDiskSpec, VmSpec


def build_vm_params(spec: VmSpec) -> m.VirtualMachine:
    """The full VM body: the CPI's NICs, OS and ephemeral disks are deleted with the VM; attached persistent
    disks are detached (never deleted)."""
    image = spec.image
    return m.VirtualMachine(
        location=spec.location,
        tags=spec.tags,
        zones=[spec.zone] if spec.zone else None,
        identity=_identity(spec),
        plan=_plan(spec),
        properties=m.VirtualMachineProperties(
            hardware_profile=m.HardwareProfile(vm_size=spec.size),
            storage_profile=m.StorageProfile(
                image_reference=_image_reference(spec),
                os_disk=_os_disk(spec.os_disk, image.os_type),
                data_disks=_data_disks(spec.ephemeral_disk, spec.attached),
            ),
            os_profile=m.OSProfile(
                computer_name=spec.name,
                admin_username=spec.admin_user,
                custom_data=spec.custom_data,
                linux_configuration=m.LinuxConfiguration(
                    disable_password_authentication=True,
                    ssh=m.SshConfiguration(
                        public_keys=[
                            m.SshPublicKey(
                                path=f"/home/{spec.admin_user}/.ssh/authorized_keys", key_data=spec.ssh_public_key
                            )
                        ]
                    ),
                ),
            ),
            network_profile=m.NetworkProfile(
                network_interfaces=[
                    m.NetworkInterfaceReference(
                        id=nic_id,
                        properties=m.NetworkInterfaceReferenceProperties(primary=index == 0, delete_option="Delete"),
                    )
                    for index, nic_id in enumerate(spec.nic_ids)
                ]
            ),
            availability_set=m.SubResource(id=spec.availability_set_id) if spec.availability_set_id else None,
            security_profile=_security_profile(spec),
            capacity_reservation=_capacity_reservation(spec),
            diagnostics_profile=_diagnostics(spec),
        ),
    )


def build_availability_set_params(spec: AvailabilitySetSpec, location: str) -> m.AvailabilitySet:
    """A managed (``Aligned``) availability set tagged as the CPI's own."""
    return m.AvailabilitySet(
        location=location,
        tags={"user-agent": "bosh"},
        sku=m.Sku(name="Aligned"),
        properties=m.AvailabilitySetProperties(
            platform_update_domain_count=spec.update_domains,
            platform_fault_domain_count=spec.fault_domains,
        ),
    )


def data_disk_attachment(disk_id: str, lun: int, caching: str) -> m.DataDisk:
    return m.DataDisk(
        lun=lun,
        create_option="Attach",
        caching=caching,
        managed_disk=m.ManagedDiskParameters(id=disk_id),
        delete_option="Detach",
    )


def _image_reference(spec: VmSpec) -> m.ImageReference:
    market = spec.image.marketplace
    if market:
        return m.ImageReference(
            publisher=market["publisher"], offer=market["offer"], sku=market["sku"], version=market["version"]
        )
    return m.ImageReference(id=spec.image.image_id)


def _plan(spec: VmSpec) -> m.Plan | None:
    market = spec.image.marketplace
    if not market or not market.get("plan"):
        return None
    return m.Plan(name=market["sku"], publisher=market["publisher"], product=market["offer"])


def _os_disk(disk: OsDiskSpec, os_type: str) -> m.OSDisk:
    return m.OSDisk(
        name=disk.name,
        os_type=os_type,
        create_option="FromImage",
        caching=disk.caching,
        disk_size_gb=disk.size_gib,
        diff_disk_settings=m.DiffDiskSettings(option="Local", placement=disk.ephemeral_placement)
        if disk.ephemeral_placement
        else None,
        managed_disk=_managed(disk.type, disk.disk_encryption_set_id),
        delete_option="Delete",
    )


def _data_disks(ephemeral: DataDiskSpec | None, attached: tuple[AttachedDisk, ...]) -> list[m.DataDisk]:
    disks = []
    if ephemeral is not None:
        disks.append(
            m.DataDisk(
                lun=ephemeral.lun,
                name=ephemeral.name,
                create_option="Empty",
                disk_size_gb=ephemeral.size_gib,
                caching=ephemeral.caching,
                managed_disk=_managed(ephemeral.type, ephemeral.disk_encryption_set_id),
                delete_option="Delete",
            )
        )
    disks.extend(data_disk_attachment(disk.id, disk.lun, disk.caching) for disk in attached)
    return disks


def _managed(disk_type: str, des_id: str) -> m.ManagedDiskParameters:
    return m.ManagedDiskParameters(
        storage_account_type=disk_type or None,
        disk_encryption_set=m.DiskEncryptionSetParameters(id=des_id) if des_id else None,
    )


def _identity(spec: VmSpec) -> m.VirtualMachineIdentity | None:
    if not spec.identity_type:
        return None
    users = {identity: m.UserAssignedIdentitiesValue() for identity in spec.user_identity_ids}
    return m.VirtualMachineIdentity(type=spec.identity_type, user_assigned_identities=users or None)


def _security_profile(spec: VmSpec) -> m.SecurityProfile | None:
    if not spec.security_type:
        return None
    uefi = None
    if spec.secure_boot is not None or spec.vtpm is not None:
        uefi = m.UefiSettings(secure_boot_enabled=spec.secure_boot, v_tpm_enabled=spec.vtpm)
    return m.SecurityProfile(security_type=spec.security_type, uefi_settings=uefi)


def _capacity_reservation(spec: VmSpec) -> m.CapacityReservationProfile | None:
    if not spec.capacity_reservation_group_id:
        return None
    return m.CapacityReservationProfile(capacity_reservation_group=m.SubResource(id=spec.capacity_reservation_group_id))


def _diagnostics(spec: VmSpec) -> m.DiagnosticsProfile | None:
    if not spec.boot_diagnostics_uri:
        return None
    return m.DiagnosticsProfile(boot_diagnostics=m.BootDiagnostics(enabled=True, storage_uri=spec.boot_diagnostics_uri))
