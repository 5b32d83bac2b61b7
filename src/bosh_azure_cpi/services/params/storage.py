"""Request body for the default (stemcell) storage account."""

from __future__ import annotations

from azure.mgmt.storage import models as m


def build_storage_account_params(location: str, tags: dict[str, str]) -> m.StorageAccountCreateParameters:
    """Standard_LRS StorageV2, HTTPS only, TLS 1.2, no public blob access: what a stemcell account needs."""
    return m.StorageAccountCreateParameters(
        sku=m.Sku(name="Standard_LRS"),
        kind="StorageV2",
        location=location,
        tags=dict(tags),
        properties=m.StorageAccountPropertiesCreateParameters(
            enable_https_traffic_only=True,
            minimum_tls_version="TLS1_2",
            allow_blob_public_access=False,
        ),
    )
