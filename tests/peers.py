"""Test peers for integration tests, ``make demo`` and benchmarks: Azurite, the storage fault proxy, the ARM
emulator, a seeded environment, CPI config files and a ``bin/cpi`` runner that behaves like the Director.

Typical use::

    with running_peers(workdir, traffic_dir=ROOT / ".traffic") as peers:
        config = write_cpi_config(workdir / "cpi.json", cpi_config(peers))
        response = run_cpi(config, "info", [], workdir=workdir)

Everything started here is stopped when the context exits, also when the body raises (Azurite's whole
process group is terminated). Importable as ``tests.peers`` from the repository root.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from arm_emulator import AppRegistration, ArmEmulator, EmulatorOptions
from arm_emulator.blobs import AZURITE_ACCOUNT, AZURITE_KEY, BLOB_API_VERSION
from arm_emulator.storage_proxy import StorageFaultProxy
from tests.peers_seed import seed_gallery, seed_network, seed_resource_group, seed_storage_account

ROOT = Path(__file__).resolve().parent.parent
AZURITE_BIN = ROOT / "tools" / "node" / "node_modules" / ".bin" / "azurite-blob"
SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000001"
TENANT_ID = "00000000-0000-0000-0000-00000000aaaa"
CLIENT_ID = "00000000-0000-0000-0000-00000000cccc"
CLIENT_SECRET = "fake-client-secret"
RESOURCE_GROUP = "bosh-rg"
LOCATION = "eastus"
STORAGE_ACCOUNT = AZURITE_ACCOUNT
STORAGE_KEY = AZURITE_KEY
GALLERY = "bosh_gallery"
CONTAINERS = ("bosh", "stemcell")
DIRECTOR_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
DELETE = object()  # cpi_config(...) override value that removes a key


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Azurite:
    """``azurite-blob`` in memory on a free port, in its own process group (blob API ≤ 2025-11-05)."""

    def __init__(self, workdir: Path, extent_memory_mb: int = 1024) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.extent_memory_mb = extent_memory_mb
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> Azurite:
        if not AZURITE_BIN.exists():
            raise RuntimeError(f"{AZURITE_BIN} is missing: run `make node`")
        command = [
            str(AZURITE_BIN), "--inMemoryPersistence", "--blobHost", "127.0.0.1", "--blobPort", str(self.port),
            "--disableTelemetry", "--silent", "--extentMemoryLimit", str(self.extent_memory_mb),
        ]  # fmt: skip
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = (self.workdir / "azurite.log").open("wb")
        with log:
            self._proc = subprocess.Popen(
                command, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        _wait_for_port(self.port, timeout, self._proc)
        return self

    def cpu_seconds(self) -> float:
        """User + system CPU seconds used so far by the running Azurite (0.0 when it is not running)."""
        if self._proc is None:
            return 0.0
        try:
            fields = Path(f"/proc/{self._proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _wait_for_port(port: int, timeout: float, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"azurite exited with {proc.returncode}; see its log")
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"azurite did not listen on port {port} within {timeout} s")


@dataclass(frozen=True, slots=True)
class Peers:
    """Running peers: ``emulator`` (ARM + Entra ID), ``proxy`` (fault proxy in front of ``azurite``)."""

    emulator: ArmEmulator
    proxy: StorageFaultProxy
    azurite: Azurite
    workdir: Path

    @property
    def blob_endpoint(self) -> str:
        """Base URL of the blob service as clients should use it (through the fault proxy)."""
        return self.proxy.url

    def account_url(self, account: str = STORAGE_ACCOUNT) -> str:
        return f"{self.proxy.url}/{account}"


# ---- SDK clients against the peers ------------------------------------------------------------------------


def credential(peers: Peers) -> Any:
    from azure.identity import ClientSecretCredential

    emulator = peers.emulator
    return ClientSecretCredential(
        TENANT_ID,
        CLIENT_ID,
        CLIENT_SECRET,
        authority=emulator.url,
        disable_instance_discovery=True,
        connection_verify=str(emulator.ca_path),
    )


def mgmt_kwargs(peers: Peers, **extra: Any) -> dict[str, Any]:
    """Keyword arguments for ``ComputeManagementClient`` & co. pointing at the emulator."""
    emulator = peers.emulator
    return {
        "base_url": emulator.url,
        "credential_scopes": [f"{emulator.url}/.default"],
        "connection_verify": str(emulator.ca_path),
        "polling_interval": 0,
        **extra,
    }


def blob_service(peers: Peers, account: str = STORAGE_ACCOUNT, key: str = STORAGE_KEY) -> Any:
    from azure.storage.blob import BlobServiceClient

    credential = {"account_name": account, "account_key": key}
    return BlobServiceClient(peers.account_url(account), credential=credential, api_version=BLOB_API_VERSION)


# ---- seeding (the seeders live in tests/peers_seed.py) ---------------------------------------------------

# Seeders run in order by running_peers(): resource group, storage account (+ containers), gallery, network.
DEFAULT_SEEDERS: tuple[Callable[[Peers], None], ...] = (
    seed_resource_group,
    seed_storage_account,
    seed_gallery,
    seed_network,
)


@contextlib.contextmanager
def running_peers(
    workdir: Path,
    *,
    traffic_dir: Path | None = None,
    seeders: Sequence[Callable[[Peers], None]] = DEFAULT_SEEDERS,
    extent_memory_mb: int = 1024,
) -> Iterator[Peers]:
    """Start Azurite, the fault proxy and the emulator, register the test client, run ``seeders``."""
    workdir.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        azurite = Azurite(workdir / "azurite", extent_memory_mb).start()
        stack.callback(azurite.stop)
        proxy = StorageFaultProxy(azurite.url).start()
        stack.callback(proxy.stop)
        options = EmulatorOptions(storage_endpoint=proxy.url, traffic_dir=traffic_dir, state_dir=workdir / "arm")
        emulator = ArmEmulator(options).start()
        stack.callback(emulator.stop)
        emulator.add_subscription(SUBSCRIPTION_ID)
        emulator.register_client(AppRegistration(tenant_id=TENANT_ID, client_id=CLIENT_ID, secret=CLIENT_SECRET))
        peers = Peers(emulator=emulator, proxy=proxy, azurite=azurite, workdir=workdir)
        for seed in seeders:
            seed(peers)
        yield peers


@contextlib.contextmanager
def not_recorded(emulator: ArmEmulator) -> Iterator[None]:
    """Suspend oav traffic recording (for requests that are deliberately outside the spec)."""
    directory = emulator.options.traffic_dir
    emulator.set_traffic_dir(None)
    try:
        yield
    finally:
        emulator.set_traffic_dir(directory)


def session_traffic_dir(config: object, directory: Path | None = None) -> Path:
    """``.traffic/`` (or ``$ARM_TRAFFIC_DIR``), emptied once per pytest session (``config`` is pytest's config
    object), so the emulator and integration suites record into one directory that ``tools.validate_traffic``
    checks (``--traffic-dir`` for another directory)."""
    if directory is None:
        directory = Path(os.environ.get("ARM_TRAFFIC_DIR") or ROOT / ".traffic")
    marker = "_bosh_azure_cpi_traffic_reset"
    if not getattr(config, marker, False):
        directory.mkdir(parents=True, exist_ok=True)
        for old in directory.glob("*.json"):
            old.unlink()
        setattr(config, marker, True)
    return directory


# ---- CPI configuration ------------------------------------------------------------------------------------


def ssh_public_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    blob = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return blob.decode() + " bosh-test"


def cpi_config(peers: Peers, **azure_overrides: Any) -> dict[str, Any]:
    """The Ruby job's ``cpi.json`` shape pointing at the peers.

    Keyword arguments override keys of ``cloud.properties.azure`` (dict values merge recursively, e.g.
    ``endpoints={"ca_cert": DELETE}``); the value :data:`DELETE` removes a key.
    """
    emulator = peers.emulator
    azure: dict[str, Any] = {
        "environment": "AzureCloud",
        "subscription_id": SUBSCRIPTION_ID,
        "resource_group_name": RESOURCE_GROUP,
        "location": LOCATION,
        "tenant_id": TENANT_ID,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "ssh_user": "vcap",
        "ssh_public_key": ssh_public_key(),
        "use_managed_disks": True,
        "storage_account_name": STORAGE_ACCOUNT,
        "compute_gallery_name": GALLERY,
        "compute_gallery_replicas": 3,
        "parallel_upload_thread_num": 4,
        "polling_interval_seconds": 0.05,  # the emulator answers Retry-After: 0
        "endpoints": {
            "resource_manager": f"{emulator.url}/",
            "active_directory": emulator.url,
            "storage_blob": f"{peers.blob_endpoint}/{{account}}",
            "ca_cert": emulator.ca_pem,
        },
    }
    agent = {"mbus": "nats://nats:nats-password@10.0.0.4:4222", "ntp": ["0.pool.ntp.org"]}
    return {"cloud": {"plugin": "azure", "properties": {"azure": _merge(azure, azure_overrides), "agent": agent}}}


def _merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in overrides.items():
        if value is DELETE:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def write_cpi_config(path: Path, config: Mapping[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config, indent=2))
    return path


# ---- running bin/cpi like the Director --------------------------------------------------------------------


class CpiProtocolError(AssertionError):
    """``bin/cpi`` broke the protocol (exit code, stdout framing or response shape)."""


@dataclass(frozen=True, slots=True)
class CpiResponse:
    """A parsed CPI response plus what the process wrote to stderr."""

    result: Any
    error: dict[str, Any] | None
    log: str
    stderr: str

    def unwrap(self) -> Any:
        """The result; raise AssertionError with the CPI error when there is one."""
        if self.error is not None:
            raise AssertionError(f"CPI error {self.error}\n--- stderr ---\n{self.stderr[-4000:]}")
        return self.result


def run_cpi(
    config_path: Path,
    method: str,
    arguments: Sequence[Any],
    *,
    workdir: Path,
    context: Mapping[str, Any] | None = None,
    api_version: int | None = 2,
    timeout: float = 600.0,
) -> CpiResponse:
    """Run ``bin/cpi <config>`` as the Director does: cleared environment (``PATH``, ``TMPDIR``, ``HOME``),
    request on stdin without a newline, stdin closed, stdout and stderr read to EOF."""
    request: dict[str, Any] = {
        "method": method,
        "arguments": list(arguments),
        "context": dict(context or {"director_uuid": "fake-director-uuid", "request_id": "cpi-123456"}),
    }
    if api_version is not None:
        request["api_version"] = api_version
    home, tmp = workdir / "home", workdir / "tmp"
    home.mkdir(parents=True, exist_ok=True)
    tmp.mkdir(parents=True, exist_ok=True)
    env = {"PATH": DIRECTOR_PATH, "TMPDIR": str(tmp), "HOME": str(home)}
    proc = subprocess.Popen(
        [str(ROOT / "bin" / "cpi"), str(config_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=workdir,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(json.dumps(request).encode(), timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    return parse_response(proc.returncode, out, err.decode(errors="replace"))


def parse_response(exit_code: int, stdout: bytes, stderr: str) -> CpiResponse:
    """Check the response the way the Director does (plus exit code 0, as bosh-cli requires)."""
    context = f"\n--- stdout ---\n{stdout[-2000:]!r}\n--- stderr ---\n{stderr[-4000:]}"
    if exit_code != 0:
        raise CpiProtocolError(f"bin/cpi exited with {exit_code}{context}")
    try:
        body = json.loads(stdout)
    except ValueError as exc:
        raise CpiProtocolError(f"stdout is not one JSON document: {exc}{context}") from exc
    if not isinstance(body, dict) or set(body) != {"result", "error", "log"}:
        raise CpiProtocolError(f"response must have exactly result/error/log{context}")
    error = body["error"]
    if not isinstance(body["log"], str):
        raise CpiProtocolError(f"log must be a string{context}")
    if error is not None and not (
        isinstance(error, dict)
        and set(error) == {"type", "message", "ok_to_retry"}
        and isinstance(error["type"], str)
        and isinstance(error["message"], str)
        and isinstance(error["ok_to_retry"], bool)
    ):
        raise CpiProtocolError(f"error must be null or {{type, message, ok_to_retry}}{context}")
    return CpiResponse(result=body["result"], error=error, log=body["log"], stderr=stderr)
