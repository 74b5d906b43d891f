"""Reliability through the real az: throttling, 5xx storms, connections reset mid-body, servers that stop
answering, and a token that expires while pages are being fetched. Nothing is lost or done twice, no partial
output is left behind, and every wait is bounded.

Wall-time limits here are generous safety nets (a hung retry loop would blow through them), not benchmarks.
"""
import hashlib
import json
import os

import pytest

from emulator.devops import model
from emulator.devops.areas import build, core
from emulator.devops.artifacts import artifact_sha256
from security_support import (bearer, devops_requests, error_lines, fresh_login, replace_devops_handler, rest_call,
                              timed, warning_lines)

BOUND = 30  # seconds: far above what any of these commands needs, far below "hangs"


def all_projects(emulator, org="contoso"):
    """What `--path _apis/projects --paginate` must return: every project of the organization, in order."""
    org_url = emulator.org_url(org)
    projects = model.projects_for(org, emulator.directory.organizations[org].project_count)
    value = [model.project_json(p, org_url) for p in projects]
    return {"count": len(value), "value": value}


def paged_projects(env, emulator, *extra):
    return timed(env, "devops-rest", "call", "--org", emulator.org_url("contoso"), "--path", "_apis/projects",
                 "--paginate", "-o", "json", *extra)


def one_error(result):
    assert "Traceback" not in result.stderr, result.stderr
    (line,) = error_lines(result.stderr)
    return line


# -- throttling ------------------------------------------------------------------------------------------------
def test_throttled_three_times_then_the_whole_result(sp_env, emulator, devops):
    devops.add_fault("throttle", path="/_apis/projects$", count=3, retry_after=1)
    result, seconds = paged_projects(sp_env, emulator)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == all_projects(emulator)
    waits = warning_lines(result.stderr)
    assert len(waits) == 3 and all("429" in w and "resource Core" in w for w in waits), result.stderr
    statuses = [e["status"] for e in devops_requests(emulator, "/_apis/projects")]
    assert statuses == [429, 429, 429, 200, 200, 200]
    assert 3 <= seconds < BOUND  # Retry-After: 1 was honoured each time


def test_throttled_post_is_retried_and_done_exactly_once(sp_env, emulator, devops):
    title = "throttled-create-%s" % os.urandom(4).hex()
    devops.add_fault("throttle", path=r"/_apis/wit/workitems/\$Task$", method="POST", count=2, retry_after=0)
    patch = json.dumps([{"op": "add", "path": "/fields/System.Title", "value": title}])
    created = rest_call(sp_env, emulator, "-p", "Website", "-m", "POST", "--path",
                        "{project}/_apis/wit/workitems/$Task", "--body", patch, "-o", "json")
    assert created.returncode == 0, created.stderr
    item = json.loads(created.stdout)
    assert item["fields"]["System.Title"] == title
    assert [e["status"] for e in devops_requests(emulator, "/workitems/$Task")] == [429, 429, 200]
    query = {"query": "SELECT [System.Id] FROM WorkItems WHERE [System.Title] = '%s'" % title}
    found = rest_call(sp_env, emulator, "-p", "Website", "-m", "POST", "--path", "{project}/_apis/wit/wiql",
                      "--body", json.dumps(query), "--query", "workItems[].id", "-o", "json")
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout) == [item["id"]]  # one work item, not three


# -- 5xx storms --------------------------------------------------------------------------------------------------
def test_503_storm_gives_up_within_the_default_retry_budget(sp_env, emulator, devops):
    devops.add_fault("unavailable", path="/_apis/projects$", count=None, retry_after=1)
    result, seconds = timed(sp_env, "devops-rest", "call", "--org", emulator.org_url("contoso"),
                            "--path", "_apis/projects")
    # The last answer's JSON error body is the output (issue 12); the error line and exit code stay.
    assert result.returncode == 1 and json.loads(result.stdout)["typeKey"] == "ServiceUnavailableException"
    assert one_error(result).startswith("ERROR: Azure DevOps answered 503 Service Unavailable")
    assert len(devops_requests(emulator, "/_apis/projects")) == 5  # the first try and the default 4 retries
    assert len(warning_lines(result.stderr)) == 4
    assert seconds < BOUND


def test_503_asking_for_more_than_the_budget_fails_at_once(sp_env, emulator, devops):
    devops.add_fault("unavailable", path="/_apis/projects$", count=None, retry_after=3600)
    result, seconds = timed(sp_env, "devops-rest", "call", "--org", emulator.org_url("contoso"),
                            "--path", "_apis/projects")
    assert result.returncode == 1
    assert "503" in one_error(result)
    assert any("beyond the retry budget" in w for w in warning_lines(result.stderr))
    assert len(devops_requests(emulator, "/_apis/projects")) == 1
    assert seconds < BOUND


def test_max_retry_wait_caps_the_total_wait(sp_env, emulator, devops):
    devops.add_fault("unavailable", path="/_apis/projects$", count=None, retry_after=1)
    result, seconds = timed(sp_env, "devops-rest", "call", "--org", emulator.org_url("contoso"),
                            "--path", "_apis/projects", "--max-retries", "50", "--max-retry-wait", "2")
    assert result.returncode == 1
    assert "503" in one_error(result)
    assert len(devops_requests(emulator, "/_apis/projects")) == 3  # waits of 1 s + 1 s, then the budget is spent
    assert seconds < BOUND


def test_gateway_errors_without_retry_after_back_off_and_stop(sp_env, emulator, devops):
    devops.add_fault("gateway_timeout", path="/_apis/projects$", count=None)
    result, seconds = timed(sp_env, "devops-rest", "call", "--org", emulator.org_url("contoso"),
                            "--path", "_apis/projects", "--max-retries", "2")
    assert result.returncode == 1
    line = one_error(result)
    assert line.startswith("ERROR: Azure DevOps answered 504") and "<" not in line  # never the HTML page
    assert len(devops_requests(emulator, "/_apis/projects")) == 3
    assert seconds < BOUND


def test_offline_organization_is_not_retried(sp_env, emulator, devops):
    devops.add_fault("unavailable", path="/_apis/projects$", count=None, retry_after=1, host_offline=True)
    result = rest_call(sp_env, emulator, "--path", "_apis/projects")
    assert result.returncode == 1 and "503" in one_error(result)
    assert len(devops_requests(emulator, "/_apis/projects")) == 1


def test_bad_gateway_on_a_post_is_not_sent_twice(sp_env, emulator, devops):
    """The server may have processed it: a retry could create a second work item."""
    devops.add_fault("bad_gateway", path=r"/_apis/wit/workitems/\$Task$", method="POST", count=None)
    result = rest_call(sp_env, emulator, "-p", "Website", "-m", "POST", "--path", "{project}/_apis/wit/workitems/$Task",
                       "--body", '[{"op": "add", "path": "/fields/System.Title", "value": "once"}]')
    assert result.returncode == 1
    assert one_error(result).startswith("ERROR: Azure DevOps answered 502")
    assert len(devops_requests(emulator, "/workitems/$Task")) == 1


# -- connections reset mid-body -------------------------------------------------------------------------------
def test_reset_mid_body_of_a_json_get_is_retried(sp_env, emulator, devops):
    devops.add_fault("reset", path="/_apis/projects$", count=1, after_bytes=1500)
    result = rest_call(sp_env, emulator, "--path", "_apis/projects", "-o", "json")
    assert result.returncode == 0, result.stderr
    expected = all_projects(emulator)
    assert json.loads(result.stdout) == {"count": 100, "value": expected["value"][:100]}
    assert any("retrying" in w for w in warning_lines(result.stderr))
    cut, again = devops_requests(emulator, "/_apis/projects")
    assert cut["connection_id"] != again["connection_id"]  # the broken connection was not reused


def _reset_page(monkeypatch, token, count):
    """Cut the body of the projects page with this continuation token after 2000 bytes, ``count`` times
    (None: always). The emulator's faults match paths only, and every page has the same path."""
    original = core.list_projects
    left = [count]

    def cut_one_page(call):
        response = original(call)
        if call.arg("continuationToken") == token and (left[0] is None or left[0] > 0):
            response.reset_after_bytes = 2000
            left[0] = None if left[0] is None else left[0] - 1
        return response
    replace_devops_handler(monkeypatch, original, cut_one_page)


def test_reset_mid_body_of_a_later_page_loses_nothing(sp_env, emulator, devops, monkeypatch):
    _reset_page(monkeypatch, "100", 1)
    result, _ = paged_projects(sp_env, emulator)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == all_projects(emulator)
    tokens = [e["query"].get("continuationToken", [None])[0] for e in devops_requests(emulator, "/_apis/projects")]
    assert tokens == [None, "100", "100", "200"]


def test_paginate_to_a_file_fails_without_touching_the_file(sp_env, emulator, devops, monkeypatch, tmp_path):
    _reset_page(monkeypatch, "200", None)
    target = tmp_path / "projects.json"
    target.write_bytes(b"the previous export\n")
    result, seconds = paged_projects(sp_env, emulator, "--output-file", str(target), "--max-retries", "1")
    assert result.returncode == 1
    assert one_error(result).startswith("ERROR: Cannot reach Azure DevOps")
    assert target.read_bytes() == b"the previous export\n"
    assert os.listdir(tmp_path) == ["projects.json"]
    assert seconds < BOUND


ARTIFACT = ("-p", "Website", "--path", "{project}/_apis/build/builds/1/artifacts", "--query-parameters",
            "artifactName=drop", "$format=zip")


def test_download_cut_once_is_fetched_again_whole(sp_env, emulator, devops, tmp_path):
    size = 2 * 1024 * 1024 + 11
    devops.set_artifact_size(size)
    devops.add_fault("reset", path="/artifacts$", count=1, after_bytes=700_000)
    target = tmp_path / "drop.zip"
    target.write_bytes(b"an older drop")
    result = rest_call(sp_env, emulator, *ARTIFACT, "--output-file", str(target))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert hashlib.sha256(target.read_bytes()).hexdigest() == artifact_sha256(size)
    assert os.listdir(tmp_path) == ["drop.zip"]  # no .part file left over from the cut attempt
    assert len(devops_requests(emulator, "/artifacts")) == 2


def test_download_that_keeps_failing_leaves_the_existing_file_alone(sp_env, emulator, devops, tmp_path):
    devops.set_artifact_size(2 * 1024 * 1024)
    devops.add_fault("reset", path="/artifacts$", count=None, after_bytes=300_000)
    target = tmp_path / "drop.zip"
    target.write_bytes(b"yesterday's drop")
    result, seconds = timed(sp_env, "devops-rest", "call", "--org", emulator.org_url("contoso"), *ARTIFACT,
                            "--output-file", str(target), "--max-retries", "1")
    assert result.returncode == 1
    assert one_error(result).startswith("ERROR: Cannot reach Azure DevOps")
    assert target.read_bytes() == b"yesterday's drop"
    assert os.listdir(tmp_path) == ["drop.zip"]
    assert seconds < BOUND


def test_download_refused_by_the_server_leaves_no_file(sp_env, emulator, devops, tmp_path):
    target = tmp_path / "missing.zip"
    result = rest_call(sp_env, emulator, "-p", "Website", "--path", "{project}/_apis/build/builds/1/artifacts",
                       "--query-parameters", "artifactName=nope", "$format=zip", "--output-file", str(target))
    assert result.returncode == 3
    assert "Artifact nope was not found" in one_error(result)
    assert os.listdir(tmp_path) == []


# -- servers that stop answering ------------------------------------------------------------------------------
def test_stalled_server_is_one_clear_error_in_bounded_time(sp_env, emulator, devops):
    devops.add_fault("stall", path="/_apis/projects$", count=None, seconds=6)
    result, seconds = timed(sp_env, "devops-rest", "call", "--org", emulator.org_url("contoso"),
                            "--path", "_apis/projects", "--timeout", "1", "--max-retries", "1")
    assert result.returncode == 1 and result.stdout == ""
    line = one_error(result)
    assert line == ("ERROR: Cannot reach Azure DevOps at %s (2 attempts): the connection timed out."
                    % emulator.devops_url)
    assert "--timeout" in result.stderr  # the recommendation says what to change
    assert len(devops_requests(emulator, "/_apis/projects")) == 2
    assert seconds < BOUND


def test_stalled_post_is_not_sent_again(sp_env, emulator, devops):
    devops.add_fault("stall", path="/_apis/wit/wiql$", count=None, seconds=6)
    result, seconds = timed(sp_env, "devops-rest", "call", "--org", emulator.org_url("contoso"), "-p", "Website",
                            "-m", "POST", "--path", "{project}/_apis/wit/wiql", "--timeout", "1",
                            "--body", '{"query": "SELECT [System.Id] FROM WorkItems"}')
    assert result.returncode == 1
    assert "timed out" in one_error(result)
    assert len(devops_requests(emulator, "/_apis/wit/wiql")) == 1
    assert seconds < BOUND


# -- a token that expires during --paginate ---------------------------------------------------------------------
@pytest.fixture
def short_tokens(emulator):
    """Tokens that live 123 s: the extension replaces a token within 120 s of its expiry, so one fetched at the
    start of a command is replaced about 3 s later. MSAL never serves a cached token that expires within
    5 minutes, so each replacement really is a new token."""
    before = emulator.token_lifetime
    emulator.token_lifetime = 123
    yield
    emulator.token_lifetime = before


def test_token_replaced_during_paginate_and_every_page_kept(ext_template, emulator, devops, short_tokens, tmp_path):
    env = fresh_login(ext_template, tmp_path / "config")  # no long-lived Azure DevOps token cached
    devops.set_latency(1000)  # six pages of 50, one second each: the paging outlives the token's margin
    result, seconds = paged_projects(env, emulator, "--query-parameters", "$top=50")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == all_projects(emulator)
    pages = devops_requests(emulator, "/_apis/projects")
    assert len(pages) == 6 and all(e["status"] == 200 for e in pages)
    tokens = [bearer(e) for e in pages]
    assert None not in tokens
    runs = [t for i, t in enumerate(tokens) if i == 0 or t != tokens[i - 1]]
    assert len(runs) >= 2, "every page went out with the first token: it was never replaced"
    assert len(runs) == len(set(runs)), "an old token was used again after it had been replaced"
    assert seconds < BOUND


# -- bodies cut short (issue 14): an error on urllib3 2.x and on the 1.26 of older az alike ----------------------
# AZ_VERSION=2.45.0 runs these on Debian 12's urllib3 1.26, which reads a body shorter than Content-Length as
# complete unless the transport asks it to check (azext_devopstoken/_adapter.py).
def test_json_body_shorter_than_its_content_length_is_an_error(sp_env, emulator, devops):
    devops.add_fault("reset", path="/_apis/projects$", count=None, after_bytes=1500)
    result = rest_call(sp_env, emulator, "--path", "_apis/projects", "-o", "json", "--max-retries", "1")
    assert result.returncode == 1 and result.stdout == ""
    assert one_error(result).startswith("ERROR: Cannot reach Azure DevOps")
    assert "does not parse" not in result.stderr
    assert len(devops_requests(emulator, "/_apis/projects")) == 2  # cut, retried once, cut again


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_download_cut_short_exits_1_and_leaves_no_file(sp_env, emulator, devops, monkeypatch, tmp_path, framing):
    devops.set_artifact_size(3 * 1024 * 1024)
    if framing == "chunked":  # the same body without Content-Length: chunked, cut before its last chunk
        original = build.build_artifacts

        def chunked_and_cut(call):
            response = original(call)
            response.headers = [(k, v) for k, v in response.headers if k.lower() != "content-length"]
            response.reset_after_bytes = 500_000
            return response
        replace_devops_handler(monkeypatch, original, chunked_and_cut)
    else:
        devops.add_fault("reset", path="/artifacts$", count=None, after_bytes=500_000)
    target = tmp_path / "drop.zip"
    result = rest_call(sp_env, emulator, *ARTIFACT, "--output-file", str(target), "--max-retries", "1")
    assert result.returncode == 1, result.stderr
    assert one_error(result).startswith("ERROR: Cannot reach Azure DevOps")
    assert os.listdir(tmp_path) == []  # neither the file nor a partial one
    assert len(devops_requests(emulator, "/artifacts")) == 2
