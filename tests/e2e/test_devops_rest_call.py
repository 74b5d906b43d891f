"""`az devops-rest call` through the real az against the emulated Azure DevOps."""
import hashlib
import json
import os

import pytest
import yaml

from az_support import az_bytes, claims, devops_call as call, devops_requests, error_lines, ok_json
from emulator.devops.artifacts import artifact_sha256
from emulator.directory import TENANT_A, TENANT_B


# -- output formats ------------------------------------------------------------------------------------------
def test_projects_json_and_headers_sent(sp_env, emulator, devops):
    document = ok_json(call(sp_env, emulator, "--path", "_apis/projects", "-o", "json"))
    assert document["count"] == 100 and document["value"][0]["name"] == "Website"
    (entry,) = devops_requests(emulator)
    assert entry["query"]["api-version"] == ["7.1"]
    assert claims(entry["headers"]["authorization"].split(" ", 1)[1])["tid"] == TENANT_A
    assert entry["headers"]["x-tfs-fedauthredirect"] == "Suppress"
    assert entry["headers"]["x-vss-forcemsapassthrough"] == "true"
    assert entry["headers"]["user-agent"].startswith("devops-token/0.1.0 ")


@pytest.mark.parametrize("fmt, check", [
    ("tsv", lambda out: out.splitlines()[:2] == ["Website", "Mobile App"]),
    ("table", lambda out: "Mobile App" in out and out.splitlines()[1].startswith("---")),
    ("yaml", lambda out: yaml.safe_load(out)[:2] == ["Website", "Mobile App"]),
    ("jsonc", lambda out: json.loads(out)[:2] == ["Website", "Mobile App"]),
    ("none", lambda out: out == ""),
])
def test_every_output_format(sp_env, emulator, devops, fmt, check):
    query = "value[].{name: name}" if fmt == "table" else "value[].name"
    result = call(sp_env, emulator, "--path", "_apis/projects", "--query", query, "-o", fmt)
    assert result.returncode == 0, result.stderr
    assert check(result.stdout), result.stdout[:500]


def test_plain_text_goes_to_stdout_unchanged(sp_env, emulator, devops):
    result = az_bytes(sp_env, "devops-rest", "call", "--org", emulator.org_url("contoso"), "-p", "Website",
                      "--path", "{project}/_apis/build/builds/5/logs/1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(b"2024-01-02T03:04:00.0000000Z ##[section]Starting: Website-CI #5 log 1\r\n")
    assert result.stderr == b""


def test_binary_body_to_stdout_is_byte_exact(sp_env, emulator, devops):
    devops.set_artifact_size(300_000)
    result = az_bytes(sp_env, "devops-rest", "call", "--org", emulator.org_url("contoso"), "-p", "Website",
                      "--path", "{project}/_apis/build/builds/1/artifacts", "--query-parameters",
                      "artifactName=drop", "$format=zip")
    assert result.returncode == 0, result.stderr
    assert hashlib.sha256(result.stdout).hexdigest() == artifact_sha256(300_000)


def test_output_file_streams_atomically(sp_env, emulator, devops, tmp_path):
    devops.set_artifact_size(5 * 1024 * 1024 + 3)
    target = tmp_path / "drop.zip"
    result = call(sp_env, emulator, "-p", "Mobile App", "--path", "{project}/_apis/build/builds/1001/artifacts",
                  "--query-parameters", "artifactName=drop", "$format=zip", "--output-file", str(target))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert hashlib.sha256(target.read_bytes()).hexdigest() == artifact_sha256(5 * 1024 * 1024 + 3)
    assert os.listdir(tmp_path) == ["drop.zip"]
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # like curl -o, not mkstemp's 0600


def test_output_file_not_left_behind_on_failure(sp_env, emulator, devops, tmp_path):
    devops.set_artifact_size(3 * 1024 * 1024)
    devops.add_fault("reset", path="/artifacts$", count=None, after_bytes=500_000)
    target = tmp_path / "drop.zip"
    result = call(sp_env, emulator, "-p", "Website", "--path", "{project}/_apis/build/builds/1/artifacts",
                  "--query-parameters", "artifactName=drop", "$format=zip", "--output-file", str(target),
                  "--max-retries", "2")
    assert result.returncode == 1
    assert len(error_lines(result.stderr)) == 1 and "Traceback" not in result.stderr
    assert os.listdir(tmp_path) == []
    assert len(devops_requests(emulator, "/artifacts")) == 3


# -- where the call goes --------------------------------------------------------------------------------------
def test_organization_and_project_from_az_config(sp_env, emulator, devops, tmp_path):
    env = sp_env.copy(str(tmp_path / "config"))
    env.az("config", "set", "defaults.devops_organization=" + emulator.org_url("contoso"),
           "defaults.devops_project=Mobile App", check=True)
    document = ok_json(env.az("devops-rest", "call", "--path", "_apis/projects/{project}", "-o", "json"))
    assert document["name"] == "Mobile App"
    assert devops_requests(emulator)[0]["raw_path"] == "/contoso/_apis/projects/Mobile%20App"


def test_organization_from_environment_variable(sp_env, emulator, devops):
    result = sp_env.az("devops-rest", "call", "--path", "_apis/projects", "--query", "count",
                       env={"AZURE_DEFAULTS_DEVOPS_ORGANIZATION": emulator.org_url("contoso")})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "100"


def test_organization_from_the_azure_devops_extension_config(sp_env, emulator, devops, tmp_path):
    env = sp_env.copy(str(tmp_path / "config"))
    os.makedirs(os.path.join(env.config_dir, "azuredevops"))
    with open(os.path.join(env.config_dir, "azuredevops", "config"), "w", encoding="utf-8") as handle:
        handle.write("[defaults]\norganization = %s\nproject = Website\n" % emulator.org_url("contoso"))
    document = ok_json(env.az("devops-rest", "call", "--path", "_apis/projects/{project}", "-o", "json"))
    assert document["name"] == "Website"
    elsewhere = tmp_path / "devops-config"
    elsewhere.mkdir()
    (elsewhere / "config").write_text("[defaults]\norganization = %s\n" % emulator.org_url("fabrikam"))
    result = env.az("devops-rest", "call", "--path", "_apis/projects",
                    env={"AZURE_DEVOPS_EXT_CONFIG_DIR": str(elsewhere)})
    assert result.returncode == 1
    assert TENANT_B in result.stderr  # it went to fabrikam, whose tenant is B


def test_no_organization_names_every_way(fresh_env):
    result = fresh_env.az("devops-rest", "call", "--path", "_apis/projects")
    assert result.returncode == 1
    assert error_lines(result.stderr) == ["ERROR: No Azure DevOps organization given."]
    for way in ("--org", "defaults.devops_organization", "AZURE_DEFAULTS_DEVOPS_ORGANIZATION",
                "az devops configure --defaults organization="):
        assert way in result.stderr


def test_absolute_url_on_the_organization(sp_env, emulator, devops):
    result = sp_env.az("devops-rest", "call", "--org", emulator.org_url("contoso"), "--path",
                       emulator.org_url("contoso") + "/_apis/projects?$top=3", "--query", "count")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "3"


@pytest.mark.parametrize("where", ["other", "other-org", "http"])
def test_absolute_url_elsewhere_is_refused_before_a_token(sp_env, emulator, devops, where):
    url = {"other": emulator.other_url + "/x", "other-org": emulator.org_url("fabrikam") + "/_apis/projects",
           "http": emulator.org_url("contoso").replace("https://", "http://") + "/_apis/projects"}[where]
    entra_before = len(emulator.log.entries(listener="login"))
    result = call(sp_env, emulator, "--path", url)
    assert result.returncode == 1
    assert error_lines(result.stderr)[0].startswith("ERROR: Refusing to send the Azure DevOps token to ")
    assert devops_requests(emulator, probes=True) == [] and emulator.log.entries(listener="other") == []
    assert len(emulator.log.entries(listener="login")) == entra_before


def test_service_host_found_through_resource_areas(sp_env, emulator, devops):
    result = call(sp_env, emulator, "--service", "vssps", "--path", "_apis/graph/users", "--api-version",
                  "7.1-preview.1", "--paginate", "--query", "length(value)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "181"
    graph = [e for e in devops_requests(emulator) if e["listener"] == "vssps"]
    assert len(graph) >= 3 and all("authorization" in e["headers"] for e in graph)
    lookups = [e for e in devops_requests(emulator) if "resourceAreas" in e["path"]]
    assert len(lookups) == 1 and "authorization" not in lookups[0]["headers"]


def test_release_host_paging(sp_env, emulator, devops):
    result = call(sp_env, emulator, "--service", "vsrm", "-p", "Website", "--path", "{project}/_apis/release/releases",
                  "--paginate", "--query", "length(value)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "120"


# -- paging ------------------------------------------------------------------------------------------------------
def test_paginate_all_projects_one_connection(sp_env, emulator, devops):
    document = ok_json(call(sp_env, emulator, "--path", "_apis/projects", "--paginate", "-o", "json"))
    assert document["count"] == 260 == len({p["id"] for p in document["value"]})
    entries = devops_requests(emulator)
    assert len(entries) == 3 and len({e["connection_id"] for e in entries}) == 1
    assert len({e["headers"]["authorization"] for e in entries}) == 1


def test_paginate_body_continuation_forms(sp_env, emulator, devops):
    audit = ok_json(call(sp_env, emulator, "--service", "auditservice", "--path", "_apis/audit/auditlog",
                         "--api-version", "7.1-preview.1",
                         "--paginate", "-o", "json"))
    assert len(audit["decoratedAuditLogEntries"]) == 450 and audit["hasMore"] is False
    revisions = ok_json(call(sp_env, emulator, "-p", "Website", "--path", "{project}/_apis/wit/reporting/"
                             "workitemrevisions", "--paginate", "--query", "length(values)", "-o", "json"))
    assert revisions == 2500


def test_max_items(sp_env, emulator, devops):
    result = call(sp_env, emulator, "--path", "_apis/projects", "--paginate", "--max-items", "120",
                  "--query", "length(value)")
    assert result.stdout.strip() == "120"
    assert len(devops_requests(emulator)) == 2


# -- bodies ---------------------------------------------------------------------------------------------------
def test_work_item_from_file_then_wiql_from_stdin(sp_env, emulator, devops, tmp_path):
    patch = tmp_path / "task.json"
    patch.write_text(json.dumps([{"op": "add", "path": "/fields/System.Title", "value": "E2E task"}]))
    item = ok_json(call(sp_env, emulator, "-p", "Website", "-m", "POST", "--path",
                        "{project}/_apis/wit/workitems/$Task", "--body", "@" + str(patch), "-o", "json"))
    assert item["fields"]["System.Title"] == "E2E task" and item["fields"]["System.WorkItemType"] == "Task"
    assert devops_requests(emulator)[0]["headers"]["content-type"] == "application/json-patch+json"
    wiql = sp_env.az("devops-rest", "call", "--org", emulator.org_url("contoso"), "-p", "Website", "-m", "POST",
                     "--path", "{project}/_apis/wit/wiql", "--body", "@-", "--query", "workItems[].id", "-o", "json",
                     input=json.dumps({"query": "SELECT [System.Id] FROM WorkItems WHERE [System.Title] = 'E2E task'"}))
    assert item["id"] in ok_json(wiql)


def test_malformed_json_body_is_refused_before_sending(sp_env, emulator, devops):
    result = call(sp_env, emulator, "-m", "POST", "--path", "Website/_apis/wit/wiql", "--body", '{"query": ')
    assert result.returncode == 1
    assert error_lines(result.stderr)[0].startswith("ERROR: --body is not valid JSON: ")
    assert "line 1, column 11" in result.stderr
    assert devops_requests(emulator, probes=True) == []


# -- failures -------------------------------------------------------------------------------------------------
def test_throttling_retried_with_warnings(sp_env, emulator, devops):
    devops.add_fault("throttle", path="/_apis/projects$", count=2, retry_after=1)
    result = call(sp_env, emulator, "--path", "_apis/projects", "--query", "count")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "100"
    warnings = [line for line in result.stderr.splitlines() if line.startswith("WARNING: Azure DevOps answered")]
    assert len(warnings) == 2 and all("429" in w and "resource Core" in w for w in warnings)


def test_service_unavailable_after_retries(sp_env, emulator, devops):
    devops.add_fault("unavailable", path="/_apis/projects$", count=None, retry_after=1)
    result = call(sp_env, emulator, "--path", "_apis/projects", "--max-retries", "2")
    assert result.returncode == 1
    assert error_lines(result.stderr) == [
        "ERROR: Azure DevOps answered 503 Service Unavailable: The service is temporarily unavailable. "
        "Please try again later."]
    assert len(devops_requests(emulator)) == 3


def test_time_out_is_a_clear_error(sp_env, emulator, devops):
    devops.add_fault("stall", path="/_apis/projects$", count=None, seconds=4)
    result = call(sp_env, emulator, "--path", "_apis/projects", "--timeout", "1", "--max-retries", "1")
    assert result.returncode == 1
    (line,) = error_lines(result.stderr)
    assert line.startswith("ERROR: Cannot reach Azure DevOps at %s (2 attempts): the connection timed out."
                           % emulator.devops_url)


def test_not_found_exits_3(sp_env, emulator, devops):
    result = call(sp_env, emulator, "--path", "_apis/projects/Nope")
    assert result.returncode == 3
    assert "TF200016" in error_lines(result.stderr)[0]


def test_wrong_tenant_names_both_and_the_fix(user_env, emulator, devops):
    result = call(user_env, emulator, "--path", "_apis/projects", "--tenant", TENANT_A, org="fabrikam")
    assert result.returncode == 1
    (line,) = error_lines(result.stderr)
    assert TENANT_A in line and TENANT_B in line
    assert "--tenant %s" % TENANT_B in result.stderr
    fixed = call(user_env, emulator, "--path", "_apis/projects", "--tenant", TENANT_B, "--query", "count",
                 org="fabrikam")
    assert fixed.returncode == 0, fixed.stderr


def test_identity_not_in_the_organization(sp_env, emulator, devops):
    result = call(sp_env, emulator, "--path", "_apis/projects", org="northwind")
    assert result.returncode == 1
    (line,) = error_lines(result.stderr)
    assert "TF400813" in line


def test_microsoft_account_organization(sp_env, emulator, devops):
    result = call(sp_env, emulator, "--path", "_apis/projects", org="msa-org")
    assert result.returncode == 1
    assert "Microsoft accounts" in error_lines(result.stderr)[0]


def test_managed_identity_and_user_calls(mi_env, user_env, emulator, devops):
    for env in (mi_env, user_env):
        result = call(env, emulator, "--path", "_apis/projects", "--query", "count")
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "100"


def test_debug_never_shows_the_token(sp_env, emulator, devops):
    result = call(sp_env, emulator, "--path", "_apis/projects", "--debug", "-o", "none")
    assert result.returncode == 0
    (entry,) = devops_requests(emulator)
    token = entry["headers"]["authorization"].split(" ", 1)[1]
    assert token not in result.stderr and token[:20] not in result.stderr
    assert "'Authorization': '<redacted>'" in result.stderr


def test_forbidden_shows_the_server_message(sp_env, emulator, devops):
    devops.add_fault("forbidden", path="/_apis/projects$", count=1)
    result = call(sp_env, emulator, "--path", "_apis/projects")
    assert result.returncode == 1
    assert error_lines(result.stderr) == [
        "ERROR: Azure DevOps answered 403 Forbidden: VS402904: Access denied: you need View project-level "
        "information permissions to perform this action. For more information, contact the organization "
        "administrator."]


def test_head_prints_nothing(sp_env, emulator, devops):
    result = call(sp_env, emulator, "-m", "HEAD", "--path", "_apis/projects")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert devops_requests(emulator)[0]["method"] == "HEAD"


def test_non_json_content_type_sends_the_body_unchanged(sp_env, emulator, devops):
    result = call(sp_env, emulator, "-m", "POST", "--path", "Website/_apis/wit/wiql", "--content-type",
                  "text/plain", "--body", "not { json")
    assert result.returncode == 1  # the emulator wants JSON here; what matters is what was sent
    (entry,) = devops_requests(emulator)
    assert entry["body"] == b"not { json" and entry["headers"]["content-type"] == "text/plain"


def test_unknown_git_repository_is_not_found(sp_env, emulator, devops):
    result = call(sp_env, emulator, "--path", "Website/_git/Nope/info/refs", "--query-parameters",
                  "service=git-upload-pack")
    assert result.returncode == 3
    assert "TF401019" in error_lines(result.stderr)[0]


def test_progress_on_a_terminal(sp_env, emulator, devops):
    """Progress goes to stderr only when stderr is a terminal: run az with a pseudo-terminal as stderr."""
    import pty
    import subprocess
    leader, follower = pty.openpty()
    try:
        process = subprocess.run([sp_env.az_path, "devops-rest", "call", "--org", emulator.org_url("contoso"),
                                  "--path", "_apis/projects", "--paginate", "--query", "count"],
                                 env=sp_env.env, stdout=subprocess.PIPE, stderr=follower, stdin=subprocess.DEVNULL,
                                 timeout=120, check=False)
        os.close(follower)
        follower = None
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if follower is not None:
            os.close(follower)
        os.close(leader)
    assert process.returncode == 0 and process.stdout.strip() == b"260"
    assert b"Fetched 260 items in 3 pages..." in seen
