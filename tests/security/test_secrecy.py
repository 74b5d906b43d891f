"""Token secrecy: a representative set of end-to-end commands runs once more with --debug, and no access
token, refresh token, device code, client secret or managed identity header the emulated Entra ID ever issued
or knows appears in any byte they write — stdout, stderr, any file under the az config dir, any --output-file —
except the stdout of `az devops-token get`, whose job is to print the token.

Each command runs in a config dir of its own (a copy of a logged-in one), so a finding in a file names the
command that wrote it. The commands run concurrently, a few at a time; faults are on paths no other command uses.
"""
import concurrent.futures
import json
import os
import re

import pytest

from emulator.directory import TENANT_A, TENANT_B
from az_support import unreachable_identity_endpoint
from security_support import az_binary

# az's own credential stores hold tokens and the service principal's secret by design (that is what `az login`
# is for); they are the only files not scanned. Everything else is, including az's commands/*.log files.
CREDENTIAL_STORES = ("msal_token_cache.json", "msal_http_cache.bin", "service_principal_entries.json")
# `az rest --debug` shows the first 20 characters of the Authorization value: a prefix is a leak too (and so is
# a suffix). The emulator's JWTs all begin with the same encoded header, so no JWT of it may appear at all.
PREFIX = 20

THROTTLED = "/_apis/projects/Mobile App"
REDIRECTED = "/_apis/projects/Website"
WIQL = '{"query": "SELECT [System.Id] FROM WorkItems WHERE [System.State] = \'Active\'"}'
TASK = '[{"op": "add", "path": "/fields/System.Title", "value": "secrecy run"}]'
ARTIFACT = ["-p", "Website", "--path", "{project}/_apis/build/builds/1/artifacts", "--query-parameters",
            "artifactName=drop", "$format=zip"]


class Run:
    """One command: which login it runs as, its arguments ({org:NAME}, {out:FILE}, {other} and {token} are filled
    in), and the exit code and output (a regex searched in stdout + stderr) that show it really is the case it
    stands for."""

    def __init__(self, name, env, args, exit_code=0, shows=None, extra_env=None):
        self.name, self.env_key, self.args, self.exit_code, self.shows = name, env, args, exit_code, shows
        self.extra_env = extra_env or {}
        self.prints_token = args[:2] == ["devops-token", "get"]


def call(*args, org="contoso"):
    return ["devops-rest", "call", "--org", "{org:%s}" % org, *args]


GET = ["devops-token", "get"]
COUNT = ["--query", "count"]
RUNS = [
    Run("get-sp", "sp", GET, shows='"accessToken"'),
    Run("get-sp-org", "sp", GET + ["--org", "{org:contoso}"], shows='"accessToken"'),
    Run("get-cert", "cert", GET, shows='"accessToken"'),
    Run("get-mi", "mi", GET, shows='"accessToken"'),
    Run("get-uami", "uami", GET, shows='"accessToken"'),
    Run("get-user", "user", GET, shows='"accessToken"'),
    Run("get-user-tenant", "user", GET + ["--tenant", TENANT_B], shows='"tenant": "%s"' % TENANT_B),
    Run("get-user-org-of-other-tenant", "user", GET + ["--org", "{org:fabrikam}"], shows='"tenant": "%s"' % TENANT_B),
    Run("get-sp-refused-by-entra", "sp", GET + ["--tenant", TENANT_B], 1, "AADSTS700016"),
    Run("get-not-logged-in", "fresh", GET, 1, "Please run 'az login'"),
    Run("get-mi-endpoint-unreachable", "mi", GET, 1,  # the extension's message, or az <= 2.72's own
        "Cannot reach the Microsoft Entra token service|Failed to connect to MSI", unreachable_identity_endpoint),
    Run("list", "sp", call("--path", "_apis/projects"), shows='"count": 100'),
    Run("list-cert", "cert", call("--path", "_apis/projects", *COUNT), shows="^100$"),
    Run("list-mi", "mi", call("--path", "_apis/projects", *COUNT), shows="^100$"),
    Run("list-uami", "uami", call("--path", "_apis/projects", *COUNT), shows="^100$"),
    Run("list-user", "user", call("--path", "_apis/projects", *COUNT), shows="^100$"),
    Run("paginate", "sp", call("--path", "_apis/projects", "--paginate"), shows='"count": 260'),
    Run("paginate-to-file", "sp", call("--path", "_apis/projects", "--paginate", "--output-file", "{out:all.json}")),
    Run("post-wiql", "sp", call("-p", "Website", "-m", "POST", "--path", "{project}/_apis/wit/wiql", "--body", WIQL),
        shows='"workItems"'),
    Run("post-work-item", "sp", call("-p", "Website", "-m", "POST", "--path", "{project}/_apis/wit/workitems/$Task",
                                     "--body", TASK), shows='"System.Title": "secrecy run"'),
    Run("download", "sp", call(*ARTIFACT, "--output-file", "{out:drop.zip}")),
    Run("service-host", "sp", call("--service", "vssps", "--path", "_apis/graph/users", "--api-version",
                                   "7.1-preview.1", "--paginate", *COUNT), shows="^181$"),
    Run("redirect-off-the-organization", "sp", call("--path", REDIRECTED[1:]), shows='"host": "other"'),
    Run("tenant-option", "user", call("--tenant", TENANT_B, "--path", "_apis/projects", *COUNT, org="fabrikam"),
        shows="^100$"),
    Run("tenant-discovered", "user", call("--path", "_apis/projects", *COUNT, org="fabrikam"), shows="^100$"),
    Run("error-401-not-a-member", "sp", call("--path", "_apis/projects", org="northwind"), 1, "TF400813"),
    Run("error-401-other-tenant", "user", call("--tenant", TENANT_A, "--path", "_apis/projects", org="fabrikam"),
        1, r"refused the token \(401\)"),
    Run("error-401-microsoft-account-org", "sp", call("--path", "_apis/projects", org="msa-org"), 1,
        "Microsoft accounts"),
    Run("error-404", "sp", call("--path", "_apis/projects/Nope"), 3, "404 Not Found"),
    Run("error-429", "sp", call("--path", THROTTLED[1:], "--max-retries", "1"), 1, "429 Too Many Requests"),
    Run("error-sp-without-the-tenant", "sp", call("--path", "_apis/projects", org="fabrikam"), 1,
        "could not get a token there"),
    Run("error-not-logged-in", "fresh", call("--path", "_apis/projects"), 1, "Please run 'az login'"),
    Run("bad-body", "sp", call("-m", "POST", "--path", "Website/_apis/wit/wiql", "--body", '{"query": '), 1,
        "not valid JSON"),
    Run("bad-org", "sp", ["devops-rest", "call", "--org", "http://dev.azure.com/contoso", "--path", "x"], 1,
        "uses http"),
    Run("bad-path-elsewhere", "sp", call("--path", "{other}/steal"), 1, "Refusing to send"),
]
# Runs after the others: a token printed by get-sp is given back with --headers, as a script would.
USER_HEADER_RUN = Run("user-authorization-header", "sp",
                      call("--path", "_apis/projects", *COUNT, "--headers", "Authorization={token}"), shows="^100$")
ALL_RUNS = RUNS + [USER_HEADER_RUN]


def _fill(arg, emulator, out_dir, token):
    if arg.startswith("{org:"):
        return emulator.org_url(arg[5:-1])
    if arg.startswith("{out:"):
        return os.path.join(out_dir, arg[5:-1])
    return arg.replace("{other}", emulator.other_url).replace("{token}", token or "")


def _execute(run, env, emulator, out_dir, token=None):
    args = [_fill(a, emulator, out_dir, token) for a in run.args] + ["--debug"]
    extra_env = run.extra_env(env) if callable(run.extra_env) else run.extra_env
    result = az_binary(env, *args, extra_env=extra_env)
    return {"returncode": result.returncode, "stdout": result.stdout, "stderr": result.stderr}


@pytest.fixture(scope="module")
def secrecy(emulator, sp_env, cert_env, mi_env, uami_env, user_env, ext_template, tmp_path_factory):
    """Every run's output, config dir and output folder."""
    templates = {"sp": sp_env, "cert": cert_env, "mi": mi_env, "uami": uami_env, "user": user_env,
                 "fresh": ext_template}
    service = emulator.services["devops"]
    service.reset_controls()
    service.set_artifact_size(200_000)
    service.add_fault("throttle", path=THROTTLED + "$", count=None, retry_after=0)
    service.add_fault("redirect", path=REDIRECTED + "$", count=None, location=emulator.other_url + "/landing")
    root = tmp_path_factory.mktemp("secrecy")
    envs, outs = {}, {}
    for run in ALL_RUNS:
        envs[run.name] = templates[run.env_key].copy(str(root / run.name / "config"))
        outs[run.name] = str(root / run.name / "out")
        os.makedirs(outs[run.name])
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
            futures = {run.name: pool.submit(_execute, run, envs[run.name], emulator, outs[run.name])
                       for run in RUNS}
            results = {name: future.result() for name, future in futures.items()}
        token = results["get-sp"]["stdout"].decode().split('"accessToken": "')[1].split('"')[0]
        results[USER_HEADER_RUN.name] = _execute(USER_HEADER_RUN, envs[USER_HEADER_RUN.name], emulator,
                                                 outs[USER_HEADER_RUN.name], token="Bearer " + token)
    finally:
        service.reset_controls()
    return {"results": results, "envs": envs, "outs": outs,
            "secrets": _secrets(emulator, sp_env), "given_token": token}


def _secrets(emulator, env):
    """What must never leak: everything the emulated Entra ID issued or knows, and the certificate's key."""
    found = set(emulator.services["login"].secrets())
    with open(env.identity("ci-cert")["cert_path"], encoding="ascii") as handle:
        key_lines = [line.strip() for line in handle if len(line.strip()) == 64]
    found.add(key_lines[1])  # a line from inside the private key
    return sorted(s for s in found if s)


def leaks(data, secrets):
    """(what, secret head) for each secret found whole or by a prefix or suffix of PREFIX characters."""
    text = data if isinstance(data, bytes) else data.encode("utf-8")
    found = []
    for secret in secrets:
        raw = secret.encode("utf-8")
        probes = [("whole", raw)] + ([("prefix", raw[:PREFIX]), ("suffix", raw[-PREFIX:])] if len(raw) > PREFIX
                                     else [])
        hits = [what for what, probe in probes if probe in text]
        if hits:
            found.append((hits[0], secret[:8] + "…"))
    return found


ECHOED_ARGUMENTS = b"DEBUG: cli.knack.cli: Command arguments: "


def _without_echoed_arguments(run, stderr):
    """knack's --debug echoes the command line; a token the user put there (--headers Authorization=…) is
    echoed with it. That one line is the user's own doing and is left out for that run only."""
    if run is not USER_HEADER_RUN:
        return stderr
    lines = stderr.splitlines(keepends=True)
    echoed = [line for line in lines if line.startswith(ECHOED_ARGUMENTS)]
    assert len(echoed) == 1 and b"Authorization=Bearer " in echoed[0]
    return b"".join(line for line in lines if not line.startswith(ECHOED_ARGUMENTS))


def scanned_files(folder):
    """Every file under ``folder`` except az's three credential stores."""
    for directory, _, names in os.walk(folder):
        for name in names:
            if name not in CREDENTIAL_STORES:
                yield os.path.join(directory, name)


def test_the_secrets_to_look_for_are_all_there(secrecy, emulator):
    secrets = secrecy["secrets"]
    directory = emulator.directory
    assert directory.principal("ci-bot").secret in secrets
    assert directory.identity_header in secrets
    assert any(s.startswith("1.AQ") for s in secrets), "no refresh token (the user's device-code login)"
    assert len([s for s in secrets if s.count(".") == 2]) >= 10, "too few access tokens"


@pytest.mark.parametrize("run", ALL_RUNS, ids=lambda run: run.name)
def test_output_has_no_secret(secrecy, run):
    result = secrecy["results"][run.name]
    assert result["returncode"] == run.exit_code, result["stderr"].decode(errors="replace")[-3000:]
    if run.shows:
        assert re.search(run.shows, (result["stdout"] + result["stderr"]).decode(errors="replace"), re.M), run.shows
    assert leaks(_without_echoed_arguments(run, result["stderr"]), secrecy["secrets"]) == []
    stdout = result["stdout"]
    if run.prints_token and run.exit_code == 0:
        # The one place a token belongs, and the proof that the scan finds a token when there is one. Nothing
        # but that access token: no refresh token, secret or header value next to it.
        token = json.loads(stdout)["accessToken"]
        assert ("whole", token[:8] + "…") in leaks(stdout, secrecy["secrets"])
        stdout = stdout.replace(token.encode(), b"")
    assert leaks(stdout, secrecy["secrets"]) == []


@pytest.mark.parametrize("run", ALL_RUNS, ids=lambda run: run.name)
def test_files_written_have_no_secret(secrecy, run):
    config_dir, out_dir = secrecy["envs"][run.name].config_dir, secrecy["outs"][run.name]
    files = list(scanned_files(config_dir)) + list(scanned_files(out_dir))
    assert any(os.sep + "commands" + os.sep in path for path in files), "no az command log to scan"
    found = {}
    for path in files:
        with open(path, "rb") as handle:
            hits = leaks(handle.read(), secrecy["secrets"])
        if hits:
            found[os.path.relpath(path, os.path.dirname(config_dir))] = hits
    assert found == {}


def test_the_file_scan_finds_a_token_where_there_is_one(secrecy):
    """Positive control: az's token cache, the one kind of file left out above, does hold the tokens."""
    with open(os.path.join(secrecy["envs"]["get-sp"].config_dir, "msal_token_cache.json"), "rb") as handle:
        assert leaks(handle.read(), secrecy["secrets"])


def test_output_files_were_written(secrecy):
    """The --output-file runs did write (an empty folder would pass the scan for the wrong reason)."""
    assert os.path.getsize(os.path.join(secrecy["outs"]["download"], "drop.zip")) == 200_000
    assert os.path.getsize(os.path.join(secrecy["outs"]["paginate-to-file"], "all.json")) > 10_000


def test_debug_shows_the_authorization_header_redacted(secrecy):
    stderr = secrecy["results"]["list"]["stderr"].decode()
    assert "'Authorization': '<redacted>'" in stderr
    given = secrecy["results"][USER_HEADER_RUN.name]
    assert given["stdout"].strip() == b"100"
    assert secrecy["given_token"][:PREFIX].encode() not in _without_echoed_arguments(USER_HEADER_RUN,
                                                                                     given["stderr"])
    assert "'Authorization': '<redacted>'" in given["stderr"].decode()
