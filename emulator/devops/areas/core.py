"""Core area: the organization's home page, projects, connectionData and resource areas."""
import html

from emulator.constants import SERVER_HOST
from emulator.devops import model
from emulator.devops.call import integer_token
from emulator.devops.errors import ApiError
from emulator.server import Response

# areaId -> (name, listener whose URL is the locationUrl). Ids: the SDKs' resource_area_identifier /
# RESOURCE_AREA_ID and the specs' x-ms-vss-resource-area-id (build: 965220d5-..., BuildApi.ts; audit and member
# entitlement management: their v7_1 Python clients).
RESOURCE_AREAS = {
    "79134c72-4a58-4b42-976c-04e7115f32bf": ("core", "devops"),
    "5264459e-e5e0-4bd8-b118-0985e68a4ec5": ("wit", "devops"),
    "965220d5-5bb9-42cf-8d67-9b146df2a5a4": ("build", "devops"),
    "4e080c62-fa21-4fbc-8fef-2a10a2b38049": ("git", "devops"),
    "bb1e7ec9-e901-4b68-999a-de7012b920f8": ("graph", "vssps"),
    "efc2f575-36ef-48e9-b672-0c6fb4a48ac5": ("release", "vsrm"),
    "68ddce18-2501-45f1-a17b-7931a9922690": ("MemberEntitlementManagement", "vsaex"),
    "94ff054d-5ee1-413d-9341-3f4a7827de2e": ("Audit", "auditservice"),
}


def org_home(call):
    page = "<!DOCTYPE html><html><head><title>Projects - Home</title></head><body><h1>%s</h1></body></html>"
    return Response.text(200, page % html.escape(call.org.name), content_type="text/html; charset=utf-8")


def list_projects(call):
    """Projects, paged by ``$top``/``$skip`` or by ``continuationToken``: an integer, "Pointer that shows how many
    projects already been fetched" (vsts-rest-api-specs core/7.1/core.json, Projects_List). The service answers it
    in ``x-ms-continuationtoken`` while more remain (the Node SDK's getProjects returns a PagedList whose
    continuationToken comes from that header, CoreApi.ts; the python SDK 5.1's GetProjectsResponseValue too), so
    with ``$top=5`` the tokens are 5, 10, ... The default page size without ``$top`` is the emulator's choice (100):
    the specs do not give one."""
    projects = call.projects()
    top = call.int_arg("$top", 100, minimum=1)
    token = call.arg("continuationToken")
    start = integer_token(token) if token else call.int_arg("$skip", 0)
    page = projects[start:start + top]
    headers = [("x-ms-continuationtoken", str(start + top))] if start + top < len(projects) else []
    org_url = call.org_url()
    return call.ok({"count": len(page), "value": [model.project_json(p, org_url) for p in page]}, headers)


def get_project(call):
    project = model.find_project(call.projects(), call.groups["project_ref"])
    return call.ok(model.project_json(project, call.org_url(), detailed=True))


def connection_data(call):
    identity = model.connection_identity(call.caller)
    listener = call.request.listener
    owner = model.SPS_SERVICE_OWNER if listener == "vssps" else model.TFS_SERVICE_OWNER
    location = {"serviceOwner": owner, "defaultAccessMappingMoniker": "PublicAccessMapping",
                "lastChangeId": 2084321, "lastChangeId64": 2084321}
    if (call.arg("connectOptions") or "").lower() in ("1", "includeservices"):
        location["accessMappings"] = [{"displayName": "Public Access Mapping", "moniker": "PublicAccessMapping",
                                       "accessPoint": call.service.host_url(listener) + "/",
                                       "serviceOwner": owner, "virtualDirectory": call.org.name}]
    return call.ok({"authenticatedUser": identity, "authorizedUser": dict(identity),
                    "instanceId": model.stable_id(call.org.name, "collection"),
                    "deploymentId": model.DEPLOYMENT_ID, "deploymentType": "hosted",
                    "locationServiceData": location})


def _area_json(call, area_id):
    name, listener = RESOURCE_AREAS[area_id]
    return {"id": area_id, "name": name, "locationUrl": call.org_url(listener) + "/"}


def list_resource_areas(call):
    if call.request.listener == SERVER_HOST:   # on prem: {"count":0,"value":null} (Node SDK WebApi.ts)
        return call.ok({"count": 0, "value": None})
    areas = [_area_json(call, area) for area in RESOURCE_AREAS]
    return call.ok({"count": len(areas), "value": areas})


def get_resource_area(call):
    area = call.groups["area"].lower()
    if area not in RESOURCE_AREAS or call.request.listener == SERVER_HOST:
        raise ApiError(404, "ResourceAreaNotFoundException",
                       "Resource area with id %s was not found." % call.groups["area"])
    return call.ok(_area_json(call, area))
