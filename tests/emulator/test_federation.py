"""Workload identity federation in the emulator: the CI systems' OIDC issuers and token endpoints, federated
credentials at Entra's token endpoint (AADSTS700024, AADSTS70021), and IMDS managed identity."""
import time

import jwt
import msal
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from emulator.constants import AZURE_DEVOPS_RESOURCE
from emulator.directory import FEDERATED_APP, TENANT_A, TOKEN_EXCHANGE_AUDIENCE
from emulator.entra.ci_oidc import GITHUB_OWNER_URL, GITHUB_SUBJECT, PIPELINES_SUBJECT
from emulator.entra.common import CLIENT_ASSERTION_TYPE_JWT, GRANT_CLIENT_CREDENTIALS, GRANT_MANAGED_IDENTITY

DEVOPS_SCOPE = AZURE_DEVOPS_RESOURCE + "/.default"


@pytest.fixture
def oidc(emulator):
    service = emulator.services["oidc"]
    service.reset()
    yield service
    service.reset()
    emulator.services["login"].access_token_lifetimes.clear()


def _claims(token):
    return jwt.decode(token, options={"verify_signature": False})


def _github(emulator, oidc, audience="api%3A%2F%2FAzureADTokenExchange", token=None):
    job = oidc.job_environment("github")
    url = job["ACTIONS_ID_TOKEN_REQUEST_URL"] + (f"&audience={audience}" if audience else "")
    return requests.get(url, headers={"Authorization": "Bearer " + (token or job["ACTIONS_ID_TOKEN_REQUEST_TOKEN"])},
                        verify=emulator.ca_bundle, timeout=30)


def _pipelines(emulator, oidc, query="?api-version=7.1&serviceConnectionId={id}", token=None, suppress=True):
    job = oidc.job_environment("pipelines")
    headers = {"Authorization": "Bearer " + (token or job["SYSTEM_ACCESSTOKEN"]), "Content-Type": "application/json"}
    if suppress:
        headers["X-TFS-FedAuthRedirect"] = "Suppress"
    url = job["SYSTEM_OIDCREQUESTURI"] + query.format(id=job["AZURESUBSCRIPTION_SERVICE_CONNECTION_ID"])
    return requests.post(url, headers=headers, verify=emulator.ca_bundle, timeout=30)


def _exchange(emulator, assertion, client_id=None):
    app = emulator.directory.principal(FEDERATED_APP)
    return requests.post(f"{emulator.login_url}/{TENANT_A}/oauth2/v2.0/token", verify=emulator.ca_bundle, timeout=30,
                         data={"grant_type": "client_credentials", "client_id": client_id or app.app_id,
                               "scope": DEVOPS_SCOPE, "client_assertion_type": CLIENT_ASSERTION_TYPE_JWT,
                               "client_assertion": assertion})


# -- the CI systems' issuers ----------------------------------------------------------------------------------
@pytest.mark.parametrize("ci", ["github", "pipelines"])
def test_issuer_publishes_discovery_and_keys_that_verify_its_assertions(emulator, oidc, ci):
    issuer = oidc.issuers[ci]
    discovery = requests.get(issuer.url + "/.well-known/openid-configuration", verify=emulator.ca_bundle,
                             timeout=30).json()
    assert discovery["issuer"] == issuer.url and discovery["id_token_signing_alg_values_supported"] == ["RS256"]
    jwks = requests.get(discovery["jwks_uri"], verify=emulator.ca_bundle, timeout=30).json()
    assertion = oidc.assertion(ci)
    key = jwt.PyJWK(jwks["keys"][0]).key
    claims = jwt.decode(assertion, key, algorithms=["RS256"], audience=TOKEN_EXCHANGE_AUDIENCE, issuer=issuer.url)
    assert claims["exp"] - claims["iat"] == oidc.lifetimes[ci] and claims["sub"] in (GITHUB_SUBJECT, PIPELINES_SUBJECT)


def test_github_id_token_endpoint(emulator, oidc):
    response = _github(emulator, oidc)
    assert response.status_code == 200 and set(response.json()) == {"value"}
    claims = _claims(response.json()["value"])
    assert (claims["iss"], claims["sub"], claims["aud"]) == (oidc.issuers["github"].url, GITHUB_SUBJECT,
                                                             TOKEN_EXCHANGE_AUDIENCE)
    assert claims["exp"] - claims["iat"] == 300  # GitHub's five minutes unless a test shortens it
    assert _claims(_github(emulator, oidc, audience=None).json()["value"])["aud"] == GITHUB_OWNER_URL
    assert _github(emulator, oidc, token="guess").status_code == 401


def test_pipelines_oidc_token_endpoint(emulator, oidc):
    response = _pipelines(emulator, oidc)
    assert response.status_code == 200 and set(response.json()) == {"oidcToken"}
    claims = _claims(response.json()["oidcToken"])
    assert (claims["iss"], claims["sub"], claims["aud"]) == (oidc.issuers["pipelines"].url, PIPELINES_SUBJECT,
                                                             TOKEN_EXCHANGE_AUDIENCE)
    assert claims["exp"] - claims["iat"] == 600
    pipeline_scoped = _claims(_pipelines(emulator, oidc, query="?api-version=7.1").json()["oidcToken"])
    assert pipeline_scoped["sub"].startswith("p://")
    assert _pipelines(emulator, oidc, query="?serviceConnectionId={id}").status_code == 400
    assert _pipelines(emulator, oidc, query="?api-version=7.1&serviceConnectionId=nope").status_code == 400
    assert _pipelines(emulator, oidc, token="guess").status_code == 401
    assert _pipelines(emulator, oidc, token="guess", suppress=False).status_code == 203  # sign-in page


# -- Entra: the federated client assertion ---------------------------------------------------------------------
@pytest.mark.parametrize("ci", ["github", "pipelines"])
def test_federated_assertion_gets_an_app_token(emulator, oidc, ci):
    app = emulator.directory.principal(FEDERATED_APP)
    entra = emulator.services["login"]
    before = entra.grant_count(GRANT_CLIENT_CREDENTIALS, FEDERATED_APP)
    entra.access_token_lifetimes[FEDERATED_APP] = 7
    response = _exchange(emulator, oidc.assertion(ci))
    assert response.status_code == 200 and response.json()["expires_in"] == 7
    claims = _claims(response.json()["access_token"])
    assert (claims["aud"], claims["appid"], claims["oid"], claims["appidacr"], claims["exp"] - claims["iat"]) == (
        AZURE_DEVOPS_RESOURCE, app.app_id, app.oid(TENANT_A), "2", 7)
    assert entra.grant_count(GRANT_CLIENT_CREDENTIALS, FEDERATED_APP) == before + 1


def test_expired_assertion_is_aadsts700024_unauthorized(emulator, oidc):
    oidc.lifetimes["github"] = 1
    assertion = oidc.assertion("github")
    time.sleep(2.2)
    response = _exchange(emulator, assertion)
    body = response.json()
    assert (response.status_code, body["error"], body["error_codes"]) == (401, "invalid_client", [700024])
    assert body["error_description"].startswith("AADSTS700024: Client assertion is not within its valid time range. "
                                                "Current time: ")
    assert ", assertion valid from " in body["error_description"]
    assert "expiry time of assertion" in body["error_description"]


@pytest.mark.parametrize("change", ["audience", "subject", "issuer"])
def test_assertion_no_federated_credential_matches_is_aadsts70021(emulator, oidc, change):
    if change == "audience":
        assertion = oidc.assertion("github", audience=GITHUB_OWNER_URL)
    elif change == "subject":
        assertion = oidc.assertion("github", subject=GITHUB_SUBJECT.upper())  # matching is case-sensitive
    else:
        assertion = oidc.issuers["github"].sign(PIPELINES_SUBJECT, TOKEN_EXCHANGE_AUDIENCE, 60)
    response = _exchange(emulator, assertion)
    body = response.json()
    assert (response.status_code, body["error"], body["error_codes"]) == (400, "invalid_request", [70021])
    assert body["error_description"].startswith("AADSTS70021: No matching federated identity record found for "
                                                "presented assertion. Assertion Issuer: '")


def test_assertion_signed_by_another_key_is_refused(emulator, oidc):
    genuine = oidc.assertion("github")
    forged = jwt.encode(_claims(genuine), rsa.generate_private_key(public_exponent=65537, key_size=2048),
                        algorithm="RS256", headers={"kid": jwt.get_unverified_header(genuine)["kid"]})
    response = _exchange(emulator, forged)
    assert response.status_code == 401 and response.json()["error_codes"] == [700027]


def test_federated_assertion_is_not_a_secret_for_other_apps(emulator, oidc):
    bot = emulator.directory.principal("ci-bot")
    response = _exchange(emulator, oidc.assertion("github"), client_id=bot.app_id)
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_msal_with_a_callable_assertion(emulator, oidc):
    """What the extension's renewal does: MSAL calls the assertion callable only when it goes to the wire."""
    app = emulator.directory.principal(FEDERATED_APP)
    calls = []

    def assertion():
        calls.append(1)
        return oidc.assertion("pipelines")
    client = msal.ConfidentialClientApplication(
        app.app_id, client_credential={"client_assertion": assertion},
        authority=f"{emulator.login_url}/{TENANT_A}", instance_discovery=False,
        http_client=_ca_session(emulator))
    result = client.acquire_token_for_client([DEVOPS_SCOPE])
    assert "access_token" in result and calls == [1]
    assert _claims(result["access_token"])["appid"] == app.app_id


def _ca_session(emulator):
    session = requests.Session()
    session.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment overrides session.verify
    session.verify = emulator.ca_bundle
    return session


# -- IMDS --------------------------------------------------------------------------------------------------------
def _imds(emulator, headers=None, **query):
    params = {"api-version": "2018-02-01", "resource": AZURE_DEVOPS_RESOURCE}
    params.update(query)
    return requests.get(emulator.login_url + "/metadata/identity/oauth2/token", params=params,
                        headers={"Metadata": "true"} if headers is None else headers,
                        verify=emulator.ca_bundle, timeout=30)


def test_imds_system_assigned(emulator):
    identity = emulator.directory.principal("mi-system")
    entra = emulator.services["login"]
    before = entra.grant_count(GRANT_MANAGED_IDENTITY, "mi-system")
    body = _imds(emulator).json()
    assert all(isinstance(body[name], str) for name in ("expires_in", "expires_on", "not_before"))  # as documented
    claims = _claims(body["access_token"])
    assert (claims["aud"], claims["appid"], claims["xms_mirid"], body["expires_on"]) == (
        AZURE_DEVOPS_RESOURCE, identity.app_id, identity.resource_id, str(claims["exp"]))
    assert entra.grant_count(GRANT_MANAGED_IDENTITY, "mi-system") == before + 1


@pytest.mark.parametrize("selector", ["client_id", "object_id", "msi_res_id"])
def test_imds_user_assigned(emulator, selector):
    identity = emulator.directory.principal("mi-user")
    value = {"client_id": identity.app_id, "object_id": identity.oid(TENANT_A),
             "msi_res_id": identity.resource_id}[selector]
    assert _claims(_imds(emulator, **{selector: value}).json()["access_token"])["appid"] == identity.app_id


@pytest.mark.parametrize("headers, query, error", [
    ({}, {}, "bad_request_102"),
    ({"Metadata": "True"}, {}, "bad_request_102"),
    ({"Metadata": "true", "X-Forwarded-For": "10.0.0.1"}, {}, "invalid_request"),
    (None, {"api-version": "2017-01-01"}, "invalid_request"),
    (None, {"resource": "https://unknown.example"}, "invalid_resource"),
    (None, {"client_id": "00000000-1111-4000-8000-000000000000"}, "invalid_request"),
])
def test_imds_refusals(emulator, headers, query, error):
    response = _imds(emulator, headers=headers, **query)
    assert response.status_code == 400 and response.json()["error"] == error
    assert "access_token" not in response.json()
