"""The emulated ARM in-process: cloud metadata, subscriptions and tenants, and its 401s."""
import pytest
import requests

from emulator.constants import ARM_RESOURCE, AZURE_DEVOPS_RESOURCE
from emulator.directory import SUB_A, SUB_B, TENANT_A, TENANT_B
from emulator.tokens import TokenIssuer


def _arm(emulator, path, token=None, api_version="2022-12-01"):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    params = {"api-version": api_version} if api_version else {}
    return requests.get(emulator.arm_url.rstrip("/") + path, headers=headers, params=params,
                        verify=emulator.ca_bundle, timeout=30)


def _token(emulator, key, tenant, audience=ARM_RESOURCE, lifetime=600, issuer=None):
    principal = emulator.directory.principal(key)
    oid = principal.oid(tenant) or principal.oid(principal.home_tenant)
    return (issuer or emulator.tokens).issue({"oid": oid}, audience, tenant, lifetime)


def test_metadata_points_az_at_the_emulator(emulator):
    metadata = _arm(emulator, "/metadata/endpoints").json()
    assert metadata["authentication"]["loginEndpoint"] == emulator.login_url
    assert metadata["authentication"]["audiences"][0] == ARM_RESOURCE
    assert metadata["resourceManager"] == emulator.arm_url


@pytest.mark.parametrize("key, tenant, expected", [
    ("ci-bot", TENANT_A, [SUB_A]),
    ("alice", TENANT_A, [SUB_A]),
    ("alice", TENANT_B, [SUB_B]),
    ("bob", TENANT_A, []),          # a token naming a tenant bob is not in shows nothing
])
def test_subscriptions_are_those_of_the_token_tenant(emulator, key, tenant, expected):
    body = _arm(emulator, "/subscriptions", _token(emulator, key, tenant)).json()
    assert [s["subscriptionId"] for s in body["value"]] == expected
    assert all(s["tenantId"] == tenant and s["state"] == "Enabled" for s in body["value"])


def test_tenants_of_a_guest_user_list_both(emulator):
    body = _arm(emulator, "/tenants", _token(emulator, "alice", TENANT_A)).json()
    described = {t["tenantId"]: (t["displayName"], t["defaultDomain"], t["tenantCategory"]) for t in body["value"]}
    assert described == {TENANT_A: ("Contoso", "contoso.example", "Home"),
                         TENANT_B: ("Fabrikam", "fabrikam.example", "Home")}


def test_subscription_get(emulator):
    token = _token(emulator, "ci-bot", TENANT_A)
    assert _arm(emulator, f"/subscriptions/{SUB_A}", token).json()["displayName"] == "Contoso Dev"
    other_tenant = _arm(emulator, f"/subscriptions/{SUB_B}", token)
    assert other_tenant.status_code == 401
    assert other_tenant.json()["error"]["code"] == "InvalidAuthenticationTokenTenant"
    assert _arm(emulator, "/subscriptions/33333333-0000-4000-8000-000000000000", token).status_code == 404


@pytest.mark.parametrize("case, code", [
    ("missing", "AuthenticationFailed"),
    ("devops audience", "InvalidAuthenticationTokenAudience"),
    ("expired", "ExpiredAuthenticationToken"),
    ("foreign signer", "InvalidAuthenticationToken"),
])
def test_bad_tokens_get_arm_401s(emulator, case, code):
    token = {
        "missing": None,
        "devops audience": _token(emulator, "ci-bot", TENANT_A, audience=AZURE_DEVOPS_RESOURCE),
        "expired": _token(emulator, "ci-bot", TENANT_A, lifetime=-60),
        "foreign signer": _token(emulator, "ci-bot", TENANT_A, issuer=TokenIssuer()),
    }[case]
    response = _arm(emulator, "/subscriptions", token)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == code
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")


def test_api_version_is_required(emulator):
    response = _arm(emulator, "/subscriptions", _token(emulator, "ci-bot", TENANT_A), api_version=None)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "MissingApiVersionParameter"


def test_metadata_in_the_2015_01_01_format_older_az_registers_from(emulator):
    # az <= 2.72 (msrestazure azure_cloud.py) asks for this version and needs graphEndpoint in it.
    metadata = _arm(emulator, "/metadata/endpoints", api_version="2015-01-01").json()
    assert set(metadata) == {"galleryEndpoint", "graphEndpoint", "portalEndpoint", "authentication"}
    assert metadata["graphEndpoint"] == "https://graph.windows.net/"
    assert metadata["authentication"] == {"loginEndpoint": emulator.login_url,
                                          "audiences": [ARM_RESOURCE, "https://management.azure.com/"]}
