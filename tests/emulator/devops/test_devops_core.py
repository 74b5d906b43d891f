"""The core area of the emulated Azure DevOps (emulator/devops/areas/core.py): projects, connectionData, resource
areas."""
from urllib.parse import quote

from devops_support import assert_error, get, PREVIEW, session, token_for
from emulator.directory import TENANT_A


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


def test_project_continuation_tokens_count_the_projects_fetched(devops_emu, alice):
    # core/7.1/core.json: continuationToken is an integer, "Pointer that shows how many projects already been fetched".
    sess = session(devops_emu)
    first = get(devops_emu, "/contoso/_apis/projects?$top=5&api-version=7.1", token=alice, sess=sess)
    assert first.headers["x-ms-continuationtoken"] == "5"
    second = get(devops_emu, "/contoso/_apis/projects?$top=5&continuationToken=5&api-version=7.1", token=alice,
                 sess=sess)
    assert second.headers["x-ms-continuationtoken"] == "10"
    assert [p["name"] for p in second.json()["value"]] == ["Project %03d" % i for i in range(6, 11)]
    for bad in ("5;x", "abc", "-5", "+5"):
        refused = get(devops_emu, "/contoso/_apis/projects?continuationToken=%s&api-version=7.1" % quote(bad),
                      token=alice, sess=sess)
        assert_error(refused, 400, "InvalidContinuationTokenException")
