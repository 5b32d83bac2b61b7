"""Microsoft.Compute/availabilitySets (ComputeRP 2026-04-01): synchronous PUT/PATCH (200, also on create,
as the spec declares), DELETE 200 (204 when absent), no ``provisioningState``.

Rules (messages from Microsoft's "Understand common error messages when you manage virtual machines"):

* ``sku.name`` ``Classic`` (default) or ``Aligned``; ``platformUpdateDomainCount`` 1-20 (default 5),
  ``platformFaultDomainCount`` 1-max (default 2; max = the region's managed fault domains for ``Aligned``
  sets — 2 in West US 2, 3 elsewhere — and 3 for ``Classic``) → 400 ``InvalidParameter`` "The specified
  fault domain count 3 must fall in the range 1 to 2.";
* ``Aligned`` → ``Classic`` → 409 ``OperationNotAllowed`` "Changing availability set SKU from 'Aligned' to
  'Classic' is not allowed."; the domain counts cannot change except while converting to ``Aligned``
  (409 ``PropertyChangeNotAllowed``);
* ``virtualMachines`` is maintained by VM create/delete (ids with upper-cased resource group and name, as
  Compute prints them); deleting a set that still has VMs → 409 ``OperationNotAllowed`` "Availability Set
  <name> cannot be deleted. Before deleting an Availability Set please ensure that it does not contain
  any VM."
"""

from __future__ import annotations

import copy
from typing import Any

from arm_emulator.store import Record
from arm_emulator.types.base import Ctx, ResourceType, Write
from arm_emulator.types.compute_common import COMPUTE_API_VERSIONS, as_object, check_enum, check_int
from arm_emulator.types.sku_catalog import MAX_UPDATE_DOMAINS
from arm_emulator.types.skus import max_fault_domains
from arm_emulator.wire import ArmError, invalid_parameter

SKUS = ("Classic", "Aligned")
CLASSIC_FAULT_DOMAINS = 3


def set_sku(write: Write) -> str:
    sku = write.body.get("sku")
    name = sku.get("name") if isinstance(sku, dict) else None
    if name is None:
        return str(write.existing.body.get("sku", {}).get("name", "Classic")) if write.existing else "Classic"
    return check_enum(name, SKUS, "sku.name")


class AvailabilitySets(ResourceType):
    type_name = "Microsoft.Compute/availabilitySets"
    api_versions = COMPUTE_API_VERSIONS
    sync_create_status = 200
    provisioning_state = False

    def validate(self, ctx: Ctx, write: Write) -> None:
        props = as_object(write.body.get("properties"), "properties")
        sku = set_sku(write)
        old_props = write.existing.properties() if write.existing is not None else {}
        faults = props.get("platformFaultDomainCount", old_props.get("platformFaultDomainCount", 2))
        updates = props.get("platformUpdateDomainCount", old_props.get("platformUpdateDomainCount", 5))
        limit = max_fault_domains(write.location) if sku == "Aligned" else CLASSIC_FAULT_DOMAINS
        _check_count(faults, "platformFaultDomainCount", "fault", limit)
        _check_count(updates, "platformUpdateDomainCount", "update", MAX_UPDATE_DOMAINS)
        if write.existing is not None:
            _check_change(write.existing, sku, faults, updates)

    def build(self, ctx: Ctx, write: Write) -> dict[str, Any]:
        given = copy.deepcopy(as_object(write.body.get("properties"), "properties"))
        old = write.existing.properties() if write.existing is not None else {}
        props: dict[str, Any] = {
            "platformUpdateDomainCount": given.get(
                "platformUpdateDomainCount", old.get("platformUpdateDomainCount", 5)
            ),
            "platformFaultDomainCount": given.get("platformFaultDomainCount", old.get("platformFaultDomainCount", 2)),
            "virtualMachines": copy.deepcopy(old.get("virtualMachines", [])),
        }
        for key in ("proximityPlacementGroup", "scheduledEventsPolicy"):
            if key in given or key in old:
                props[key] = copy.deepcopy(given.get(key, old.get(key)))
        return {"sku": {"name": set_sku(write)}, "properties": props}

    def check_delete(self, ctx: Ctx, record: Record) -> None:
        if record.properties().get("virtualMachines"):
            raise ArmError(
                409,
                "OperationNotAllowed",
                f"Availability Set {record.name} cannot be deleted. Before deleting an Availability Set please "
                "ensure that it does not contain any VM.",
            )


def _check_count(value: Any, name: str, kind: str, limit: int) -> None:
    check_int(value, f"properties.{name}", -(2**31), 2**31 - 1)
    if not 1 <= value <= limit:
        raise invalid_parameter(f"The specified {kind} domain count {value} must fall in the range 1 to {limit}.", name)


def _check_change(existing: Record, sku: str, faults: int, updates: int) -> None:
    old_sku = str(existing.body.get("sku", {}).get("name", "Classic"))
    if old_sku == "Aligned" and sku == "Classic":
        raise ArmError(
            409, "OperationNotAllowed", "Changing availability set SKU from 'Aligned' to 'Classic' is not allowed."
        )
    old = existing.properties()
    converting = old_sku == "Classic" and sku == "Aligned"
    if faults != old.get("platformFaultDomainCount") and not converting:
        raise ArmError(
            409,
            "PropertyChangeNotAllowed",
            "Changing property 'platformFaultDomainCount' is not allowed.",
            target="platformFaultDomainCount",
        )
    if updates != old.get("platformUpdateDomainCount"):
        raise ArmError(
            409,
            "PropertyChangeNotAllowed",
            "Changing property 'platformUpdateDomainCount' is not allowed.",
            target="platformUpdateDomainCount",
        )
