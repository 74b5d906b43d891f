"""What is sent, through the real az against the hostile server (loopback HTTPS, trusted by name): ~/.netrc never
replaces the Bearer header; header values HTTP cannot carry are a usage error before anything is sent; a
--headers @file is one header per line and --dry-run redacts credentials from any source; 307/308 off the
organization are followed only for GET/HEAD, without the token, the body or the caller's headers."""
import json

import pytest

from emulator.directory import TENANT_A
from hostile_server import HostileServer
from security_support import error_lines, hostile_env

TENANT = ["--tenant", TENANT_A]


@pytest.fixture(scope="module")
def hostile():
    with HostileServer(max_seconds=900, max_requests=300) as server:
        yield server


@pytest.fixture
def run(sp_env, emulator, hostile, tmp_path):
    extra = hostile_env(emulator, hostile, tmp_path)

    def az(behaviour, *args, env=None):
        return sp_env.az("devops-rest", "call", "--org", hostile.url(behaviour), *args, env=dict(extra, **(env or {})))
    return az


def test_netrc_does_not_replace_the_bearer_header(sp_env, emulator, hostile, tmp_path):
    env = sp_env.copy(str(tmp_path / "config"))
    extra = hostile_env(emulator, hostile, tmp_path)
    args = ["devops-rest", "call", "--org", hostile.url("landing"), "--path", "_apis/x", *TENANT]
    # The token first, without the .netrc: az's own token request (MSAL, to the emulator also on 127.0.0.1)
    # would pick it up too, which is az's behaviour and not what this test is about.
    assert env.az(*args, env=extra).returncode == 0
    home = tmp_path / "home"
    home.mkdir()
    (home / ".netrc").write_text("machine 127.0.0.1 login netrc-user password netrc-secret\n")
    (home / ".netrc").chmod(0o600)
    before = len(hostile.log)
    result = env.az(*args, env=dict(extra, HOME=str(home)))
    assert result.returncode == 0, result.stderr
    (entry,) = hostile.log[before:]
    assert entry["headers"]["authorization"].startswith("Bearer ey")


@pytest.mark.parametrize("header, words", [("X-A=a\rb", "line break"), ("X-A=caf\u00e9\u20ac", "outside Latin-1"),
                                           ("Host=evil.example", "set by the HTTP layer")])
def test_headers_http_cannot_carry_fail_before_anything_is_sent(run, hostile, header, words):
    before = len(hostile.log)
    result = run("ok", "--path", "_apis/x", "--headers", header, *TENANT)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result
    (line,) = error_lines(result.stderr)
    assert words in line
    assert len(hostile.log) == before


def test_headers_from_a_file_one_per_line_and_dry_run_redacts_credentials(run, tmp_path):
    (tmp_path / "headers.txt").write_text("X-One: 1\nAuthorization=Basic ZmlsZTpzZWNyZXQ=\n"
                                          "Cookie: session=s3cr3t\nProxy-Authorization: Basic cHJveHk=\n")
    result = run("ok", "--path", "_apis/x", "--headers", "@%s" % (tmp_path / "headers.txt"), "--dry-run", "-o", "json")
    assert result.returncode == 0, result.stderr
    headers = json.loads(result.stdout)["headers"]
    assert headers["X-One"] == "1"
    assert headers["Authorization"] == "<redacted: given with --headers>"
    assert headers["Cookie"] == headers["Proxy-Authorization"] == "<redacted>"
    assert "ZmlsZTpzZWNyZXQ" not in result.stdout + result.stderr and "s3cr3t" not in result.stdout


def test_a_file_authorization_is_sent_as_given_without_a_token(run, hostile, tmp_path):
    (tmp_path / "headers.txt").write_text("X-One: 1\nAuthorization: Basic OnBhdA==\n")
    before = len(hostile.log)
    result = run("landing", "--path", "_apis/x", "--headers", "@%s" % (tmp_path / "headers.txt"))
    assert result.returncode == 0, result.stderr
    (entry,) = hostile.log[before:]
    assert entry["headers"]["authorization"] == "Basic OnBhdA==" and entry["headers"]["x-one"] == "1"


@pytest.mark.parametrize("behaviour", ["redirect-307", "redirect-308"])
def test_a_post_redirected_off_the_organization_is_not_followed(run, hostile, behaviour):
    before = len(hostile.log)
    result = run(behaviour, "--path", "_apis/x", "-m", "POST", "--body", '{"secret": 1}', "--headers", "X-Custom=1",
                 *TENANT)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result
    (line,) = error_lines(result.stderr)
    assert "redirected the POST to localhost:%d, off the organization" % hostile.port in line
    assert [e["behaviour"] for e in hostile.log[before:]] == [behaviour]  # the landing was never reached


@pytest.mark.parametrize("behaviour", ["redirect-307", "redirect-308"])
def test_a_get_redirected_off_the_organization_goes_bare(run, hostile, behaviour):
    before = len(hostile.log)
    result = run(behaviour, "--path", "_apis/x", "--headers", "X-Custom=1", "Cookie=c=1", *TENANT)
    assert result.returncode == 0, result.stderr
    first, landing = hostile.log[before:]
    assert first["headers"]["authorization"].startswith("Bearer ") and first["headers"]["x-custom"] == "1"
    assert landing["behaviour"] == "landing"
    assert set(landing["headers"]) <= {"host", "user-agent", "accept", "accept-encoding", "connection"}


def test_a_redirect_loop_is_one_error(run, hostile):
    result = run("redirect-loop", "--path", "_apis/x", *TENANT)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result
    (line,) = error_lines(result.stderr)
    assert "redirected more than 5 times" in line
