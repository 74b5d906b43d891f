"""Bad input through the real az: each case ends with exactly one `ERROR:` line, the right exit code (2 for
argparse-level errors, 1 for az errors, 3 for not found), no traceback, and nothing sent to Azure DevOps.

Input errors are found before anything is sent, so those cases must send nothing at all (not even the
unauthenticated tenant probe). A few cases fail later by nature (the token endpoint cannot be reached, a
service host that the organization does not list): they may send requests without a token, never with one.

The cases are independent az processes, run a few at a time; each works on its own copy of a config dir, so
none can disturb another through az's files. The request log cannot tell which of the concurrent cases sent
a request, so cases that may send anything run afterwards, one at a time, each with its own slice of the log.
(Should a concurrent case ever send something, all of them fail, and the requests listed show which it was.)
"""
import concurrent.futures
import re

import pytest

from emulator.constants import DEVOPS_HOSTS
from emulator.directory import SUB_A, TENANT_A
from az_support import AZ_OWN_UNREACHABLE_MSI, unreachable_identity_endpoint, unreachable_identity_errors
from security_support import error_lines

UNREACHABLE_IDENTITY_ENDPOINT = unreachable_identity_endpoint  # extra_env as a function of the az env


class Case:
    """``args`` after `az`; placeholders {org:NAME}, {devops_netloc}, {other}, {tmp}. ``env``: sp (logged in as a
    service principal), fresh (nobody logged in), mi (a managed identity). ``fragment``: a regex the ERROR line
    must match. ``sends``: "nothing" or "no-token" (requests without Authorization are allowed)."""

    def __init__(self, name, args, exit_code, fragment, env="sp", sends="nothing", stdin=None, extra_env=None,
                 bug=None):
        self.name, self.args, self.exit_code, self.fragment = name, args, exit_code, fragment
        self.env, self.sends, self.stdin, self.extra_env, self.bug = env, sends, stdin, extra_env, bug

    @property
    def sequential(self):
        return self.sends != "nothing" or self.bug is not None

    def param(self):
        marks = [pytest.mark.xfail(strict=True, reason=self.bug)] if self.bug else []
        return pytest.param(self, id=self.name, marks=marks)


def call(*args):
    return ["devops-rest", "call", "--org", "{org:contoso}", *args]


def call_org(org, *args):
    return ["devops-rest", "call", "--org", org, "--path", "_apis/projects", *args]


CASES = [
    # -- the organization ------------------------------------------------------------------------------------
    Case("org-http", call_org("http://{devops_netloc}/contoso"), 1, "uses http"),
    Case("org-ftp", call_org("ftp://example.com/contoso"), 1, "neither an organization name nor an https URL"),
    Case("org-without-scheme", call_org("dev.azure.com/contoso"), 1, "neither an organization name nor an https"),
    Case("org-with-a-project", call_org("https://dev.azure.com/contoso/Fabrikam"), 1, "is not an organization URL"),
    Case("org-host-only", call_org("https://dev.azure.com/"), 1, "is not an organization URL"),
    Case("org-with-a-query", call_org("https://dev.azure.com/contoso?x=1"), 1, "must not carry a query"),
    Case("org-visualstudio-with-a-path", call_org("https://contoso.visualstudio.com/Fabrikam"), 1,
         "is not an organization URL"),
    Case("org-bad-name", call_org("not a name!"), 1, "neither an organization name nor an https URL"),
    Case("org-empty", call_org(""), 1, "^ERROR: No Azure DevOps organization given.$"),
    Case("org-none-anywhere", ["devops-rest", "call", "--path", "_apis/projects"], 1,
         "^ERROR: No Azure DevOps organization given.$"),
    Case("get-org-http", ["devops-token", "get", "--org", "http://{devops_netloc}/contoso"], 1, "uses http"),
    # -- the path ----------------------------------------------------------------------------------------------
    Case("path-unknown-placeholder", call("--path", "{area}/_apis/wit/wiql"), 1, r"unknown placeholder \{area\}"),
    Case("path-project-not-set", call("--path", "{project}/_apis/wit/wiql"), 1, "no project is set"),
    Case("path-empty", call("--path", ""), 1, "--path is empty"),
    Case("path-blank", call("--path", "   "), 1, "--path is empty"),
    Case("path-missing", call(), 2, "the following arguments are required: --path"),
    Case("path-url-on-another-host", call("--path", "{other}/contoso/_apis/projects"), 1,
         "Refusing to send the Azure DevOps token to localhost"),
    Case("path-url-of-another-org", call("--path", "{org:fabrikam}/_apis/projects"), 1, "Refusing to send"),
    Case("path-http-url", call("--path", "http://{devops_netloc}/contoso/_apis/projects"), 1, "Refusing to send"),
    Case("path-scheme-relative-url", call("--path", "//{other_netloc}/contoso/_apis/projects"), 1,
         "Refusing to send the Azure DevOps token to localhost"),
    Case("path-dot-segments", call("--path", "../fabrikam/_apis/projects"), 1, '"." or ".." segments'),
    Case("service-with-a-full-url", call("--service", "vssps", "--path", "{org:contoso}/_apis/graph/users"), 1,
         "--service applies to a relative --path"),
    # -- the body ----------------------------------------------------------------------------------------------
    Case("body-truncated-json", call("-m", "POST", "--path", "Website/_apis/wit/wiql", "--body", '{"query": '), 1,
         r"--body is not valid JSON: .* at line 1, column 11\.$"),
    Case("body-bad-json-on-line-3", call("-m", "POST", "--path", "Website/_apis/wit/wiql", "--body",
                                         '{\n  "a": 1,\n  "b" 2\n}'), 1, r"at line 3, column 7\.$"),
    Case("body-bad-json-from-stdin", call("-m", "POST", "--path", "Website/_apis/wit/wiql", "--body", "@-"), 1,
         r"at line 2, column 1\.$", stdin='{"query":\n}'),
    Case("body-empty-file", call("-m", "POST", "--path", "Website/_apis/wit/wiql", "--body", "@{tmp}/empty.json"),
         1, r"--body is not valid JSON: .* at line 1, column 1\.$"),
    Case("body-not-json-for-a-json-type", call("-m", "POST", "--path", "Website/_apis/wit/wiql", "--content-type",
                                               "application/json", "--body", "query=1"), 1, "not valid JSON"),
    Case("body-missing-file", call("-m", "POST", "--path", "Website/_apis/wit/wiql", "--body",
                                   "@{tmp}/missing.json"), 1, "missing.json does not exist or cannot be read"),
    Case("body-missing-file-as-text", call("-m", "POST", "--path", "Website/_apis/wit/wiql", "--content-type",
                                           "text/plain", "--body", "@{tmp}/missing.txt"), 1,
         "missing.txt does not exist or cannot be read"),
    # -- parameters and headers ------------------------------------------------------------------------------
    Case("query-parameter-without-equals", call("--path", "_apis/projects", "--query-parameters", "top"), 1,
         "--query-parameters expects name=value items; got 'top'"),
    Case("query-parameter-without-name", call("--path", "_apis/projects", "--query-parameters", "=5"), 1,
         "--query-parameters expects name=value"),
    Case("header-without-equals", call("--path", "_apis/projects", "--headers", "X-Custom"), 1,
         "--headers expects name=value items"),
    Case("header-without-name", call("--path", "_apis/projects", "--headers", " =x"), 1, "--headers expects name="),
    # -- conflicting options -----------------------------------------------------------------------------------
    Case("api-version-also-in-path", call("--path", "_apis/projects?api-version=7.1", "--api-version", "7.0"), 1,
         "conflicts with the api-version already in --path/--query-parameters"),
    Case("api-version-also-in-query-parameters", call("--path", "_apis/projects", "--api-version", "7.0",
                                                      "--query-parameters", "api-version=7.1"), 1, "conflicts"),
    Case("api-version-also-in-accept", call("--path", "_apis/projects", "--api-version", "7.0", "--headers",
                                            "Accept=application/json;api-version=7.1"), 1, "the Accept header"),
    Case("api-version-twice", call("--path", "_apis/projects", "--api-version", "7.1", "--api-version", "7.0"), 2,
         "--api-version was given more than once"),
    Case("subscription-with-tenant", call("--path", "_apis/projects", "--subscription", SUB_A, "--tenant",
                                          TENANT_A), 1, "--subscription and --tenant/-t cannot be used together"),
    Case("get-subscription-with-tenant", ["devops-token", "get", "--subscription", SUB_A, "--tenant", TENANT_A], 1,
         "cannot be used together"),
    Case("max-items-without-paginate", call("--path", "_apis/projects", "--max-items", "5"), 1,
         "--max-items applies to --paginate"),
    # -- values of the wrong kind ------------------------------------------------------------------------------
    Case("max-items-zero", call("--path", "_apis/projects", "--paginate", "--max-items", "0"), 1,
         "--max-items must be 1 or more"),
    Case("max-items-not-a-number", call("--path", "_apis/projects", "--paginate", "--max-items", "all"), 2,
         "argument --max-items: invalid int value: 'all'"),
    Case("method-unknown", call("--path", "_apis/projects", "-m", "FETCH"), 2, "'FETCH' is not a valid value"),
    Case("service-unknown", call("--path", "_apis/projects", "--service", "github"), 2,
         "'github' is not a valid value for '--service'"),
    Case("timeout-negative", call("--path", "_apis/projects", "--timeout", "-1"), 1, "--timeout must be a positive"),
    Case("timeout-zero", call("--path", "_apis/projects", "--timeout", "0"), 1, "--timeout must be a positive"),
    Case("timeout-not-a-number", call("--path", "_apis/projects", "--timeout", "soon"), 2, "invalid float value"),
    Case("max-retries-negative", call("--path", "_apis/projects", "--max-retries", "-1"), 1,
         "--max-retries must be 0 or more"),
    Case("max-retry-wait-negative", call("--path", "_apis/projects", "--max-retry-wait", "-5"), 1,
         "--max-retry-wait must be 0 or more"),
    Case("unknown-option", call("--path", "_apis/projects", "--paginte"), 2, "unrecognized arguments: --paginte"),
    # -- where the output would go -------------------------------------------------------------------------------
    Case("output-file-in-a-missing-folder", call("--path", "_apis/projects", "--output-file",
                                                 "{tmp}/no/such/folder/out.json"), 1, "does not exist"),
    Case("output-file-onto-a-directory", call("--path", "_apis/projects", "--output-file", "{tmp}"), 1,
         "is a directory"),
    # -- the login ---------------------------------------------------------------------------------------------
    Case("get-not-logged-in", ["devops-token", "get"], 1, r"^ERROR: Please run 'az login' to setup account\.$",
         env="fresh"),
    Case("call-not-logged-in", call("--path", "_apis/projects"), 1, r"Please run 'az login'", env="fresh"),
    Case("get-token-endpoint-unreachable", ["devops-token", "get"], 1,
         r"^ERROR: Cannot reach the Microsoft Entra token service at https://127\.0\.0\.1:9: the connection was "
         r"refused\.$", env="mi", extra_env=UNREACHABLE_IDENTITY_ENDPOINT),
    Case("call-token-endpoint-unreachable", call("--path", "_apis/projects"), 1,
         "Cannot reach the Microsoft Entra token service at https://127.0.0.1:9", env="mi", sends="no-token",
         extra_env=UNREACHABLE_IDENTITY_ENDPOINT),
    Case("service-the-organization-does-not-list", call("--service", "almsearch", "--path", "_apis/search"), 3,
         "does not say where its almsearch service is", sends="no-token"),
]


class Runner:
    def __init__(self, emulator, templates, root):
        self.emulator, self.templates, self.root = emulator, templates, root

    def fill(self, arg, tmp):
        arg = re.sub(r"\{org:([a-z-]+)\}", lambda m: self.emulator.org_url(m.group(1)), arg)
        return (arg.replace("{devops_netloc}", self.emulator.devops_url.split("://")[1])
                .replace("{other_netloc}", self.emulator.other_url.split("://")[1])
                .replace("{other}", self.emulator.other_url).replace("{tmp}", tmp))

    def run(self, case):
        folder = self.root / case.name
        env = self.templates[case.env].copy(str(folder / "config"))
        tmp = folder / "tmp"
        tmp.mkdir()
        (tmp / "empty.json").write_text("")
        extra_env = case.extra_env(env) if callable(case.extra_env) else case.extra_env
        return env.az(*[self.fill(arg, str(tmp)) for arg in case.args], input=case.stdin, env=extra_env)


@pytest.fixture(scope="module")
def outcomes(emulator, sp_env, mi_env, ext_template, tmp_path_factory):
    """{case name: (result, request-log entries it may have caused)}; concurrent cases share one slice."""
    emulator.services["devops"].reset_controls()
    runner = Runner(emulator, {"sp": sp_env, "fresh": ext_template, "mi": mi_env}, tmp_path_factory.mktemp("bad"))
    done = {}
    start = len(emulator.log)
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        futures = {c.name: pool.submit(runner.run, c) for c in CASES if not c.sequential}
        results = {name: future.result() for name, future in futures.items()}
    shared = emulator.log.entries()[start:]
    done.update({name: (result, shared) for name, result in results.items()})
    for case in [c for c in CASES if c.sequential]:
        start = len(emulator.log)
        result = runner.run(case)
        done[case.name] = (result, emulator.log.entries()[start:])
    return done


def test_there_are_enough_cases():
    assert len(CASES) >= 30 and len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_one_clear_error_and_nothing_sent(outcomes, case, mi_env):
    result, entries = outcomes[case.name]
    fragment = case.fragment
    if case.extra_env is UNREACHABLE_IDENTITY_ENDPOINT and unreachable_identity_errors(mi_env, None) is not None:
        fragment = "^" + re.escape(AZ_OWN_UNREACHABLE_MSI) + "$"  # az <= 2.72 reports it itself
    assert "Traceback" not in result.stderr and "unexpected error" not in result.stderr, result.stderr
    lines = error_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    assert re.search(fragment, lines[0]), lines[0]
    assert result.returncode == case.exit_code, result.stderr
    assert result.stdout == ""
    if case.sends == "nothing":  # to any listener: Azure DevOps, the other host, Entra ID or ARM
        assert [(e["listener"], e["method"], e["path"]) for e in entries] == []
    else:
        assert [(e["listener"], e["path"]) for e in entries if "authorization" in e["headers"]] == []
        assert [e for e in entries if e["listener"] not in DEVOPS_HOSTS + ("login",)] == []
