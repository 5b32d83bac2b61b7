"""Microsoft.Network/publicIPAddresses.

* ``sku.name`` ``Basic`` (the API default) or ``Standard`` (``tier`` Regional); ``publicIPAllocationMethod``
  ``Static`` or ``Dynamic`` (default); a Standard address must be Static → 400
  ``StandardSkuPublicIPAddressesMustBeStatic``;
* ``idleTimeoutInMinutes`` 4-30 (default 4) → else 400 ``PublicIPIdleTimeoutIsOutOfRange`` (emulator
  wording);
* ``ipAddress`` comes from a fake public range: at creation for Static addresses, when a NIC first uses a
  Dynamic one; ``ipConfiguration`` names the NIC ip configuration (or load-balancer frontend) using it;
* DELETE while in use → 400 ``PublicIPAddressCannotBeDeleted`` "Public IP address <id> can not be deleted
  since it is still allocated to resource <ip configuration>. In order to delete the public IP,
  disassociate/detach the Public IP address from the resource. To learn how to do this, see
  aka.ms/deletepublicip."
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from arm_emulator.store import Record
from arm_emulator.types.base import Ctx, Write
from arm_emulator.types.compute_common import as_object, check_enum
from arm_emulator.types.network_common import NetworkType, configs_referencing, new_etag
from arm_emulator.types.network_ip import next_public_address
from arm_emulator.types.network_nic import lb_frontends_using
from arm_emulator.wire import ArmError


def _sku(write: Write) -> str:
    sku = write.body.get("sku")
    name = sku.get("name") if isinstance(sku, dict) else None
    if name is None and write.existing is not None:
        name = write.existing.body.get("sku", {}).get("name")
    return check_enum(name or "Basic", ("Basic", "Standard"), "sku.name")


def _method(props: dict[str, Any]) -> str:
    return check_enum(
        props.get("publicIPAllocationMethod") or "Dynamic", ("Static", "Dynamic"), "publicIPAllocationMethod"
    )


def users_of(ctx: Ctx, record: Record) -> list[str]:
    """Ip configurations (NIC or load-balancer frontend) that use the public IP."""
    return configs_referencing(ctx, record.subscription, "publicIPAddress", record.id) + lb_frontends_using(
        ctx, record.id
    )


class PublicIPAddresses(NetworkType):
    type_name = "Microsoft.Network/publicIPAddresses"

    def validate(self, ctx: Ctx, write: Write) -> None:
        props = as_object(write.body.get("properties"), "properties")
        pip_id = write.path.resource_id()
        if _sku(write) == "Standard" and _method(props) == "Dynamic":
            raise ArmError(
                400,
                "StandardSkuPublicIPAddressesMustBeStatic",
                f"Standard sku publicIp {pip_id} must have AllocationMethod set to Static.",
            )
        timeout = props.get("idleTimeoutInMinutes", 4)
        if isinstance(timeout, bool) or not isinstance(timeout, int) or not 4 <= timeout <= 30:
            raise ArmError(
                400,
                "PublicIPIdleTimeoutIsOutOfRange",
                f"The idle timeout of public IP address {pip_id} is {timeout} minutes; it must be between 4 and 30 "
                "minutes.",
            )

    def build(self, ctx: Ctx, write: Write) -> dict[str, Any]:
        props = copy.deepcopy(as_object(write.body.get("properties"), "properties"))
        old = write.existing.properties() if write.existing is not None else {}
        for key in ("provisioningState", "ipConfiguration", "ipAddress"):
            props.pop(key, None)
        props["publicIPAllocationMethod"] = _method(props)
        props.setdefault("publicIPAddressVersion", "IPv4")
        props.setdefault("idleTimeoutInMinutes", 4)
        props["ipTags"] = props.get("ipTags") or []
        props["resourceGuid"] = old.get("resourceGuid") or str(uuid.uuid4())
        address = old.get("ipAddress")
        if address is None and props["publicIPAllocationMethod"] == "Static":
            address = next_public_address(ctx)
        if address is not None:
            props["ipAddress"] = address
        body: dict[str, Any] = {
            "etag": new_etag(),
            "sku": {"name": _sku(write), "tier": "Regional"},
            "properties": props,
        }
        zones = write.body.get("zones") or (write.existing.body.get("zones") if write.existing is not None else None)
        if zones:
            body["zones"] = list(zones)
        return body

    def render(self, ctx: Ctx, record: Record, query: Any) -> dict[str, Any]:
        body = record.snapshot()
        users = users_of(ctx, record)
        if users:
            body["properties"]["ipConfiguration"] = {"id": users[0]}
        return body

    def check_delete(self, ctx: Ctx, record: Record) -> None:
        users = users_of(ctx, record)
        if users:
            raise ArmError(
                400,
                "PublicIPAddressCannotBeDeleted",
                f"Public IP address {record.id} can not be deleted since it is still allocated to resource {users[0]}. "
                "In order to delete the public IP, disassociate/detach the Public IP address from the resource.  To "
                "learn how to do this, see aka.ms/deletepublicip.",
            )
