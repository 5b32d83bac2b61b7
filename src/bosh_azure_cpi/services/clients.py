"""AzureClients: the credential and every SDK client, built lazily on first use — the only place clients are made.

All clients share one pipeline configuration: the endpoints of the configured cloud (or custom endpoints),
the CA bundle for private clouds, the ISV user agent, short connect timeouts and the one retry policy
(``services.retry``) bounded by the call's deadline. Storage uses a Shared Key from ARM ``listKeys`` (as the Ruby
CPI does) and pins the blob API version the CPI is tested with.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bosh_azure_cpi import __version__, logs
from bosh_azure_cpi.config import AzureConfig
from bosh_azure_cpi.errors import CloudError
from bosh_azure_cpi.models.deadline import Deadline
from bosh_azure_cpi.services.lro import azure_errors
from bosh_azure_cpi.services.retry import CpiRetryPolicy, CpiStorageRetryPolicy

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.network import NetworkManagementClient
    from azure.mgmt.storage import StorageManagementClient
    from azure.storage.blob import BlobServiceClient

logger = logging.getLogger(__name__)

# Newest blob service version that Azurite 3.35.0 (our test peer) accepts; Azure accepts it too. Pinned on purpose:
# azure-storage-blob 12.31.1 defaults to 2026-10-06, which Azurite rejects, and an unpinned default would change
# what the CPI sends whenever the SDK is upgraded.
BLOB_API_VERSION = "2025-11-05"
CONNECT_TIMEOUT_S = 20
READ_TIMEOUT_S = 120


class AzureClients:
    """Lazily built credential and SDK clients for one CPI call."""

    def __init__(self, config: AzureConfig, deadline: Deadline | None = None) -> None:
        self.config = config
        self.deadline = deadline
        self._account_keys: dict[str, str] = {}

    @cached_property
    def ca_file(self) -> str | None:
        """Path of a file holding the configured CA bundle (custom clouds, Azure Stack), or None."""
        pem = self.config.endpoints.ca_cert
        if not pem:
            return None
        if not pem.lstrip().startswith("-----BEGIN"):
            return pem  # a path
        digest = hashlib.sha256(pem.encode()).hexdigest()[:16]
        path = Path(tempfile.gettempdir()) / f"bosh-azure-cpi-ca-{digest}.pem"
        if not path.exists():
            fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".ca-")
            with os.fdopen(fd, "w") as handle:
                handle.write(pem)
            os.replace(temp, path)
        return str(path)

    def pipeline_options(self, policy: type[CpiRetryPolicy] = CpiRetryPolicy) -> dict[str, Any]:
        """Keyword arguments shared by every SDK client and the credential."""
        options: dict[str, Any] = {
            "retry_policy": policy(deadline=self.deadline),
            "user_agent": f"pid-{self.config.isv_tracking_guid} bosh-azure-cpi-python/{__version__}",
            "connection_timeout": CONNECT_TIMEOUT_S,
            "read_timeout": READ_TIMEOUT_S,
            "logging_enable": self.config.debug_mode,
        }
        if self.ca_file:
            options["connection_verify"] = self.ca_file
        return options

    @cached_property
    def credential(self) -> TokenCredential:
        from bosh_azure_cpi.services.credentials import build_credential  # noqa: PLC0415

        return build_credential(self.config, self.pipeline_options())

    def _mgmt_options(self) -> dict[str, Any]:
        endpoints = self.config.endpoints
        return {
            "base_url": endpoints.resource_manager,
            "credential_scopes": [endpoints.credential_scope],
            "polling_interval": self.config.polling_interval_seconds,
            **self.pipeline_options(),
        }

    @cached_property
    def compute(self) -> ComputeManagementClient:
        from azure.mgmt.compute import ComputeManagementClient  # noqa: PLC0415

        return ComputeManagementClient(self.credential, self.config.subscription_id, **self._mgmt_options())

    @cached_property
    def network(self) -> NetworkManagementClient:
        from azure.mgmt.network import NetworkManagementClient  # noqa: PLC0415

        return NetworkManagementClient(self.credential, self.config.subscription_id, **self._mgmt_options())

    @cached_property
    def storage(self) -> StorageManagementClient:
        from azure.mgmt.storage import StorageManagementClient  # noqa: PLC0415

        return StorageManagementClient(self.credential, self.config.subscription_id, **self._mgmt_options())

    def account_key(self, account: str, resource_group: str) -> str:
        """Shared Key of a storage account via ARM ``listKeys`` (once per process)."""
        if account not in self._account_keys:
            with azure_errors(f"Listing the keys of storage account '{account}'"):
                result = self.storage.storage_accounts.list_keys(resource_group, account)
            values = [k["value"] for k in result.as_dict().get("keys", []) if k.get("value")]
            if not values:
                raise CloudError(f"Storage account '{account}' returned no access keys")
            logs.register_secret(values[0])
            self._account_keys[account] = values[0]
        return self._account_keys[account]

    def blob_service(self, account: str, resource_group: str) -> BlobServiceClient:
        from azure.storage.blob import BlobServiceClient  # noqa: PLC0415

        key = self.account_key(account, resource_group)
        return BlobServiceClient(
            self.config.endpoints.blob_url(account),
            credential={"account_name": account, "account_key": key},
            api_version=BLOB_API_VERSION,
            **self.pipeline_options(CpiStorageRetryPolicy),
        )
