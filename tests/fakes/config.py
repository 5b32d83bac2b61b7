"""An ``AzureConfig`` for service tests, parsed like ``cpi.json`` (so defaults and validation are the real ones)."""

from __future__ import annotations

from typing import Any

from bosh_azure_cpi.config import AzureConfig, parse_azure
from bosh_azure_cpi.models.fields import Fields

SUBSCRIPTION = "fake-subscription"
RESOURCE_GROUP = "fake-rg"
GALLERY = "fake-gallery"
ACCOUNT = "fakeaccount"


def fake_azure_config(**overrides: Any) -> AzureConfig:
    """Gallery mode in eastus with a configured storage account; ``None`` removes a key."""
    doc: dict[str, Any] = {
        "environment": "AzureCloud",
        "subscription_id": SUBSCRIPTION,
        "resource_group_name": RESOURCE_GROUP,
        "location": "eastus",
        "tenant_id": "fake-tenant",
        "client_id": "fake-client",
        "client_secret": "fake-secret",
        "ssh_public_key": "ssh-rsa fake",
        "use_managed_disks": True,
        "storage_account_name": ACCOUNT,
        "compute_gallery_name": GALLERY,
        "compute_gallery_replicas": 3,
    }
    for key, value in overrides.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    return parse_azure(Fields(doc, "azure"))
