"""api-version through the real az (issue 9, item 1): no --api-version works on preview-only routes, an explicit
one is sent as given and a refusal names the version to use."""
import json

from az_support import devops_requests, error_lines


def call(env, emulator, *args):
    return env.az("devops-rest", "call", "--org", emulator.org_url("contoso"), *args)


def test_preview_only_route_works_without_api_version_then_costs_nothing(sp_env, emulator, devops, tmp_path):
    env = sp_env.copy(str(tmp_path / "config"))
    result = call(env, emulator, "--service", "vssps", "--path", "_apis/graph/users", "--query", "count")
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == 75
    graph = [e for e in devops_requests(emulator) if e["listener"] == "vssps"]
    # the refused 7.1, the location data, the retry: two extra requests the first time
    assert [(e["method"], e["status"]) for e in graph] == [("GET", 400), ("OPTIONS", 200), ("GET", 200)]
    assert graph[-1]["query"]["api-version"] == ["7.1-preview"]
    emulator.log.clear()
    again = call(env, emulator, "--service", "vssps", "--path", "_apis/graph/users", "--query", "count")
    assert again.returncode == 0, again.stderr
    graph = [e for e in devops_requests(emulator) if e["listener"] == "vssps"]
    assert [(e["method"], e["status"], e["query"]["api-version"]) for e in graph] == [("GET", 200, ["7.1-preview"])]


def test_connection_data_and_audit_without_api_version(sp_env, emulator, devops):
    data = call(sp_env, emulator, "--path", "_apis/connectionData", "--query", "authenticatedUser.providerDisplayName")
    assert data.returncode == 0, data.stderr
    assert json.loads(data.stdout) == "ci-bot"
    audit = call(sp_env, emulator, "--service", "auditservice", "--path", "_apis/audit/auditlog", "--paginate",
                 "--query", "length(decoratedAuditLogEntries)")
    assert audit.returncode == 0, audit.stderr
    assert int(audit.stdout) == 450
    pages = [e for e in devops_requests(emulator) if e["listener"] == "auditservice" and e["method"] == "GET"]
    assert {tuple(e["query"]["api-version"]) for e in pages if e["status"] == 200} == {("7.1-preview",)}


def test_released_route_costs_no_extra_request(sp_env, emulator, devops):
    result = call(sp_env, emulator, "--path", "_apis/projects", "-o", "none")
    assert result.returncode == 0, result.stderr
    assert [e["method"] for e in devops_requests(emulator)] == ["GET"]


def test_explicit_api_version_is_sent_as_given_and_the_refusal_names_the_fix(sp_env, emulator, devops):
    result = call(sp_env, emulator, "--path", "_apis/connectionData", "--api-version", "7.1")
    assert result.returncode == 1
    (line,) = error_lines(result.stderr)
    assert "refused --api-version 7.1" in line and "Use --api-version 7.1-preview" in line
    assert [e["query"]["api-version"] for e in devops_requests(emulator)] == [["7.1"]]


def test_help_explains_the_choice(sp_env):
    result = sp_env.az("devops-rest", "call", "-h")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "OPTIONS {org}/_apis" in text and "preview" in text and "Azure DevOps Server" in text
