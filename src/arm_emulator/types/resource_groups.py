"""Microsoft.Resources/resourceGroups: synchronous create/update, long-running delete (202 + Location).

Deleting a group deletes everything in it once the operation ends. Moving an existing group to another
region is refused with 409 ``InvalidResourceGroupLocation``.
"""

from __future__ import annotations

from typing import Any

from arm_emulator.lro import LroStyle
from arm_emulator.store import Record
from arm_emulator.types.base import Ctx, ResourceType, Write
from arm_emulator.wire import ArmError

# api-versions ARM serves for Microsoft.Resources (resource groups, generic resource listing).
RESOURCES_API_VERSIONS = frozenset(
    {
        "2015-01-01", "2015-11-01", "2016-02-01", "2016-06-01", "2016-07-01", "2016-09-01",
        "2017-05-10", "2018-02-01", "2018-05-01", "2019-03-01", "2019-05-01", "2019-05-10",
        "2019-07-01", "2019-08-01", "2019-10-01", "2020-06-01", "2020-08-01", "2020-10-01",
        "2021-01-01", "2021-04-01", "2022-09-01", "2023-07-01", "2024-03-01", "2024-07-01",
        "2024-11-01", "2025-03-01", "2025-04-01",
    }
)  # fmt: skip


class ResourceGroups(ResourceType):
    type_name = "Microsoft.Resources/resourceGroups"
    api_versions = RESOURCES_API_VERSIONS
    lro = LroStyle(
        namespace="Microsoft.Resources",
        segment="operationresults",
        async_header=False,
        create_status=201,
        lro_on_create=False,
        lro_on_update=False,
    )

    def build(self, ctx: Ctx, write: Write) -> dict[str, Any]:
        body: dict[str, Any] = {"properties": {"provisioningState": "Succeeded"}}
        managed_by = write.body.get("managedBy")
        if isinstance(managed_by, str):
            body["managedBy"] = managed_by
        return body

    def location_conflict(self, record: Record, requested: str) -> ArmError:
        return ArmError(
            409,
            "InvalidResourceGroupLocation",
            f"Invalid resource group location '{requested}'. The Resource group already exists in location "
            f"'{record.body.get('location')}'.",
        )
