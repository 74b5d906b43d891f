"""Authentication of the emulated Azure DevOps (emulator/devops/auth.py): the 203 sign-in page, 401 with the tenant-
discovery headers, TF400813 / TF401444, membership."""
import pytest

from devops_support import assert_error, call, get, token_for, www_authenticate
from emulator.constants import MSA_TENANT
from emulator.directory import TENANT_A, TENANT_B


def test_anonymous_get_ends_on_the_203_sign_in_page(devops_emu):
    response = get(devops_emu, "/contoso/_apis/projects?api-version=7.1")
    assert response.status_code == 203
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<title>Azure DevOps Services | Sign In</title>" in response.text
    assert response.headers["X-VSS-ResourceTenant"] == TENANT_A


def test_anonymous_post_ends_on_the_203_sign_in_page(devops_emu):
    response = call(devops_emu, "POST", "/contoso/Website/_apis/wit/wiql?api-version=7.1", json={"query": "x"})
    assert response.status_code == 203


def test_suppress_header_gives_401_with_discovery_headers(devops_emu):
    response = get(devops_emu, "/contoso/_apis/projects?api-version=7.1",
                   headers={"X-TFS-FedAuthRedirect": "Suppress"})
    host = devops_emu.devops_url + "/"
    assert www_authenticate(response) == [
        "Bearer authorization_uri=https://login.microsoftonline.com/%s" % TENANT_A,
        'Basic realm="%s"' % host, "TFS-Federated"]
    assert response.headers["X-VSS-ResourceTenant"] == TENANT_A
    assert response.headers["X-TFS-FedAuthRealm"] == host
    assert response.headers["X-TFS-FedAuthIssuer"] == devops_emu.devops_url + "/contoso/"
    assert response.headers["Content-Type"].startswith("application/json")
    assert_error(response, 401, "UnauthorizedRequestException",
                 "TF400813: The user '' is not authorized to access this resource.")
    assert response.json()["eventId"] == 3000


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS", "PATCH"])
def test_methods_that_never_redirect_get_401(devops_emu, method):
    response = call(devops_emu, method, "/contoso/_apis/projects?api-version=7.1")
    assert response.status_code == 401
    assert response.headers["X-VSS-ResourceTenant"] == TENANT_A
    assert www_authenticate(response)[0].startswith("Bearer authorization_uri=")


def test_git_credential_manager_tenant_discovery(devops_emu):
    """GCM: one unauthenticated request to the organization URL, tenant from the headers."""
    head = call(devops_emu, "HEAD", "/contoso")
    assert head.status_code == 401
    assert www_authenticate(head)[0] == "Bearer authorization_uri=https://login.microsoftonline.com/" + TENANT_A
    plain_get = get(devops_emu, "/fabrikam")
    assert plain_get.headers["X-VSS-ResourceTenant"] == TENANT_B
    assert plain_get.headers["WWW-Authenticate"].startswith(
        "Bearer authorization_uri=https://login.microsoftonline.com/" + TENANT_B)


def test_msa_organization_announces_the_empty_tenant(devops_emu):
    response = call(devops_emu, "HEAD", "/msa-org")
    assert response.status_code == 401
    assert response.headers["X-VSS-ResourceTenant"] == MSA_TENANT
    assert www_authenticate(response)[0] == "Bearer"      # no authority: GCM then uses X-VSS-ResourceTenant


def test_unknown_organization_is_404_without_tenant_headers(devops_emu, alice):
    for token in (None, alice):
        response = get(devops_emu, "/no-such-org/_apis/projects?api-version=7.1", token=token)
        assert response.status_code == 404
        assert "X-VSS-ResourceTenant" not in response.headers
        assert "WWW-Authenticate" not in response.headers
        assert_error(response, 404, "HostDoesNotExistException")


@pytest.mark.parametrize("kind", ["expired", "signature", "audience", "malformed", "basic"])
def test_bad_credentials_are_anonymous(devops_emu, kind):
    good = token_for(devops_emu)
    tokens = {
        "expired": token_for(devops_emu, lifetime=-60),
        "signature": good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"),
        "audience": token_for(devops_emu, audience="https://management.core.windows.net/"),
        "malformed": "not-a-jwt",
    }
    headers = {"Authorization": "Basic OnBhdA=="} if kind == "basic" else {"Authorization": "Bearer " + tokens[kind]}
    redirected = get(devops_emu, "/contoso/_apis/projects?api-version=7.1", headers=headers)
    assert redirected.status_code == 203
    headers["X-TFS-FedAuthRedirect"] = "Suppress"
    refused = get(devops_emu, "/contoso/_apis/projects?api-version=7.1", headers=headers)
    assert_error(refused, 401, "UnauthorizedRequestException",
                 "TF400813: The user '' is not authorized to access this resource.")
    if kind != "basic":
        assert refused.headers["X-Emulator-Auth-Failure"] == kind


def test_token_of_another_tenant_is_401_even_without_suppress(devops_emu):
    other_tenant = token_for(devops_emu, tenant=TENANT_B)
    response = get(devops_emu, "/contoso/_apis/projects?api-version=7.1", token=other_tenant)
    assert_error(response, 401, "UnauthorizedRequestException",
                 "TF400813: The user 'alice@contoso.example' is not authorized to access this resource.")
    assert response.headers["X-VSS-ResourceTenant"] == TENANT_A
    assert www_authenticate(response)[0] == "Bearer authorization_uri=https://login.microsoftonline.com/" + TENANT_A
    assert "X-VSS-UserData" not in response.headers


def test_user_not_in_the_organization_gets_tf401444(devops_emu, alice):
    response = get(devops_emu, "/northwind/_apis/projects?api-version=7.1", token=alice)
    assert_error(response, 401, "UnauthorizedRequestException",
                 "TF401444: Please sign-in at least once as %s\\alice@contoso.example in a web browser to enable "
                 "access to the service." % TENANT_A)


def test_service_principal_not_in_the_organization_gets_tf400813(devops_emu):
    bot = devops_emu.directory.principal("ci-bot")
    response = get(devops_emu, "/northwind/_apis/projects?api-version=7.1", token=token_for(devops_emu, "ci-bot"))
    assert_error(response, 401, "UnauthorizedRequestException",
                 "TF400813: The user '%s' is not authorized to access this resource." % bot.oid(TENANT_A))


def test_members_are_let_in_by_tenant(devops_emu):
    assert get(devops_emu, "/fabrikam/_apis/projects?api-version=7.1",
               token=token_for(devops_emu, tenant=TENANT_B)).status_code == 200
    for who in ("ci-bot", "ci-cert", "mi-system", "mi-user"):
        assert get(devops_emu, "/contoso/_apis/projects?$top=1&api-version=7.1",
                   token=token_for(devops_emu, who)).status_code == 200


def test_membership_can_change_at_run_time(devops_emu, service, alice):
    oid = devops_emu.directory.principal("alice").oid(TENANT_A)
    service.add_member("northwind", oid)
    try:
        assert get(devops_emu, "/northwind/_apis/projects?api-version=7.1", token=alice).status_code == 200
    finally:
        service.remove_member("northwind", oid)
    assert get(devops_emu, "/northwind/_apis/projects?api-version=7.1", token=alice).status_code == 401
