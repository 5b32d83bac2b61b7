"""Secret hygiene through bin/cpi: with a configuration full of recognisable secrets and every debug switch on
(``azure.debug_mode``, which also turns on the SDKs' HTTP body logging, and ``AZURE_LOG_LEVEL=DEBUG``), succeeding
and failing calls never show a secret in stdout, stderr or the ``log`` field, tracebacks included.

Secrets: a client secret (and a wrong one that Entra ID refuses), a certificate's private key (PEM), the storage
account keys the CPI reads with ``listKeys``, the NATS password in ``agent.mbus`` and the secrets the Director puts
into ``env`` (delivered to the VM in customData). No configuration key takes a SAS URL and the CPI makes no SAS; a SAS URL in ``env`` stands for them.
Each secret is searched for as is, URL-encoded, JSON-escaped, base64-encoded (at every alignment) and line by line.
"""

from __future__ import annotations

import base64
import datetime
import json
import subprocess
import urllib.parse
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from azure.mgmt.storage import StorageManagementClient
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from arm_emulator import AppRegistration
from arm_emulator.faults import FailOperation, FaultRule
from bench import fixtures
from tests import peers as P  # noqa: N812 - short alias for the harness
from tests.integration import vm_support as V  # noqa: N812

MIB = 1024 * 1024
SECRET_CLIENT = "5ecc1d00-0000-4000-8000-00000000c1e7"
CERT_CLIENT = "5ecc1d00-0000-4000-8000-00000000ce27"
CLIENT_SECRET = "q8Q~Zx9Client.Secret-4a7fb2c1d0e9HkW"
WRONG_SECRET = "r2W~Yy7Wrong.Secret-9e8d7c6b5a4f3JqP"
MBUS_PASSWORD = "Mbus-Pa55word-7b3e9f1a"
ENV_PASSWORD = "$6$rounds=5000$EnvSaltSecret$9xKq2PassHashSecret"
SAS_SIGNATURE = "Zm9yZ2VkU2FzU2lnbmF0dXJlRm9yVGVzdHM%2Bx9Q%3D"
BLOBSTORE_SAS_URL = (
    f"https://blobs.example.net/bosh?sv=2022-11-02&ss=b&srt=co&sp=rwdl&se=2027-01-01&sig={SAS_SIGNATURE}"
)
DEBUG_ENV = {"AZURE_LOG_LEVEL": "DEBUG"}  # azure-core's switch; the CPI's own is azure.debug_mode


# ---- secrets and their encodings ----------------------------------------------------------------------------------


def base64_cores(secret: bytes) -> set[str]:
    """The characters of base64(secret) that do not depend on what precedes or follows it, at each alignment."""
    cores = set()
    for pad in range(3):
        encoded = base64.b64encode(bytes(pad) + secret).decode()
        cores.add(encoded[-(-8 * pad // 6) : -4])
    return cores


def forms(secret: str) -> set[str]:
    """``secret`` as it could appear in output: raw, URL-encoded, JSON-escaped, base64, each line of a PEM."""
    found = {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret), json.dumps(secret)[1:-1]}
    found |= base64_cores(secret.encode())
    found |= {line.strip() for line in secret.splitlines() if len(line.strip()) >= 16}
    return {text for text in found if len(text) >= 12}


def key_pair() -> tuple[str, str]:
    """A PKCS#8 private key PEM and a self-signed certificate PEM for it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bosh-cpi-secrets-test")])
    now = datetime.datetime.now(datetime.UTC)
    builder = x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
    builder = builder.serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
    cert = builder.not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256())
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return private.decode(), cert.public_bytes(serialization.Encoding.PEM).decode()


def storage_keys(peers: P.Peers) -> list[str]:
    """Every key ``listKeys`` answers for the default storage account (the CPI uses the first)."""
    with StorageManagementClient(P.credential(peers), P.SUBSCRIPTION_ID, **P.mgmt_kwargs(peers)) as client:
        listed = client.storage_accounts.list_keys(P.RESOURCE_GROUP, P.STORAGE_ACCOUNT)
    return [str(key["value"]) for key in listed.as_dict().get("keys", []) if key.get("value")]


# ---- running bin/cpi with debugging on ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Output:
    """Everything a call showed: raw stdout, stderr and the parsed response."""

    stdout: str
    stderr: str
    response: P.CpiResponse

    def texts(self) -> Iterator[tuple[str, str]]:
        yield "stdout", self.stdout
        yield "stderr", self.stderr
        yield "log", self.response.log
        yield "error", json.dumps(self.response.error)


@dataclass(frozen=True, slots=True)
class Debugging:
    """Runs bin/cpi like the Director, plus ``AZURE_LOG_LEVEL``, with a config of ``azure`` overrides and
    ``debug_mode: true``; records every output."""

    peers: P.Peers
    workdir: Path
    outputs: list[Output]

    def config(self, name: str, **azure: Any) -> Path:
        doc = P.cpi_config(self.peers, debug_mode=True, **azure)
        doc["cloud"]["properties"]["agent"]["mbus"] = f"nats://nats:{MBUS_PASSWORD}@10.0.0.4:4222"
        return P.write_cpi_config(self.workdir / name, doc)

    def __call__(self, config: Path, method: str, *arguments: Any) -> P.CpiResponse:
        request = {"method": method, "arguments": list(arguments), "context": {"request_id": "cpi-secrets"},
                   "api_version": 2}  # fmt: skip
        env = {"PATH": P.DIRECTOR_PATH, "TMPDIR": str(self.workdir), "HOME": str(self.workdir), **DEBUG_ENV}
        proc = subprocess.run(
            [str(P.ROOT / "bin" / "cpi"), str(config)],
            input=json.dumps(request).encode(),
            capture_output=True,
            env=env,
            timeout=300,
            check=False,
        )
        stderr = proc.stderr.decode(errors="replace")
        response = P.parse_response(proc.returncode, proc.stdout, stderr)
        self.outputs.append(Output(proc.stdout.decode(errors="replace"), stderr, response))
        return response


def leaks(outputs: Iterable[Output], secrets: dict[str, str]) -> list[str]:
    """``"<secret name> in <call n>'s <stream>"`` for every form of every secret found."""
    found = []
    for index, output in enumerate(outputs):
        for stream, text in output.texts():
            found += [f"{name} in call {index}'s {stream}" for name, secret in secrets.items()
                      if any(form in text for form in forms(secret))]  # fmt: skip
    return found


# ---- the test -----------------------------------------------------------------------------------------------------


@pytest.fixture
def debugging(peers: P.Peers, tmp_path: Path) -> Iterator[Debugging]:
    yield Debugging(peers, tmp_path, [])
    peers.emulator.faults.clear()


def test_no_secret_reaches_stdout_stderr_or_the_log(peers, debugging, tmp_path):
    private_key, certificate = key_pair()
    peers.emulator.register_client(AppRegistration(P.TENANT_ID, SECRET_CLIENT, secret=CLIENT_SECRET))
    peers.emulator.register_client(AppRegistration(P.TENANT_ID, CERT_CLIENT, certificate_pem=certificate.encode()))
    env_key, _ = key_pair()
    env = {
        "bosh": {"password": ENV_PASSWORD, "mbus": {"cert": {"private_key": env_key}}},
        "blobstore": {"provider": "dav", "options": {"endpoint": BLOBSTORE_SAS_URL}},  # a SAS token in env
    }
    secrets = {
        "client secret": CLIENT_SECRET,
        "wrong client secret": WRONG_SECRET,
        "certificate private key": private_key,
        "NATS password": MBUS_PASSWORD,
        "env password": ENV_PASSWORD,
        "env private key": env_key,
        "env SAS signature": urllib.parse.unquote(SAS_SIGNATURE),
        "env SAS signature (URL-encoded)": SAS_SIGNATURE,
        **{f"storage key {i + 1}": key for i, key in enumerate(storage_keys(peers))},
    }

    with_secret = debugging.config("secret.json", client_id=SECRET_CLIENT, client_secret=CLIENT_SECRET)
    with_cert = debugging.config("cert.json", client_id=CERT_CLIENT, client_secret=P.DELETE,
                                 certificate=private_key + certificate)  # fmt: skip
    wrong_secret = debugging.config("wrong.json", client_id=SECRET_CLIENT, client_secret=WRONG_SECRET)
    key_only = debugging.config("key-only.json", client_id=CERT_CLIENT, client_secret=P.DELETE, certificate=private_key)

    fx = fixtures.build_stemcell(tmp_path / "stemcell", 8 * MIB, version="501.0", compresslevel=1)
    stemcell = debugging(with_secret, "create_stemcell", str(fx.image), fx.cloud_properties).unwrap()
    agent_id = str(uuid.uuid4())
    arguments = [stemcell, {"instance_type": "Standard_D2s_v5"}, {"private": V.dynamic()}, [], env]
    vm = debugging(with_cert, "create_vm", agent_id, *arguments).unwrap()[0]
    peers.emulator.faults.add(FaultRule(FailOperation("InternalServerError", "Boom."), "PUT", "/virtualMachines/"))
    assert debugging(with_secret, "create_vm", str(uuid.uuid4()), *arguments).error is not None
    assert debugging(wrong_secret, "has_vm", vm).error is not None  # Entra ID refuses the secret
    assert debugging(key_only, "has_vm", vm).error is not None  # a PEM without its certificate
    assert debugging(with_secret, "create_stemcell", str(tmp_path / "absent"), fx.cloud_properties).error is not None
    debugging(with_cert, "delete_vm", vm).unwrap()
    debugging(with_secret, "delete_stemcell", stemcell).unwrap()

    logs = "".join(output.response.log for output in debugging.outputs)
    assert "Response content:" in logs and "Request body:" in logs, "the SDKs' HTTP body logging was not on"
    assert "Traceback (most recent call last)" in logs
    found = leaks(debugging.outputs, secrets)
    assert not found, "secrets shown: " + "; ".join(found)
