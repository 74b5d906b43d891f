"""A CI job that outlives its federated assertion and its access tokens, simulated in seconds: after `az login
--federated-token`, the assertion expires (AADSTS700024 on every later token request, azure-cli#28708), and the
extension gets a fresh one from the emulated GitHub Actions / Azure Pipelines OIDC endpoint, in process."""
import hashlib
import json
import time

import pytest

from az_support import claims, devops_requests, error_lines
from emulator.directory import FEDERATED_APP

ASSERTION_SECONDS = 30   # long enough for a loaded machine's `az login`, short enough to outlive in a test
ACCESS_TOKEN_SECONDS = 10  # under MSAL's 5-minute margin: never served from its cache, so every command asks Entra
CIS = ("github", "pipelines")
EXPIRED_LINE = "ERROR: The federated token given to 'az login' has expired (AADSTS700024)"


@pytest.fixture(scope="module")
def expired(ext_template, emulator, tmp_path_factory):
    """ci -> an az logged in with a federated token of that CI system that has since expired."""
    oidc, entra = emulator.services["oidc"], emulator.services["login"]
    oidc.lifetimes.update(dict.fromkeys(CIS, ASSERTION_SECONDS))
    entra.access_token_lifetimes[FEDERATED_APP] = ACCESS_TOKEN_SECONDS
    envs = {}
    try:
        for ci in CIS:
            env = ext_template.copy(str(tmp_path_factory.mktemp("expired-" + ci) / "config"))
            env.login_federated(ci, allow_no_subscriptions=True)
            env.az("config", "set", "defaults.devops_organization=" + emulator.org_url("contoso"), check=True)
            envs[ci] = env
        last_expiry = max(claims(token)["exp"] for token in oidc.issued[-2:])
        time.sleep(max(0.0, last_expiry + 1.5 - time.time()))
        yield envs
    finally:
        oidc.reset()
        entra.access_token_lifetimes.pop(FEDERATED_APP, None)


def _stored_login(env):
    with open(env.config_dir + "/service_principal_entries.json", "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def _in_job(env, ci, *args, **kwargs):
    return env.az(*args, env=env.ci_job_environment(ci), **kwargs)


@pytest.mark.parametrize("ci", CIS)
def test_a_long_job_keeps_working(expired, emulator, devops, ci):
    env, oidc, entra = expired[ci], emulator.services["oidc"], emulator.services["login"]
    app = emulator.directory.principal(FEDERATED_APP)
    stored = _stored_login(env)
    plain = env.az("account", "get-access-token", "--resource", "499b84ac-1321-427f-aa17-267ca6975798")
    assert plain.returncode == 1 and "AADSTS700024" in plain.stderr  # az alone cannot go on: the issue
    host = emulator.devops_url.split("://", 1)[1]
    for round_ in range(2):  # the second round starts after the first round's fresh assertion has expired too
        started, fetched = time.time(), oidc.requests[ci]
        got = _in_job(env, ci, "devops-token", "get", "-o", "json")
        assert got.returncode == 0, got.stderr
        assert claims(json.loads(got.stdout)["accessToken"])["appid"] == app.app_id
        called = _in_job(env, ci, "devops-rest", "call", "--path", "_apis/projects", "-o", "json")
        assert called.returncode == 0, called.stderr
        assert json.loads(called.stdout)["count"] == 100
        helped = _in_job(env, ci, "devops-token", "git-credential", "get",
                         input="protocol=https\nhost=%s\npath=contoso/Website/_git/Website\n\n" % host)
        assert helped.returncode == 0, helped.stderr
        password = dict(line.split("=", 1) for line in helped.stdout.splitlines())["password"]
        assert claims(password)["appid"] == app.app_id
        assert oidc.requests[ci] == fetched + 3  # one fresh assertion per process, none spent twice
        refused = [r for r in entra.refusals if r["time"] >= started and r.get("code") == 700024]
        assert len(refused) == 3  # each process tried az's stored assertion first
        if round_ == 0:
            time.sleep(ASSERTION_SECONDS + 1)
    assert _stored_login(env) == stored  # az's stored login untouched
    assert len(devops_requests(emulator, "/_apis/projects")) == 2


@pytest.mark.parametrize("ci", CIS)
def test_neither_assertion_nor_job_secret_is_shown_even_with_debug(expired, emulator, devops, ci):
    env, oidc = expired[ci], emulator.services["oidc"]
    outputs = []
    for args in (("devops-token", "get"), ("devops-rest", "call", "--path", "_apis/projects")):
        result = _in_job(env, ci, *args, "--debug")
        assert result.returncode == 0, result.stderr
        outputs += [result.stdout, result.stderr]
    secrets = oidc.secrets()
    assert len(secrets) > 4
    for secret in secrets:
        for output in outputs:
            assert secret not in output and secret[-40:] not in output


def test_without_a_ci_system_one_line_says_what_to_do(expired):
    result = expired["github"].az("devops-token", "get")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip().splitlines() == error_lines(result.stderr)
    (line,) = error_lines(result.stderr)
    assert line.startswith(EXPIRED_LINE) and "id-token: write" in line and "SYSTEM_ACCESSTOKEN" in line


def test_pipelines_without_the_access_token_mapped_names_it(expired):
    env = expired["pipelines"]
    job = env.ci_job_environment("pipelines")
    job["SYSTEM_ACCESSTOKEN"] = ""
    result = env.az("devops-token", "get", env=dict(job, TF_BUILD="True"))
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(EXPIRED_LINE) and "missing: SYSTEM_ACCESSTOKEN" in line and result.returncode == 1


def test_a_refused_job_token_is_one_line_naming_the_variable(expired, emulator):
    env = expired["pipelines"]
    result = env.az("devops-token", "get", env=dict(env.ci_job_environment("pipelines"),
                                                    SYSTEM_ACCESSTOKEN="not-the-job-token"))
    (line,) = result.stderr.strip().splitlines()
    assert result.returncode == 1 and "SYSTEM_OIDCREQUESTURI" in line and "HTTP 401" in line
    assert "not-the-job-token" not in result.stderr
