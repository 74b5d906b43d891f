"""The emulated Entra ID in-process: over HTTPS with requests, and through MSAL itself where MSAL is the client."""
import base64
import json
import time

import jwt
import msal
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from emulator.constants import ARM_RESOURCE, AZURE_DEVOPS_RESOURCE, AZ_CLI_CLIENT_ID
from emulator.directory import TENANT_A, TENANT_B
from emulator.entra.common import (GRANT_CLIENT_CREDENTIALS, GRANT_DEVICE_CODE, GRANT_MANAGED_IDENTITY,
                                   GRANT_REFRESH_TOKEN)

DEVOPS_SCOPE = AZURE_DEVOPS_RESOURCE + "/.default"
ARM_SCOPE = ARM_RESOURCE + "/.default"
USER_SCOPES = DEVOPS_SCOPE + " openid profile offline_access"


@pytest.fixture
def entra(emulator):
    return emulator.services["login"]


def _get(emulator, path, **kwargs):
    return requests.get(emulator.login_url + path, verify=emulator.ca_bundle, timeout=30, **kwargs)


def _post(emulator, path, form, **kwargs):
    return requests.post(emulator.login_url + path, data=form, verify=emulator.ca_bundle, timeout=30, **kwargs)


def _token(emulator, tenant, **form):
    return _post(emulator, f"/{tenant}/oauth2/v2.0/token", form)


def _claims(token):
    return jwt.decode(token, options={"verify_signature": False})


def _sp_form(emulator, key="ci-bot", scope=DEVOPS_SCOPE, **extra):
    principal = emulator.directory.principal(key)
    return dict({"grant_type": "client_credentials", "client_id": principal.app_id,
                 "client_secret": principal.secret, "scope": scope}, **extra)


def _assert_aadsts(response, status, error, code):
    body = response.json()
    assert response.status_code == status, body
    assert body["error"] == error
    assert body["error_codes"] == [code]
    assert body["error_description"].startswith(f"AADSTS{code}: ")
    assert "Trace ID: " in body["error_description"] and "Correlation ID: " in body["error_description"]
    assert {"timestamp", "trace_id", "correlation_id"} <= set(body)
    return body


def _device_code(emulator, tenant="organizations", scope=USER_SCOPES, client_id=AZ_CLI_CLIENT_ID):
    response = _post(emulator, f"/{tenant}/oauth2/v2.0/devicecode", {"client_id": client_id, "scope": scope})
    assert response.status_code == 200, response.text
    return response.json()


def _redeem(emulator, flow, tenant="organizations", client_id=AZ_CLI_CLIENT_ID):
    return _token(emulator, tenant, grant_type=GRANT_DEVICE_CODE, client_id=client_id,
                  device_code=flow["device_code"])


def _user_refresh_token(emulator, entra, monkeypatch, user="alice"):
    monkeypatch.setattr(entra, "device_code_user", user)
    response = _redeem(emulator, _device_code(emulator))
    assert response.status_code == 200, response.text
    return response.json()["refresh_token"]


# -- discovery ------------------------------------------------------------------------------------
@pytest.mark.parametrize("segment", [TENANT_A, "contoso.example", "CONTOSO.EXAMPLE"])
def test_discovery_names_the_tenant_id_for_ids_and_domains(emulator, segment):
    config = _get(emulator, f"/{segment}/v2.0/.well-known/openid-configuration").json()
    base = f"{emulator.login_url}/{TENANT_A}"
    assert config["issuer"] == base + "/v2.0"
    assert config["token_endpoint"] == base + "/oauth2/v2.0/token"
    assert config["device_authorization_endpoint"] == base + "/oauth2/v2.0/devicecode"
    assert config["authorization_endpoint"] == base + "/oauth2/v2.0/authorize"
    assert config["jwks_uri"] == base + "/discovery/v2.0/keys"


def test_discovery_for_organizations_keeps_the_alias(emulator):
    config = _get(emulator, "/organizations/v2.0/.well-known/openid-configuration").json()
    assert config["issuer"] == emulator.login_url + "/{tenantid}/v2.0"
    assert config["token_endpoint"] == emulator.login_url + "/organizations/oauth2/v2.0/token"


def test_unknown_tenant_is_aadsts90002(emulator):
    unknown = "99999999-0000-4000-8000-000000000000"
    discovery = _get(emulator, f"/{unknown}/v2.0/.well-known/openid-configuration")
    _assert_aadsts(discovery, 400, "invalid_tenant", 90002)
    token = _token(emulator, unknown, **_sp_form(emulator))
    assert unknown in _assert_aadsts(token, 400, "invalid_request", 90002)["error_description"]


def test_published_keys_verify_issued_tokens(emulator):
    token = _token(emulator, TENANT_A, **_sp_form(emulator)).json()["access_token"]
    keys = _get(emulator, f"/{TENANT_A}/discovery/v2.0/keys").json()
    key = jwt.PyJWKSet.from_dict(keys)[jwt.get_unverified_header(token)["kid"]]
    claims = jwt.decode(token, key.key, algorithms=["RS256"], audience=AZURE_DEVOPS_RESOURCE)
    assert claims["tid"] == TENANT_A


# -- client credentials ---------------------------------------------------------------------------
def test_client_secret_grant_issues_an_app_token(emulator, entra):
    principal = emulator.directory.principal("ci-bot")
    before = entra.grant_count(GRANT_CLIENT_CREDENTIALS, "ci-bot")
    response = _token(emulator, TENANT_A, **_sp_form(emulator))
    body = response.json()
    assert response.status_code == 200, body
    assert body["token_type"] == "Bearer" and "refresh_token" not in body
    assert body["expires_in"] == body["ext_expires_in"] == emulator.token_lifetime
    claims = _claims(body["access_token"])
    assert (claims["aud"], claims["tid"], claims["appid"], claims["oid"], claims["idtyp"], claims["appidacr"]) == (
        AZURE_DEVOPS_RESOURCE, TENANT_A, principal.app_id, principal.oid(TENANT_A), "app", "1")
    assert entra.grant_count(GRANT_CLIENT_CREDENTIALS, "ci-bot") == before + 1
    assert entra.grant_counts[(GRANT_CLIENT_CREDENTIALS, "ci-bot")] == before + 1


def test_arm_scope_gives_the_v1_arm_audience(emulator):
    body = _token(emulator, "contoso.example", **_sp_form(emulator, scope=ARM_SCOPE)).json()
    assert _claims(body["access_token"])["aud"] == ARM_RESOURCE


def test_wrong_secret_is_aadsts7000215_with_the_callers_correlation_id(emulator):
    form = _sp_form(emulator, client_secret="not-the-secret")
    response = _post(emulator, f"/{TENANT_A}/oauth2/v2.0/token", form,
                     headers={"client-request-id": "11112222-3333-4444-5555-666677778888"})
    body = _assert_aadsts(response, 401, "invalid_client", 7000215)
    assert body["correlation_id"] == "11112222-3333-4444-5555-666677778888"


def test_service_principal_outside_its_tenant_is_aadsts700016(emulator):
    _assert_aadsts(_token(emulator, TENANT_B, **_sp_form(emulator)), 400, "unauthorized_client", 700016)


@pytest.mark.parametrize("scope, error, code", [
    (DEVOPS_SCOPE + " " + ARM_SCOPE, "invalid_scope", 28000),
    ("https://unknown.example/.default", "invalid_resource", 500011),
    (AZURE_DEVOPS_RESOURCE + "/user_impersonation", "invalid_scope", 1002012),
])
def test_client_credentials_scope_is_checked(emulator, scope, error, code):
    _assert_aadsts(_token(emulator, TENANT_A, **_sp_form(emulator, scope=scope)), 400, error, code)


def _certificate_app(emulator, private_key_pem=None):
    principal = emulator.directory.principal("ci-cert")
    with open(principal.cert_path, encoding="utf-8") as handle:
        pem = handle.read()
    session = requests.Session()
    session.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment overrides session.verify
    session.verify = emulator.ca_bundle
    return msal.ConfidentialClientApplication(
        principal.app_id, authority=f"{emulator.login_url}/{TENANT_A}", instance_discovery=False, http_client=session,
        client_credential={"private_key": private_key_pem or pem, "thumbprint": principal.cert_thumbprint})


def test_msal_certificate_credential_is_accepted(emulator):
    result = _certificate_app(emulator).acquire_token_for_client([DEVOPS_SCOPE])
    assert "access_token" in result, result
    claims = _claims(result["access_token"])
    assert (claims["appid"], claims["appidacr"]) == (emulator.directory.principal("ci-cert").app_id, "2")


def test_assertion_signed_by_another_key_is_refused(emulator):
    from cryptography.hazmat.primitives import serialization
    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    result = _certificate_app(emulator, impostor).acquire_token_for_client([DEVOPS_SCOPE])
    assert result["error"] == "invalid_client" and result["error_codes"] == [700027], result


def test_assertion_for_another_audience_is_refused(emulator):
    principal = emulator.directory.principal("ci-cert")
    with open(principal.cert_path, encoding="utf-8") as handle:
        pem = handle.read()
    assertion = jwt.encode({"aud": "https://elsewhere.example/token", "iss": principal.app_id, "sub": principal.app_id,
                            "exp": int(time.time()) + 600, "jti": "x"}, pem, algorithm="RS256",
                           headers={"x5t": base64.urlsafe_b64encode(bytes.fromhex(principal.cert_thumbprint)).decode()})
    response = _token(emulator, TENANT_A, grant_type="client_credentials", client_id=principal.app_id,
                      scope=DEVOPS_SCOPE, client_assertion=assertion,
                      client_assertion_type="urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    _assert_aadsts(response, 401, "invalid_client", 700021)


# -- device code and refresh tokens ---------------------------------------------------------------
def test_device_code_is_approved_by_the_configured_user(emulator, entra, monkeypatch):
    bob = emulator.directory.principal("bob")
    monkeypatch.setattr(entra, "device_code_user", "bob")
    before = entra.grant_count(GRANT_DEVICE_CODE, "bob")
    flow = _device_code(emulator)
    assert flow["user_code"] in flow["message"] and flow["verification_uri"] in flow["message"]
    body = _redeem(emulator, flow).json()
    assert body["scope"] == f"{AZURE_DEVOPS_RESOURCE}/user_impersonation {DEVOPS_SCOPE}"
    assert body["foci"] == "1" and body["refresh_token"] in entra.refresh_tokens
    claims, id_claims = _claims(body["access_token"]), _claims(body["id_token"])
    assert (claims["tid"], claims["oid"], claims["upn"], claims["scp"], claims["appid"], claims["idtyp"]) == (
        TENANT_B, bob.oid(TENANT_B), bob.upn, "user_impersonation", AZ_CLI_CLIENT_ID, "user")
    assert (id_claims["aud"], id_claims["tid"], id_claims["preferred_username"]) == (
        AZ_CLI_CLIENT_ID, TENANT_B, bob.upn)
    client_info = json.loads(base64.urlsafe_b64decode(body["client_info"] + "==="))
    assert client_info == {"uid": bob.oid(TENANT_B), "utid": TENANT_B}
    assert entra.grant_count(GRANT_DEVICE_CODE, "bob") == before + 1
    _assert_aadsts(_redeem(emulator, flow), 400, "invalid_grant", 70000)  # a device code is redeemed once


def test_device_code_waits_for_approval_when_nobody_is_configured(emulator, entra, monkeypatch):
    monkeypatch.setattr(entra, "device_code_user", None)
    flow = _device_code(emulator)
    _assert_aadsts(_redeem(emulator, flow), 400, "authorization_pending", 70016)
    entra.approve_device_code(flow["user_code"], "alice")
    assert _claims(_redeem(emulator, flow).json()["access_token"])["upn"] == "alice@contoso.example"
    declined = _device_code(emulator)
    entra.approve_device_code(declined["user_code"], "alice", approve=False)
    _assert_aadsts(_redeem(emulator, declined), 400, "authorization_declined", 70000)


def test_next_device_code_user_can_be_queued_over_https_with_the_password(emulator, entra, monkeypatch):
    monkeypatch.setattr(entra, "device_code_user", None)
    refused = _post(emulator, "/_emulator/device-code/next-user",
                    {"username": "bob@fabrikam.example", "password": "wrong"})
    _assert_aadsts(refused, 400, "invalid_grant", 50126)
    bob = emulator.directory.principal("bob")
    assert _post(emulator, "/_emulator/device-code/next-user",
                 {"username": bob.upn, "password": bob.password}).status_code == 200
    assert _claims(_redeem(emulator, _device_code(emulator)).json()["access_token"])["upn"] == bob.upn
    _assert_aadsts(_redeem(emulator, _device_code(emulator)), 400, "authorization_pending", 70016)  # used up


def test_device_code_for_an_unknown_resource_is_refused_at_once(emulator):
    response = _post(emulator, "/organizations/oauth2/v2.0/devicecode",
                     {"client_id": AZ_CLI_CLIENT_ID, "scope": "https://unknown.example/.default openid"})
    _assert_aadsts(response, 400, "invalid_resource", 500011)


def test_refresh_token_works_in_every_tenant_of_the_user(emulator, entra, monkeypatch):
    alice = emulator.directory.principal("alice")
    refresh_token = _user_refresh_token(emulator, entra, monkeypatch)
    before = entra.grant_count(GRANT_REFRESH_TOKEN, "alice", TENANT_B)
    body = _token(emulator, TENANT_B, grant_type="refresh_token", client_id=AZ_CLI_CLIENT_ID,
                  refresh_token=refresh_token, scope=ARM_SCOPE + " openid offline_access").json()
    claims = _claims(body["access_token"])
    assert (claims["aud"], claims["tid"], claims["oid"]) == (ARM_RESOURCE, TENANT_B, alice.oid(TENANT_B))
    assert "upn" not in claims and claims["idp"] == f"https://sts.windows.net/{TENANT_A}/"  # a guest there
    assert _claims(body["id_token"])["tid"] == TENANT_B
    assert entra.grant_count(GRANT_REFRESH_TOKEN, "alice", TENANT_B) == before + 1


def test_refresh_token_refusals(emulator, entra, monkeypatch):
    bob_token = _user_refresh_token(emulator, entra, monkeypatch, user="bob")
    form = {"grant_type": "refresh_token", "client_id": AZ_CLI_CLIENT_ID, "scope": DEVOPS_SCOPE}
    not_a_member = _token(emulator, TENANT_A, refresh_token=bob_token, **form)
    assert "bob@fabrikam.example" in _assert_aadsts(not_a_member, 400, "invalid_grant", 50020)["error_description"]
    _assert_aadsts(_token(emulator, TENANT_B, refresh_token="made-up", **form), 400, "invalid_grant", 9002313)
    entra.revoke_refresh_tokens("bob")
    _assert_aadsts(_token(emulator, TENANT_B, refresh_token=bob_token, **form), 400, "invalid_grant", 50173)


def test_secrets_lists_what_was_handed_out(emulator, entra, monkeypatch):
    refresh_token = _user_refresh_token(emulator, entra, monkeypatch)
    access_token = _token(emulator, TENANT_A, **_sp_form(emulator)).json()["access_token"]
    known = set(entra.secrets())
    assert {refresh_token, access_token, emulator.directory.principal("ci-bot").secret,
            emulator.directory.identity_header} <= known


# -- managed identity -----------------------------------------------------------------------------
def _mi(emulator, header=None, **params):
    header = emulator.directory.identity_header if header is None else header
    return requests.get(emulator.services["login"].identity_endpoint, verify=emulator.ca_bundle, timeout=30,
                        params=dict({"api-version": "2019-08-01", "resource": AZURE_DEVOPS_RESOURCE}, **params),
                        headers={"X-IDENTITY-HEADER": header})


def test_system_assigned_identity(emulator, entra):
    identity = emulator.directory.principal("mi-system")
    before = entra.grant_count(GRANT_MANAGED_IDENTITY, "mi-system")
    body = _mi(emulator).json()
    assert set(body) == {"access_token", "expires_on", "resource", "token_type", "client_id"}
    assert body["resource"] == AZURE_DEVOPS_RESOURCE and body["client_id"] == identity.app_id
    claims = _claims(body["access_token"])
    assert body["expires_on"] == str(claims["exp"])  # App Service sends a string
    assert (claims["aud"], claims["appid"], claims["oid"], claims["idtyp"], claims["xms_mirid"]) == (
        AZURE_DEVOPS_RESOURCE, identity.app_id, identity.oid(TENANT_A), "app", identity.resource_id)
    assert entra.grant_count(GRANT_MANAGED_IDENTITY, "mi-system") == before + 1


@pytest.mark.parametrize("selector", ["client_id", "object_id", "principal_id", "mi_res_id"])
def test_user_assigned_identity_selected(emulator, selector):
    identity = emulator.directory.principal("mi-user")
    value = {"client_id": identity.app_id, "object_id": identity.oid(TENANT_A),
             "principal_id": identity.oid(TENANT_A), "mi_res_id": identity.resource_id}[selector]
    claims = _claims(_mi(emulator, **{selector: value}).json()["access_token"])
    assert (claims["appid"], claims["xms_mirid"]) == (identity.app_id, identity.resource_id)


def test_managed_identity_refusals(emulator):
    wrong_header = _mi(emulator, header="guess")
    assert wrong_header.status_code == 401 and wrong_header.json()["statusCode"] == 401
    unknown = _mi(emulator, client_id="00000000-1111-4000-8000-000000000000")
    assert unknown.status_code == 400 and "access_token" not in unknown.json()
    bad_resource = _mi(emulator, resource="https://unknown.example")
    assert bad_resource.status_code == 400 and "AADSTS500011" in bad_resource.json()["message"]


# -- managed identity through MSI_ENDPOINT (az <= 2.72, msrestazure get_msi_token) ------------------------------
def _msi_post(emulator, metadata="true", method="POST", **form):
    headers = {"Metadata": metadata} if metadata else {}
    return requests.request(method, emulator.services["login"].msi_endpoint, verify=emulator.ca_bundle, timeout=30,
                            data=dict({"resource": AZURE_DEVOPS_RESOURCE}, **form), headers=headers)


@pytest.mark.parametrize("selector", [None, "client_id", "object_id", "msi_res_id"])
def test_msi_endpoint_post_protocol(emulator, entra, selector):
    key = "mi-user" if selector else "mi-system"
    identity = emulator.directory.principal(key)
    value = {"client_id": identity.app_id, "object_id": identity.oid(TENANT_A),
             "msi_res_id": identity.resource_id}.get(selector)
    before = entra.grant_count(GRANT_MANAGED_IDENTITY, key)
    body = _msi_post(emulator, **({selector: value} if selector else {})).json()
    assert set(body) == {"access_token", "expires_in", "expires_on", "not_before", "resource", "token_type"}
    claims = _claims(body["access_token"])
    assert body["expires_on"] == str(claims["exp"]) and body["token_type"] == "Bearer"
    assert (claims["aud"], claims["appid"], claims["xms_mirid"]) == (
        AZURE_DEVOPS_RESOURCE, identity.app_id, identity.resource_id)
    assert entra.grant_count(GRANT_MANAGED_IDENTITY, key) == before + 1


def test_msi_endpoint_refusals(emulator):
    no_header = _msi_post(emulator, metadata=None)
    assert no_header.status_code == 400 and no_header.json()["error_description"] == \
        "Required metadata header not specified"
    assert _msi_post(emulator, method="GET").status_code == 405
    unknown = _msi_post(emulator, client_id="00000000-1111-4000-8000-000000000000")
    assert unknown.status_code == 400 and unknown.json()["error_description"] == "Identity not found"
    two = _msi_post(emulator, client_id="a", object_id="b")
    assert two.status_code == 400 and "access_token" not in two.json()
    bad_resource = _msi_post(emulator, resource="https://unknown.example")
    assert bad_resource.status_code == 400 and "AADSTS500011" in bad_resource.json()["error_description"]
