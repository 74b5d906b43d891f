"""The organization's tenant found by itself: one unauthenticated probe, cached, then the right token."""
import json
import os

from az_support import claims, devops_requests, error_lines, is_tenant_probe
from emulator.directory import SUB_A, TENANT_A, TENANT_B


def test_user_of_two_tenants_reaches_the_second_tenants_org_without_tenant(user_env, emulator, devops, tmp_path):
    env = user_env.copy(str(tmp_path / "config"))
    cache = os.path.join(env.config_dir, "devops-token", "tenants.json")
    if os.path.exists(cache):  # other tests of this session may have asked already
        os.remove(cache)
    result = env.az("devops-rest", "call", "--org", emulator.org_url("fabrikam"), "--path", "_apis/projects",
                    "--query", "count")
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == 100  # the first page of fabrikam's projects
    probe, call = devops_requests(emulator, probes=True)
    assert is_tenant_probe(probe) and "authorization" not in probe["headers"]
    assert claims(call["headers"]["authorization"].split(" ", 1)[1])["tid"] == TENANT_B
    with open(cache, encoding="utf-8") as handle:
        cached = json.load(handle)
    assert cached[emulator.org_url("fabrikam").lower()]["tenant"] == TENANT_B
    again = env.az("devops-rest", "call", "--org", emulator.org_url("fabrikam"), "--path", "_apis/projects",
                   "-o", "none")
    assert again.returncode == 0, again.stderr
    assert len([e for e in devops_requests(emulator, probes=True) if is_tenant_probe(e)]) == 1


def test_get_with_org_takes_the_organizations_tenant(user_env, emulator, devops):
    output = user_env.az_json("devops-token", "get", "--org", emulator.org_url("fabrikam"))
    assert output["tenant"] == TENANT_B and "subscription" not in output
    assert claims(output["accessToken"])["tid"] == TENANT_B
    same = user_env.az_json("devops-token", "get", "--org", emulator.org_url("contoso"))
    assert same["tenant"] == TENANT_A and same["subscription"] == SUB_A


def test_service_principal_without_the_tenant_gets_the_login_to_run(sp_env, emulator, devops):
    result = sp_env.az("devops-rest", "call", "--org", emulator.org_url("fabrikam"), "--path", "_apis/projects")
    assert result.returncode == 1
    (line,) = error_lines(result.stderr)
    assert TENANT_B in line and "could not get a token there" in line
    app_id = emulator.directory.principal("ci-bot").app_id
    assert "az login --service-principal --username %s --tenant %s" % (app_id, TENANT_B) in result.stderr
    assert all("authorization" not in e["headers"] for e in devops_requests(emulator, probes=True))


def test_managed_identity_cannot_switch_tenant(mi_env, emulator, devops):
    result = mi_env.az("devops-token", "get", "--org", emulator.org_url("fabrikam"))
    assert result.returncode == 1
    (line,) = error_lines(result.stderr)
    assert TENANT_B in line and TENANT_A in line and "managed identity" in line
    assert "Traceback" not in result.stderr


def test_user_without_the_tenant_is_told_to_sign_in_there(ext_template, emulator, devops, tmp_path):
    env = ext_template.copy(str(tmp_path / "config"))
    env.login_user("bob")
    result = env.az("devops-rest", "call", "--org", emulator.org_url("contoso"), "--path", "_apis/projects")
    assert result.returncode == 1
    (line,) = error_lines(result.stderr)
    assert TENANT_A in line
    assert "az login --tenant %s" % TENANT_A in result.stderr
