"""Never a traceback, through the real az: unreachable or untrusted-TLS organizations for every command, numbers
that are not numbers, bodies the dry run cannot parse, and servers (tests/security/hostile_server.py, on loopback
HTTPS, trusted by name) that answer with wrong-typed continuations, 200,000-deep JSON, error messages that are
objects, megabytes or terminal escapes, and lists where objects belong. Each ends in one ERROR: line (or a
well-formed answer), the right exit code, and no server control character reaches the terminal."""
import json
import os

import pytest

from emulator.directory import TENANT_A
from hostile_server import HostileServer
from security_support import api_entries, error_lines, hostile_env

# --tenant skips the tenant probe (a HEAD of the organization URL), so each request is the behaviour under test.
TENANT = ["--tenant", TENANT_A]


@pytest.fixture(scope="module")
def hostile():
    with HostileServer(max_seconds=900, max_requests=400, trickle_interval=0.2) as server:
        yield server


@pytest.fixture
def env(sp_env, emulator, hostile, tmp_path):
    """sp_env trusting the hostile server (CA and host): returns (AzEnv, extra environment)."""
    return sp_env, hostile_env(emulator, hostile, tmp_path)


def one_error(result, exit_code=1):
    assert result.returncode == exit_code, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = error_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    return lines[0]


def call(env, org, *args):
    az_env, extra = env
    return az_env.az("devops-rest", "call", "--org", org, *args, env=extra)


@pytest.mark.parametrize("command", [["devops-token", "get"], ["devops-token", "whoami"],
                                     ["devops-rest", "call", "--path", "_apis/projects"]])
def test_untrusted_tls_is_one_error_for_every_command(sp_env, emulator, hostile, tmp_path, command):
    extra = hostile_env(emulator, hostile, tmp_path, trust_ca=False)
    result = sp_env.az(*command, "--org", hostile.url("ok"), env=extra)
    line = one_error(result)
    assert "Cannot reach Azure DevOps" in line and "TLS certificate was not trusted" in line


@pytest.mark.parametrize("command", [["devops-token", "get"], ["devops-token", "whoami"]])
def test_a_closed_port_is_one_error(sp_env, command):
    result = sp_env.az(*command, "--org", "https://127.0.0.1:9/contoso",
                       env={"AZURE_DEVOPS_TOKEN_TRUSTED_HOSTS": "127.0.0.1:9"})
    assert "the connection was refused" in one_error(result)


def test_git_helper_on_an_unreachable_organization_is_one_error(sp_env, emulator, hostile, tmp_path):
    env = sp_env.copy(str(tmp_path / "config"))
    env.az("config", "set", "defaults.devops_organization=" + hostile.url("ok"), check=True)
    extra = hostile_env(emulator, hostile, tmp_path, trust_ca=False)
    request = "protocol=https\nhost=127.0.0.1:%d\npath=ok/P/_git/R\n\n" % hostile.port
    result = env.az("devops-token", "git-credential", "get", input=request, env=extra)
    assert "TLS certificate was not trusted" in one_error(result)
    assert "password=" not in result.stdout


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e309"])
@pytest.mark.parametrize("option", ["--timeout", "--max-retry-wait"])
def test_numbers_that_are_not_finite_are_a_usage_error(env, hostile, option, value):
    before = len(hostile.log)
    line = one_error(call(env, hostile.url("ok"), "--path", "_apis/projects", option + "=" + value))
    assert option in line
    assert len(hostile.log) == before


def test_dry_run_shows_a_body_that_is_not_the_json_its_type_claims(env, hostile):
    result = call(env, hostile.url("ok"), "--path", "_apis/x", "-m", "POST", "--content-type", "text/json",
                  "--body", "not {json", "--dry-run", "-o", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["body"] == "not {json"


@pytest.mark.parametrize("behaviour, kind", [("continuation-object", "dict"), ("continuation-list", "list"),
                                             ("continuation-number", "int"), ("nextlink-object", "dict")])
def test_continuations_that_are_not_text_stop_paging_with_one_error(env, hostile, behaviour, kind):
    line = one_error(call(env, hostile.url(behaviour), "--path", "_apis/x", "--paginate", *TENANT))
    assert "--paginate: page 1 has a" in line and "a JSON %s, not text" % kind in line


@pytest.mark.parametrize("paginate", [[], ["--paginate"]])
def test_json_nested_200000_deep_is_one_error_pointing_to_output_file(env, hostile, paginate):
    result = call(env, hostile.url("deep-json"), "--path", "_apis/x", *paginate, *TENANT)
    assert "nested too deeply" in one_error(result) and "--output-file" in result.stderr


def test_a_deep_body_of_ours_is_a_usage_error(env, hostile, tmp_path):
    (tmp_path / "deep.json").write_text("[" * 200_000 + "]" * 200_000)
    line = one_error(call(env, hostile.url("ok"), "--path", "_apis/x", "-m", "POST", "--body",
                          "@%s" % (tmp_path / "deep.json"), *TENANT))
    assert "--body is JSON nested too deeply" in line


def test_an_error_message_that_is_an_object_is_shown_as_json(env, hostile):
    line = one_error(call(env, hostile.url("error-object"), "--path", "_apis/x", *TENANT))
    assert '"text":"an object where a string belongs"' in line


def test_a_five_megabyte_error_message_is_shortened(env, hostile):
    result = call(env, hostile.url("huge-error"), "--path", "_apis/x", *TENANT)
    line = one_error(result)
    assert "TF400898: A very long message." in line and line.endswith("…")
    assert len(result.stderr) < 5000


def test_terminal_escapes_from_the_server_never_reach_the_terminal(env, hostile):
    result = call(env, hostile.url("escape-error"), "--path", "_apis/x", *TENANT)
    line = one_error(result)
    assert "Bad request" in line and "bell" in line
    assert not any(c in result.stderr for c in "\x1b\x07\x08\x00\r\u202e")


def test_connection_data_as_a_list_is_reported_not_a_traceback(env, hostile):
    az_env, extra = env
    result = az_env.az("devops-token", "whoami", "--org", hostile.url("list-answers"), *TENANT, env=extra)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    view = json.loads(result.stdout)["azureDevOps"]
    assert view["accepted"] is False and "not an object" in view["reason"]


def test_resource_areas_as_a_list_is_one_error(env, hostile):
    result = call(env, hostile.url("list-answers"), "--service", "vssps", "--path", "_apis/graph/users", *TENANT)
    assert result.returncode == 3, result  # ResourceNotFoundError
    assert "does not say where its vssps service is" in one_error(result, 3)
    assert "evil.example" not in result.stderr


def test_a_tenant_cache_with_wrong_types_is_ignored(sp_env, emulator, devops, tmp_path):
    env = sp_env.copy(str(tmp_path / "config"))
    org = emulator.org_url("contoso")
    os.makedirs(os.path.join(env.config_dir, "devops-token"), exist_ok=True)
    with open(os.path.join(env.config_dir, "devops-token", "tenants.json"), "w", encoding="utf-8") as handle:
        json.dump({org.lower(): {"tenant": ["x"], "expires": "tomorrow"}, "other": [1], "third": {"expires": True}},
                  handle)
    result = env.az("devops-rest", "call", "--org", org, "--path", "_apis/projects", "--query", "count")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert [e for e in api_entries(emulator) if e["method"] == "HEAD"]  # the broken entry was not used: asked
