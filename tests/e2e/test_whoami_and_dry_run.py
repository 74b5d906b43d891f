"""`az devops-token whoami` and `az devops-rest call --dry-run` through the real az."""
import json

from az_support import devops_requests
from emulator.directory import TENANT_A, TENANT_B


def whoami(env, *args):
    result = env.az("devops-token", "whoami", *args, "-o", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), result


def test_whoami_service_principal_accepted(sp_env, emulator, devops):
    output, result = whoami(sp_env, "--org", emulator.org_url("contoso"))
    bot = emulator.directory.principal("ci-bot")
    assert output["token"]["identityType"] == "servicePrincipal" and output["token"]["appId"] == bot.app_id
    assert output["token"]["tenant"] == TENANT_A and output["token"]["objectId"] == bot.oid(TENANT_A)
    assert output["organization"] == {"url": emulator.org_url("contoso"), "tenant": TENANT_A,
                                      "microsoftAccountBacked": False, "tenantMatchesToken": True}
    assert output["azureDevOps"]["accepted"] is True and output["azureDevOps"]["displayName"] == "ci-bot"
    call = [e for e in devops_requests(emulator) if e["path"].endswith("/connectionData")][0]
    assert call["query"]["api-version"] == ["7.1-preview.1"]
    token = call["headers"]["authorization"].split(" ", 1)[1]
    assert token not in result.stdout and token not in result.stderr


def test_whoami_explains_a_refusal_instead_of_failing(sp_env, emulator, devops):
    output, _ = whoami(sp_env, "--org", emulator.org_url("northwind"))
    assert output["azureDevOps"]["accepted"] is False
    assert "TF400813" in output["azureDevOps"]["reason"]
    accepted = sp_env.az("devops-token", "whoami", "--org", emulator.org_url("northwind"),
                         "--query", "azureDevOps.accepted", "-o", "tsv")
    assert accepted.stdout.strip() == "false"


def test_whoami_user_in_the_organizations_tenant(user_env, emulator, devops):
    output, _ = whoami(user_env, "--org", emulator.org_url("fabrikam"))
    alice = emulator.directory.principal("alice")
    assert output["token"]["identityType"] == "user" and output["token"]["tenant"] == TENANT_B
    assert output["token"]["objectId"] == alice.oid(TENANT_B) and "user_impersonation" in output["token"]["scopes"]
    assert output["organization"]["tenant"] == TENANT_B and output["azureDevOps"]["accepted"] is True


def test_whoami_managed_identity(mi_env, emulator, devops):
    output, _ = whoami(mi_env, "--org", emulator.org_url("contoso"))
    assert output["token"]["identityType"] == "managedIdentity" and output["azureDevOps"]["accepted"] is True


def test_whoami_without_organization_shows_the_token_only(sp_env, emulator, devops):
    output, _ = whoami(sp_env)
    assert output["organization"] is None and output["azureDevOps"] is None
    assert output["token"]["audience"] == "499b84ac-1321-427f-aa17-267ca6975798"


def test_dry_run_sends_nothing(sp_env, emulator, devops):
    emulator.log.clear()
    result = sp_env.az("devops-rest", "call", "--org", "contoso", "--path", "/_apis/projects",
                       "--query-parameters", "$top=5", "--dry-run", "-o", "json")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["method"] == "GET"
    assert shown["url"] == "https://dev.azure.com/contoso/_apis/projects?%24top=5&api-version=7.1"
    assert shown["headers"]["Authorization"] == "Bearer <redacted>"
    assert shown["headers"]["X-TFS-FedAuthRedirect"] == "Suppress"
    assert shown["token"]["tenant"] == TENANT_A
    assert emulator.log.entries() == []


def test_dry_run_shows_the_body_and_content_type(sp_env, emulator, devops):
    patch = [{"op": "add", "path": "/fields/System.Title", "value": "x"}]
    shown = sp_env.az_json("devops-rest", "call", "--org", emulator.org_url("contoso"), "-p", "Mobile App",
                           "-m", "POST", "--path", "{project}/_apis/wit/workitems/$Bug", "--body", json.dumps(patch),
                           "--dry-run")
    assert shown["url"] == emulator.org_url("contoso") + "/Mobile%20App/_apis/wit/workitems/$Bug?api-version=7.1"
    assert shown["headers"]["Content-Type"] == "application/json-patch+json" and shown["body"] == patch
    assert devops_requests(emulator, probes=True) == []


def test_dry_run_redacts_a_given_authorization_and_names_the_tenant(sp_env, emulator, devops):
    shown = sp_env.az_json("devops-rest", "call", "--org", emulator.org_url("contoso"), "--path", "_apis/projects",
                           "--headers", "Authorization=Basic OnNlY3JldA==", "--dry-run")
    assert shown["headers"]["Authorization"] == "<redacted: given with --headers>" and shown["token"] is None
    assert "OnNlY3JldA" not in json.dumps(shown)
    by_tenant = sp_env.az_json("devops-rest", "call", "--org", emulator.org_url("contoso"), "--path",
                               "_apis/projects", "--tenant", TENANT_B, "--dry-run")
    assert by_tenant["token"] == {"tenant": TENANT_B, "from": "--tenant"}
