"""Scripting with `az devops-rest call` through the real az (issue 12): fields instead of JSON text, JSON Patch in
one line, raw bytes with --input, response heads with -i, JSON error bodies on stdout, {team}, REST-reference
URLs and -o table of lists. The emulator's test-only echo endpoint reports what arrived."""
import hashlib
import json

from az_support import az_bytes, devops_call as call, devops_requests, error_lines, ok_json

ECHO = "_apis/_emulator/echo"


def test_fields_nested_and_typed_with_file_and_stdin(sp_env, emulator, devops, tmp_path):
    (tmp_path / "description.md").write_text("Line one\nLine \"two\" with $HOME and !x\n")
    (tmp_path / "number.txt").write_text("12\n")
    echoed = ok_json(call(sp_env, emulator, "--path", ECHO,
                          "-f", "query=SELECT [System.Id] FROM WorkItems WHERE [System.Title] = 'a b'",
                          "-f", "labels[][name]=bug", "-f", "labels[][name]=p1", "-F", "options[draft]=false",
                          "-F", "top=5", "-F", "description=@" + str(tmp_path / "description.md"),
                          "-F", "count=@" + str(tmp_path / "number.txt"), "-F", "note=@-",
                          input="from stdin\n"))
    assert echoed["method"] == "POST" and echoed["contentType"] == "application/json"
    assert echoed["json"] == {
        "query": "SELECT [System.Id] FROM WorkItems WHERE [System.Title] = 'a b'",
        "labels": [{"name": "bug"}, {"name": "p1"}], "options": {"draft": False}, "top": 5,
        # az reads @file itself (trailing newlines dropped); -F then types the text as if it had been typed.
        "description": "Line one\nLine \"two\" with $HOME and !x", "count": 12, "note": "from stdin"}


def test_wiql_without_json_quoting(sp_env, emulator, devops):
    created = ok_json(call(sp_env, emulator, "-p", "Website", "--path", "{project}/_apis/wit/workitems/$Task",
                           "--patch", "/fields/System.Title=Scripted task"))
    ids = ok_json(call(sp_env, emulator, "-p", "Website", "--path", "{project}/_apis/wit/wiql", "-f",
                       "query=SELECT [System.Id] FROM WorkItems WHERE [System.Title] = 'Scripted task'",
                       "--query", "workItems[].id"))
    assert created["id"] in ids


def test_patch_creates_then_updates_a_work_item_in_one_line(sp_env, emulator, devops):
    item = ok_json(call(sp_env, emulator, "-p", "Website", "--path", "{project}/_apis/wit/workitems/$Task",
                        "--patch", "/fields/System.Title=Fix the build", "--patch",
                        "/fields/Microsoft.VSTS.Common.Priority:=1"))
    assert item["fields"]["System.Title"] == "Fix the build" and item["fields"]["System.WorkItemType"] == "Task"
    (sent,) = devops_requests(emulator, "/$Task")
    assert sent["method"] == "POST" and sent["headers"]["content-type"] == "application/json-patch+json"
    updated = ok_json(call(sp_env, emulator, "-m", "PATCH", "--path", "_apis/wit/workitems/%d" % item["id"],
                           "--patch", "/fields/System.Title=Fixed", "--query", "fields.\"System.Title\""))
    assert updated == "Fixed"


def test_binary_attachment_is_sent_byte_for_byte(sp_env, emulator, devops, tmp_path):
    data = bytes((i * 131 + 7) % 256 for i in range(3000))  # not UTF-8: az's @file would send base64
    source = tmp_path / "screenshot.png"
    source.write_bytes(data)
    reference = ok_json(call(sp_env, emulator, "-p", "Website", "--path", "{project}/_apis/wit/attachments",
                             "--query-parameters", "fileName=screenshot.png", "--input", str(source)))
    (sent,) = devops_requests(emulator, "/_apis/wit/attachments")
    assert sent["method"] == "POST" and sent["headers"]["content-type"] == "application/octet-stream"
    assert sent["headers"]["content-length"] == "3000"
    back = az_bytes(sp_env, "devops-rest", "call", "--org", emulator.org_url("contoso"), "-p", "Website",
                    "--path", "{project}/_apis/wit/attachments/" + reference["id"])
    assert back.returncode == 0, back.stderr
    assert hashlib.sha256(back.stdout).digest() == hashlib.sha256(data).digest()


def test_input_from_stdin_is_byte_for_byte(sp_env, emulator, devops):
    data = b"\x00\xff\r\n\x1b[31m" + bytes(range(256)) * 4
    result = az_bytes(sp_env, "devops-rest", "call", "--org", emulator.org_url("contoso"), "--path", ECHO,
                      "--input", "-", "--content-type", "application/zip", input_bytes=data)
    assert result.returncode == 0, result.stderr
    echoed = json.loads(result.stdout)
    assert (echoed["length"], echoed["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
    assert echoed["contentType"] == "application/zip"


def test_input_and_stdin_fields_are_refused_up_front(sp_env, emulator, devops):
    result = call(sp_env, emulator, "--path", ECHO, "--input", "-", "-F", "x=@-", input="text")
    assert result.returncode == 1
    assert error_lines(result.stderr) == ["ERROR: Give only one request body: -f/-F fields or --input."]
    assert devops_requests(emulator, probes=True) == []


def test_include_writes_headers_to_stderr_without_the_token(sp_env, emulator, devops):
    result = call(sp_env, emulator, "--path", "_apis/projects", "--query-parameters", "$top=2", "-i",
                  "--query", "value[].name", "-o", "json", "--debug")
    assert json.loads(result.stdout) == ["Website", "Mobile App"]
    head = result.stderr[result.stderr.index("HTTP/1.1 200 OK"):].split("\n\n")[0].splitlines()
    assert any(line.lower() == "x-ms-continuationtoken: 2" for line in head), head
    assert any(line.startswith("Content-Type: application/json") for line in head)
    (sent,) = devops_requests(emulator)
    token = sent["headers"]["authorization"].split(" ", 1)[1]
    assert token not in result.stderr and token not in result.stdout


def test_json_error_body_on_stdout_with_exit_3(sp_env, emulator, devops):
    result = call(sp_env, emulator, "--path", "_apis/projects/NoSuchProject", "--query", "typeKey", "-o", "tsv")
    assert result.returncode == 3
    assert result.stdout == "ProjectDoesNotExistWithNameException\n"
    (line,) = error_lines(result.stderr)
    assert line.startswith("ERROR: Azure DevOps answered 404")
    whole = ok_json_error(call(sp_env, emulator, "--path", "_apis/projects/NoSuchProject"))
    assert set(whole) >= {"$id", "message", "typeKey", "errorCode", "eventId"}


def ok_json_error(result):
    assert result.returncode == 3 and len(error_lines(result.stderr)) == 1, result.stderr
    return json.loads(result.stdout)


def test_team_placeholder(sp_env, emulator, devops):
    echoed = ok_json(call(sp_env, emulator, "-p", "Website", "--team", "Website Team",
                          "--path", "{project}/{team}/" + ECHO))
    assert (echoed["project"], echoed["team"]) == ("Website", "Website Team")
    missing = call(sp_env, emulator, "-p", "Website", "--path", "{project}/{team}/" + ECHO)
    assert error_lines(missing.stderr) == ["ERROR: --path uses {team} but no team is set."]


def test_url_copied_from_the_rest_reference(sp_env, emulator, devops):
    result = call(sp_env, emulator, "-p", "Mobile App", "--path",
                  "https://dev.azure.com/{organization}/_apis/projects/{project}?api-version=7.1",
                  "--query", "name", "-o", "tsv")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Mobile App\n"
    (sent,) = devops_requests(emulator)
    assert sent["path"] == "/contoso/_apis/projects/Mobile App" and sent["query"]["api-version"] == ["7.1"]


def test_table_shows_the_rows_of_a_list(sp_env, emulator, devops):
    result = call(sp_env, emulator, "--path", "_apis/projects", "--query-parameters", "$top=3", "-o", "table")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "Name" in lines[0] and "Count" not in lines[0] and lines[1].startswith("---")
    assert [line.split()[0] for line in lines[2:]] != [] and len(lines) == 5
    assert "Website" in result.stdout and "Mobile App" in result.stdout
