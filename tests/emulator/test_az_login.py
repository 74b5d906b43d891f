"""The real `az login` of every identity kind against the emulator, then `az account get-access-token`."""
import os
import time
from urllib.parse import parse_qs

import jwt
import pytest

from az_support import skip_before
from emulator.azenv import MI_ID_OPTIONS, MSAL_MANAGED_IDENTITY, AzEnv
from emulator.constants import AZURE_DEVOPS_RESOURCE, AZ_CLI_CLIENT_ID
from emulator.directory import SUB_A, SUB_B, TENANT_A, TENANT_B
from emulator.entra.common import GRANT_CLIENT_CREDENTIALS, GRANT_MANAGED_IDENTITY, GRANT_REFRESH_TOKEN


def _devops_token_claims(env, emulator, **kwargs):
    """`az account get-access-token` for Azure DevOps: (its JSON output, the token's claims)."""
    output = env.get_access_token(AZURE_DEVOPS_RESOURCE, **kwargs)
    assert output["accessToken"] in emulator.tokens.issued  # minted by the emulator, not made up on the way
    return output, jwt.decode(output["accessToken"], options={"verify_signature": False})


def _token_requests_since(emulator, start):
    return [parse_qs(e["body"].decode()) for e in emulator.log.entries(listener="login", method="POST")
            if e["time"] >= start and e["path"].endswith("/oauth2/v2.0/token")]


# -- service principals ---------------------------------------------------------------------------
def test_service_principal_secret_login(az_env, emulator):
    bot = emulator.directory.principal("ci-bot")
    entra = emulator.services["login"]
    before = entra.grant_count(GRANT_CLIENT_CREDENTIALS, "ci-bot")
    accounts = az_env.login_service_principal("ci-bot")
    assert [(a["id"], a["tenantId"], a["user"]) for a in accounts] == [
        (SUB_A, TENANT_A, {"name": bot.app_id, "type": "servicePrincipal"})]
    output, claims = _devops_token_claims(az_env, emulator)
    assert (output["tenant"], output["subscription"]) == (TENANT_A, SUB_A)
    assert (claims["aud"], claims["tid"], claims["appid"], claims["oid"], claims["idtyp"], claims["appidacr"]) == (
        AZURE_DEVOPS_RESOURCE, TENANT_A, bot.app_id, bot.oid(TENANT_A), "app", "1")
    assert entra.grant_count(GRANT_CLIENT_CREDENTIALS, "ci-bot") == before + 2  # ARM at login, DevOps now

    # A service principal exists in its home tenant only: Entra refuses, az says so with the AADSTS text.
    elsewhere = az_env.az("account", "get-access-token", "--resource", AZURE_DEVOPS_RESOURCE, "--tenant", TENANT_B)
    assert elsewhere.returncode == 1 and "AADSTS700016" in elsewhere.stderr


def test_service_principal_certificate_login(az_env, emulator):
    cert_app = emulator.directory.principal("ci-cert")
    accounts = az_env.login_service_principal("ci-cert")
    assert [(a["id"], a["user"]["name"]) for a in accounts] == [(SUB_A, cert_app.app_id)]
    start = time.time()
    _, claims = _devops_token_claims(az_env, emulator)
    assert (claims["aud"], claims["tid"], claims["appid"], claims["appidacr"]) == (
        AZURE_DEVOPS_RESOURCE, TENANT_A, cert_app.app_id, "2")
    forms = _token_requests_since(emulator, start)
    assert forms and all("client_assertion" in f and "client_secret" not in f for f in forms)


def test_a_secret_that_begins_with_a_dash_logs_in(az_env, emulator, monkeypatch):
    """secrets.token_urlsafe makes one in 64 begin with '-', which argparse would read as an option."""
    bot = emulator.directory.principal("ci-bot")
    monkeypatch.setattr(bot, "secret", "-" + bot.secret[1:])
    accounts = az_env.login_service_principal("ci-bot")
    assert [(a["id"], a["user"]["name"]) for a in accounts] == [(SUB_A, bot.app_id)]
    _, claims = _devops_token_claims(az_env, emulator)
    assert claims["appid"] == bot.app_id


def test_wrong_secret_fails_with_the_aadsts_text(az_env, emulator):
    bot = emulator.directory.principal("ci-bot")
    result = az_env.az("login", "--service-principal", "--username", bot.app_id, "--password", "not-the-secret",
                       "--tenant", TENANT_A)
    assert result.returncode == 1
    assert "AADSTS7000215: Invalid client secret provided" in result.stderr
    assert result.stdout == ""
    assert not os.path.exists(os.path.join(az_env.config_dir, "service_principal_entries.json"))


# -- managed identities ---------------------------------------------------------------------------
def test_system_assigned_managed_identity_login(az_env, emulator):
    identity = emulator.directory.principal("mi-system")
    entra = emulator.services["login"]
    before = entra.grant_count(GRANT_MANAGED_IDENTITY, "mi-system")
    accounts = az_env.login_managed_identity()
    assert [(a["id"], a["user"]) for a in accounts] == [
        (SUB_A, {"name": "systemAssignedIdentity", "type": "servicePrincipal", "assignedIdentityInfo": "MSI"})]
    _, claims = _devops_token_claims(az_env, emulator)
    assert (claims["aud"], claims["tid"], claims["appid"], claims["oid"], claims["xms_mirid"]) == (
        AZURE_DEVOPS_RESOURCE, TENANT_A, identity.app_id, identity.oid(TENANT_A), identity.resource_id)
    # ARM at login, DevOps now; msrestazure (az <= 2.72) caches nothing: each credential it makes asks twice.
    expected = 2 if az_env.version >= MSAL_MANAGED_IDENTITY else 4
    assert entra.grant_count(GRANT_MANAGED_IDENTITY, "mi-system") == before + expected


@pytest.mark.parametrize("by, info_prefix, wire_name", [
    ("client_id", "MSIClient", "client_id"),
    ("object_id", "MSIObject", "object_id"),
    ("resource_id", "MSIResource", "mi_res_id"),
])
def test_user_assigned_managed_identity_login(az_env, emulator, by, info_prefix, wire_name):
    if by == "object_id":
        skip_before(az_env, MI_ID_OPTIONS, "--username <object id> fails: az tries it as a client id first and, on "
                    "the 400, its error handling (auth/adal_authentication.py, err.response.status) raises before "
                    "the object id attempt")
    identity = emulator.directory.principal("mi-user")
    selector = {"client_id": identity.app_id, "object_id": identity.oid(TENANT_A),
                "resource_id": identity.resource_id}[by]
    start = time.time()
    accounts = az_env.login_managed_identity(user_assigned=True, by=by)
    assert [a["user"] for a in accounts] == [{"name": "userAssignedIdentity", "type": "servicePrincipal",
                                              "assignedIdentityInfo": f"{info_prefix}-{selector}"}]
    _, claims = _devops_token_claims(az_env, emulator)
    assert (claims["appid"], claims["oid"], claims["xms_mirid"]) == (
        identity.app_id, identity.oid(TENANT_A), identity.resource_id)
    if az_env.version >= MSAL_MANAGED_IDENTITY:
        sent = [e["query"] for e in emulator.log.entries(listener="login", path="/msi/token") if e["time"] >= start]
    else:  # msrestazure: POST MSI_ENDPOINT with a form; the resource id goes as msi_res_id
        wire_name = wire_name.replace("mi_res_id", "msi_res_id")
        sent = [parse_qs(e["body"].decode()) for e in emulator.log.entries(listener="login", path="/msi/oauth2/token")
                if e["time"] >= start]
    assert sent and all(q[wire_name] == [selector] for q in sent)


# -- users ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def alice_env(registered_az_env, tmp_path_factory):
    """alice logged in once through the device code flow; the tests below only read tokens."""
    env = registered_az_env.copy(str(tmp_path_factory.mktemp("alice") / "config"))
    return env, env.login_user("alice")


def test_user_device_code_login_finds_subscriptions_in_both_tenants(alice_env):
    _, accounts = alice_env
    assert {a["id"]: a["tenantId"] for a in accounts} == {SUB_A: TENANT_A, SUB_B: TENANT_B}
    assert {a["user"]["name"] for a in accounts} == {"alice@contoso.example"}
    assert {a["user"]["type"] for a in accounts} == {"user"}
    assert [a["id"] for a in accounts if a["isDefault"]] == [SUB_A]


def test_user_token_for_the_home_tenant(alice_env, emulator):
    env, _ = alice_env
    alice = emulator.directory.principal("alice")
    output, claims = _devops_token_claims(env, emulator)
    assert output["tenant"] == TENANT_A
    assert (claims["aud"], claims["tid"], claims["oid"], claims["upn"], claims["appid"], claims["scp"]) == (
        AZURE_DEVOPS_RESOURCE, TENANT_A, alice.oid(TENANT_A), alice.upn, AZ_CLI_CLIENT_ID, "user_impersonation")


def test_user_token_for_the_guest_tenant_is_a_refresh_token_grant(alice_env, emulator):
    env, _ = alice_env
    alice = emulator.directory.principal("alice")
    entra = emulator.services["login"]
    before = entra.grant_count(GRANT_REFRESH_TOKEN, "alice", TENANT_B)
    output, claims = _devops_token_claims(env, emulator, tenant=TENANT_B)
    assert output["tenant"] == TENANT_B and "subscription" not in output
    assert (claims["tid"], claims["oid"], claims["idp"]) == (
        TENANT_B, alice.oid(TENANT_B), f"https://sts.windows.net/{TENANT_A}/")
    assert "upn" not in claims  # Entra leaves upn out of guests' tokens
    assert entra.grant_count(GRANT_REFRESH_TOKEN, "alice", TENANT_B) == before + 1


def test_user_login_from_another_process_and_a_tenant_he_is_not_in(emulator, tmp_path):
    """AzEnv built from Emulator.describe() (as the README demo does): the device code sign-in goes over HTTPS."""
    env = AzEnv(emulator.describe(), str(tmp_path / "config"))
    env.register_cloud()
    accounts = env.login_user("bob")
    assert [(a["id"], a["user"]["name"]) for a in accounts] == [(SUB_B, "bob@fabrikam.example")]
    refused = env.az("account", "get-access-token", "--resource", AZURE_DEVOPS_RESOURCE, "--tenant", TENANT_A)
    assert refused.returncode == 1 and "AADSTS50020" in refused.stderr
