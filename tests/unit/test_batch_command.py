"""`az devops-rest batch` in-process against the loopback emulator's Azure DevOps (tokens minted as in
test_call.py; the real token flow and the real az process are covered in tests/e2e/test_devops_rest_batch.py)."""
import io
import json
import sys

import pytest

import test_call
from test_call import devops_requests

# The emulator and token fixtures of test_call.py (an emulator of this module's own: module scope).
emu, devops, tokens = test_call.emu, test_call.devops, test_call.tokens


def write_lines(tmp_path, lines, name="requests.jsonl"):
    path = tmp_path / name
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return str(path)


def results_of(result):
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_lines_run_in_order_with_one_token_and_a_pool_of_parallel_connections(az, emu, devops, tokens, tmp_path):
    lines = [{"id": "p%d" % n, "path": "_apis/projects", "query": {"$top": 1, "$skip": n}} for n in range(30)]
    result = az("devops-rest", "batch", "--org", emu.org_url("contoso"), "--input", write_lines(tmp_path, lines),
                "--parallel", "3")
    assert result.exit_code == 0, result
    results = results_of(result)
    assert [r["index"] for r in results] == list(range(30))
    assert [r["id"] for r in results] == ["p%d" % n for n in range(30)]
    assert all(r["status"] == 200 and r["body"]["count"] == 1 for r in results)
    names = [r["body"]["value"][0]["name"] for r in results]
    assert len(set(names)) == 30
    entries = devops_requests(emu)
    assert len(entries) == 30 and all(e["query"]["api-version"] == ["7.1"] for e in entries)
    assert len({e["connection_id"] for e in entries}) <= 3
    assert len(tokens.calls) == 1
    assert {e["headers"]["authorization"] for e in entries} == {"Bearer " + tokens.issued[0]}


def test_a_bad_line_and_a_refused_line_get_their_own_results(az, emu, devops, tokens, tmp_path):
    lines = [{"path": "_apis/projects", "query": {"$top": 1}}, "{not json", {"path": emu.other_url + "/steal"},
             {"id": 7, "path": "{team}/_apis/x"}, "", {"path": "_apis/projects/nope"}, {"path": "_apis/projects"}]
    result = az("devops-rest", "batch", "--org", emu.org_url("contoso"), "--input", write_lines(tmp_path, lines))
    assert result.exit_code == 1
    results = results_of(result)
    assert [r["index"] for r in results] == [0, 1, 2, 3, 5, 6]  # the blank line 4 has no result
    by_index = {r["index"]: r for r in results}
    assert by_index[0]["status"] == 200 and by_index[6]["status"] == 200
    assert by_index[1]["errorKind"] == "input" and "not valid JSON" in by_index[1]["error"]
    assert by_index[2]["errorKind"] == "refused" and "Refusing to send the Azure DevOps token" in by_index[2]["error"]
    assert by_index[3]["errorKind"] == "refused" and by_index[3]["id"] == 7 and "{team}" in by_index[3]["error"]
    assert by_index[5]["errorKind"] == "http" and by_index[5]["status"] == 404 and by_index[5]["body"]["message"]
    assert result.error_lines == ["ERROR: 6 lines: 2 succeeded, 4 failed."]
    assert emu.log.entries(listener="other") == []


def test_stop_on_error_stops_reading(az, emu, devops, tokens, tmp_path):
    lines = [{"path": "_apis/projects/nope"}] + [{"path": "_apis/projects"}] * 40
    result = az("devops-rest", "batch", "--org", emu.org_url("contoso"), "--input", write_lines(tmp_path, lines),
                "--parallel", "1", "--stop-on-error")
    assert result.exit_code == 1
    results = results_of(result)
    assert results[0]["status"] == 404 and len(results) < 41
    assert len(devops_requests(emu)) == len(results)
    assert "stopped after the first failure (--stop-on-error)" in result.error_lines[0]


def test_json_patch_lines_update_work_items_and_a_text_body_keeps_its_type(az, emu, devops, tokens, tmp_path):
    org = emu.org_url("contoso")
    created = az("devops-rest", "call", "--org", org, "-p", "Website", "-m", "POST",
                 "--path", "{project}/_apis/wit/workitems/$Task",
                 "--body", '[{"op": "add", "path": "/fields/System.Title", "value": "one"}]', "-o", "json")
    assert created.exit_code == 0, created
    item = json.loads(created.stdout)["id"]
    lines = [{"id": item, "method": "patch", "path": "{project}/_apis/wit/workitems/%d" % item,
              "body": [{"op": "add", "path": "/fields/System.Tags", "value": "triaged"}]},
             {"method": "POST", "path": "{project}/_apis/wit/wiql", "headers": {"Content-Type": "text/plain"},
              "body": "SELECT [System.Id] FROM WorkItems"}]
    emu.log.clear()
    result = az("devops-rest", "batch", "--org", org, "-p", "Website", "--input", write_lines(tmp_path, lines))
    first, second = results_of(result)
    assert first["status"] == 200 and first["body"]["fields"]["System.Tags"] == "triaged"
    patch, wiql = sorted(devops_requests(emu), key=lambda e: e["method"])  # PATCH < POST
    assert patch["method"] == "PATCH" and patch["headers"]["content-type"] == "application/json-patch+json"
    assert wiql["headers"]["content-type"] == "text/plain" and wiql["body"] == b"SELECT [System.Id] FROM WorkItems"
    assert second["errorKind"] == "http"  # WIQL wants JSON: the server's refusal, not ours


def test_stdin_is_read_as_a_stream(az, emu, devops, tokens, monkeypatch):
    data = "".join(json.dumps({"id": n, "path": "_apis/projects", "query": {"$top": 1}}) + "\n" for n in range(5))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data.encode("utf-8"))))
    result = az("devops-rest", "batch", "--org", emu.org_url("contoso"), "--input", "-")
    assert result.exit_code == 0, result
    assert [r["id"] for r in results_of(result)] == list(range(5))


def test_a_line_with_its_own_authorization_is_sent_as_given(az, emu, devops, tokens, tmp_path):
    lines = [{"path": "_apis/projects", "headers": {"Authorization": "Bearer theirs"}}, {"path": "_apis/projects"}]
    result = az("devops-rest", "batch", "--org", emu.org_url("contoso"), "--input", write_lines(tmp_path, lines),
                "--parallel", "1")
    theirs, ours = devops_requests(emu)
    assert theirs["headers"]["authorization"] == "Bearer theirs"
    assert ours["headers"]["authorization"] == "Bearer " + tokens.issued[0]
    assert results_of(result)[1]["status"] == 200


def test_throttling_pauses_the_batch_and_every_line_succeeds(az, emu, devops, tokens, tmp_path):
    devops.add_fault("throttle", path="/_apis/projects$", count=1, retry_after=1)
    lines = [{"path": "_apis/projects", "query": {"$top": 1}}] * 8
    result = az("devops-rest", "batch", "--org", emu.org_url("contoso"), "--input", write_lines(tmp_path, lines),
                "--parallel", "4")
    assert result.exit_code == 0, result
    assert [r["status"] for r in results_of(result)] == [200] * 8
    entries = devops_requests(emu)
    statuses = [e["status"] for e in entries]
    assert statuses.count(429) == 1 and statuses.count(200) == 8
    throttled_at = next(e["time"] for e in entries if e["status"] == 429)
    later = [e["time"] for e in entries if e["time"] > throttled_at + 0.05]
    # Requests after the 429 waited out its Retry-After (1 s): none started in the paused second.
    assert later and min(later) >= throttled_at + 0.9
    assert "429" in result.stderr and "Core" in result.stderr


@pytest.mark.parametrize("args, fragment, code", [
    (["--parallel", "0"], "--parallel must be between 1 and 32", 1),
    (["--parallel", "33"], "--parallel must be between 1 and 32", 1),
    (["--timeout", "0"], "--timeout must be a positive number", 1),
    (["--input", "no-such-file.jsonl"], "--input no-such-file.jsonl: no such file", 1),
    (["--input", '{"path": "_apis/projects"}\n{"path": "_apis/projects"}'], "the content of a file", 1),
])
def test_bad_options_are_one_error_and_nothing_sent(az, emu, devops, tokens, tmp_path, args, fragment, code):
    full = ["devops-rest", "batch", "--org", emu.org_url("contoso"), "--input", write_lines(tmp_path, [])] + args
    result = az(*full)
    assert result.exit_code == code
    (line,) = result.error_lines
    assert fragment in line, line
    assert result.stdout == "" and devops_requests(emu, probes=True) == [] and tokens.calls == []


def test_a_refused_identity_is_an_auth_error_on_its_line_with_the_service_answer(az, emu, devops, tokens, tmp_path):
    # northwind does not count the token's identity among its members: every line gets the service's 401.
    lines = [{"id": "a", "path": "_apis/projects"}, {"id": "b", "method": "PATCH", "path": "_apis/projects/x",
                                                     "body": {"description": "x"}}]
    result = az("devops-rest", "batch", "--org", emu.org_url("northwind"), "--input", write_lines(tmp_path, lines))
    assert result.exit_code == 1
    first, second = results_of(result)
    for line in (first, second):
        assert line["status"] == 401 and line["errorKind"] == "auth", line
        assert "TF40" in line["error"] and line["body"]["typeKey"] == "UnauthorizedRequestException"
    assert result.error_lines == ["ERROR: 2 lines: 0 succeeded, 2 failed."]
    assert len(tokens.calls) == 1  # a refused identity is not asked for a token again per line


def test_a_refused_api_version_is_negotiated_once_for_the_whole_batch(az, emu, devops, tokens, tmp_path):
    import os
    import shutil
    shutil.rmtree(os.path.join(os.environ["AZURE_CONFIG_DIR"], "devops-token", "locations"), ignore_errors=True)
    # connectionData is preview-only (see tests/e2e/test_api_version.py): 7.1 is refused, 7.1-preview answers.
    lines = [{"id": n, "path": "_apis/connectionData"} for n in range(5)]
    lines.append({"id": "mine", "path": "_apis/connectionData", "query": {"api-version": "7.1"}})
    result = az("devops-rest", "batch", "--org", emu.org_url("contoso"), "--input", write_lines(tmp_path, lines),
                "--parallel", "1")
    results = results_of(result)
    assert [r["status"] for r in results[:5]] == [200] * 5, results
    assert all(r["body"]["authenticatedUser"] for r in results[:5])
    assert results[5]["status"] == 400 and results[5]["errorKind"] == "http"  # its own api-version: as given
    sent = [(e["method"], e["query"].get("api-version", [None])[0]) for e in devops_requests(emu)]
    assert sent == [("GET", "7.1"), ("OPTIONS", None), ("GET", "7.1-preview")] + [("GET", "7.1-preview")] * 4 + \
        [("GET", "7.1")]


def test_workers_refused_at_once_share_one_location_table(az, emu, devops, tokens, tmp_path):
    import os
    import shutil
    shutil.rmtree(os.path.join(os.environ["AZURE_CONFIG_DIR"], "devops-token", "locations"), ignore_errors=True)
    lines = [{"path": "_apis/connectionData"} for _ in range(20)]
    result = az("devops-rest", "batch", "--org", emu.org_url("contoso"), "--input", write_lines(tmp_path, lines),
                "--parallel", "4")
    assert result.exit_code == 0, result
    sent = devops_requests(emu)
    assert [e["method"] for e in sent].count("OPTIONS") == 1
    refused = [e for e in sent if e["method"] == "GET" and e["query"]["api-version"] == ["7.1"]]
    assert 1 <= len(refused) <= 4  # only lines already in flight when the first refusal came back
    assert len(sent) == 20 + len(refused) + 1
