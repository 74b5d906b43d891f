"""The organization's tenant found by itself: one unauthenticated probe, cached, then the right token."""
import json
import os

import pytest

from az_support import claims, devops_requests, error_lines, is_tenant_probe
from emulator.constants import MSA_TENANT
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


# -- probes that fail (issue 9, item 4) -------------------------------------------------------------------------
def _fresh(user_env, tmp_path):
    env = user_env.copy(str(tmp_path / "config"))
    cache = os.path.join(env.config_dir, "devops-token", "tenants.json")
    if os.path.exists(cache):
        os.remove(cache)
    return env, cache


def _cached(cache, emulator):
    if not os.path.exists(cache):
        return None
    with open(cache, encoding="utf-8") as handle:
        return json.load(handle).get(emulator.org_url("fabrikam").lower(), {}).get("tenant")


@pytest.mark.parametrize("kind, params", [
    ("error", {"status": 500}), ("error", {"status": 405}), ("bad_gateway", {}), ("proxy_page", {}),
    ("stall", {"seconds": 4}),
])
def test_a_failed_probe_is_not_cached_and_the_401_names_the_tenant(  # pylint: disable=too-many-arguments
        user_env, emulator, devops, tmp_path, kind, params):
    env, cache = _fresh(user_env, tmp_path)
    devops.add_fault(kind, path="^/fabrikam$", method="HEAD", count=None, **params)
    result = env.az("devops-rest", "call", "--org", emulator.org_url("fabrikam"), "--path", "_apis/projects",
                    "--query", "count", "--max-retries", "0", "--timeout", "2")
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == 100
    calls = [e for e in devops_requests(emulator) if e["method"] == "GET"]
    tenants = [claims(e["headers"]["authorization"].split(" ", 1)[1])["tid"] for e in calls]
    assert tenants == [TENANT_A, TENANT_B] and [e["status"] for e in calls] == [401, 200]
    assert "naming tenant %s" % TENANT_B in result.stderr
    assert _cached(cache, emulator) == TENANT_B          # the 401's answer is definitive: remembered
    devops.clear_faults()
    emulator.log.clear()
    again = env.az("devops-rest", "call", "--org", emulator.org_url("fabrikam"), "--path", "_apis/projects",
                   "-o", "none")
    assert again.returncode == 0, again.stderr
    assert [e["status"] for e in devops_requests(emulator, probes=True)] == [200]


def test_a_500_probe_is_asked_again_next_time(user_env, emulator, devops, tmp_path):
    env, cache = _fresh(user_env, tmp_path)
    devops.add_fault("error", path="^/fabrikam$", method="HEAD", status=500)
    first = env.az_json("devops-token", "get", "--org", emulator.org_url("fabrikam"))
    assert first["tenant"] == TENANT_A                 # no answer: the account's tenant, for this call only
    assert _cached(cache, emulator) is None
    second = env.az_json("devops-token", "get", "--org", emulator.org_url("fabrikam"))
    assert second["tenant"] == TENANT_B and _cached(cache, emulator) == TENANT_B
    assert len([e for e in devops_requests(emulator, probes=True) if is_tenant_probe(e)]) == 2


def test_doubled_tenant_header_gives_the_first_real_tenant(user_env, emulator, devops, tmp_path):
    env, cache = _fresh(user_env, tmp_path)
    devops.add_fault("tenant_headers", path="^/fabrikam$", method="HEAD", tenants=[TENANT_B, MSA_TENANT],
                     bearer="Bearer")
    result = env.az("devops-rest", "call", "--org", emulator.org_url("fabrikam"), "--path", "_apis/projects",
                    "--query", "count")
    assert result.returncode == 0, result.stderr
    (call,) = [e for e in devops_requests(emulator) if e["method"] == "GET"]
    assert claims(call["headers"]["authorization"].split(" ", 1)[1])["tid"] == TENANT_B
    assert _cached(cache, emulator) == TENANT_B
