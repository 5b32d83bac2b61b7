"""Build the azure-identity credential for ``credentials_source``: static (client secret or certificate),
managed identity (system, user-assigned by client id or resource id) or workload identity (federated token file).

Custom authorities (Azure Stack, private clouds, the local emulator) skip MSAL's instance discovery. Token
requests to Entra ID use the CPI's retry policy (bounded by the call's deadline).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from bosh_azure_cpi.config import AzureConfig
from bosh_azure_cpi.errors import InvalidArgument
from bosh_azure_cpi.services.retry import CpiRetryPolicy

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

_PUBLIC_AUTHORITIES = (
    "https://login.microsoftonline.com",
    "https://login.chinacloudapi.cn",
    "https://login.microsoftonline.us",
)


def build_credential(config: AzureConfig, pipeline_options: dict[str, Any]) -> TokenCredential:
    creds = config.credentials
    options = {k: v for k, v in pipeline_options.items() if k in ("connection_verify", "user_agent")}
    if creds.source == "managed_identity":
        return _managed_identity(config, options)  # IMDS keeps azure-identity's own retry policy (410, 404 ...)
    retry = pipeline_options.get("retry_policy")
    if isinstance(retry, CpiRetryPolicy):
        # azure-identity ignores a ``retry_policy`` instance; it builds its pipeline's from ``retry_policy_class``
        options["retry_policy_class"] = partial(type(retry), deadline=retry.deadline)
    authority = config.endpoints.authority
    options["authority"] = authority
    if authority.rstrip("/") not in _PUBLIC_AUTHORITIES:
        options["disable_instance_discovery"] = True
    tenant = config.endpoints.tenant_override or creds.tenant_id
    if creds.source == "workload_identity":
        from azure.identity import WorkloadIdentityCredential  # noqa: PLC0415

        return WorkloadIdentityCredential(
            tenant_id=tenant, client_id=creds.client_id, token_file_path=creds.token_file, **options
        )
    if creds.client_secret:
        from azure.identity import ClientSecretCredential  # noqa: PLC0415

        return ClientSecretCredential(tenant, creds.client_id, creds.client_secret, **options)
    return _certificate(tenant, creds.client_id, creds.certificate, options)


def _certificate(tenant: str, client_id: str, pem: str, options: dict[str, Any]) -> TokenCredential:
    from azure.identity import CertificateCredential  # noqa: PLC0415

    try:
        return CertificateCredential(tenant, client_id, certificate_data=pem.encode(), **options)
    except ValueError as exc:
        raise InvalidArgument(f"'azure.certificate' is not a usable PEM certificate with private key: {exc}") from exc


def _managed_identity(config: AzureConfig, options: dict[str, Any]) -> TokenCredential:
    from azure.identity import ManagedIdentityCredential  # noqa: PLC0415

    creds = config.credentials
    if creds.managed_identity_resource_id:
        return ManagedIdentityCredential(identity_config={"resource_id": creds.managed_identity_resource_id}, **options)
    if creds.client_id:
        return ManagedIdentityCredential(client_id=creds.client_id, **options)
    return ManagedIdentityCredential(**options)
