"""`az devops-rest call` scripting options in-process against the emulator (issue 12): -f/-F fields, --patch,
--input, -i, JSON error bodies on stdout, {team} and REST-reference URLs, -o table of {count, value}."""
import hashlib
import io
import json

import pytest

from test_call import devops, devops_requests, emu, tokens  # noqa: F401  pylint: disable=unused-import

ECHO = "_apis/_emulator/echo"


def call(az, emu, *args):  # noqa: F811
    return az("devops-rest", "call", "--org", emu.org_url("contoso"), *args)


def echoed(result):
    assert result.exit_code == 0, result
    return json.loads(result.stdout)


def test_fields_build_a_nested_typed_json_body_and_post(az, emu, devops, tokens):  # noqa: F811
    document = echoed(call(az, emu, "--path", ECHO, "-f", "title=007", "-f", "a[b][c]=x", "-f", "tags[]=one",
                           "-f", "tags[]=two", "-F", "n=42", "-F", "ok=true", "-F", "none=null", "-F", "pi=3.5",
                           "-F", "word=yes"))
    assert document["method"] == "POST" and document["contentType"] == "application/json"
    assert document["json"] == {"title": "007", "a": {"b": {"c": "x"}}, "tags": ["one", "two"], "n": 42,
                                "ok": True, "none": None, "pi": 3.5, "word": "yes"}


def test_an_explicit_method_wins_over_the_post_default(az, emu, devops, tokens):  # noqa: F811
    assert echoed(call(az, emu, "--path", ECHO, "-m", "put", "-f", "a=b"))["method"] == "PUT"
    assert echoed(call(az, emu, "--path", ECHO))["method"] == "GET"


def test_patch_is_a_json_patch_array(az, emu, devops, tokens):  # noqa: F811
    document = echoed(call(az, emu, "--path", ECHO, "--patch", "/fields/System.Title=Fix the build",
                           "--patch", "/fields/Microsoft.VSTS.Common.Priority:=1"))
    assert document["method"] == "POST" and document["contentType"] == "application/json-patch+json"
    assert document["json"] == [{"op": "add", "path": "/fields/System.Title", "value": "Fix the build"},
                                {"op": "add", "path": "/fields/Microsoft.VSTS.Common.Priority", "value": 1}]


def test_patch_creates_a_work_item_in_one_line(az, emu, devops, tokens):  # noqa: F811
    result = call(az, emu, "-p", "Website", "--path", "{project}/_apis/wit/workitems/$Task",
                  "--patch", "/fields/System.Title=One line", "--query", "fields.\"System.Title\"", "-o", "tsv")
    assert result.exit_code == 0, result
    assert result.stdout.strip() == "One line"


def test_input_sends_stdin_byte_for_byte(az, emu, devops, tokens, monkeypatch):  # noqa: F811
    data = bytes(range(256)) * 12 + b"\r\n\x00"
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    document = echoed(call(az, emu, "--path", ECHO, "--input", "-"))
    assert document["method"] == "POST" and document["contentType"] == "application/octet-stream"
    assert document["length"] == len(data) and document["sha256"] == hashlib.sha256(data).hexdigest()
    assert document["contentLength"] == str(len(data)) and document["transferEncoding"] is None


def test_input_rewinds_on_a_retry(az, emu, devops, tokens, tmp_path):  # noqa: F811
    data = bytes(range(256)) * 20
    source = tmp_path / "blob.bin"
    source.write_bytes(data)
    devops.add_fault("throttle", path="_emulator/echo", retry_after=0)
    document = echoed(call(az, emu, "--path", ECHO, "--input", str(source), "--content-type", "image/png"))
    assert document["sha256"] == hashlib.sha256(data).hexdigest() and document["contentType"] == "image/png"
    assert [e["status"] for e in devops_requests(emu)] == [429, 200]


def test_an_empty_input_is_sent_with_content_length_zero(az, emu, devops, tokens, tmp_path):  # noqa: F811
    (tmp_path / "empty").write_bytes(b"")
    document = echoed(call(az, emu, "--path", ECHO, "--input", str(tmp_path / "empty")))
    assert document["length"] == 0 and document["contentLength"] == "0"


@pytest.mark.parametrize("extra, fragment", [
    (["-f", "a=1", "--body", "{}"], "Give only one request body: --body or -f/-F fields"),
    (["--patch", "/a=1", "-F", "b=2"], "-f/-F fields or --patch"),
    (["--input", "-", "-F", "x=stdin text"], "-f/-F fields or --input"),
    (["--patch", "fields/x=1"], "--patch fields/x: the path must start with '/'"),
    (["-f", "a[=1"], "-f/--field a[:"),
    (["-f", "a=1", "--content-type", "text/plain"], "--content-type text/plain is not JSON"),
    (["--input", "/no/such/file"], "--input: no such file (/no/such/file)"),
    (["--path", "https://nope.dev.azure.com/{organization}/_apis/x"], "not an Azure DevOps service host"),
])
def test_body_mistakes_are_one_error_and_nothing_sent(az, emu, devops, tokens, extra, fragment):  # noqa: F811
    args = extra if "--path" in extra else ["--path", ECHO] + extra
    result = call(az, emu, *args)
    assert result.exit_code != 0
    assert len(result.error_lines) == 1 and fragment in result.error_lines[0], result
    assert devops_requests(emu, probes=True) == [] and tokens.calls == []


def test_include_writes_the_head_to_stderr(az, emu, devops, tokens):  # noqa: F811
    result = call(az, emu, "--path", "_apis/projects", "-i", "--query-parameters", "$top=2", "-o", "json")
    assert result.exit_code == 0, result
    assert json.loads(result.stdout)["count"] == 2
    head = result.stderr.split("\n\n")[0].splitlines()
    assert head[0] == "HTTP/1.1 200 OK"
    assert any(line.lower().startswith("x-ms-continuationtoken: 2") for line in head)
    assert tokens.issued[0] not in result.stderr


def test_include_with_paginate_shows_every_page(az, emu, devops, tokens):  # noqa: F811
    result = call(az, emu, "--path", "_apis/projects", "--query-parameters", "$top=40", "--paginate", "-i",
                  "-o", "none")
    assert result.exit_code == 0, result
    pages = devops_requests(emu)
    assert len(pages) > 2 and result.stderr.count("HTTP/1.1 200 OK") == len(pages)
    assert result.stderr.lower().count("x-ms-continuationtoken: ") == len(pages) - 1


def test_a_json_error_body_is_the_output_and_the_error_stays(az, emu, devops, tokens):  # noqa: F811
    result = call(az, emu, "--path", "_apis/projects/nope", "-i", "--query", "{key: typeKey, code: errorCode}",
                  "-o", "json")
    assert result.exit_code == 3, result
    assert json.loads(result.stdout) == {"key": "ProjectDoesNotExistWithNameException", "code": 0}
    assert len(result.error_lines) == 1 and "404" in result.error_lines[0]
    assert "HTTP/1.1 404 Not Found" in result.stderr


def test_a_json_error_body_honours_output_none(az, emu, devops, tokens):  # noqa: F811
    result = call(az, emu, "--path", "_apis/projects/nope", "-o", "none")
    assert result.exit_code == 3 and result.stdout == ""


def test_team_and_a_rest_reference_url(az, emu, devops, tokens):  # noqa: F811
    document = echoed(call(az, emu, "-p", "Website", "--team", "Core Team", "--path",
                           "https://dev.azure.com/{organization}/{project}/{team}/" + ECHO + "?api-version=7.1"))
    assert (document["project"], document["team"], document["method"]) == ("Website", "Core Team", "GET")
    (entry,) = devops_requests(emu)
    assert entry["path"] == "/contoso/Website/Core Team/" + ECHO and entry["query"]["api-version"] == ["7.1"]


def test_placeholders_in_a_full_url_on_the_organization(az, emu, devops, tokens):  # noqa: F811
    document = echoed(call(az, emu, "-p", "Website", "--path", emu.org_url("contoso") + "/{project}/" + ECHO))
    assert document["project"] == "Website"


def test_table_of_a_count_value_list_shows_rows(az, emu, devops, tokens):  # noqa: F811
    result = call(az, emu, "--path", "_apis/projects", "--query-parameters", "$top=3", "-o", "table")
    assert result.exit_code == 0, result
    lines = result.stdout.splitlines()
    assert "Name" in lines[0] and lines[1].startswith("---") and len(lines) == 5
    assert "Website" in result.stdout and "Count" not in lines[0]


def test_table_of_other_shapes_is_unchanged(az, emu, devops, tokens):  # noqa: F811
    result = call(az, emu, "-p", "Website", "--path", "_apis/projects/{project}", "-o", "table")
    assert result.exit_code == 0, result
    assert "Website" in result.stdout and len(result.stdout.splitlines()) == 3


def test_dry_run_shows_the_built_body(az, emu, devops, tokens, tmp_path):  # noqa: F811
    shown = echoed(call(az, emu, "--path", ECHO, "-f", "a[b]=c", "-F", "n=1", "--dry-run"))
    assert (shown["method"], shown["body"]) == ("POST", {"a": {"b": "c"}, "n": 1})
    assert shown["headers"]["Content-Type"] == "application/json"
    (tmp_path / "blob").write_bytes(b"\x00" * 10)
    shown = echoed(call(az, emu, "--path", ECHO, "--input", str(tmp_path / "blob"), "--dry-run"))
    assert shown["body"] == "<10 bytes from --input>"
    assert shown["headers"]["Content-Type"] == "application/octet-stream"
    assert devops_requests(emu, probes=True) == [] and tokens.calls == []
