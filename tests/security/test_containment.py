"""Token containment: the Authorization header goes to the organization and nowhere else.

Many commands run through the real az, one after another, each trying to lead the token somewhere else: full
URLs in --path on other hosts, other organizations of the same host, http, look-alike names; redirects to other
hosts, other organizations and plain http; nextLinks pointing elsewhere; --service host lookups. The emulator's
request log (and, for http, a plain listener that records raw bytes) then shows where every token went:
each request that carried Authorization reached a devops/vssps/vsrm listener, under the command's own
organization.
"""
import json
import re

import pytest

from emulator.constants import DEVOPS_HOSTS
from emulator.devops.areas import core, wit
from emulator.directory import TENANT_B
from security_support import PlainHttpCapture, replace_devops_handler

REVISIONS = ["-p", "Website", "--path", "{project}/_apis/wit/reporting/workitemrevisions", "--paginate",
             "--query", "length(values)"]
GRAPH_AREA = "bb1e7ec9-e901-4b68-999a-de7012b920f8"


class Case:
    """One command: its arguments (placeholders: {org:NAME} {devops} {other} {plain} {devops_netloc}
    {other_netloc}), the exit code it must end with, the organization its token may reach, what to set up in the
    emulator first, and checks of its own (``expect(ctx, entries, result)``)."""

    def __init__(self, name, args, exit_code, org="contoso", env="sp", setup=None, expect=None, bug=None):
        self.name, self.args, self.exit_code, self.org, self.env = name, args, exit_code, org, env
        self.setup, self.expect, self.bug = setup, expect, bug

    def param(self):
        marks = [pytest.mark.xfail(strict=True, reason=self.bug)] if self.bug else []
        return pytest.param(self, id=self.name, marks=marks)


def call(*args, org="contoso"):
    return ["devops-rest", "call", "--org", "{org:%s}" % org, *args]


# -- set-ups: faults, and answers the emulator's fault kinds cannot give ----------------------------------------
def redirect(location, path=r"/_apis/projects/Website$"):
    def setup(ctx, _patch):
        ctx.service.add_fault("redirect", path=path, count=1, location=ctx.fill(location))
    return setup


def _rewrite_json_answer(ctx, patch, handler, rewrite):
    """Wrap an emulator handler so ``rewrite(request_call, body)`` may change its JSON answer in place."""
    def answer(request_call):
        response = handler(request_call)
        body = json.loads(response.body)
        if rewrite(request_call, body):
            response.body = json.dumps(body).encode("utf-8")
        return response
    replace_devops_handler(patch, handler, answer)


def next_link(link):
    """The first page of work item revisions says the next one is at ``link``."""
    def rewrite(ctx, request_call, body):
        if request_call.arg("continuationToken") is not None:
            return False
        body.update(nextLink=ctx.fill(link), isLastBatch=False)
        return True
    return lambda ctx, patch: _rewrite_json_answer(ctx, patch, wit.work_item_revisions,
                                                   lambda call, body: rewrite(ctx, call, body))


def resource_area_at(location):
    """The organization's resource area list names ``location`` as the Graph (vssps) host."""
    def rewrite(ctx, _call, body):
        areas = [a for a in body.get("value") or () if a.get("id") == GRAPH_AREA]
        for area in areas:
            area["locationUrl"] = ctx.fill(location)
        return bool(areas)
    return lambda ctx, patch: _rewrite_json_answer(ctx, patch, core.list_resource_areas,
                                                   lambda call, body: rewrite(ctx, call, body))


# -- expectations of single cases ----------------------------------------------------------------------------------
def sent_with_token(entries):
    return [e for e in entries if "authorization" in e["headers"]]


def token_reached(listener, path_prefix):
    def expect(_ctx, entries, _result):
        assert [e for e in sent_with_token(entries) if e["listener"] == listener
                and e["path"].lower().startswith(path_prefix)], "positive control: the token did go there"
    return expect


def nothing_reached_the_other_host(_ctx, entries, _result):
    assert [e for e in entries if e["listener"] == "other"] == []


def followed_without_token(listener, path_prefix):
    def expect(_ctx, entries, _result):
        followed = [e for e in entries if e["listener"] == listener and e["path"].startswith(path_prefix)]
        assert followed, "the redirect was not followed"
        assert sent_with_token(followed) == []
    return expect


def plain_http_got_no_token(_ctx, _entries, result):
    assert result.returncode == 0 and result.stdout.strip() == "{}", result.stderr  # the plain listener answered


CASES = [
    Case("relative-path", call("--path", "_apis/projects", "--query", "count"), 0,
         expect=token_reached("devops", "/contoso/")),
    Case("absolute-on-the-organization-any-case", call("--path", "{devops}/CONTOSO/_apis/projects?$top=2",
                                                       "--query", "count"), 0,
         expect=token_reached("devops", "/contoso/")),
    Case("absolute-other-host", call("--path", "{other}/contoso/_apis/projects"), 1,
         expect=nothing_reached_the_other_host),
    Case("absolute-other-organization", call("--path", "{org:fabrikam}/_apis/projects"), 1),
    Case("absolute-look-alike-organization", call("--path", "{devops}/contosoevil/_apis/projects"), 1),
    Case("absolute-http", call("--path", "http://{devops_netloc}/contoso/_apis/projects"), 1),
    Case("absolute-http-listener", call("--path", "{plain}/contoso/_apis/projects"), 1),
    Case("absolute-userinfo-trick", call("--path", "https://{devops_netloc}@{other_netloc}/contoso/_apis/projects"),
         1, expect=nothing_reached_the_other_host),
    Case("redirect-other-host", call("--path", "_apis/projects/Website"), 0, setup=redirect("{other}/landing"),
         expect=followed_without_token("other", "/landing")),
    Case("redirect-other-organization", call("--path", "_apis/projects/Website"), 1,
         setup=redirect("{org:fabrikam}/_apis/projects"), expect=followed_without_token("devops", "/fabrikam/")),
    Case("redirect-relative-other-organization", call("--path", "_apis/projects/Website"), 1,
         setup=redirect("/fabrikam/_apis/projects"), expect=followed_without_token("devops", "/fabrikam/")),
    Case("redirect-plain-http", call("--path", "_apis/projects/Website"), 0,
         setup=redirect("{plain}/contoso/_apis/projects"), expect=plain_http_got_no_token),
    Case("redirect-plain-http-with-own-authorization",
         call("--path", "_apis/projects/Website", "--headers", "Authorization=Bearer user-given-credential"), 0,
         setup=redirect("{plain}/contoso/_apis/projects"), expect=plain_http_got_no_token),
    Case("redirect-within-the-organization", call("--path", "_apis/projects/Website", "--query", "count"), 0,
         setup=redirect("{org:contoso}/_apis/projects?$top=2&api-version=7.1"),
         expect=token_reached("devops", "/contoso/_apis/projects")),
    # A relative Location is resolved with urljoin, which removes dot segments: this one is refused correctly.
    Case("redirect-relative-with-dot-segments", call("--path", "_apis/projects/Website"), 1,
         setup=redirect("/contoso/../fabrikam/_apis/projects"), expect=followed_without_token("devops", "/fabrikam/")),
    Case("next-link-other-host", call(*REVISIONS), 1,
         setup=next_link("{other}/contoso/_apis/wit/reporting/workitemrevisions?continuationToken=1"),
         expect=nothing_reached_the_other_host),
    Case("next-link-other-organization", call(*REVISIONS), 1,
         setup=next_link("{org:fabrikam}/_apis/wit/reporting/workitemrevisions?continuationToken=1")),
    Case("next-link-http", call(*REVISIONS), 1,
         setup=next_link("{plain}/contoso/_apis/wit/reporting/workitemrevisions?continuationToken=1")),
    Case("service-vssps-looked-up", call("--service", "vssps", "--path", "_apis/graph/users", "--api-version",
                                         "7.1-preview.1", "--paginate", "--query", "count"), 0,
         expect=token_reached("vssps", "/contoso/_apis/graph/users")),
    Case("service-vsrm-looked-up", call("--service", "vsrm", "-p", "Website", "--path",
                                        "{project}/_apis/release/releases", "--query", "count"), 0,
         expect=token_reached("vsrm", "/contoso/")),
    Case("service-lookup-answers-http", call("--service", "vssps", "--path", "_apis/graph/users", "--api-version",
                                             "7.1-preview.1"), 3, setup=resource_area_at("{plain}/contoso/")),
    Case("organization-of-another-tenant", call("--path", "_apis/projects", org="fabrikam"), 1, org="fabrikam"),
    Case("tenant-option", call("--tenant", TENANT_B, "--path", "_apis/projects", "--query", "count", org="fabrikam"),
         0, org="fabrikam", env="user", expect=token_reached("devops", "/fabrikam/")),
    # Dot segments: refused, or followed without the token (see has_dot_segments in azext_devopstoken._org).
    Case("dot-segments-in-a-relative-path", call("--path", "../fabrikam/_apis/projects"), 1),
    Case("dot-segments-in-a-full-url", call("--path", "{org:contoso}/../fabrikam/_apis/projects"), 1),
    Case("dot-dot-as-the-project", call("-p", "..", "--path", "{project}/_apis/projects"), 1),
    Case("redirect-with-dot-segments", call("--path", "_apis/projects/Website"), 1,
         setup=redirect("{org:contoso}/../fabrikam/_apis/projects")),
    Case("next-link-with-dot-segments", call(*REVISIONS), 1,
         setup=next_link("{org:contoso}/../fabrikam/_apis/wit/reporting/workitemrevisions?continuationToken=1")),
]


class Context:
    def __init__(self, emulator, plain):
        self.emulator, self.plain = emulator, plain
        self.service = emulator.services["devops"]
        self.values = {"{devops}": emulator.devops_url, "{other}": emulator.other_url, "{plain}": plain.url,
                       "{devops_netloc}": emulator.devops_url.split("://")[1],
                       "{other_netloc}": emulator.other_url.split("://")[1]}

    def fill(self, text):
        text = re.sub(r"\{org:([a-z-]+)\}", lambda m: self.emulator.org_url(m.group(1)), text)
        for placeholder, value in self.values.items():
            text = text.replace(placeholder, value)
        return text


@pytest.fixture(scope="module")
def runs(emulator, sp_env, user_env):
    """Every case run once, in order; each with the request-log entries and plain-http requests it caused."""
    plain = PlainHttpCapture()
    ctx = Context(emulator, plain)
    envs = {"sp": sp_env, "user": user_env}
    done = {}
    try:
        for case in CASES:
            ctx.service.reset_controls()
            with pytest.MonkeyPatch.context() as patch:
                if case.setup:
                    case.setup(ctx, patch)
                log_start, plain_start = len(emulator.log), len(plain.requests)
                result = envs[case.env].az(*[ctx.fill(arg) for arg in case.args])
                done[case.name] = (result, emulator.log.entries()[log_start:], plain.requests[plain_start:])
    finally:
        ctx.service.reset_controls()
        plain.close()
    return ctx, done


def under(path, org):
    path, prefix = path.lower(), "/" + org.lower()
    return path == prefix or path.startswith(prefix + "/")


def misdirected(entries, org):
    """Requests that carried Authorization anywhere but the organization's own paths on its own hosts."""
    return [(e["listener"], e["method"], e["path"]) for e in sent_with_token(entries)
            if e["listener"] not in DEVOPS_HOSTS or not under(e["path"], org)]


def clear_text_tokens(plain_requests):
    return [r.split(b"\r\n")[0] for r in plain_requests if b"\r\nauthorization:" in r.lower()]


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_token_stays_with_the_organization(runs, case):
    ctx, done = runs
    result, entries, plain_requests = done[case.name]
    assert misdirected(entries, case.org) == []
    assert clear_text_tokens(plain_requests) == []
    assert result.returncode == case.exit_code, result.stderr
    assert "Traceback" not in result.stderr
    if case.expect:
        case.expect(ctx, entries, result)


def test_the_whole_log(runs):
    """All cases together (the known leaks aside): every request with a token went to the right organization,
    the other host never saw one, and neither did the plain-http listener."""
    _, done = runs
    org_of = {case.name: case.org for case in CASES}
    bad, clear = [], []
    for name, (_, entries, plain_requests) in done.items():
        clear += clear_text_tokens(plain_requests)
        if not [c for c in CASES if c.name == name and c.bug]:
            bad += [(name,) + m for m in misdirected(entries, org_of[name])]
    everything = [e for _, entries, _ in done.values() for e in entries]
    assert bad == [] and clear == []
    assert sent_with_token([e for e in everything if e["listener"] == "other"]) == []
    assert len(sent_with_token(everything)) >= 10, "positive control: tokens were sent at all"
    assert len([r for _, _, requests in done.values() for r in requests]) >= 2, "the plain listener was reached"
