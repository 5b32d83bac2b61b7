"""CPI configuration: the ``cpi.json`` rendered by the Ruby Azure CPI's job, read unchanged.

Shape: ``{"cloud": {"plugin": "azure", "properties": {"azure": {...}, "agent": {...}}}}`` (a bare
``{"azure": ..., "agent": ...}`` and YAML files are accepted too). The request ``context`` is deep-merged over
``azure`` (multi-CPI / cpi-config), as the Ruby CPI does. ``load_config`` validates eagerly and names the
offending key; unknown keys are ignored (the Director's context adds some). Keys beyond the Ruby CPI's are
documented in README.md ("Configuration").
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

from bosh_azure_cpi.errors import InvalidArgument
from bosh_azure_cpi.models.fields import Fields
from bosh_azure_cpi.models.refs import ManagedIdentity, SecurityGroupRef, managed_identity, security_group_ref

ENVIRONMENTS = ("AzureCloud", "AzureChinaCloud", "AzureUSGovernment", "AzureGermanCloud", "AzureStack")
CREDENTIALS_SOURCES = ("static", "managed_identity", "workload_identity")
GALLERY_STORAGE_TYPES = ("Standard_LRS", "Standard_ZRS", "Premium_LRS")
DEFAULT_ISV_TRACKING_GUID = "563bbbca-7944-4791-b9c6-8af0928114ac"
# The gallery name pattern of Microsoft's GalleryRP spec (2026-03-03).
_GALLERY_NAME = re.compile(r"^[^_\W][\w\-._]{0,79}(?<![-.])$")

# ARM endpoint, Entra ID authority, token scope, storage suffix per public cloud.
_CLOUDS = {
    "AzureCloud": (
        "https://management.azure.com/",
        "https://login.microsoftonline.com",
        "https://management.azure.com/.default",
        "core.windows.net",
    ),
    "AzureChinaCloud": (
        "https://management.chinacloudapi.cn/",
        "https://login.chinacloudapi.cn",
        "https://management.chinacloudapi.cn/.default",
        "core.chinacloudapi.cn",
    ),
    "AzureUSGovernment": (
        "https://management.usgovcloudapi.net/",
        "https://login.microsoftonline.us",
        "https://management.core.usgovcloudapi.net/.default",
        "core.usgovcloudapi.net",
    ),
}
_STACK_AUTHORITIES = {
    "AzureAD": "https://login.microsoftonline.com",
    "AzureChinaCloudAD": "https://login.chinacloudapi.cn",
}

# Default deadlines (seconds) per CPI method; `azure.timeouts` overrides them.
DEFAULT_TIMEOUTS = {
    "default": 1800,
    "create_stemcell": 7200,
    "delete_stemcell": 1800,
    "create_vm": 2400,
    "delete_vm": 1800,
    "attach_disk": 900,
    "detach_disk": 900,
    "create_disk": 900,
    "snapshot_disk": 1800,
    "replication": 3600,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoints:
    """Where the CPI talks to: derived from ``environment`` / ``azure_stack``, overridable by ``endpoints``."""

    resource_manager: str
    authority: str
    credential_scope: str
    storage_suffix: str
    storage_blob_url: str = ""  # template with {account}, e.g. "http://127.0.0.1:10000/{account}"
    ca_cert: str = ""  # PEM text trusted for the endpoints above (Azure Stack, private clouds, tests)
    tenant_override: str = ""  # "adfs" for Azure Stack with ADFS

    def blob_url(self, account: str) -> str:
        if self.storage_blob_url:
            return self.storage_blob_url.replace("{account}", account).rstrip("/")
        return f"https://{account}.blob.{self.storage_suffix}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Credentials:
    source: str
    tenant_id: str = ""
    client_id: str = ""
    client_secret: str = ""
    certificate: str = ""  # PEM: private key and certificate
    managed_identity_resource_id: str = ""
    token_file: str = ""  # workload identity: federated token file


@dataclass(frozen=True, slots=True, kw_only=True)
class Gallery:
    name: str
    replicas: int
    storage_account_type: str
    target_regions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class AzureConfig:
    environment: str
    endpoints: Endpoints
    credentials: Credentials
    subscription_id: str
    resource_group_name: str
    location: str = ""
    ssh_user: str = "vcap"
    ssh_public_key: str = ""
    use_managed_disks: bool = False
    storage_account_name: str = ""
    default_security_group: SecurityGroupRef | None = None
    default_managed_identity: ManagedIdentity | None = None
    pip_idle_timeout_in_minutes: int = 4
    parallel_upload_thread_num: int = 16
    debug_mode: bool = False
    use_default_account_for_cleaning: bool = False
    keep_failed_vms: bool = False
    enable_telemetry: bool = False
    enable_vm_boot_diagnostics: bool = False
    isv_tracking_guid: str = DEFAULT_ISV_TRACKING_GUID
    gallery: Gallery | None = None
    timeouts: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_TIMEOUTS))
    polling_interval_seconds: float = 5.0  # LRO polling when Azure sends no Retry-After
    request_id: str = ""
    stemcell_api_version: int = 2

    def timeout_for(self, operation: str) -> int:
        return self.timeouts.get(operation, self.timeouts["default"])


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentConfig:
    mbus: str = ""
    ntp: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)  # other `agent` keys, merged into agent settings


@dataclass(frozen=True, slots=True, kw_only=True)
class CpiConfig:
    azure: AzureConfig
    agent: AgentConfig

    def secrets(self) -> list[str]:
        """Values that must never reach a log."""
        creds = self.azure.credentials
        mbus_password = self.agent.mbus.rpartition("@")[0].rpartition(":")[2] if "@" in self.agent.mbus else ""
        return [s for s in (creds.client_secret, creds.certificate, mbus_password) if s]


def load_config(path: str, context: dict[str, Any] | None = None) -> CpiConfig:
    """Read, merge ``context`` over ``azure`` and validate; raises InvalidArgument naming the bad key."""
    properties = _properties(_read_document(str(path)))
    azure = properties.get("azure")
    if not isinstance(azure, dict):
        raise InvalidArgument("'cloud.properties.azure' is required and must be an object")
    merged = _with_job_files(deep_merge(azure, context or {}), os.path.dirname(os.path.abspath(path)))
    props = Fields(properties, "cloud.properties")
    return CpiConfig(azure=parse_azure(Fields(merged, "azure")), agent=_parse_agent(props))


def _with_job_files(azure: dict[str, Any], config_dir: str) -> dict[str, Any]:
    """Add the PEM files the Ruby CPI's job renders next to cpi.json (never into it), unless given inline."""
    certificate = os.path.join(config_dir, "service_principal_certificate.pem")
    if not azure.get("certificate") and not azure.get("client_secret") and os.path.isfile(certificate):
        azure = {**azure, "certificate": _read_text(certificate)}
    stack = azure.get("azure_stack")
    stack_ca = os.path.join(config_dir, "azure_stack_ca_cert.pem")
    if isinstance(stack, dict) and not stack.get("ca_cert") and os.path.isfile(stack_ca):
        azure = {**azure, "azure_stack": {**stack, "ca_cert": _read_text(stack_ca)}}
    return azure


def _read_text(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Return ``base`` with ``override`` merged in recursively (override wins)."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_document(path: str) -> Any:
    try:
        text = _read_text(path)
    except OSError as exc:
        raise InvalidArgument(f"Cannot read CPI config '{path}': {exc.strerror or exc}") from exc
    try:
        return json.loads(text)
    except ValueError as json_error:
        if not path.endswith((".yml", ".yaml")) and text.lstrip().startswith(("{", "[")):
            raise InvalidArgument(f"CPI config '{path}' is not valid JSON: {json_error}") from json_error
    import yaml  # noqa: PLC0415 - only YAML configs pay for the import

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidArgument(f"CPI config '{path}' is neither valid JSON nor YAML: {exc}") from exc


def _properties(doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise InvalidArgument("CPI config must be an object with 'cloud.properties'")
    if "cloud" not in doc:
        return doc
    cloud = Fields(doc, "").obj("cloud")
    plugin = cloud.raw("plugin", "azure")
    if plugin != "azure":
        raise InvalidArgument(f"'cloud.plugin' must be 'azure', got '{plugin}'")
    properties = cloud.obj("properties").doc
    return dict(properties)


def parse_azure(f: Fields) -> AzureConfig:
    environment = f.choice("environment", ENVIRONMENTS, "AzureCloud")
    if environment == "AzureGermanCloud":
        raise f.fail("environment", "AzureGermanCloud was closed by Microsoft in 2021; it cannot be used")
    use_managed_disks = f.flag("use_managed_disks", False)
    config = AzureConfig(
        environment=environment,
        endpoints=_parse_endpoints(f, environment),
        credentials=_parse_credentials(f),
        subscription_id=f.nonempty("subscription_id"),
        resource_group_name=f.nonempty("resource_group_name"),
        location=f.text("location", ""),
        ssh_user=f.nonempty("ssh_user", "vcap"),
        ssh_public_key=f.nonempty("ssh_public_key"),
        use_managed_disks=use_managed_disks,
        storage_account_name=f.text("storage_account_name", ""),
        default_security_group=security_group_ref(f, "default_security_group"),
        default_managed_identity=managed_identity(f.obj("default_managed_identity")),
        pip_idle_timeout_in_minutes=_idle_timeout(f),
        parallel_upload_thread_num=f.integer("parallel_upload_thread_num", 16, minimum=1),
        debug_mode=f.flag("debug_mode", False),
        use_default_account_for_cleaning=f.flag("use_default_account_for_cleaning", False),
        keep_failed_vms=f.flag("keep_failed_vms", False),
        enable_telemetry=f.flag("enable_telemetry", False),
        enable_vm_boot_diagnostics=f.flag("enable_vm_boot_diagnostics", False),
        isv_tracking_guid=_isv_guid(f),
        gallery=_parse_gallery(f, use_managed_disks),
        timeouts=_parse_timeouts(f.obj("timeouts")),
        polling_interval_seconds=f.number("polling_interval_seconds", 5.0, minimum=0),
        request_id=f.text("request_id", ""),
        stemcell_api_version=f.obj("vm").obj("stemcell").integer("api_version", 2),
    )
    return config


def _parse_endpoints(f: Fields, environment: str) -> Endpoints:
    if environment == "AzureStack":
        base = _stack_endpoints(f.obj("azure_stack"))
    else:
        arm, authority, scope, suffix = _CLOUDS[environment]
        base = Endpoints(resource_manager=arm, authority=authority, credential_scope=scope, storage_suffix=suffix)
    custom = f.obj("endpoints")
    arm = custom.text("resource_manager", base.resource_manager)
    default_scope = base.credential_scope if arm == base.resource_manager else arm.rstrip("/") + "/.default"
    return Endpoints(
        resource_manager=arm,
        authority=custom.text("active_directory", base.authority).rstrip("/"),
        credential_scope=custom.text("credential_scope", default_scope),
        storage_suffix=custom.text("storage_suffix", base.storage_suffix),
        storage_blob_url=custom.text("storage_blob", ""),
        ca_cert=custom.text("ca_cert", base.ca_cert),
        tenant_override=base.tenant_override,
    )


def _stack_endpoints(stack: Fields) -> Endpoints:
    domain = stack.nonempty("domain", "local.azurestack.external")
    prefix = stack.nonempty("endpoint_prefix", "management")
    authentication = stack.choice("authentication", ("AzureAD", "AzureChinaCloudAD", "ADFS"), "AzureAD")
    resource = stack.nonempty("resource")
    adfs = authentication == "ADFS"
    return Endpoints(
        resource_manager=f"https://{prefix}.{domain}/",
        authority=f"https://adfs.{domain}" if adfs else _STACK_AUTHORITIES[authentication],
        credential_scope=resource.rstrip("/") + "/.default",
        storage_suffix=domain,
        ca_cert=stack.text("ca_cert", ""),
        tenant_override="adfs" if adfs else "",
    )


def _parse_credentials(f: Fields) -> Credentials:
    source = f.choice("credentials_source", CREDENTIALS_SOURCES, "static")
    creds = Credentials(
        source=source,
        tenant_id=f.text("tenant_id", ""),
        client_id=f.text("client_id", ""),
        client_secret=f.text("client_secret", ""),
        certificate=f.text("certificate", ""),
        managed_identity_resource_id=f.text("managed_identity_resource_id", ""),
        token_file=f.text("workload_identity_token_file", ""),
    )
    if source == "managed_identity":
        if creds.client_id and creds.managed_identity_resource_id:
            raise f.fail("managed_identity_resource_id", "cannot be combined with 'client_id'; set one")
        return creds
    for key in ("tenant_id", "client_id"):
        if not getattr(creds, key):
            raise f.fail(key, f"is required when credentials_source is '{source}'")
    if source == "workload_identity" and not creds.token_file:
        raise f.fail("workload_identity_token_file", "is required when credentials_source is 'workload_identity'")
    if source == "static" and not (creds.client_secret or creds.certificate):
        raise f.fail("client_secret", "or 'certificate' is required when credentials_source is 'static'")
    return creds


def _idle_timeout(f: Fields) -> int:
    value: int = f.integer("pip_idle_timeout_in_minutes", 4)
    if not 4 <= value <= 30:
        raise f.fail("pip_idle_timeout_in_minutes", f"must be between 4 and 30, got {value}")
    return value


def _isv_guid(f: Fields) -> str:
    value: str = f.text("isv_tracking_guid", DEFAULT_ISV_TRACKING_GUID)
    if len(value) != 36:
        raise f.fail("isv_tracking_guid", f"must be 36 characters long, got {len(value)}")
    return value


def _parse_gallery(f: Fields, use_managed_disks: bool) -> Gallery | None:
    name = f.text("compute_gallery_name", "")
    if not name:
        return None
    if not _GALLERY_NAME.match(name):
        raise f.fail(
            "compute_gallery_name", f"'{name}' is not a valid gallery name (up to 80 letters, digits, '.', '_', '-')"
        )
    if not f.text("location", ""):
        raise f.fail("location", "is required when 'compute_gallery_name' is set (initial replication region)")
    if not use_managed_disks:
        raise f.fail("use_managed_disks", "must be true when 'compute_gallery_name' is set")
    replicas = f.integer("compute_gallery_replicas", 3, minimum=1)
    if replicas > 100:
        raise f.fail("compute_gallery_replicas", f"must be at most 100 (Azure's limit), got {replicas}")
    return Gallery(
        name=name,
        replicas=replicas,
        storage_account_type=f.choice("compute_gallery_storage_account_type", GALLERY_STORAGE_TYPES, "Standard_LRS"),
        target_regions=tuple(f.text_list("compute_gallery_target_regions", [])),
    )


def _parse_timeouts(f: Fields) -> dict[str, int]:
    timeouts = dict(DEFAULT_TIMEOUTS)
    for key in f.doc:
        timeouts[key] = f.integer(key, minimum=1)
    return timeouts


def _parse_agent(props: Fields) -> AgentConfig:
    agent = props.obj("agent")
    ntp = agent.text_list("ntp", None)
    if ntp is None:
        ntp = props.text_list("ntp", [])
    extra = {k: v for k, v in agent.doc.items() if k not in ("mbus", "ntp")}
    return AgentConfig(mbus=agent.text("mbus", ""), ntp=tuple(ntp), extra=extra)
