"""AzureClients and build_credential: real SDK objects are built (no request is sent) and inspected."""

from __future__ import annotations

import datetime
import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest.mock import create_autospec

import pytest
from azure.identity import (
    CertificateCredential,
    ClientSecretCredential,
    ManagedIdentityCredential,
    WorkloadIdentityCredential,
)
from azure.mgmt.storage import models as sm
from azure.mgmt.storage.operations import StorageAccountsOperations
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from bosh_azure_cpi import __version__, logs
from bosh_azure_cpi.errors import CloudError, InvalidArgument
from bosh_azure_cpi.models.deadline import Deadline
from bosh_azure_cpi.services.clients import BLOB_API_VERSION, AzureClients
from bosh_azure_cpi.services.retry import CpiRetryPolicy, CpiStorageRetryPolicy
from tests.fakes.config import RESOURCE_GROUP, SUBSCRIPTION, fake_azure_config

GUID = "563bbbca-7944-4791-b9c6-8af0928114ac"
FAKE_PEM = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
EMULATOR = {
    "resource_manager": "https://127.0.0.1:8443/",
    "active_directory": "https://127.0.0.1:8443",
    "storage_blob": "http://127.0.0.1:10000/{account}",
}


@pytest.fixture(autouse=True)
def private_tempdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    for name in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET", "IDENTITY_SERVER_THUMBPRINT"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def clients(**config: Any) -> AzureClients:
    return AzureClients(fake_azure_config(**config), Deadline(300))


def policies(pipeline: Any) -> list[Any]:
    """The policies of an azure-core pipeline, unwrapped from their runners."""
    return [getattr(policy, "_policy", policy) for policy in pipeline._impl_policies]


def retry_policy(pipeline: Any) -> Any:
    return next(policy for policy in policies(pipeline) if hasattr(policy, "configure_retries"))


def user_agent(pipeline: Any) -> str:
    return next(policy.user_agent for policy in policies(pipeline) if type(policy).__name__ == "UserAgentPolicy")


def certificate_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-bosh")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem.decode() + cert.public_bytes(serialization.Encoding.PEM).decode()


# --- credentials ---------------------------------------------------------------------------------------------------


def test_static_secret_uses_client_secret_credential_with_the_cpi_retry_policy() -> None:
    made = clients()
    credential = made.credential

    assert isinstance(credential, ClientSecretCredential)
    assert (credential._tenant_id, credential._client_id, credential._client_credential) == (
        "fake-tenant",
        "fake-client",
        "fake-secret",
    )
    assert credential._authority == "https://login.microsoftonline.com"
    assert credential._instance_discovery is not False  # MSAL's default: discovery on
    pipeline = credential._client._pipeline
    policy = retry_policy(pipeline)
    assert isinstance(policy, CpiRetryPolicy) and policy.deadline is made.deadline
    assert user_agent(pipeline).startswith(f"pid-{GUID} bosh-azure-cpi-python/{__version__}")


def test_a_custom_authority_disables_instance_discovery_and_trusts_the_ca() -> None:
    credential = clients(endpoints={**EMULATOR, "ca_cert": FAKE_PEM}).credential
    assert isinstance(credential, ClientSecretCredential)
    assert credential._authority == "https://127.0.0.1:8443"
    assert credential._instance_discovery is False
    assert Path(credential._client._pipeline._transport.connection_config.verify).read_text() == FAKE_PEM


def test_static_certificate_uses_certificate_credential() -> None:
    credential = clients(client_secret=None, certificate=certificate_pem()).credential
    assert isinstance(credential, CertificateCredential)
    assert (credential._tenant_id, credential._client_id) == ("fake-tenant", "fake-client")


def test_an_unusable_certificate_is_an_invalid_argument() -> None:
    with pytest.raises(InvalidArgument, match="'azure.certificate' is not a usable PEM certificate"):
        _ = clients(client_secret=None, certificate=FAKE_PEM).credential


def test_workload_identity_reads_the_federated_token_file() -> None:
    made = clients(
        credentials_source="workload_identity", client_secret=None, workload_identity_token_file="/fake/token"
    )
    credential = made.credential
    assert isinstance(credential, WorkloadIdentityCredential)
    assert credential._token_file_path == "/fake/token"
    assert (credential._client._tenant_id, credential._client._client_id) == ("fake-tenant", "fake-client")
    assert retry_policy(credential._client._pipeline).deadline is made.deadline


@pytest.mark.parametrize(
    ("settings", "client_id", "identity_config"),
    [
        ({}, None, {}),
        ({"client_id": "fake-user-assigned"}, "fake-user-assigned", {}),
        ({"managed_identity_resource_id": "/fake/identity"}, None, {"resource_id": "/fake/identity"}),
    ],
)
def test_managed_identity_variants(
    settings: dict[str, str], client_id: str | None, identity_config: dict[str, str]
) -> None:
    overrides: dict[str, Any] = {"credentials_source": "managed_identity", "client_secret": None, "client_id": None}
    credential = clients(**{**overrides, "tenant_id": None, **settings}).credential
    assert isinstance(credential, ManagedIdentityCredential)
    assert credential._credential._settings == {"client_id": client_id, "identity_config": identity_config}


def test_azure_stack_adfs_uses_the_adfs_tenant_and_authority() -> None:
    stack = {"domain": "fake.stack", "authentication": "ADFS", "resource": "https://management.fake/abc"}
    credential = clients(environment="AzureStack", azure_stack=stack).credential
    assert isinstance(credential, ClientSecretCredential)
    assert (credential._tenant_id, credential._authority) == ("adfs", "https://adfs.fake.stack")
    assert credential._instance_discovery is False


# --- CA file and pipeline options -------------------------------------------------------------------------------


def test_the_ca_bundle_is_written_once_and_shared(private_tempdir: Path) -> None:
    first = clients(endpoints={"ca_cert": FAKE_PEM}).ca_file
    assert first is not None and Path(first).parent == private_tempdir
    assert Path(first).read_text() == FAKE_PEM
    Path(first).write_text("fake-marker")  # a second process must not rewrite it

    assert clients(endpoints={"ca_cert": FAKE_PEM}).ca_file == first
    assert Path(first).read_text() == "fake-marker"
    assert [p.name for p in private_tempdir.iterdir()] == [Path(first).name]


def test_a_ca_path_is_used_as_is_and_no_ca_means_system_trust() -> None:
    assert clients(endpoints={"ca_cert": "/etc/fake/ca.pem"}).ca_file == "/etc/fake/ca.pem"
    assert clients().ca_file is None
    assert "connection_verify" not in clients().pipeline_options()


def test_pipeline_options_share_one_configuration() -> None:
    made = clients(debug_mode=True, endpoints={"ca_cert": FAKE_PEM})
    options = made.pipeline_options()
    policy = options.pop("retry_policy")
    assert type(policy) is CpiRetryPolicy and policy.deadline is made.deadline
    assert options == {
        "user_agent": f"pid-{GUID} bosh-azure-cpi-python/{__version__}",
        "connection_timeout": 20,
        "read_timeout": 120,
        "logging_enable": True,
        "connection_verify": made.ca_file,
    }
    assert type(made.pipeline_options(CpiStorageRetryPolicy)["retry_policy"]) is CpiStorageRetryPolicy


# --- clients ----------------------------------------------------------------------------------------------------


def test_management_clients_use_the_endpoints_polling_interval_and_retry_policy() -> None:
    made = clients(endpoints={**EMULATOR, "ca_cert": FAKE_PEM}, polling_interval_seconds=0.25)
    compute = made.compute

    assert made.compute is compute  # built once
    assert compute._config.base_url == "https://127.0.0.1:8443/"
    assert compute._config.credential_scopes == ["https://127.0.0.1:8443/.default"]
    assert compute._config.polling_interval == 0.25
    assert compute._config.subscription_id == SUBSCRIPTION
    pipeline = compute._client._pipeline
    assert retry_policy(pipeline).deadline is made.deadline
    assert vars(pipeline._transport.connection_config) | {"data_block_size": 0} == {
        "timeout": 20, "read_timeout": 120, "verify": made.ca_file, "cert": None, "data_block_size": 0,
    }  # fmt: skip
    assert user_agent(pipeline).startswith(f"pid-{GUID} bosh-azure-cpi-python/")
    for client in (made.network, made.storage):
        assert client._config.polling_interval == 0.25
        assert retry_policy(client._client._pipeline).deadline is made.deadline


def test_blob_service_uses_a_listed_key_once_the_pinned_version_and_the_storage_policy() -> None:
    made = clients(endpoints=EMULATOR)
    accounts = create_autospec(StorageAccountsOperations, instance=True)
    keys = {"keys": [{"keyName": "key1", "value": "ZmFrZS1rZXk="}, {"keyName": "key2", "value": "b3RoZXI="}]}
    accounts.list_keys.return_value = sm.StorageAccountListKeysResult(keys)
    made.storage = SimpleNamespace(storage_accounts=accounts)  # type: ignore[assignment]

    service = made.blob_service("fakeaccount", RESOURCE_GROUP)
    made.blob_service("fakeaccount", RESOURCE_GROUP)

    accounts.list_keys.assert_called_once_with(RESOURCE_GROUP, "fakeaccount")
    assert service.url.rstrip("/") == "http://127.0.0.1:10000/fakeaccount"
    assert service.api_version == BLOB_API_VERSION
    assert service.credential.account_key == "ZmFrZS1rZXk="
    policy = retry_policy(service._pipeline)
    assert type(policy) is CpiStorageRetryPolicy and policy.deadline is made.deadline
    assert "ZmFrZS1rZXk=" not in logs.redact("key ZmFrZS1rZXk= leaked")  # registered as a secret


def test_an_account_without_keys_is_a_cloud_error() -> None:
    made = clients()
    accounts = create_autospec(StorageAccountsOperations, instance=True)
    accounts.list_keys.return_value = sm.StorageAccountListKeysResult({"keys": []})
    made.storage = SimpleNamespace(storage_accounts=accounts)  # type: ignore[assignment]
    with pytest.raises(CloudError, match="returned no access keys"):
        made.account_key("fakeaccount", RESOURCE_GROUP)
