"""Microsoft.Storage/storageAccounts, shaped after azure-mgmt-storage 25.3.0 (api-version 2026-09-01).

* create: 202 + ``Location`` (``…/providers/Microsoft.Storage/locations/<loc>/asyncoperations/<id>?monitor=true``)
  and no body; the monitor answers 202 while running, then 200 with the account; update (PUT on an
  existing account, PATCH) and DELETE are synchronous, as Storage RP does;
* names: 3-24 lower-case letters and digits, globally unique (409 ``StorageAccountAlreadyTaken``);
* ``primaryEndpoints.blob = <blob endpoint>/<account>/`` (path-style, Azurite or the fault proxy);
* ``POST …/listKeys`` returns the backend's key; ``POST /subscriptions/S/providers/Microsoft.Storage/
  checkNameAvailability`` answers ``{nameAvailable, reason, message}``.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import re
from typing import Any

from arm_emulator.faults import OperationFault
from arm_emulator.ids import ArmPath
from arm_emulator.lro import LroStyle
from arm_emulator.store import Record
from arm_emulator.types.base import Ctx, ResourceType, Write
from arm_emulator.wire import ArmError, Reply, Request, iso_time, utc_now

STORAGE_API_VERSIONS = frozenset(
    {
        "2016-01-01", "2016-12-01", "2017-06-01", "2017-10-01", "2018-02-01", "2018-07-01",
        "2018-11-01", "2019-04-01", "2019-06-01", "2021-01-01", "2021-02-01", "2021-04-01",
        "2021-06-01", "2021-08-01", "2021-09-01", "2022-05-01", "2022-09-01", "2023-01-01",
        "2023-04-01", "2023-05-01", "2024-01-01", "2025-01-01", "2025-06-01", "2026-09-01",
    }
)  # fmt: skip
_NAME = re.compile(r"^[a-z0-9]{3,24}$")
SKUS = (
    "Standard_LRS", "Standard_GRS", "Standard_RAGRS", "Standard_ZRS", "Premium_LRS", "Premium_ZRS",
    "Standard_GZRS", "Standard_RAGZRS",
)  # fmt: skip
KINDS = ("Storage", "StorageV2", "BlobStorage", "FileStorage", "BlockBlobStorage")


def _name_problem(name: str) -> str | None:
    if _NAME.match(name):
        return None
    return (
        f"{name} is not a valid storage account name. Storage account name must be between 3 and 24 "
        "characters in length and use numbers and lower-case letters only."
    )


def _deserialize_error(detail: str) -> ArmError:
    return ArmError(
        400, "InvalidRequestContent", f"The request content was invalid and could not be deserialized: '{detail}'."
    )


class StorageAccounts(ResourceType):
    type_name = "Microsoft.Storage/storageAccounts"
    api_versions = STORAGE_API_VERSIONS
    lro = LroStyle(
        namespace="Microsoft.Storage",
        segment="asyncoperations",
        async_header=False,
        create_status=202,
        create_body=False,
        lro_on_update=False,
        lro_on_delete=False,
    )
    actions = frozenset({"listkeys"})
    provider_actions = frozenset({"checknameavailability"})

    def validate_name(self, name: str) -> None:
        problem = _name_problem(name)
        if problem is not None:
            raise ArmError(400, "AccountNameInvalid", problem)

    def validate(self, ctx: Ctx, write: Write) -> None:
        sku = write.body.get("sku")
        if not isinstance(sku, dict) or not isinstance(sku.get("name"), str):
            raise _deserialize_error("Required property 'sku' not found in JSON. Path ''")
        if sku["name"] not in SKUS:
            raise ArmError(400, "SkuNotSupported", f"The sku '{sku['name']}' is not supported.")
        kind = write.body.get("kind")
        if kind not in KINDS:
            raise _deserialize_error(f"Required property 'kind' has an unsupported value {kind!r}. Path 'kind'")
        if write.existing is None:
            taken = _taken(ctx, write.path.name)
            if taken is not None:
                raise ArmError(
                    409, "StorageAccountAlreadyTaken", f"The storage account named {write.path.name} is already taken."
                )

    def build(self, ctx: Ctx, write: Write) -> dict[str, Any]:
        sku = str(write.body["sku"]["name"])
        given = write.properties
        old = write.existing.properties() if write.existing is not None else {}
        created = old.get("creationTime") or iso_time(utc_now())
        props: dict[str, Any] = {
            "keyCreationTime": old.get("keyCreationTime") or {"key1": created, "key2": created},
            "privateEndpointConnections": [],
            "minimumTlsVersion": given.get("minimumTlsVersion", "TLS1_2"),
            "allowBlobPublicAccess": given.get("allowBlobPublicAccess", False),
            "networkAcls": copy.deepcopy(
                given.get("networkAcls")
                or {"bypass": "AzureServices", "virtualNetworkRules": [], "ipRules": [], "defaultAction": "Allow"}
            ),
            "supportsHttpsTrafficOnly": given.get("supportsHttpsTrafficOnly", True),
            "encryption": {
                "services": {"blob": {"keyType": "Account", "enabled": True, "lastEnabledTime": created}},
                "keySource": "Microsoft.Storage",
            },
            "creationTime": created,
            "primaryEndpoints": {"blob": ctx.storage.blob_endpoint(write.path.name)},
            "primaryLocation": write.location or str(write.body.get("location", "")),
            "statusOfPrimary": "available",
        }
        if write.body.get("kind") in ("StorageV2", "BlobStorage"):
            props["accessTier"] = given.get("accessTier", "Hot")
        tier = "Premium" if sku.startswith("Premium") else "Standard"
        return {"sku": {"name": sku, "tier": tier}, "kind": write.body["kind"], "properties": props}

    def render(self, ctx: Ctx, record: Record, query: Any) -> dict[str, Any]:
        body = record.snapshot()
        body["properties"]["primaryEndpoints"] = {"blob": ctx.storage.blob_endpoint(record.name)}
        return body

    def post(
        self, ctx: Ctx, record: Record, action: str, request: Request, fault: OperationFault | None = None
    ) -> Reply:
        if action != "listkeys":
            return super().post(ctx, record, action, request, fault)
        created = record.properties().get("creationTime", iso_time(utc_now()))
        key1 = ctx.storage.key_for(record.name)
        key2 = base64.b64encode(hashlib.sha512(("key2" + record.name).encode()).digest()).decode()
        keys = [
            {"creationTime": created, "keyName": "key1", "value": key1, "permissions": "FULL"},
            {"creationTime": created, "keyName": "key2", "value": key2, "permissions": "FULL"},
        ]
        return Reply(status=200, body={"keys": keys})

    def provider_post(self, ctx: Ctx, path: ArmPath, action: str, request: Request) -> Reply:
        if action != "checknameavailability":
            return super().provider_post(ctx, path, action, request)
        body = request.json_body()
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str):
            raise _deserialize_error("Required property 'name' not found in JSON. Path ''")
        problem = _name_problem(name)
        if problem is not None:
            return Reply(status=200, body={"nameAvailable": False, "reason": "AccountNameInvalid", "message": problem})
        if _taken(ctx, name) is not None:
            message = f"The storage account named {name} is already taken."
            return Reply(status=200, body={"nameAvailable": False, "reason": "AlreadyExists", "message": message})
        return Reply(status=200, body={"nameAvailable": True})


def _taken(ctx: Ctx, name: str) -> Record | None:
    """Storage account names are global: any subscription, any resource group."""
    for record in ctx.store.all():
        if record.type_key == "microsoft.storage/storageaccounts" and record.name.lower() == name.lower():
            return record
    return None
