"""An Azure DevOps Server collection through the real az (issue 9, item 3): AZURE_DEVOPS_EXT_PAT as Basic with an
empty user name and never the Entra token, api-version negotiated down to the server's 7.0, --service on the
collection URL when resource areas are empty."""
import base64
import json
import os
import shutil

from az_support import error_lines

PAT = "server-pat-0123456789"


def _server(emulator, devops):
    devops.add_server_pat(PAT)
    emulator.log.clear()


def call(env, emulator, *args, pat=PAT):
    return env.az("devops-rest", "call", "--org", emulator.server_url, *args,
                  env={"AZURE_DEVOPS_EXT_PAT": pat} if pat else None)


def _server_requests(emulator):
    return [e for e in emulator.log.entries() if e["listener"] == "server"]


def test_pat_as_basic_and_api_version_negotiated_to_the_server(sp_env, emulator, devops):
    _server(emulator, devops)
    result = call(sp_env, emulator, "--path", "_apis/projects", "--query", "count")
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == 100
    entries = _server_requests(emulator)
    assert [(e["method"], e["status"]) for e in entries] == [("GET", 400), ("OPTIONS", 200), ("GET", 200)]
    assert entries[-1]["query"]["api-version"] == ["7.0"]
    expected = "Basic " + base64.b64encode((":" + PAT).encode()).decode()
    assert {e["headers"]["authorization"] for e in entries} == {expected}
    # never an Entra token: no token request, no tenant probe, nothing else reached
    assert [e for e in emulator.log.entries() if e["listener"] != "server"] == []
    assert PAT not in result.stderr


def test_service_on_a_server_is_the_collection_url(sp_env, emulator, devops):
    _server(emulator, devops)
    result = call(sp_env, emulator, "--service", "vsrm", "-p", "Website", "--path",
                  "{project}/_apis/release/releases", "--query", "count")
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == 50
    areas = [e for e in _server_requests(emulator) if e["path"].endswith("/_apis/resourceAreas")]
    assert [e["status"] for e in areas] == [400, 200]          # 7.1-preview.1 out of range, then 7.0-preview.1
    releases = [e for e in _server_requests(emulator) if e["path"].endswith("/releases") and e["status"] == 200]
    assert releases and releases[0]["path"].startswith("/DefaultCollection/Website/")


def test_explicit_api_version_refused_by_the_server_names_its_version(sp_env, emulator, devops):
    _server(emulator, devops)
    result = call(sp_env, emulator, "--path", "_apis/projects", "--api-version", "7.1")
    assert result.returncode == 1
    (line,) = error_lines(result.stderr)
    assert "out of range for this server" in line and "Use --api-version 7.0" in line


def test_dry_run_shows_the_pat_redacted(sp_env, emulator, devops):
    _server(emulator, devops)
    result = call(sp_env, emulator, "--path", "_apis/projects", "--dry-run")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["headers"]["Authorization"] == "Basic <redacted: AZURE_DEVOPS_EXT_PAT>" and shown["token"] is None
    assert PAT not in result.stdout and emulator.log.entries() == []


def test_batch_on_a_server_sends_the_pat_and_negotiates_once(sp_env, emulator, devops, tmp_path):
    _server(emulator, devops)
    shutil.rmtree(os.path.join(sp_env.config_dir, "devops-token", "locations"), ignore_errors=True)
    requests_file = tmp_path / "requests.jsonl"
    requests_file.write_text("".join(json.dumps({"id": n, "path": "_apis/projects", "query": {"$top": 5}}) + "\n"
                                     for n in range(6)))
    result = sp_env.az("devops-rest", "batch", "--org", emulator.server_url, "--input", str(requests_file),
                       "--parallel", "1", env={"AZURE_DEVOPS_EXT_PAT": PAT})
    assert result.returncode == 0, result.stderr
    results = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["id"], r["status"], r["body"]["count"]) for r in results] == [(n, 200, 5) for n in range(6)]
    entries = _server_requests(emulator)
    assert [(e["method"], e["status"]) for e in entries] == [("GET", 400), ("OPTIONS", 200)] + [("GET", 200)] * 6
    assert {e["query"]["api-version"][0] for e in entries if e["status"] == 200 and e["method"] == "GET"} == {"7.0"}
    expected = "Basic " + base64.b64encode((":" + PAT).encode()).decode()
    assert {e["headers"]["authorization"] for e in entries} == {expected}
    assert [e for e in emulator.log.entries() if e["listener"] != "server"] == []  # no token asked, no probe
    assert PAT not in result.stderr


def test_batch_on_a_server_without_a_pat_is_refused_before_anything_is_sent(sp_env, emulator, devops, tmp_path):
    _server(emulator, devops)
    requests_file = tmp_path / "requests.jsonl"
    requests_file.write_text(json.dumps({"path": "_apis/projects"}) + "\n")
    result = sp_env.az("devops-rest", "batch", "--org", emulator.server_url, "--input", str(requests_file))
    assert result.returncode == 1
    (line,) = error_lines(result.stderr)
    assert "AZURE_DEVOPS_EXT_PAT" in line or "trusted_hosts" in line
    assert emulator.log.entries() == []
