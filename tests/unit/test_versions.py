"""api-version choice (azext_devopstoken._versions): refusal parsing, route matching, the Node SDK's rule, the
cache."""
from types import SimpleNamespace

import pytest

from azext_devopstoken import _versions

GRAPH_USERS = {"id": "005e26ec-6b77-4e4f-a986-b3827bf241f5", "area": "Graph", "resourceName": "Users",
               "routeTemplate": "_apis/{area}/{resource}/{userDescriptor}", "resourceVersion": 1,
               "minVersion": "1.0", "maxVersion": "7.2", "releasedVersion": "0.0"}
PROJECTS = {"id": "603fe2ac-9723-48b9-88ad-09305aa6c6e1", "area": "core", "resourceName": "projects",
            "routeTemplate": "_apis/{resource}/{*projectId}", "resourceVersion": 4,
            "minVersion": "1.0", "maxVersion": "7.2", "releasedVersion": "7.1"}
WORK_ITEM_TYPE = {"id": "62d3d110-0047-428c-ad3c-4fe872c91c74", "area": "wit", "resourceName": "workItems",
                  "routeTemplate": "{project}/_apis/{area}/{resource}/${type}", "resourceVersion": 3,
                  "minVersion": "1.0", "maxVersion": "7.2", "releasedVersion": "7.1"}
DASHBOARDS = {"id": "454b3e51-2e6e-48d4-ad81-978154089351", "area": "Dashboard", "resourceName": "Dashboards",
              "routeTemplate": "{project}/{team}/_apis/{area}/{resource}/{dashboardId}", "resourceVersion": 3,
              "minVersion": "1.0", "maxVersion": "7.2", "releasedVersion": "0.0"}
TABLE = [GRAPH_USERS, PROJECTS, WORK_ITEM_TYPE, DASHBOARDS]


def _response(status, body):
    def as_json():
        if isinstance(body, Exception):
            raise body
        return body
    return SimpleNamespace(status_code=status, json=as_json)


def test_preview_refusal_names_the_preview_version():
    found = _versions.refusal(_response(400, {
        "typeKey": "VssInvalidPreviewVersionException",
        "message": 'The requested version "7.1" of the resource is under preview. The -preview flag must be '
                   'supplied in the api-version for such requests. For example: "7.1-preview"'}))
    assert found.suggestion == "7.1-preview" and found.server_max is None


@pytest.mark.parametrize("message, latest", [
    ("The requested REST API version of 7.1 is out of range for this server. The latest REST API version this "
     "server supports is 7.0.", "7.0"),
    ("The requested REST API version of 5.2 is out of the valid range for this server. The latest REST API "
     "version supported by this server is 5.1", "5.1"),
])
def test_out_of_range_refusal_names_the_server_maximum(message, latest):
    found = _versions.refusal(_response(400, {"typeKey": "VssVersionOutOfRangeException", "message": message}))
    assert found.suggestion == found.server_max == latest


@pytest.mark.parametrize("response", [
    _response(400, {"typeKey": "ArgumentException", "message": "x"}), _response(404, {"typeKey": "x"}),
    _response(400, ValueError("html")), _response(400, ["not", "a", "dict"]),
])
def test_other_answers_are_no_refusal(response):
    assert _versions.refusal(response) is None


@pytest.mark.parametrize("sub_path, expected", [
    ("/_apis/graph/users", GRAPH_USERS), ("/_apis/Graph/Users/aad.abc", GRAPH_USERS),
    ("/_apis/projects", PROJECTS), ("/_apis/projects/Website", PROJECTS),
    ("/Website/_apis/wit/workitems/$Task", WORK_ITEM_TYPE),
    ("/Website/_apis/dashboard/dashboards", DASHBOARDS), ("/Website/Team/_apis/dashboard/dashboards", DASHBOARDS),
    ("/_apis/nothing", None), ("/_apis/graph/users/a/b", None),
])
def test_route_templates_match_with_optional_parameters(sub_path, expected):
    assert _versions.match(TABLE, sub_path) == expected


@pytest.mark.parametrize("location, expected", [
    (PROJECTS, "7.1"), (GRAPH_USERS, "7.1-preview"),
    (dict(PROJECTS, maxVersion="7.0", releasedVersion="7.0"), "7.0"),              # Azure DevOps Server 2022
    (dict(GRAPH_USERS, maxVersion="7.0", releasedVersion="0.0"), "7.0-preview.1"),  # preview-only there too
    (dict(PROJECTS, minVersion="8.0"), None), (dict(PROJECTS, maxVersion="garbage"), None),
])
def test_choose_follows_the_node_sdk_rule(location, expected):
    assert _versions.choose(location) == expected


def test_cache_round_trip_and_expiry(tmp_path):
    now = [1000.0]
    cache = _versions.LocationCache(str(tmp_path), now=lambda: now[0])
    base = "https://vssps.dev.azure.com/Contoso"
    cache.put(base, locations=TABLE)
    entry = cache.get(base.lower() + "/")
    assert _versions.cached_choice(entry, "/_apis/graph/users") == ("7.1-preview", "location data (cached)")
    assert _versions.cached_choice(entry, "/_apis/projects") == ("7.1", "location data (cached)")
    assert _versions.cached_choice(entry, "/_apis/unknown") == ("7.1", "default")
    cache.put(base, serverMax="7.0")
    assert _versions.cached_choice(cache.get(base), "/_apis/unknown") == ("7.0", "server maximum (cached)")
    now[0] += _versions.CACHE_SECONDS + 1
    assert cache.get(base) == {}


def test_only_a_location_table_is_worth_caching():
    assert _versions.usable_table({"count": 1, "value": [PROJECTS]})
    assert not _versions.usable_table({"count": 0, "value": []})
    assert not _versions.usable_table({"value": [{"id": "x"}]})
    assert not _versions.usable_table("<html>")


def test_sub_path_below_the_base():
    assert _versions.sub_path_of("https://h/tfs/Coll/_apis/x", "https://h/tfs/coll") == "/_apis/x"
    assert _versions.sub_path_of("https://h/other/_apis/x", "https://h/tfs/coll") == ""
