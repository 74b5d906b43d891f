"""The logins pipelines use, through the real az: workload identity federation (`az login --service-principal
--federated-token`, as azure/login with OIDC and AzureCLI@2 with a workload-identity service connection do) and a
VM's managed identity over IMDS (system- and user-assigned); then every command of the extension."""
import json
import os
import time

import pytest

from az_support import claims, devops_requests, skip_before
from emulator.azenv import MSAL_MANAGED_IDENTITY
from emulator.constants import AZURE_DEVOPS_RESOURCE
from emulator.directory import FEDERATED_APP, TENANT_A

LOGINS = {  # fixture name -> the directory principal it signs in as
    "fed_github_env": FEDERATED_APP, "fed_pipelines_env": FEDERATED_APP,
    "imds_env": "mi-system", "imds_user_env": "mi-user",
}


def _logged_in(ext_template, emulator, tmp_path_factory, name, login):
    env = ext_template.copy(str(tmp_path_factory.mktemp(name) / "config"))
    login(env)
    env.az("config", "set", "defaults.devops_organization=" + emulator.org_url("contoso"), check=True)
    return env


@pytest.fixture(scope="session")
def fed_github_env(ext_template, emulator, tmp_path_factory):
    return _logged_in(ext_template, emulator, tmp_path_factory, "fed-github", lambda env: env.login_federated("github"))


@pytest.fixture(scope="session")
def fed_pipelines_env(ext_template, emulator, tmp_path_factory):
    return _logged_in(ext_template, emulator, tmp_path_factory, "fed-pipelines",
                      lambda env: env.login_federated("pipelines", allow_no_subscriptions=True))


@pytest.fixture(scope="session")
def msal_managed_identity(ext_template):
    """az reaches IMDS through AZURE_POD_IDENTITY_AUTHORITY_HOST only with msal's ManagedIdentityClient, az's default
    from 2.73; before, msrestazure asks the fixed http://169.254.169.254 (federated-findings §5.2)."""
    skip_before(ext_template, MSAL_MANAGED_IDENTITY, "no AZURE_POD_IDENTITY_AUTHORITY_HOST before MSAL MI")


@pytest.fixture(scope="session")
def imds_env(ext_template, emulator, tmp_path_factory, msal_managed_identity):  # pylint: disable=unused-argument
    return _logged_in(ext_template, emulator, tmp_path_factory, "imds", lambda env: env.login_managed_identity_imds())


@pytest.fixture(scope="session")
def imds_user_env(ext_template, emulator, tmp_path_factory, msal_managed_identity):  # pylint: disable=W0613
    return _logged_in(ext_template, emulator, tmp_path_factory, "imds-user",
                      lambda env: env.login_managed_identity_imds(user_assigned=True))


@pytest.fixture(params=list(LOGINS))
def login(request, emulator):
    """(env, the principal it is logged in as)."""
    return request.getfixturevalue(request.param), emulator.directory.principal(LOGINS[request.param])


def test_the_login_is_what_it_says(fed_github_env):
    fed = fed_github_env.az_json("account", "show")
    assert fed["user"]["type"] == "servicePrincipal" and fed["user"]["name"] == fed_github_env.identity(
        FEDERATED_APP)["app_id"]
    with open(fed_github_env.config_dir + "/service_principal_entries.json", encoding="utf-8") as handle:
        stored = json.load(handle)  # what az keeps of a federated login (plain text off Windows)
    assert [sorted(entry) for entry in stored] == [["client_assertion", "client_id", "tenant"]]


def test_the_imds_logins_are_what_they_say(imds_env, imds_user_env, emulator):
    assert imds_env.az_json("account", "show")["user"]["assignedIdentityInfo"] == "MSI"
    assert imds_user_env.az_json("account", "show")["user"]["assignedIdentityInfo"].startswith("MSIClient-")
    started = time.time()
    assert imds_user_env.az("devops-token", "get").returncode == 0  # az keeps MI tokens in memory: IMDS is asked
    imds = [e for e in emulator.log.entries(listener="login")
            if e["path"] == "/metadata/identity/oauth2/token" and e["time"] >= started]
    assert imds and all(e["headers"]["metadata"] == "true" and e["query"]["api-version"] == ["2018-02-01"]
                        for e in imds)


def test_devops_token_get(login):
    env, principal = login
    result = env.az("devops-token", "get", "-o", "json")
    assert result.returncode == 0, result.stderr
    token = claims(json.loads(result.stdout)["accessToken"])
    assert (token["aud"], token["tid"], token["appid"], token["oid"]) == (
        AZURE_DEVOPS_RESOURCE, TENANT_A, principal.app_id, principal.oid(TENANT_A))


def test_devops_rest_call(login, emulator, devops):
    env, principal = login
    result = env.az("devops-rest", "call", "--path", "_apis/projects", "-o", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["count"] == 100
    (entry,) = devops_requests(emulator)
    assert claims(entry["headers"]["authorization"].split(" ", 1)[1])["appid"] == principal.app_id


def test_whoami(login, emulator, devops):
    env, principal = login
    result = env.az("devops-token", "whoami", "--org", emulator.org_url("contoso"), "-o", "json")
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["token"]["appId"] == principal.app_id and output["token"]["tenant"] == TENANT_A
    assert output["azureDevOps"]["accepted"] is True


def test_git_credential_helper(login, emulator, devops):
    env, principal = login
    host = emulator.devops_url.split("://", 1)[1]
    result = env.az("devops-token", "git-credential", "get",
                    input="protocol=https\nhost=%s\npath=contoso/Website/_git/Website\n\n" % host)
    assert result.returncode == 0, result.stderr
    fields = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert claims(fields["password"])["appid"] == principal.app_id


def test_assertion_no_federated_credential_trusts_is_refused_at_login(fresh_env, emulator):
    """A GitHub token without the token-exchange audience (the job forgot azure/login's audience): Entra's
    AADSTS70021 as az prints it, and no login kept."""
    wrong_audience = emulator.services["oidc"].assertion("github", audience="https://github.com/contoso")
    app = fresh_env.identity(FEDERATED_APP)
    result = fresh_env.az("login", "--service-principal", "--username", app["app_id"], "--tenant", TENANT_A,
                          "--federated-token", wrong_audience)
    assert result.returncode == 1 and result.stdout == ""
    assert "AADSTS70021: No matching federated identity record found for presented assertion." in result.stderr
    assert not os.path.exists(os.path.join(fresh_env.config_dir, "service_principal_entries.json"))
