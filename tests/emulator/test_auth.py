"""Entra ID emulation (azure-identity/MSAL against the emulator) and ARM's bearer-token checks."""

from __future__ import annotations

import jwt
import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import CertificateCredential, ClientSecretCredential
from azure.mgmt.compute import ComputeManagementClient

from arm_emulator import AppRegistration, ArmEmulator
from arm_emulator.requestlog import TOKEN
from arm_emulator.tls import client_certificate
from tests.emulator.conftest import GALLERY_API, GALLERY_PATH, Raw
from tests.peers import CLIENT_ID, GALLERY, RESOURCE_GROUP, SUBSCRIPTION_ID, TENANT_ID, Peers, mgmt_kwargs


def _secret_credential(arm: ArmEmulator, secret: str, tenant: str = TENANT_ID) -> ClientSecretCredential:
    return ClientSecretCredential(
        tenant,
        CLIENT_ID,
        secret,
        authority=arm.url,
        disable_instance_discovery=True,
        connection_verify=str(arm.ca_path),
    )


def test_client_secret_credential_gets_a_token_arm_accepts(peers: Peers, arm: ArmEmulator) -> None:
    mark = arm.requests.mark()
    credential = _secret_credential(arm, "fake-client-secret")
    with ComputeManagementClient(credential, SUBSCRIPTION_ID, **mgmt_kwargs(peers)) as client:
        assert client.galleries.get(RESOURCE_GROUP, GALLERY).name == GALLERY
    token_paths = [e.path for e in arm.requests.select(kinds=(TOKEN,), since=mark)]
    assert token_paths == [
        f"/{TENANT_ID}/v2.0/.well-known/openid-configuration",
        f"/{TENANT_ID}/oauth2/v2.0/token",
    ]


def test_certificate_credential_gets_a_token_arm_accepts(peers: Peers, arm: ArmEmulator) -> None:
    pem_with_key, cert_pem = client_certificate()
    arm.register_client(AppRegistration(tenant_id=TENANT_ID, client_id="cert-client", certificate_pem=cert_pem))
    credential = CertificateCredential(
        TENANT_ID,
        "cert-client",
        certificate_data=pem_with_key,
        authority=arm.url,
        disable_instance_discovery=True,
        connection_verify=str(arm.ca_path),
    )
    with ComputeManagementClient(credential, SUBSCRIPTION_ID, **mgmt_kwargs(peers)) as client:
        assert client.galleries.get(RESOURCE_GROUP, GALLERY).name == GALLERY


def test_certificate_not_registered_for_the_app_is_refused(arm: ArmEmulator) -> None:
    _, registered = client_certificate()
    other_pem, _ = client_certificate()
    arm.register_client(AppRegistration(tenant_id=TENANT_ID, client_id="cert-client-2", certificate_pem=registered))
    credential = CertificateCredential(
        TENANT_ID,
        "cert-client-2",
        certificate_data=other_pem,
        authority=arm.url,
        disable_instance_discovery=True,
        connection_verify=str(arm.ca_path),
    )
    with pytest.raises(ClientAuthenticationError, match="AADSTS700027"):
        credential.get_token(f"{arm.url}/.default")


def test_wrong_client_secret_is_refused_by_the_token_endpoint(arm: ArmEmulator) -> None:
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        _secret_credential(arm, "not-the-secret").get_token(f"{arm.url}/.default")


def test_unknown_tenant_is_refused(arm: ArmEmulator) -> None:
    with pytest.raises(ClientAuthenticationError):
        _secret_credential(arm, "fake-client-secret", tenant="99999999-0000-0000-0000-000000000000").get_token(
            f"{arm.url}/.default"
        )


def _get_gallery(arm: ArmEmulator, headers: dict[str, str]) -> requests.Response:
    return requests.get(
        f"{arm.url}{GALLERY_PATH}",
        params={"api-version": GALLERY_API},
        headers=headers,
        verify=str(arm.ca_path),
        timeout=30,
    )


def test_request_without_token_is_401_authentication_failed(arm: ArmEmulator) -> None:
    response = _get_gallery(arm, {})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "AuthenticationFailed"
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")


def test_token_not_issued_by_the_emulator_is_401_invalid_token(arm: ArmEmulator) -> None:
    forged = jwt.encode({"aud": arm.url, "exp": 4102444800}, "some-other-key-of-32-bytes-length!", algorithm="HS256")
    response = _get_gallery(arm, {"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_token_for_another_audience_is_401(arm: ArmEmulator) -> None:
    token = _secret_credential(arm, "fake-client-secret").get_token("https://storage.azure.com/.default").token
    response = _get_gallery(arm, {"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "InvalidAuthenticationTokenAudience"


def test_valid_token_passes(raw: Raw) -> None:
    assert raw("GET", GALLERY_PATH).status_code == 200
