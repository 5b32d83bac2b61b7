"""The BOSH agent settings delivered in the VM's ``customData`` (base64 JSON), as the Ruby Azure CPI writes them.

Linux: ``{"server": {"name": <vm cid>}, "dns": {"nameserver": [...]}, "vm": {"name"}, "agent_id", "networks"
(each with ``use_dhcp: true``: Azure hands out static IPs over DHCP, and ``alias: eth<n>`` when its ``nic_group``
names a NIC, so the agent can put several networks on one interface), "disks" ({"system": "/dev/sda",
"persistent": {}, "ephemeral": <LUN 0 hint>}), "env"}`` plus the CPI config's ``agent`` hash (``mbus``, ``ntp``...)
merged last. Windows adds ``instance-id`` and names the server by its computer name. Compact JSON: Azure
limits decoded custom data to 65535 bytes, which several PEM certificates in ``env`` can approach.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from bosh_azure_cpi.errors import InvalidArgument

SCSI_HOST_DEVICE_ID = "{f8b3781b-1e82-4818-a1c3-63d806ec15bb}"
CUSTOM_DATA_LIMIT = 65535  # bytes of decoded custom data ("the maximum length of the binary array is 65535 bytes")


def disk_hint(lun: int) -> dict[str, str]:
    """The hint the agent resolves a data disk with: the LUN (a string) on Hyper-V's SCSI controller."""
    return {"lun": str(lun), "host_device_id": SCSI_HOST_DEVICE_ID}


def check_fits(env: dict[str, Any], networks: dict[str, Any]) -> None:
    """InvalidArgument when ``env`` and ``networks`` alone already exceed the custom data limit, so create_vm
    refuses them before it creates anything (the full document is checked again by :meth:`custom_data`)."""
    size = len(json.dumps({"env": env, "networks": networks}, separators=(",", ":")).encode())
    if size > CUSTOM_DATA_LIMIT:
        raise _too_large(f"{size} bytes or more")


def _too_large(size: str) -> InvalidArgument:
    return InvalidArgument(
        f"The agent settings are {size}, over Azure's custom data limit of {CUSTOM_DATA_LIMIT} "
        "bytes; reduce the size of 'env' (for example certificates or blobstore options)"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentSettings:
    vm_cid: str
    vm_name: str
    agent_id: str
    networks: dict[str, Any]
    dns: tuple[str, ...]
    env: dict[str, Any]
    agent_config: dict[str, Any]
    ephemeral_lun: int | None = 0
    windows_computer_name: str = ""
    aliases: dict[str, str] = field(default_factory=dict)  # explicit nic_group -> "eth<NIC index>"

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {}
        if self.windows_computer_name:
            doc["instance-id"] = self.vm_cid
            doc["server"] = {"name": self.windows_computer_name}
        else:
            doc["server"] = {"name": self.vm_cid}
        if self.dns:
            doc["dns"] = {"nameserver": list(self.dns)}
        disks: dict[str, Any] = {"system": "/dev/sda", "persistent": {}}
        if self.ephemeral_lun is not None:
            disks["ephemeral"] = disk_hint(self.ephemeral_lun)
        doc.update(
            vm={"name": self.vm_name},
            agent_id=self.agent_id,
            networks={name: self._network(spec) for name, spec in self.networks.items()},
            disks=disks,
        )
        if self.env:
            doc["env"] = self.env
        doc.update(self.agent_config)
        return doc

    def _network(self, spec: dict[str, Any]) -> dict[str, Any]:
        settings = {**spec, "use_dhcp": True}
        alias = self.aliases.get(spec.get("nic_group") or "")
        if alias:
            settings["alias"] = alias
        return settings

    def custom_data(self) -> str:
        """Base64 of the compact JSON document; InvalidArgument when over Azure's custom data limit."""
        raw = json.dumps(self.document(), separators=(",", ":")).encode()
        if len(raw) > CUSTOM_DATA_LIMIT:
            raise _too_large(f"{len(raw)} bytes")
        return base64.b64encode(raw).decode("ascii")
