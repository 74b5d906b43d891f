"""Routing and the request pipeline of the emulated Azure DevOps (emulator/devops/routing.py, service.py): api-version
rules, unknown routes and methods, common headers, kept-alive connections."""
import time

from devops_support import assert_error, call, get, PROJECTS, session


def test_missing_api_version(devops_emu, alice):
    response = get(devops_emu, "/contoso/_apis/projects", token=alice)
    assert_error(response, 400, "VssVersionNotSpecifiedException",
                 'No api-version was supplied for the "GET" request. The version must be supplied either as part '
                 'of the Accept header (e.g. "application/json; api-version=1.0") or as a query parameter '
                 '(e.g. "?api-version=1.0").')
    post = call(devops_emu, "POST", "/contoso/Website/_apis/wit/wiql", token=alice, json={"query": "x"})
    assert 'supplied for the "POST" request' in post.json()["message"]


def test_api_version_in_the_accept_header(devops_emu, alice):
    response = get(devops_emu, "/contoso/_apis/projects?$top=1", token=alice,
                   headers={"Accept": "application/json;api-version=7.0"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8; api-version=7.0"


def test_api_version_out_of_range(devops_emu, alice):
    response = get(devops_emu, "/contoso/_apis/projects?api-version=8.0", token=alice)
    assert_error(response, 400, "VssVersionOutOfRangeException",
                 "The requested REST API version of 8.0 is out of range for this server. The latest REST API "
                 "version this server supports is 7.2.")


def test_preview_only_resource_needs_the_preview_flag(devops_emu, alice):
    response = get(devops_emu, "/contoso/_apis/connectionData?api-version=7.1", token=alice)
    assert_error(response, 400, "VssInvalidPreviewVersionException",
                 'The requested version "7.1" of the resource is under preview. The -preview flag must be supplied '
                 'in the api-version for such requests. For example: "7.1-preview"')
    assert get(devops_emu, "/contoso/_apis/connectionData?api-version=7.1-preview", token=alice).status_code == 200


def test_7_2_exists_only_as_a_preview(devops_emu, alice):
    assert get(devops_emu, "/contoso/_apis/projects?api-version=7.2", token=alice).status_code == 400
    assert get(devops_emu, "/contoso/_apis/projects?api-version=7.2-preview.1&$top=1", token=alice).status_code == 200


def test_garbage_api_version(devops_emu, alice):
    assert_error(get(devops_emu, "/contoso/_apis/projects?api-version=latest", token=alice), 400,
                 "VssInvalidApiVersionException")


def test_common_response_headers(devops_emu, alice):
    response = get(devops_emu, "/contoso/_apis/projects?$top=1&api-version=7.1", token=alice,
                   headers={"X-TFS-Session": "11111111-2222-3333-4444-555555555555"})
    for name in ("ActivityId", "X-VSS-E2EID", "X-MSEdge-Ref"):
        assert response.headers[name]
    assert response.headers["X-TFS-Session"] == "11111111-2222-3333-4444-555555555555"
    assert response.headers["X-VSS-UserData"] == "a11ce000-0000-4000-8000-0000000000a1:alice@contoso.example"
    assert response.headers["Content-Type"] == "application/json; charset=utf-8; api-version=7.1"


def test_unknown_route_and_wrong_method(devops_emu, alice):
    assert_error(get(devops_emu, "/contoso/_apis/nothing-here?api-version=7.1", token=alice), 404, "HttpException")
    assert_error(call(devops_emu, "DELETE", "/contoso/_apis/projects?api-version=7.1", token=alice), 405,
                 "HttpException")


def test_unknown_route_still_asks_for_credentials_first(devops_emu):
    assert get(devops_emu, "/contoso/_apis/nothing-here?api-version=7.1").status_code == 203


def test_keep_alive_connection_is_reused(devops_emu, alice):
    sess = session(devops_emu)
    marker = "keep-alive-%f" % time.time()
    for _ in range(4):
        assert get(devops_emu, PROJECTS, token=alice, sess=sess, headers={"X-TFS-Session": marker}).status_code == 200
    entries = [e for e in devops_emu.log.entries(listener="devops") if e["headers"].get("x-tfs-session") == marker]
    assert len(entries) == 4
    assert len({e["connection_id"] for e in entries}) == 1
    assert all(e["status"] == 200 for e in entries)
