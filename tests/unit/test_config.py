from __future__ import annotations

import json

import pytest

from bosh_azure_cpi.config import DEFAULT_TIMEOUTS, load_config
from bosh_azure_cpi.errors import InvalidArgument


def test_reads_the_ruby_jobs_cpi_json_unchanged(write_config):
    config = load_config(write_config())
    azure = config.azure
    assert (azure.environment, azure.subscription_id, azure.resource_group_name) == (
        "AzureCloud",
        "11111111-2222-3333-4444-555555555555",
        "rg-bosh",
    )
    assert azure.location == "eastus"
    assert azure.credentials.source == "static"
    assert azure.credentials.client_secret == "fake-client-secret-Zx9!q"
    assert azure.endpoints.resource_manager == "https://management.azure.com/"
    assert azure.endpoints.authority == "https://login.microsoftonline.com"
    assert azure.endpoints.blob_url("acct") == "https://acct.blob.core.windows.net"
    assert azure.default_security_group is not None and azure.default_security_group.name == "nsg-bosh"
    assert azure.gallery is not None
    assert (azure.gallery.name, azure.gallery.replicas, azure.gallery.storage_account_type) == (
        "bosh_gallery",
        3,
        "Standard_LRS",
    )
    assert config.agent.mbus == "nats://nats:fake-nats-password@10.0.0.6:4222"
    assert config.agent.ntp == ("0.pool.ntp.org", "1.pool.ntp.org")


def test_every_optional_property_has_the_ruby_cpis_default(write_config):
    path = write_config(
        **{
            k: None
            for k in (
                "credentials_source",
                "environment",
                "ssh_user",
                "parallel_upload_thread_num",
                "pip_idle_timeout_in_minutes",
                "debug_mode",
                "use_default_account_for_cleaning",
                "keep_failed_vms",
                "enable_telemetry",
                "enable_vm_boot_diagnostics",
                "isv_tracking_guid",
                "compute_gallery_name",
                "compute_gallery_replicas",
                "default_security_group",
                "location",
            )
        }
    )
    azure = load_config(path).azure
    assert azure.environment == "AzureCloud"
    assert azure.credentials.source == "static"
    assert azure.ssh_user == "vcap"
    assert azure.parallel_upload_thread_num == 16
    assert azure.pip_idle_timeout_in_minutes == 4
    assert (azure.debug_mode, azure.use_default_account_for_cleaning, azure.keep_failed_vms) == (False, False, False)
    assert (azure.enable_telemetry, azure.enable_vm_boot_diagnostics) == (False, False)
    assert azure.isv_tracking_guid == "563bbbca-7944-4791-b9c6-8af0928114ac"
    assert azure.gallery is None
    assert azure.default_security_group is None
    assert azure.timeouts == DEFAULT_TIMEOUTS
    assert azure.stemcell_api_version == 2


def test_gallery_replicas_default_to_three(write_config):
    gallery = load_config(write_config(compute_gallery_replicas=None)).azure.gallery
    assert gallery is not None and gallery.replicas == 3


def test_context_is_merged_over_azure_properties(write_config):
    context = {
        "director_uuid": "d-1",
        "request_id": "cpi-123456",
        "vm": {"stemcell": {"api_version": 3}},
        "resource_group_name": "rg-from-cpi-config",
        "compute_gallery_replicas": 5,
    }
    azure = load_config(write_config(), context).azure
    assert azure.resource_group_name == "rg-from-cpi-config"
    assert azure.gallery is not None and azure.gallery.replicas == 5
    assert (azure.request_id, azure.stemcell_api_version) == ("cpi-123456", 3)


def test_yaml_configs_are_accepted(tmp_path):
    path = tmp_path / "cpi.yml"
    path.write_text(
        "cloud:\n  plugin: azure\n  properties:\n    azure:\n      subscription_id: s\n      resource_group_name: rg\n"
        "      tenant_id: t\n      client_id: c\n      client_secret: x\n      ssh_public_key: ssh-rsa A\n"
    )
    assert load_config(path).azure.subscription_id == "s"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"subscription_id": None}, "'azure.subscription_id' is required"),
        ({"resource_group_name": ""}, "'azure.resource_group_name' must not be empty"),
        ({"ssh_public_key": None}, "'azure.ssh_public_key' is required"),
        ({"environment": "Mars"}, "'azure.environment' must be one of"),
        ({"environment": "AzureGermanCloud"}, "AzureGermanCloud was closed"),
        ({"credentials_source": "magic"}, "'azure.credentials_source' must be one of static, managed_identity"),
        ({"tenant_id": None}, "'azure.tenant_id' is required when credentials_source is 'static'"),
        ({"client_secret": None}, "'azure.client_secret' or 'certificate' is required"),
        ({"pip_idle_timeout_in_minutes": 31}, "'azure.pip_idle_timeout_in_minutes' must be between 4 and 30, got 31"),
        ({"parallel_upload_thread_num": 0}, "'azure.parallel_upload_thread_num' must be at least 1"),
        ({"isv_tracking_guid": "short"}, "'azure.isv_tracking_guid' must be 36 characters long"),
        ({"location": None}, "'azure.location' is required when 'compute_gallery_name' is set"),
        ({"use_managed_disks": False}, "'azure.use_managed_disks' must be true when 'compute_gallery_name' is set"),
        ({"compute_gallery_replicas": 0}, "'azure.compute_gallery_replicas' must be at least 1"),
        ({"compute_gallery_replicas": 101}, "must be at most 100"),
        ({"compute_gallery_replicas": "three"}, "'azure.compute_gallery_replicas' must be an integer, got string"),
        ({"compute_gallery_name": "bad name!"}, "is not a valid gallery name"),
        ({"compute_gallery_storage_account_type": "Premium_ZRS"}, "compute_gallery_storage_account_type"),
        ({"default_managed_identity": {"type": "UserAssigned"}}, "user_assigned_identity_name' is required"),
        ({"default_security_group": ""}, "'azure.default_security_group' cannot be an empty string"),
        ({"timeouts": {"create_vm": 0}}, "'azure.timeouts.create_vm' must be at least 1"),
        ({"environment": "AzureStack"}, "'azure.azure_stack.resource' is required"),
    ],
)
def test_validation_names_the_offending_key(write_config, overrides, message):
    with pytest.raises(InvalidArgument) as caught:
        load_config(write_config(**overrides))
    assert message in caught.value.message


def test_missing_or_broken_files_give_clear_errors(tmp_path):
    with pytest.raises(InvalidArgument, match="Cannot read CPI config"):
        load_config(tmp_path / "absent.json")
    broken = tmp_path / "cpi.json"
    broken.write_text('{"cloud": ')
    with pytest.raises(InvalidArgument, match="not valid JSON"):
        load_config(broken)
    plugin = tmp_path / "other.json"
    plugin.write_text(json.dumps({"cloud": {"plugin": "aws", "properties": {}}}))
    with pytest.raises(InvalidArgument, match="'cloud.plugin' must be 'azure'"):
        load_config(plugin)


@pytest.mark.parametrize(
    ("environment", "arm", "authority", "scope", "suffix"),
    [
        ("AzureChinaCloud", "https://management.chinacloudapi.cn/", "https://login.chinacloudapi.cn",
         "https://management.chinacloudapi.cn/.default", "core.chinacloudapi.cn"),
        ("AzureUSGovernment", "https://management.usgovcloudapi.net/", "https://login.microsoftonline.us",
         "https://management.core.usgovcloudapi.net/.default", "core.usgovcloudapi.net"),
    ],
)  # fmt: skip
def test_sovereign_clouds_have_their_endpoints(write_config, environment, arm, authority, scope, suffix):
    endpoints = load_config(write_config(environment=environment)).azure.endpoints
    assert (endpoints.resource_manager, endpoints.authority) == (arm, authority)
    assert (endpoints.credential_scope, endpoints.storage_suffix) == (scope, suffix)


def test_azure_stack_endpoints_and_ca_file_next_to_cpi_json(write_config, tmp_path):
    (tmp_path / "azure_stack_ca_cert.pem").write_text("-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n")
    stack = {"domain": "stack.example", "authentication": "ADFS", "resource": "https://management.adfs.stack.example/x"}
    endpoints = load_config(write_config(environment="AzureStack", azure_stack=stack)).azure.endpoints
    assert endpoints.resource_manager == "https://management.stack.example/"
    assert endpoints.authority == "https://adfs.stack.example"
    assert endpoints.tenant_override == "adfs"
    assert endpoints.credential_scope == "https://management.adfs.stack.example/x/.default"
    assert endpoints.storage_suffix == "stack.example"
    assert "BEGIN CERTIFICATE" in endpoints.ca_cert


def test_certificate_is_read_from_the_file_the_ruby_job_renders(write_config, tmp_path):
    (tmp_path / "service_principal_certificate.pem").write_text(
        "-----BEGIN PRIVATE KEY-----\nk\n-----END PRIVATE KEY-----"
    )
    creds = load_config(write_config(client_secret=None)).azure.credentials
    assert "BEGIN PRIVATE KEY" in creds.certificate


def test_custom_endpoints_override_the_cloud(write_config):
    endpoints = load_config(
        write_config(
            endpoints={
                "resource_manager": "https://127.0.0.1:8443/",
                "active_directory": "https://127.0.0.1:8443/",
                "storage_blob": "http://127.0.0.1:10000/{account}",
                "ca_cert": "-----BEGIN CERTIFICATE-----",
            }
        )
    ).azure.endpoints
    assert endpoints.resource_manager == "https://127.0.0.1:8443/"
    assert endpoints.authority == "https://127.0.0.1:8443"
    assert endpoints.credential_scope == "https://127.0.0.1:8443/.default"
    assert endpoints.blob_url("devstoreaccount1") == "http://127.0.0.1:10000/devstoreaccount1"


def test_managed_identity_accepts_client_id_or_resource_id_but_not_both(write_config):
    creds = load_config(write_config(credentials_source="managed_identity", client_secret=None, tenant_id=None)).azure
    assert creds.credentials.source == "managed_identity"
    with pytest.raises(InvalidArgument, match="cannot be combined"):
        load_config(write_config(credentials_source="managed_identity", managed_identity_resource_id="/sub/x"))


def test_secrets_lists_credentials(write_config):
    assert load_config(write_config()).secrets() == ["fake-client-secret-Zx9!q", "fake-nats-password"]
