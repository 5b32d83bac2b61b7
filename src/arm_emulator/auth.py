"""A tiny Entra ID: OIDC discovery + client-credentials token endpoint, and ARM's bearer-token check.

What MSAL 1.39 (via azure-identity's ``ClientSecretCredential`` / ``CertificateCredential`` with
``authority=<emulator URL>`` and ``disable_instance_discovery=True``) calls:

* ``GET /<tenant>/v2.0/.well-known/openid-configuration`` → endpoints for that tenant;
* ``POST /<tenant>/oauth2/v2.0/token`` with ``grant_type=client_credentials``, ``scope=<resource>/.default``
  and either ``client_secret`` or a ``client_assertion`` JWT signed with the registered certificate.

Tokens are HS256 JWTs signed with a per-emulator random key: ``aud`` is the scope's resource, ``exp`` is
one hour ahead. Error bodies copy Entra ID's shape (``error``, ``error_description`` starting with the
AADSTS code, ``error_codes``, ``timestamp``, ``trace_id``, ``correlation_id``, ``error_uri``).
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from arm_emulator.wire import ArmError, Reply, Request, utc_now

TOKEN_LIFETIME = 3600
_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# Audiences ARM accepts besides the emulator's own URL (what real ARM accepts for the public cloud).
PUBLIC_ARM_AUDIENCES = ("https://management.azure.com", "https://management.core.windows.net")


@dataclass(frozen=True, slots=True)
class AppRegistration:
    """An application (service principal) of a tenant with a secret and/or a certificate."""

    tenant_id: str
    client_id: str
    secret: str | None = None
    certificate_pem: bytes | None = None


class Directory:
    """Tenants, app registrations, token issuing and bearer validation."""

    def __init__(self) -> None:
        self._apps: dict[tuple[str, str], AppRegistration] = {}
        self._signing_key = secrets.token_bytes(32)
        self.tokens_issued = 0

    def register(self, app: AppRegistration) -> None:
        """Add or replace an app registration (tenant and client ids compared case-insensitively)."""
        self._apps[(app.tenant_id.lower(), app.client_id.lower())] = app

    def _tenant_known(self, tenant: str) -> bool:
        return any(t == tenant.lower() for t, _ in self._apps)

    # ---- Entra ID endpoints -------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply | None:
        """Answer discovery and token requests; None when the path is not an Entra ID path."""
        segs = [s for s in request.path.split("/") if s]
        if len(segs) >= 2 and segs[-2:] == [".well-known", "openid-configuration"]:
            return self._discovery(request, segs[0])
        if len(segs) == 4 and segs[1:] == ["oauth2", "v2.0", "token"] and request.method == "POST":
            return self._token(request, segs[0])
        return None

    def _discovery(self, request: Request, tenant: str) -> Reply:
        if not self._tenant_known(tenant):
            return _aad_error(400, "invalid_tenant", 90002, f"Tenant '{tenant}' not found.")
        base = f"{request.base_url}/{tenant}"
        doc = {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{base}/v2.0",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "tenant_region_scope": "WW",
            "cloud_instance_name": "microsoftonline.com",
        }
        return Reply(status=200, body=doc)

    def _token(self, request: Request, tenant: str) -> Reply:
        form = dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
        if form.get("grant_type") != "client_credentials":
            return _aad_error(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
        if not self._tenant_known(tenant):
            return _aad_error(400, "invalid_request", 90002, f"Tenant '{tenant}' not found.")
        client_id = form.get("client_id", "")
        app = self._apps.get((tenant.lower(), client_id.lower()))
        if app is None:
            return _aad_error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory '{tenant}'.",
            )
        failure = self._check_client(app, form, f"{request.base_url}/{tenant}/oauth2/v2.0/token")
        if failure is not None:
            return failure
        resource = _resource_of(form.get("scope", ""))
        return Reply(status=200, body=self._issue(app, resource, request.base_url), headers=_no_store())

    def _check_client(self, app: AppRegistration, form: Mapping[str, str], endpoint: str) -> Reply | None:
        if "client_secret" in form:
            if app.secret is not None and secrets.compare_digest(form["client_secret"], app.secret):
                return None
            return _aad_error(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                f"secret value, not the client secret ID, for a secret added to app '{app.client_id}'.",
            )
        if form.get("client_assertion_type") == _ASSERTION_TYPE and "client_assertion" in form:
            return self._check_assertion(app, form["client_assertion"], endpoint)
        return _aad_error(
            401,
            "invalid_client",
            7000216,
            "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
        )

    def _check_assertion(self, app: AppRegistration, assertion: str, endpoint: str) -> Reply | None:
        if app.certificate_pem is None:
            return _aad_error(401, "invalid_client", 700027, "Client assertion contains an invalid signature.")
        key = x509.load_pem_x509_certificate(app.certificate_pem).public_key()
        try:
            claims = jwt.decode(
                assertion,
                key=key,  # type: ignore[arg-type]
                algorithms=["RS256", "PS256"],
                audience=endpoint,
                options={"require": ["exp", "aud", "iss", "sub"]},
            )
        except jwt.PyJWTError as exc:
            return _aad_error(
                401,
                "invalid_client",
                700027,
                f"Client assertion failed signature validation. [Reason - {exc}, Thumbprint of key used by "
                f"client: '{_thumbprint(app.certificate_pem)}']",
            )
        if claims.get("iss") != app.client_id or claims.get("sub") != app.client_id:
            return _aad_error(401, "invalid_client", 700021, "Client assertion application identifier mismatch.")
        return None

    def _issue(self, app: AppRegistration, resource: str, base_url: str) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "aud": resource,
            "iss": f"{base_url}/{app.tenant_id}/v2.0",
            "iat": now,
            "nbf": now,
            "exp": now + TOKEN_LIFETIME,
            "appid": app.client_id,
            "tid": app.tenant_id,
            "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, app.client_id)),
            "sub": app.client_id,
            "idtyp": "app",
            "ver": "1.0",
        }
        self.tokens_issued += 1
        token = jwt.encode(claims, self._signing_key, algorithm="HS256")
        return {
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME,
            "ext_expires_in": TOKEN_LIFETIME,
            "access_token": token,
        }

    # ---- ARM side -----------------------------------------------------------------------------------

    def check_bearer(self, headers: Mapping[str, str], audiences: Iterable[str]) -> dict[str, Any]:
        """Validate ``Authorization: Bearer <token>``; return the claims or raise ArmError 401."""
        header = headers.get("authorization")
        if header is None:
            raise _arm_401("AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _arm_401(
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is provided in an invalid format.",
            )
        try:
            claims: dict[str, Any] = jwt.decode(
                token.strip(), self._signing_key, algorithms=["HS256"], options={"verify_aud": False}
            )
        except jwt.ExpiredSignatureError as exc:
            now = utc_now().strftime("%m/%d/%Y %H:%M:%S")
            raise _arm_401(
                "ExpiredAuthenticationToken",
                f"The access token expiry UTC time is earlier than current UTC time '{now}'.",
            ) from exc
        except jwt.PyJWTError as exc:
            raise _arm_401("InvalidAuthenticationToken", "The access token is invalid.") from exc
        allowed = {a.rstrip("/") for a in audiences}
        if str(claims.get("aud", "")).rstrip("/") not in allowed:
            raise _arm_401(
                "InvalidAuthenticationTokenAudience",
                f"The access token has been obtained for wrong audience or resource '{claims.get('aud')}'. "
                "It should exactly match with one of the allowed audiences "
                + ",".join(f"'{a}'" for a in sorted(allowed))
                + ".",
            )
        return claims


def _resource_of(scope: str) -> str:
    """``https://x/.default`` → ``https://x`` (the first scope wins, as Entra ID v2 does)."""
    scopes = scope.split()
    first = scopes[0] if scopes else ""
    return first.removesuffix("/.default")


def _thumbprint(cert_pem: bytes) -> str:
    cert = x509.load_pem_x509_certificate(cert_pem)
    return cert.fingerprint(cert.signature_hash_algorithm or _sha1()).hex().upper()


def _sha1() -> hashes.HashAlgorithm:
    return hashes.SHA1()  # noqa: S303 - thumbprints are SHA-1 by definition


def _no_store() -> dict[str, str]:
    return {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}


def _aad_error(status: int, error: str, code: int, description: str) -> Reply:
    trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
    stamp = utc_now().strftime("%Y-%m-%d %H:%M:%SZ")
    body = {
        "error": error,
        "error_description": f"AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {correlation} "
        f"Timestamp: {stamp}",
        "error_codes": [code],
        "timestamp": stamp,
        "trace_id": trace,
        "correlation_id": correlation,
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    }
    return Reply(status=status, body=body, headers=_no_store())


def _arm_401(code: str, message: str) -> ArmError:
    challenge = (
        f'Bearer authorization_uri="https://login.windows.net/", error="invalid_token", error_description="{message}"'
    )
    return ArmError(401, code, message, headers={"WWW-Authenticate": challenge})
