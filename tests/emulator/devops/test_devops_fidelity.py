"""The emulated Azure DevOps as strict as the service (issue 9): per-route versions and OPTIONS location data from
one table, the Azure DevOps Server collection, the paging shapes of user entitlements / OData / pull requests,
and the faults of tenant probes and throttling."""
import base64

import pytest

from devops_support import assert_error, call, get
from emulator.constants import MSA_TENANT
from emulator.devops import routing
from emulator.directory import TENANT_A

_PREVIEW = ('The requested version "7.1" of the resource is under preview. The -preview flag must be supplied in '
            'the api-version for such requests. For example: "7.1-preview"')


@pytest.mark.parametrize("listener, path", [
    ("vssps", "/contoso/_apis/graph/users"), ("vssps", "/contoso/_apis/graph/groups"),
    ("auditservice", "/contoso/_apis/audit/auditlog"), ("devops", "/contoso/Website/_apis/dashboard/dashboards"),
    ("devops", "/contoso/_apis/connectionData"), ("devops", "/contoso/_apis/resourceAreas"),
])
def test_preview_only_routes_refuse_7_1_with_the_service_body(devops_emu, alice, listener, path):
    response = get(devops_emu, path + "?api-version=7.1", token=alice, listener=listener)
    assert_error(response, 400, "VssInvalidPreviewVersionException", _PREVIEW)
    assert response.json()["typeName"] == ("Microsoft.VisualStudio.Services.WebApi.VssInvalidPreviewVersionException, "
                                           "Microsoft.VisualStudio.Services.WebApi")
    assert get(devops_emu, path + "?api-version=7.1-preview", token=alice, listener=listener).status_code == 200


def test_preview_only_share_is_realistic():
    locations = {r.location.id: r.location for r in routing.ROUTES if r.location}
    preview = [loc for loc in locations.values() if not loc.released]
    assert 0.2 <= len(preview) / len(locations) <= 0.6   # specs: 236 of 1,005 operations; our table leans preview


def _options(emu, token, listener="devops", path="/contoso/_apis", **kwargs):
    return call(emu, "OPTIONS", path, token=token, listener=listener, **kwargs)


def test_options_location_data_is_the_route_table(devops_emu, alice):
    response = _options(devops_emu, alice)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == len(body["value"])
    by_id = {loc["id"]: loc for loc in body["value"]}
    for route in routing.ROUTES:
        if route.location is None or not route.serves("devops"):
            continue
        loc = by_id[route.location.id]
        assert set(loc) == {"id", "area", "resourceName", "routeTemplate", "resourceVersion", "minVersion",
                            "maxVersion", "releasedVersion"}
        assert loc["maxVersion"] == "7.2" and loc["releasedVersion"] == ("7.1" if route.location.released else "0.0")
    assert by_id[routing.CONNECTION_DATA.id]["releasedVersion"] == "0.0"
    assert routing.GRAPH_USERS.id not in by_id                       # graph lives on vssps
    graph = _options(devops_emu, alice, "vssps", "/contoso/_apis/graph").json()
    assert {loc["id"] for loc in graph["value"]} == {routing.GRAPH_USERS.id, routing.GRAPH_GROUPS.id}


def test_options_needs_credentials(devops_emu):
    assert _options(devops_emu, None).status_code == 401      # OPTIONS is never redirected to sign-in


# -- Azure DevOps Server collection -----------------------------------------------------------------------------
def _basic(pat, user=""):
    return {"Authorization": "Basic " + base64.b64encode(("%s:%s" % (user, pat)).encode()).decode()}


def test_server_refuses_entra_tokens_without_tenant_headers(devops_emu, alice):
    response = get(devops_emu, "/DefaultCollection/_apis/projects?api-version=7.0", token=alice, listener="server")
    assert response.status_code == 401
    assert "X-VSS-ResourceTenant" not in response.headers
    assert "authorization_uri" not in response.headers.get("WWW-Authenticate", "")


def test_server_takes_a_pat_as_basic_and_caps_the_version(devops_emu, service):
    service.add_server_pat("pat-123")
    headers = _basic("pat-123")
    ok = get(devops_emu, "/DefaultCollection/_apis/projects?api-version=7.0&$top=2", listener="server",
             headers=headers)
    assert ok.status_code == 200 and ok.json()["count"] == 2
    assert_error(get(devops_emu, "/DefaultCollection/_apis/projects?api-version=7.1", listener="server",
                     headers=headers), 400, "VssVersionOutOfRangeException",
                 "The requested REST API version of 7.1 is out of range for this server. The latest REST API "
                 "version this server supports is 7.0.")
    areas = get(devops_emu, "/DefaultCollection/_apis/resourceAreas?api-version=7.0-preview.1", listener="server",
                headers=headers)
    assert areas.json() == {"count": 0, "value": None}
    assert get(devops_emu, "/DefaultCollection/_apis/graph/users?api-version=7.0-preview.1", listener="server",
               headers=headers).status_code == 404
    options = _options(devops_emu, None, "server", "/DefaultCollection/_apis", headers=headers).json()
    assert {loc["maxVersion"] for loc in options["value"]} == {"7.0"}
    assert get(devops_emu, "/DefaultCollection/_apis/projects?api-version=7.0", listener="server",
               headers=_basic("wrong")).status_code == 401


# -- paging shapes ------------------------------------------------------------------------------------------------
def test_user_entitlements_page_in_the_body(devops_emu, alice):
    seen, token, pages = [], None, 0
    while True:
        query = "?api-version=7.1" + ("&continuationToken=" + token if token else "")
        body = get(devops_emu, "/contoso/_apis/userentitlements" + query, token=alice, listener="vsaex").json()
        assert set(body) == {"items", "continuationToken", "totalCount"}
        seen += [item["id"] for item in body["items"]]
        pages += 1
        token = body["continuationToken"]
        if token is None:
            break
    assert pages >= 2 and len(seen) == len(set(seen)) == body["totalCount"]


def test_odata_feed_pages_by_absolute_next_link(devops_emu, alice):
    body = get(devops_emu, "/contoso/Website/_odata/v4.0-preview/WorkItems", token=alice).json()
    link = body["@odata.nextLink"]
    assert link.startswith(devops_emu.urls["devops"] + "/contoso/") and len(body["value"]) == 100
    second = call(devops_emu, "GET", link[len(devops_emu.urls["devops"]):], token=alice).json()
    assert second["value"][0]["WorkItemId"] != body["value"][0]["WorkItemId"]
    refused = get(devops_emu, "/contoso/Website/_odata/v4.0-preview/WorkItems?$skip=100", token=alice)
    assert refused.status_code == 400 and "message" in refused.json()["error"]


def test_pull_requests_page_by_top_and_skip_only(devops_emu, alice):
    path = "/contoso/Website/_apis/git/repositories/Website/pullrequests?api-version=7.1"
    first = get(devops_emu, path, token=alice)
    assert first.json()["count"] == 100 and "x-ms-continuationtoken" not in first.headers
    last = get(devops_emu, path + "&$skip=100", token=alice).json()
    assert last["count"] == 30
    assert get(devops_emu, path + "&$skip=500", token=alice).json()["count"] == 0


# -- faults -------------------------------------------------------------------------------------------------------
def test_doubled_tenant_header_and_bare_bearer(devops_emu, service):
    service.add_fault("tenant_headers", tenants=[TENANT_A, MSA_TENANT], bearer="Bearer")
    response = call(devops_emu, "HEAD", "/contoso")
    assert response.status_code == 401
    assert response.headers["X-VSS-ResourceTenant"] == "%s, %s" % (TENANT_A, MSA_TENANT)   # joined by urllib3
    assert "authorization_uri" not in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize("kind, params, status", [("error", {"status": 500}, 500), ("error", {"status": 405}, 405),
                                                  ("proxy_page", {}, 200), ("bad_gateway", {}, 502)])
def test_probe_faults_carry_no_tenant(devops_emu, service, kind, params, status):
    service.add_fault(kind, path="^/contoso$", **params)
    response = call(devops_emu, "HEAD", "/contoso")
    assert response.status_code == status and "X-VSS-ResourceTenant" not in response.headers


def test_delay_mode_is_a_200_with_retry_after(devops_emu, service, alice):
    service.add_fault("delay", retry_after=2, delay=0.2)
    response = get(devops_emu, "/contoso/_apis/projects?api-version=7.1&$top=1", token=alice)
    assert response.status_code == 200 and response.json()["count"] == 1
    assert response.headers["Retry-After"] == "2" and response.headers["X-RateLimit-Delay"] == "0.200"


def test_html_429(devops_emu, service, alice):
    service.add_fault("throttle", html=True)
    response = get(devops_emu, "/contoso/_apis/projects?api-version=7.1", token=alice)
    assert response.status_code == 429 and response.headers["Content-Type"].startswith("text/html")
    assert response.headers["Retry-After"] == "1"
