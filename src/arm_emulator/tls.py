"""Self-signed TLS material generated at start: a CA, a server certificate it signs, client certificates.

The server certificate covers ``IP:127.0.0.1`` and ``DNS:localhost``; clients trust the CA PEM
(``connection_verify=<ca.pem>``). Keys are 2048-bit RSA, certificates valid for two days.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALIDITY = dt.timedelta(days=2)


@dataclass(frozen=True, slots=True)
class TlsMaterial:
    """Paths of the generated files; ``ca_pem`` is the CA certificate's PEM text."""

    ca_path: Path
    cert_path: Path
    key_path: Path
    ca_pem: str

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert_path, self.key_path)
        return ctx


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(subject: x509.Name, issuer: x509.Name, key: rsa.RSAPrivateKey) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
    )


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def generate(directory: Path) -> TlsMaterial:
    """Write ``ca.pem``, ``server.pem`` and ``server.key`` into ``directory`` and return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, server_key = _key(), _key()
    ca_name = _name("arm-emulator test CA")
    ca_cert = (
        _builder(ca_name, ca_name, ca_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")])
    server_cert = (
        _builder(_name("127.0.0.1"), ca_name, server_key)
        .add_extension(san, critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    ca_path.write_bytes(_pem(ca_cert))
    cert_path.write_bytes(_pem(server_cert) + _pem(ca_cert))
    key_path.write_bytes(_key_pem(server_key))
    key_path.chmod(0o600)
    return TlsMaterial(ca_path=ca_path, cert_path=cert_path, key_path=key_path, ca_pem=_pem(ca_cert).decode())


def client_certificate(common_name: str = "bosh-azure-cpi-test") -> tuple[bytes, bytes]:
    """A self-signed client certificate: ``(pem with private key + certificate, certificate pem)``.

    The first value is what azure-identity's ``CertificateCredential(certificate_data=…)`` takes; the second
    is what an application registration stores (the emulator verifies client assertions with it).
    """
    key = _key()
    cert = _builder(_name(common_name), _name(common_name), key).sign(key, hashes.SHA256())
    return _key_pem(key) + _pem(cert), _pem(cert)
