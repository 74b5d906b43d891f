"""Properties of URL, path and parameter building (azext_devopstoken._org and ._request), checked with
hypothesis on generated organizations, paths and parameters: what is built parses back to the same
organization, path segments and parameters, also after requests has prepared it for sending; and
Organization.owns() never accepts a URL on another host, under another organization, or over http.

Example counts are kept modest so the suite stays fast; the cases that once were bugs (dot segments leading out
of the organization, scheme-like relative paths) are pinned with @example.
"""
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import pytest
import requests
from azure.cli.core.azclierror import InvalidArgumentValueError
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from azext_devopstoken import _org, _request

FAST = settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- strategies ----------------------------------------------------------------------------------------------
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
org_names = st.from_regex(r"\A[A-Za-z0-9](?:[A-Za-z0-9-]{0,14}[A-Za-z0-9])?\Z")
labels = st.from_regex(r"\A[a-z0-9](?:[a-z0-9-]{0,8}[a-z0-9])?\Z")
hosts = st.lists(labels, min_size=2, max_size=4).map(".".join).filter(
    lambda h: h != "dev.azure.com" and not h.endswith(".visualstudio.com"))
safe_segments = st.text(alphabet=_ALNUM + "-_.~", min_size=1, max_size=12).filter(lambda s: s not in (".", ".."))
# Path segments as users write them: any printable text but the URL delimiters / ? # and an already-encoded %.
# Control characters are left out (urlsplit drops tabs and newlines: a path cannot carry them).
# Characters that matter in URLs come up often; any other printable character now and then.
segment_chars = st.one_of(st.sampled_from(" $@:;,=+!*'()~&[]{}|\\^`\"<>.-_é漢"),
                          st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/?#%"))
segments = st.text(alphabet=segment_chars, min_size=1, max_size=12).filter(
    lambda s: s.strip(" ") not in ("", ".", ".."))
# The first segment has no ':' (else urlsplit reads "a:b/c" as scheme "a"; that case has a test of its own).
first_segments = segments.filter(lambda s: ":" not in s and not s.startswith(" "))
param_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
param_names = param_text.map(str.strip).filter(lambda n: n and "=" not in n)


@st.composite
def organizations(draw):
    """Any accepted --org value, and the Organization it gives."""
    name = draw(org_names)
    form = draw(st.sampled_from(["name", "dev", "vs", "server"]))
    if form == "name":
        value = name
    elif form == "dev":
        value = "https://%s/%s%s" % (draw(st.sampled_from(["dev.azure.com", "DEV.azure.com"])), name,
                                     draw(st.sampled_from(["", "/"])))
    elif form == "vs":
        value = "https://%s.visualstudio.com%s" % (name, draw(st.sampled_from(["", "/", "/DefaultCollection"])))
    else:
        port = draw(st.sampled_from(["", ":8443", ":443"]))
        path = "/".join(draw(st.lists(safe_segments, min_size=0, max_size=3)) + [name])
        value = "https://%s%s/%s" % (draw(hosts), port, path)
    return _org.parse_organization(value)


def relative_paths():
    return st.tuples(first_segments, st.lists(segments, max_size=4)).map(lambda t: [t[0]] + t[1])


def org_bases(org):
    """(host, base path) pairs whose URLs belong to ``org``: its URL and, for Azure DevOps Services, the
    service hosts of the same organization. Worked out here from the documented URL forms, not by the code
    under test."""
    bases = [(org.host, org.base_path.lower())]
    if org.kind == "dev.azure.com":
        bases += [("%s.dev.azure.com" % svc, "/" + org.name.lower()) for svc in _org.SERVICE_HOSTS]
    elif org.kind == "visualstudio.com":
        bases += [("%s.%s.visualstudio.com" % (org.name.lower(), svc), "") for svc in _org.SERVICE_HOSTS]
    return bases


def sent_url(url, params=None):
    """The URL requests actually puts on the wire for ``url`` (dot segments removed, unsafe characters quoted)."""
    return requests.Request("GET", url, params=params).prepare().url


def lands_in(org, url):
    """Whether ``url``, as requests would send it, is https on one of the organization's hosts and paths."""
    parts = urlsplit(sent_url(url))
    path = unquote(parts.path).lower()
    return parts.scheme == "https" and any(
        parts.netloc.lower() == host and (not base or path == base or path.startswith(base + "/"))
        for host, base in org_bases(org))


# -- parse_organization ------------------------------------------------------------------------------------------
@FAST
@given(organizations())
def test_parse_organization_of_its_own_url_is_the_same_organization(org):
    again = _org.parse_organization(org.url)
    assert (again.url, again.name, again.kind) == (org.url, org.name, org.kind)
    slash = _org.parse_organization(org.url + "/")
    assert (slash.url, slash.name, slash.kind) == (org.url, org.name, org.kind)
    assert not org.url.endswith("/") and org.url.startswith("https://")


@FAST
@given(organizations())
def test_an_organization_url_as_http_is_refused(org):
    with pytest.raises(InvalidArgumentValueError, match="uses http"):
        _org.parse_organization("http://" + org.url[len("https://"):])


# -- build_url and placeholders ---------------------------------------------------------------------------------
@FAST
@given(organizations(), relative_paths(), st.booleans())
def test_build_url_gives_back_the_path_segments(org, path_segments, leading_slash):
    path = ("/" if leading_slash else "") + "/".join(path_segments)
    url, params = _request.build_url(org.url, path)
    assert params == []
    for candidate in (url, sent_url(url)):  # as built, and as requests sends it
        parts = urlsplit(candidate)
        assert (parts.scheme, parts.netloc.lower(), parts.query, parts.fragment) == ("https", org.host, "", "")
        assert parts.path.startswith(org.base_path + "/")
        assert [unquote(s) for s in parts.path[len(org.base_path) + 1:].split("/")] == path_segments


@FAST
@given(organizations(), relative_paths(), st.lists(st.tuples(param_names, param_text), max_size=4))
def test_a_query_string_in_the_path_gives_back_its_pairs(org, path_segments, pairs):
    path = "/".join(path_segments) + ("?" + urlencode(pairs) if pairs else "")
    url, params = _request.build_url(org.url, path)
    assert params == pairs
    assert "?" not in url


@FAST
@given(organizations(), segments, st.sampled_from(["{project}/_apis/wit/wiql", "_apis/projects/{project}"]))
def test_a_project_placeholder_is_exactly_one_segment(org, project, template):
    path = _request.expand_placeholders(template, {"project": project, "organization": org.name})
    url, _ = _request.build_url(org.url, path)
    wire = urlsplit(sent_url(url)).path[len(org.base_path) + 1:].split("/")
    expected = [project if s == "{project}" else s for s in template.split("/")]
    assert [unquote(s) for s in wire] == expected


@FAST
@given(organizations(), st.sampled_from([".", ".."]))
@example(_org.parse_organization("contoso"), "..")
def test_a_dot_project_is_refused_before_it_leaves_the_organization(org, project):
    path = _request.expand_placeholders("{project}/_apis/projects", {"project": project})
    with pytest.raises(InvalidArgumentValueError):
        _request.build_url(org.url, path)


@FAST
@given(st.text(alphabet=_ALNUM + "+-.:/_", min_size=1, max_size=16))
@example("a:b/_apis/projects")
@example("//localhost:8443/contoso/_apis/projects")
def test_every_path_that_is_not_a_full_url_can_be_built(path):
    assume(not _request.is_absolute(path))
    try:
        _request.build_url("https://dev.azure.com/contoso", path)  # a clean error at most: plan() relies on it
    except InvalidArgumentValueError as ex:
        assert "segments" in str(ex)


# -- parameters through requests ------------------------------------------------------------------------------------
@FAST
@given(organizations(), st.lists(st.tuples(param_names, param_text), max_size=5),
       st.one_of(st.none(), st.sampled_from(["7.1", "7.1-preview.1", "6.0"])))
def test_query_parameters_survive_requests_encoding(org, pairs, api_version):
    assume(all(name.lower() != "api-version" for name, _ in pairs))
    items = ["%s=%s" % (name, value) for name, value in pairs]
    parsed = _request.parse_pairs(items, "--query-parameters")
    assert parsed == pairs
    url, path_params = _request.build_url(org.url, "_apis/projects")
    params = _request.add_api_version(path_params + parsed, {}, api_version)
    wire = urlsplit(sent_url(url, params))
    assert parse_qsl(wire.query, keep_blank_values=True) == pairs + [("api-version", api_version or "7.1")]
    assert unquote(wire.path) == org.base_path + "/_apis/projects"


@FAST
@given(st.lists(st.tuples(param_names, param_text), min_size=1, max_size=4))
def test_header_items_split_at_the_first_equals_sign(pairs):
    items = ["%s=%s" % pair for pair in pairs]
    assert _request.parse_pairs(items, "--headers") == pairs


# -- Organization.owns ----------------------------------------------------------------------------------------------
def _url(base, path_segments, query):
    return base + "/" + "/".join(path_segments) + ("?" + query if query else "")


@FAST
@given(organizations(), st.lists(safe_segments, max_size=4), st.sampled_from(["", "api-version=7.1"]))
def test_owns_its_own_urls(org, path_segments, query):
    assert org.owns(_url(org.url, path_segments, query))
    assert not org.owns(_url("http://" + org.url[len("https://"):], path_segments, query))


@FAST
@given(organizations(), hosts, st.lists(safe_segments, max_size=3),
       st.sampled_from(["https://{host}{path}", "https://{host}/{org}{path}", "https://{orghost}@{host}/{org}{path}",
                        "https://{orghost}.{host}/{org}{path}", "https://{host}#@{orghost}/{org}{path}",
                        "https://{host}\\@{orghost}/{org}{path}", "https://{orghost}:1@{host}/{org}{path}"]))
def test_never_owns_a_url_on_another_host(org, host, path_segments, form):
    url = form.format(host=host, orghost=urlsplit(org.url).hostname, org=org.name,
                      path="/" + "/".join(path_segments))
    # Where requests would really connect: urlsplit and urllib3 disagree on "https://a\\@b/" (b for one, a for
    # the other), so the host is taken from the URL as requests prepares it.
    try:
        connects_to = urlsplit(sent_url(url)).hostname
    except requests.exceptions.InvalidURL:
        connects_to = urlsplit(url).hostname
    assume(connects_to not in {h.split(":")[0] for h, _ in org_bases(org)})
    assert not org.owns(url)


@FAST
@given(organizations(), org_names, st.lists(safe_segments, max_size=3), st.booleans())
def test_never_owns_another_organizations_path(org, other, path_segments, as_suffix):
    other = org.name + other if as_suffix else other  # contoso -> contosoevil: a prefix is not enough
    assume(other.lower() != org.name.lower() and org.kind != "visualstudio.com")
    parent = org.base_path.rsplit("/", 1)[0]
    url = _url("https://%s%s/%s" % (org.host, parent, other), path_segments, "")
    assert not org.owns(url)


@FAST
@given(organizations(), st.lists(safe_segments, max_size=4))
def test_what_it_owns_is_sent_to_the_organization(org, path_segments):
    url = _url(org.url, path_segments, "")
    assert org.owns(url) and lands_in(org, url)


@FAST
@given(organizations(), st.lists(st.sampled_from(["..", ".", "_apis", "fabrikam"]), min_size=1, max_size=4))
@example(_org.parse_organization("contoso"), ["..", "fabrikam", "_apis"])
def test_what_it_owns_is_sent_to_the_organization_even_with_dot_segments(org, path_segments):
    url = _url(org.url, path_segments, "")
    assert not org.owns(url) or lands_in(org, url)


def test_the_checks_themselves_tell_good_from_bad():
    """lands_in() is the yardstick above: it must accept the organization and refuse its neighbours."""
    org = _org.parse_organization("contoso")
    assert lands_in(org, "https://dev.azure.com/contoso/_apis/projects")
    assert lands_in(org, "https://vssps.dev.azure.com/Contoso/_apis/graph/users")
    assert not lands_in(org, "https://dev.azure.com/contosoevil/_apis/projects")
    assert not lands_in(org, "https://dev.azure.com/contoso/../fabrikam/_apis/projects")
    assert not lands_in(org, "http://dev.azure.com/contoso/_apis/projects")
