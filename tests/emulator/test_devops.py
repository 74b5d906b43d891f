"""The emulated Azure DevOps Services (emulator/devops.py), exercised with real HTTPS requests."""
import hashlib
import io
import json
import time
import zipfile
from urllib.parse import quote

import pytest
import requests

from emulator.app import Emulator
from emulator.devops.artifacts import DEFAULT_ARTIFACT_SIZE, artifact_sha256
from emulator.constants import AZ_CLI_CLIENT_ID, AZURE_DEVOPS_RESOURCE, MSA_TENANT
from emulator.directory import TENANT_A, TENANT_B

ERROR_KEYS = ["$id", "innerException", "message", "typeName", "typeKey", "errorCode", "eventId"]
V = "7.1"
PREVIEW = "7.1-preview.1"


@pytest.fixture(scope="session")
def devops_emu(tmp_path_factory):
    emu = Emulator(tmp_path_factory.mktemp("devops-emu"), max_seconds=900).start()
    yield emu
    emu.stop()


@pytest.fixture(autouse=True)
def _clean_controls(devops_emu):
    yield
    devops_emu.services["devops"].reset_controls()


@pytest.fixture()
def service(devops_emu):
    return devops_emu.services["devops"]


def session(emu):
    s = requests.Session()
    s.trust_env = False          # REQUESTS_CA_BUNDLE in the environment would beat s.verify
    s.verify = emu.ca_bundle
    return s


def token_for(emu, who="alice", tenant=TENANT_A, lifetime=3600, audience=AZURE_DEVOPS_RESOURCE):
    principal = emu.directory.principal(who)
    claims = {"oid": principal.oid(tenant), "name": principal.display_name}
    if principal.kind == "user":
        claims.update(upn=principal.upn, unique_name=principal.upn, idtyp="user", appid=AZ_CLI_CLIENT_ID)
    else:
        claims.update(appid=principal.app_id, idtyp="app")
    return emu.tokens.issue(claims, audience, tenant, lifetime)


def call(emu, method, path, token=None, listener="devops", headers=None, sess=None, **kwargs):
    """``path`` starts with the organization: ``/contoso/_apis/...``."""
    all_headers = dict(headers or {})
    if token:
        all_headers["Authorization"] = "Bearer " + token
    url = emu.urls[listener] + path
    return (sess or session(emu)).request(method, url, headers=all_headers, timeout=30, **kwargs)


def get(emu, path, token=None, **kwargs):
    return call(emu, "GET", path, token, **kwargs)


def assert_error(response, status, type_key, message=None):
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == ERROR_KEYS
    assert body["$id"] == "1" and body["innerException"] is None and body["errorCode"] == 0
    assert body["typeKey"] == type_key
    assert body["typeName"].startswith("Microsoft.") or body["typeName"].startswith("System.")
    assert body["typeName"].split(",")[0].endswith("." + type_key)
    if message is not None:
        assert body["message"] == message
    return body


def www_authenticate(response):
    return response.raw.headers.getlist("WWW-Authenticate")


@pytest.fixture(scope="session")
def alice(devops_emu):
    return token_for(devops_emu)


# -- authentication --------------------------------------------------------------------------------
def test_anonymous_get_ends_on_the_203_sign_in_page(devops_emu):
    response = get(devops_emu, "/contoso/_apis/projects?api-version=7.1")
    assert response.status_code == 203
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<title>Azure DevOps Services | Sign In</title>" in response.text
    assert response.headers["X-VSS-ResourceTenant"] == TENANT_A


def test_anonymous_post_ends_on_the_203_sign_in_page(devops_emu):
    response = call(devops_emu, "POST", "/contoso/Website/_apis/wit/wiql?api-version=7.1", json={"query": "x"})
    assert response.status_code == 203


def test_suppress_header_gives_401_with_discovery_headers(devops_emu):
    response = get(devops_emu, "/contoso/_apis/projects?api-version=7.1",
                   headers={"X-TFS-FedAuthRedirect": "Suppress"})
    host = devops_emu.devops_url + "/"
    assert www_authenticate(response) == [
        "Bearer authorization_uri=https://login.microsoftonline.com/%s" % TENANT_A,
        'Basic realm="%s"' % host, "TFS-Federated"]
    assert response.headers["X-VSS-ResourceTenant"] == TENANT_A
    assert response.headers["X-TFS-FedAuthRealm"] == host
    assert response.headers["X-TFS-FedAuthIssuer"] == devops_emu.devops_url + "/contoso/"
    assert response.headers["Content-Type"].startswith("application/json")
    assert_error(response, 401, "UnauthorizedRequestException",
                 "TF400813: The user '' is not authorized to access this resource.")
    assert response.json()["eventId"] == 3000


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS", "PATCH"])
def test_methods_that_never_redirect_get_401(devops_emu, method):
    response = call(devops_emu, method, "/contoso/_apis/projects?api-version=7.1")
    assert response.status_code == 401
    assert response.headers["X-VSS-ResourceTenant"] == TENANT_A
    assert www_authenticate(response)[0].startswith("Bearer authorization_uri=")


def test_git_credential_manager_tenant_discovery(devops_emu):
    """GCM: one unauthenticated request to the organization URL, tenant from the headers."""
    head = call(devops_emu, "HEAD", "/contoso")
    assert head.status_code == 401
    assert www_authenticate(head)[0] == "Bearer authorization_uri=https://login.microsoftonline.com/" + TENANT_A
    plain_get = get(devops_emu, "/fabrikam")
    assert plain_get.headers["X-VSS-ResourceTenant"] == TENANT_B
    assert plain_get.headers["WWW-Authenticate"].startswith(
        "Bearer authorization_uri=https://login.microsoftonline.com/" + TENANT_B)


def test_msa_organization_announces_the_empty_tenant(devops_emu):
    response = call(devops_emu, "HEAD", "/msa-org")
    assert response.status_code == 401
    assert response.headers["X-VSS-ResourceTenant"] == MSA_TENANT
    assert www_authenticate(response)[0] == "Bearer"      # no authority: GCM then uses X-VSS-ResourceTenant


def test_unknown_organization_is_404_without_tenant_headers(devops_emu, alice):
    for token in (None, alice):
        response = get(devops_emu, "/no-such-org/_apis/projects?api-version=7.1", token=token)
        assert response.status_code == 404
        assert "X-VSS-ResourceTenant" not in response.headers
        assert "WWW-Authenticate" not in response.headers
        assert_error(response, 404, "HostDoesNotExistException")


@pytest.mark.parametrize("kind", ["expired", "signature", "audience", "malformed", "basic"])
def test_bad_credentials_are_anonymous(devops_emu, kind):
    good = token_for(devops_emu)
    tokens = {
        "expired": token_for(devops_emu, lifetime=-60),
        "signature": good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"),
        "audience": token_for(devops_emu, audience="https://management.core.windows.net/"),
        "malformed": "not-a-jwt",
    }
    headers = {"Authorization": "Basic OnBhdA=="} if kind == "basic" else {"Authorization": "Bearer " + tokens[kind]}
    redirected = get(devops_emu, "/contoso/_apis/projects?api-version=7.1", headers=headers)
    assert redirected.status_code == 203
    headers["X-TFS-FedAuthRedirect"] = "Suppress"
    refused = get(devops_emu, "/contoso/_apis/projects?api-version=7.1", headers=headers)
    assert_error(refused, 401, "UnauthorizedRequestException",
                 "TF400813: The user '' is not authorized to access this resource.")
    if kind != "basic":
        assert refused.headers["X-Emulator-Auth-Failure"] == kind


def test_token_of_another_tenant_is_401_even_without_suppress(devops_emu):
    other_tenant = token_for(devops_emu, tenant=TENANT_B)
    response = get(devops_emu, "/contoso/_apis/projects?api-version=7.1", token=other_tenant)
    assert_error(response, 401, "UnauthorizedRequestException",
                 "TF400813: The user 'alice@contoso.example' is not authorized to access this resource.")
    assert response.headers["X-VSS-ResourceTenant"] == TENANT_A
    assert www_authenticate(response)[0] == "Bearer authorization_uri=https://login.microsoftonline.com/" + TENANT_A
    assert "X-VSS-UserData" not in response.headers


def test_user_not_in_the_organization_gets_tf401444(devops_emu, alice):
    response = get(devops_emu, "/northwind/_apis/projects?api-version=7.1", token=alice)
    assert_error(response, 401, "UnauthorizedRequestException",
                 "TF401444: Please sign-in at least once as %s\\alice@contoso.example in a web browser to enable "
                 "access to the service." % TENANT_A)


def test_service_principal_not_in_the_organization_gets_tf400813(devops_emu):
    bot = devops_emu.directory.principal("ci-bot")
    response = get(devops_emu, "/northwind/_apis/projects?api-version=7.1", token=token_for(devops_emu, "ci-bot"))
    assert_error(response, 401, "UnauthorizedRequestException",
                 "TF400813: The user '%s' is not authorized to access this resource." % bot.oid(TENANT_A))


def test_members_are_let_in_by_tenant(devops_emu):
    assert get(devops_emu, "/fabrikam/_apis/projects?api-version=7.1",
               token=token_for(devops_emu, tenant=TENANT_B)).status_code == 200
    for who in ("ci-bot", "ci-cert", "mi-system", "mi-user"):
        assert get(devops_emu, "/contoso/_apis/projects?$top=1&api-version=7.1",
                   token=token_for(devops_emu, who)).status_code == 200


def test_membership_can_change_at_run_time(devops_emu, service, alice):
    oid = devops_emu.directory.principal("alice").oid(TENANT_A)
    service.add_member("northwind", oid)
    try:
        assert get(devops_emu, "/northwind/_apis/projects?api-version=7.1", token=alice).status_code == 200
    finally:
        service.remove_member("northwind", oid)
    assert get(devops_emu, "/northwind/_apis/projects?api-version=7.1", token=alice).status_code == 401


# -- versioning and common headers -------------------------------------------------------------------
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


# -- routes: projects, connectionData, misc -------------------------------------------------------------
def test_paging_all_projects_by_header_continuation(devops_emu, alice):
    sess, seen, pages, token = session(devops_emu), [], 0, None
    while True:
        query = "api-version=7.1" + ("&continuationToken=" + quote(token) if token else "")
        response = get(devops_emu, "/contoso/_apis/projects?" + query, token=alice, sess=sess)
        assert response.status_code == 200
        body = response.json()
        assert body["count"] == len(body["value"])
        seen += [p["id"] for p in body["value"]]
        pages += 1
        token = response.headers.get("x-ms-continuationtoken")
        if not token:
            assert "x-ms-continuationtoken" not in {k.lower() for k in response.headers}
            break
        assert "x-ms-continuationtoken" in list(response.raw.headers.keys())   # sent lower-case
    assert len(seen) == 260 == len(set(seen))
    assert pages == 3


def test_project_top_and_skip(devops_emu, alice):
    body = get(devops_emu, "/contoso/_apis/projects?$top=7&$skip=3&api-version=7.1", token=alice).json()
    assert body["count"] == 7
    assert body["value"][0]["name"] == "Project 004"
    project = body["value"][0]
    assert set(project) == {"id", "name", "description", "url", "state", "revision", "visibility", "lastUpdateTime"}
    assert project["state"] == "wellFormed" and project["visibility"] == "private"


def test_get_project_by_name_and_id(devops_emu, alice):
    by_name = get(devops_emu, "/contoso/_apis/projects/Mobile%20App?api-version=7.1", token=alice).json()
    assert by_name["name"] == "Mobile App"
    by_id = get(devops_emu, "/contoso/_apis/projects/%s?api-version=7.1" % by_name["id"], token=alice).json()
    assert by_id["id"] == by_name["id"]
    missing = get(devops_emu, "/contoso/_apis/projects/Nope?api-version=7.1", token=alice)
    assert_error(missing, 404, "ProjectDoesNotExistWithNameException").get("message").startswith(
        "TF200016: The following project does not exist: Nope.")


def test_unknown_route_and_wrong_method(devops_emu, alice):
    assert_error(get(devops_emu, "/contoso/_apis/nothing-here?api-version=7.1", token=alice), 404, "HttpException")
    assert_error(call(devops_emu, "DELETE", "/contoso/_apis/projects?api-version=7.1", token=alice), 405,
                 "HttpException")


def test_unknown_route_still_asks_for_credentials_first(devops_emu):
    assert get(devops_emu, "/contoso/_apis/nothing-here?api-version=7.1").status_code == 203


def test_connection_data_for_a_user(devops_emu, alice):
    body = get(devops_emu, "/contoso/_apis/connectionData?api-version=" + PREVIEW, token=alice).json()
    user = body["authenticatedUser"]
    assert user == body["authorizedUser"]
    assert user["properties"]["Account"] == {"$type": "System.String", "$value": "alice@contoso.example"}
    assert user["providerDisplayName"] == "Alice Smith" and user["isActive"] is True
    assert user["descriptor"] == "Microsoft.IdentityModel.Claims.ClaimsIdentity;%s\\alice@contoso.example" % TENANT_A
    assert user["subjectDescriptor"].startswith("aad.")
    assert body["deploymentType"] == "hosted" and body["instanceId"] and body["deploymentId"]
    assert body["locationServiceData"]["defaultAccessMappingMoniker"] == "PublicAccessMapping"


def test_connection_data_for_a_service_principal(devops_emu):
    bot = devops_emu.directory.principal("ci-bot")
    body = get(devops_emu, "/contoso/_apis/connectionData?api-version=" + PREVIEW,
               token=token_for(devops_emu, "ci-bot")).json()
    assert body["authenticatedUser"]["properties"]["Account"]["$value"] == bot.app_id
    assert body["authenticatedUser"]["subjectDescriptor"].startswith("aadsp.")


def test_resource_areas_need_no_credentials(devops_emu):
    def area(area_id):
        response = get(devops_emu, "/contoso/_apis/resourceAreas/%s?api-version=7.1-preview.1" % area_id)
        assert response.status_code == 200
        return response.json()
    core = area("79134c72-4a58-4b42-976c-04e7115f32bf")
    assert core == {"id": "79134c72-4a58-4b42-976c-04e7115f32bf", "name": "core",
                    "locationUrl": devops_emu.devops_url + "/contoso/"}
    assert area("bb1e7ec9-e901-4b68-999a-de7012b920f8")["locationUrl"] == devops_emu.urls["vssps"] + "/contoso/"
    assert area("efc2f575-36ef-48e9-b672-0c6fb4a48ac5")["locationUrl"] == devops_emu.urls["vsrm"] + "/contoso/"
    assert get(devops_emu, "/no-such-org/_apis/resourceAreas/79134c72-4a58-4b42-976c-04e7115f32bf"
                           "?api-version=7.1-preview.1").status_code == 404


# -- work items ---------------------------------------------------------------------------------------
PATCH_JSON = {"Content-Type": "application/json-patch+json"}


def create_task(emu, token, title="Write the emulator", project="Website", type_segment="$Task", extra=()):
    ops = ([{"op": "add", "path": "/fields/System.Title", "value": title}] if title else []) + list(extra)
    return call(emu, "POST", "/contoso/%s/_apis/wit/workitems/%s?api-version=7.1" % (quote(project), type_segment),
                token=token, headers=PATCH_JSON, data=json.dumps(ops))


def test_create_work_item_needs_json_patch_content_type(devops_emu, alice):
    response = call(devops_emu, "POST", "/contoso/Website/_apis/wit/workitems/$Task?api-version=7.1", token=alice,
                    json=[{"op": "add", "path": "/fields/System.Title", "value": "x"}])
    assert_error(response, 415, "VssRequestContentTypeNotSupportedException",
                 'The request indicated a Content-Type of "application/json" for method type "POST" which is not '
                 'supported. Valid content types for this method are: application/json-patch+json.')


def test_create_get_update_and_query_work_items(devops_emu, alice):
    created = create_task(devops_emu, alice, extra=[{"op": "add", "path": "/fields/System.Tags", "value": "emu"}])
    assert created.status_code == 200, created.text
    item = created.json()
    fields = item["fields"]
    assert fields["System.Title"] == "Write the emulator" and fields["System.WorkItemType"] == "Task"
    assert fields["System.State"] == "New" and fields["System.TeamProject"] == "Website"
    assert fields["System.CreatedBy"]["uniqueName"] == "alice@contoso.example"
    assert item["rev"] == 1 and item["url"].endswith("/_apis/wit/workItems/%d" % item["id"])
    assert item["_links"]["html"]["href"]

    bug = create_task(devops_emu, alice, title="A bug", type_segment="%24Bug").json()
    assert bug["fields"]["System.WorkItemType"] == "Bug" and bug["id"] == item["id"] + 1

    fetched = get(devops_emu, "/contoso/_apis/wit/workitems/%d?api-version=7.1" % item["id"], token=alice).json()
    assert fetched["fields"]["System.Title"] == "Write the emulator"

    updated = call(devops_emu, "PATCH", "/contoso/Website/_apis/wit/workitems/%d?api-version=7.1" % item["id"],
                   token=alice, headers=PATCH_JSON,
                   data=json.dumps([{"op": "test", "path": "/rev", "value": 1},
                                    {"op": "replace", "path": "/fields/System.State", "value": "Active"}]))
    assert updated.status_code == 200, updated.text
    assert updated.json()["rev"] == 2 and updated.json()["fields"]["System.State"] == "Active"

    everything = call(devops_emu, "POST", "/contoso/Website/_apis/wit/wiql?api-version=7.1", token=alice,
                      json={"query": "SELECT [System.Id], [System.Title] FROM workitems "
                                     "WHERE [System.TeamProject] = @project ORDER BY [System.Id]"}).json()
    assert everything["queryType"] == "flat" and everything["asOf"]
    assert [c["referenceName"] for c in everything["columns"]] == ["System.Id", "System.Title"]
    ids = [w["id"] for w in everything["workItems"]]
    assert item["id"] in ids and bug["id"] in ids
    tasks = call(devops_emu, "POST", "/contoso/Website/_apis/wit/wiql?api-version=7.1", token=alice,
                 json={"query": "SELECT [System.Id] FROM WorkItems WHERE [System.WorkItemType] = 'Task'"}).json()
    assert item["id"] in [w["id"] for w in tasks["workItems"]]
    assert bug["id"] not in [w["id"] for w in tasks["workItems"]]
    other_project = call(devops_emu, "POST", "/contoso/Mobile%20App/_apis/wit/wiql?api-version=7.1", token=alice,
                         json={"query": "SELECT [System.Id] FROM workitems"}).json()
    assert item["id"] not in [w["id"] for w in other_project["workItems"]]


def test_work_item_without_title_breaks_a_rule(devops_emu, alice):
    response = create_task(devops_emu, alice, title=None,
                           extra=[{"op": "add", "path": "/fields/System.Description", "value": "no title"}])
    assert response.status_code == 400
    body = response.json()
    assert list(body) == ["$id", "customProperties"] + ERROR_KEYS[1:]
    assert body["typeKey"] == "RuleValidationException" and body["eventId"] == 3200
    assert body["message"].startswith("TF401320: Rule Error for field Title.")
    assert body["customProperties"]["FieldReferenceName"] == "System.Title"


def test_work_item_bad_requests(devops_emu, alice):
    missing = get(devops_emu, "/contoso/_apis/wit/workitems/999999?api-version=7.1", token=alice)
    assert_error(missing, 404, "WorkItemUnauthorizedAccessException",
                 "TF401232: Work item 999999 does not exist, or you do not have permissions to read it.")
    unknown_type = create_task(devops_emu, alice, type_segment="$Spaceship")
    assert_error(unknown_type, 404, "WorkItemTypeNotFoundException")
    not_a_patch = call(devops_emu, "POST", "/contoso/Website/_apis/wit/workitems/$Task?api-version=7.1",
                       token=alice, headers=PATCH_JSON, data=b'{"title": "x"}')
    assert_error(not_a_patch, 400, "VssPropertyValidationException",
                 "You must pass a valid patch document in the body of the request.")
    patch_as_json = call(devops_emu, "PATCH", "/contoso/_apis/wit/workitems/1?api-version=7.1", token=alice,
                         json=[{"op": "add", "path": "/fields/System.Title", "value": "x"}])
    assert patch_as_json.status_code == 415
    no_query = call(devops_emu, "POST", "/contoso/Website/_apis/wit/wiql?api-version=7.1", token=alice, json={})
    assert no_query.status_code == 400
    unknown_project = create_task(devops_emu, alice, project="Nope")
    assert_error(unknown_project, 404, "ProjectDoesNotExistWithNameException")


def test_work_items_batch_get(devops_emu, alice):
    first = create_task(devops_emu, alice, title="batch one").json()["id"]
    body = get(devops_emu, "/contoso/_apis/wit/workitems?ids=%d,999998&errorPolicy=omit&fields=System.Title"
               "&api-version=7.1" % first, token=alice).json()
    assert body["count"] == 2 and body["value"][1] is None
    assert body["value"][0]["fields"] == {"System.Title": "batch one"}


# -- builds and the streamed artifact --------------------------------------------------------------------
ARTIFACT = "/contoso/Website/_apis/build/builds/%d/artifacts?artifactName=drop&$format=zip&api-version=7.1"


def download(emu, token, path, **kwargs):
    digest, size = hashlib.sha256(), 0
    with get(emu, path, token=token, stream=True, **kwargs) as response:
        assert response.status_code == 200, response.text
        for chunk in response.iter_content(1 << 16):
            digest.update(chunk)
            size += len(chunk)
        return response, size, digest.hexdigest()


def test_artifact_download_integrity(devops_emu, service, alice):
    service.set_artifact_size(3 << 20)
    response = get(devops_emu, ARTIFACT % 7, token=alice)
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Content-Length"] == str(3 << 20)
    assert len(response.content) == 3 << 20
    assert hashlib.sha256(response.content).hexdigest() == artifact_sha256(3 << 20)
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.testzip() is None
        assert archive.namelist() == ["drop/payload.bin"]


def test_artifact_default_size_and_tiny_sizes(devops_emu, service, alice):
    _, size, digest = download(devops_emu, alice, ARTIFACT % 7)
    assert size == DEFAULT_ARTIFACT_SIZE and digest == artifact_sha256(DEFAULT_ARTIFACT_SIZE)
    for tiny in (0, 10, 500):
        service.set_artifact_size(tiny)
        _, size, digest = download(devops_emu, alice, ARTIFACT % 7)
        assert size == tiny and digest == artifact_sha256(tiny)


def test_large_artifact_streams_quickly(devops_emu, service, alice):
    service.set_artifact_size(96 << 20)
    started = time.monotonic()
    _, size, digest = download(devops_emu, alice, ARTIFACT % 7)
    assert size == 96 << 20 and digest == artifact_sha256(96 << 20)
    assert time.monotonic() - started < 30


def test_artifact_metadata_and_errors(devops_emu, alice):
    listing = get(devops_emu, "/contoso/Website/_apis/build/builds/7/artifacts?api-version=7.1", token=alice).json()
    assert listing["count"] == 1 and listing["value"][0]["name"] == "drop"
    assert "%24format=zip" in listing["value"][0]["resource"]["downloadUrl"]
    other = get(devops_emu, "/contoso/Website/_apis/build/builds/7/artifacts?artifactName=logs&api-version=7.1",
                token=alice)
    assert_error(other, 404, "ArtifactNotFoundException")
    no_build = get(devops_emu, ARTIFACT % 99999, token=alice)
    assert_error(no_build, 404, "BuildNotFoundException")


def test_builds_paging(devops_emu, alice):
    seen, token = [], None
    while True:
        query = "$top=40&api-version=7.1" + ("&continuationToken=" + quote(token) if token else "")
        response = get(devops_emu, "/contoso/Website/_apis/build/builds?" + query, token=alice)
        seen += [b["id"] for b in response.json()["value"]]
        token = response.headers.get("x-ms-continuationtoken")
        if not token:
            break
    assert len(seen) == 150 == len(set(seen))
    bad = get(devops_emu, "/contoso/Website/_apis/build/builds?continuationToken=garbage&api-version=7.1",
              token=alice)
    assert bad.status_code == 400


# -- other hosts and body-carried continuation -------------------------------------------------------------
def test_graph_users_on_vssps_page_through_an_empty_page(devops_emu, alice):
    seen, counts, token = [], [], None
    while True:
        query = "api-version=7.1-preview.1" + ("&continuationToken=" + quote(token) if token else "")
        response = get(devops_emu, "/contoso/_apis/graph/users?" + query, token=alice, listener="vssps")
        assert response.status_code == 200, response.text
        body = response.json()
        counts.append(body["count"])
        seen += [u["descriptor"] for u in body["value"]]
        token = response.headers.get("X-MS-ContinuationToken")
        if not token:
            break
    assert 0 in counts[:-1]                       # an empty page that was not the last
    assert len(seen) == len(set(seen)) == 181     # alice + 180 synthetic users
    alice_descriptor = get(devops_emu, "/contoso/_apis/connectionData?api-version=" + PREVIEW,
                           token=alice).json()["authenticatedUser"]["subjectDescriptor"]
    assert alice_descriptor in seen


def test_graph_is_only_on_vssps(devops_emu, alice):
    assert get(devops_emu, "/contoso/_apis/graph/users?api-version=7.1-preview.1", token=alice).status_code == 404


def test_releases_on_vsrm(devops_emu, alice):
    seen, token = [], None
    while True:
        query = "$top=25&api-version=7.1" + ("&continuationToken=" + token if token else "")
        response = get(devops_emu, "/contoso/Website/_apis/release/releases?" + query, token=alice, listener="vsrm")
        assert response.status_code == 200, response.text
        seen += [r["id"] for r in response.json()["value"]]
        token = response.headers.get("x-ms-continuationtoken")
        if not token:
            break
    assert seen == list(range(120, 0, -1))


def test_audit_log_body_continuation(devops_emu, alice):
    seen, token = [], None
    while True:
        query = "batchSize=200&api-version=7.1-preview.1" + ("&continuationToken=" + quote(token) if token else "")
        body = get(devops_emu, "/contoso/_apis/audit/auditlog?" + query, token=alice).json()
        seen += [e["id"] for e in body["decoratedAuditLogEntries"]]
        token = body["continuationToken"]
        if not body["hasMore"]:
            break
    assert len(seen) == len(set(seen)) == 450


def test_work_item_revisions_body_continuation(devops_emu, alice):
    seen, url, batches = [], devops_emu.devops_url + "/contoso/Website/_apis/wit/reporting/workitemrevisions" \
        "?api-version=7.1", 0
    while True:
        response = session(devops_emu).get(url, headers={"Authorization": "Bearer " + alice}, timeout=30)
        body = response.json()
        seen += [(v["id"], v["rev"]) for v in body["values"]]
        batches += 1
        if body["isLastBatch"]:
            break
        url = body["nextLink"]
    assert batches == 3 and len(seen) == len(set(seen)) == 2500
    assert "continuationToken=" in body["nextLink"] and body["continuationToken"]


# -- faults and controls --------------------------------------------------------------------------------
PROJECTS = "/contoso/_apis/projects?$top=1&api-version=7.1"


def test_throttle_fault(devops_emu, service, alice):
    service.add_fault("throttle", path=r"/_apis/projects", retry_after=3)
    throttled = get(devops_emu, PROJECTS, token=alice)
    assert_error(throttled, 429, "RequestBlockedException",
                 "TF400733: The request has been canceled: Request was blocked due to exceeding usage of resource "
                 "'Core' in namespace 'User'.")
    headers = throttled.headers
    assert headers["Retry-After"] == "3" and headers["X-RateLimit-Resource"] == "Core"
    assert headers["X-RateLimit-Remaining"] == "0" and float(headers["X-RateLimit-Delay"]) > 0
    assert int(headers["X-RateLimit-Limit"]) > 0 and int(headers["X-RateLimit-Reset"]) > time.time()
    assert get(devops_emu, PROJECTS, token=alice).status_code == 200     # count=1: consumed


@pytest.mark.parametrize("kind, status", [("unavailable", 503), ("bad_gateway", 502), ("gateway_timeout", 504)])
def test_server_error_faults(devops_emu, service, alice, kind, status):
    service.add_fault(kind, path="projects", count=2)
    assert [get(devops_emu, PROJECTS, token=alice).status_code for _ in range(3)] == [status, status, 200]


def test_unavailable_with_retry_after_and_host_offline(devops_emu, service, alice):
    service.add_fault("unavailable", path="projects", retry_after=5, host_offline=True)
    response = get(devops_emu, PROJECTS, token=alice)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5" and "X-VSS-HostOfflineError" in response.headers


def test_reset_fault_cuts_the_body(devops_emu, service, alice):
    service.set_artifact_size(4 << 20)
    service.add_fault("reset", path="/artifacts", after_bytes=100000)
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)):
        download(devops_emu, alice, ARTIFACT % 7)
    _, size, _ = download(devops_emu, alice, ARTIFACT % 7)
    assert size == 4 << 20


def test_stall_fault_and_latency(devops_emu, service, alice):
    service.add_fault("stall", path="projects", seconds=1.5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        session(devops_emu).get(devops_emu.devops_url + PROJECTS, headers={"Authorization": "Bearer " + alice},
                                timeout=0.5)
    service.set_latency(300)
    started = time.monotonic()
    assert get(devops_emu, PROJECTS, token=alice).status_code == 200
    assert time.monotonic() - started >= 0.3


def test_redirect_fault(devops_emu, service, alice):
    service.add_fault("redirect", path="projects", location=devops_emu.other_url + "/steal")
    response = get(devops_emu, PROJECTS, token=alice, allow_redirects=False)
    assert response.status_code == 302 and response.headers["Location"] == devops_emu.other_url + "/steal"


def test_fault_method_filter_and_unlimited_count(devops_emu, service, alice):
    service.add_fault("bad_gateway", path="/wit/wiql", method="POST", count=None)
    wiql = "/contoso/Website/_apis/wit/wiql?api-version=7.1"
    for _ in range(3):
        assert call(devops_emu, "POST", wiql, token=alice, json={"query": "SELECT [System.Id] FROM workitems"}
                    ).status_code == 502
    assert get(devops_emu, PROJECTS, token=alice).status_code == 200
    assert len(service.list_faults()) == 1
    assert service.clear_faults() == 1


def test_bad_fault_specs(service):
    with pytest.raises(ValueError):
        service.add_fault("meteor")
    with pytest.raises(ValueError):
        service.add_fault("redirect")
    with pytest.raises(ValueError):
        service.add_fault("throttle", seconds=3)


def test_http_control_api(devops_emu, alice):
    sess, base = session(devops_emu), devops_emu.devops_url + "/_emulator"
    added = sess.post(base + "/faults", json={"kind": "throttle", "path": "projects", "count": 1, "retry_after": 2})
    assert added.status_code == 201 and added.json()["kind"] == "throttle"
    assert [f["retry_after"] for f in sess.get(base + "/faults").json()["faults"]] == [2]
    assert get(devops_emu, PROJECTS, token=alice).status_code == 429
    sess.post(base + "/faults", json={"kind": "gateway_timeout", "path": "projects"})
    assert sess.delete(base + "/faults").json() == {"cleared": 1}
    assert sess.put(base + "/latency", json={"ms": 0}).json()["latency_ms"] == 0
    assert sess.put(base + "/artifact", json={"size": 12345}).json()["artifact_size"] == 12345
    _, size, _ = download(devops_emu, alice, ARTIFACT % 7)
    assert size == 12345
    oid = devops_emu.directory.principal("alice").oid(TENANT_A)
    assert sess.post(base + "/members", json={"org": "northwind", "oid": oid}).status_code == 201
    assert get(devops_emu, "/northwind/_apis/projects?$top=1&api-version=7.1", token=alice).status_code == 200
    assert sess.delete(base + "/members", json={"org": "northwind", "oid": oid}).status_code == 200
    assert sess.post(base + "/faults", json={"kind": "meteor"}).status_code == 400
    assert sess.post(base + "/faults", data=b"not json").status_code == 400
    assert sess.get(base + "/nothing").status_code == 404
    state = sess.post(base + "/reset").json()
    assert state["faults"] == [] and state["artifact_size"] == DEFAULT_ARTIFACT_SIZE
    assert set(state["urls"]) == {"devops", "vssps", "vsrm"}


def test_keep_alive_connection_is_reused(devops_emu, alice):
    sess = session(devops_emu)
    marker = "keep-alive-%f" % time.time()
    for _ in range(4):
        assert get(devops_emu, PROJECTS, token=alice, sess=sess, headers={"X-TFS-Session": marker}).status_code == 200
    entries = [e for e in devops_emu.log.entries(listener="devops") if e["headers"].get("x-tfs-session") == marker]
    assert len(entries) == 4
    assert len({e["connection_id"] for e in entries}) == 1
    assert all(e["status"] == 200 for e in entries)
