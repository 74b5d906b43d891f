"""Routing of the emulated Azure DevOps: the route table (path pattern, methods, hosts -> handler function,
API resource location), ``OPTIONS {org}/_apis`` built from that table, and the JSON Patch content type check.

Adding an API is one :class:`Route` here plus one handler function in :mod:`emulator.devops.areas`; the
table names the function itself, so a typo fails at import (and in lint), not as a 500 at run time.
api-version rules live in :mod:`emulator.devops.locations`; each versioned route names its location there.

Location ids, areas and 7.1 release state: azure-devops Python SDK v7_1 clients (``location_id=``), the Node SDK
(``getVersioningData`` area names), MicrosoftDocs/vsts-rest-api-specs 7.1 (``x-ms-preview``); route templates are
derived from the spec paths (fidelity-findings §2.2).
"""
import re
from dataclasses import dataclass, field
from typing import Callable, Optional

from emulator.constants import DEVOPS_HOSTS, SERVER_HOST
from emulator.devops.areas import (analytics, audit, build, core, dashboard, echo, entitlements, git, graph, release,
                                   wit)
from emulator.devops.errors import ApiError
from emulator.devops.locations import Location, SERVER_2022, SERVICES, check_version, locations_json

# -- locations -----------------------------------------------------------------------------------
_CORE, _WIT, _BUILD, _GIT = "core", "wit", "build", "git"
PROJECTS = Location("603fe2ac-9723-48b9-88ad-09305aa6c6e1", _CORE, "projects", "_apis/{resource}/{*projectId}", 4)
CONNECTION_DATA = Location("00d9565f-ed9c-4a06-9a50-00e7896ccab4", "Location", "ConnectionData",
                           "_apis/{resource}", 1, released=False)
RESOURCE_AREAS = Location("e81700f7-3be2-46de-8624-2eb35882fcaa", "Location", "ResourceAreas",
                          "_apis/{resource}/{areaId}", 1, released=False)
WORK_ITEMS_BY_TYPE = Location("62d3d110-0047-428c-ad3c-4fe872c91c74", _WIT, "workItems",
                              "{project}/_apis/{area}/{resource}/${type}", 3)
WORK_ITEMS = Location("72c7ddf8-2cdc-4f60-90cd-ab71c14a399b", _WIT, "workItems",
                      "{project}/_apis/{area}/{resource}/{id}", 3)
WIQL = Location("1a9c53f7-f243-4447-b110-35ef023636e4", _WIT, "wiql", "{project}/{team}/_apis/{area}/{resource}", 2)
ATTACHMENTS = Location("e07b5fa4-1499-494d-a496-64b860fd64ff", _WIT, "attachments",
                       "{project}/_apis/{area}/{resource}/{id}", 3)
# Test-only (emulator.devops.areas.echo): a released location of its own, so it takes any api-version as before.
ECHO = Location("6f1e1f7a-0000-4000-8000-00000000ec40", "_emulator", "echo",
                "{project}/{team}/_apis/{area}/{resource}", 1)
REVISIONS = Location("f828fe59-dd87-495d-a17c-7a8d6211ca6c", _WIT, "workItemRevisions",
                     "{project}/_apis/{area}/reporting/{resource}", 2)
BUILDS = Location("0cd358e1-9217-4d94-8269-1c1ee6f93dcf", _BUILD, "builds",
                  "{project}/_apis/{area}/{resource}/{buildId}", 7)
ARTIFACTS = Location("1db06c96-014e-44e1-ac91-90b2d4b3e984", _BUILD, "artifacts",
                     "{project}/_apis/{area}/builds/{buildId}/{resource}", 5)
LOGS = Location("35a80daf-7f30-45fc-86e8-6b813d9c90df", _BUILD, "logs",
                "{project}/_apis/{area}/builds/{buildId}/{resource}/{logId}", 2)
REPO_PULL_REQUESTS = Location("9946fd70-0d40-406e-b686-b4744cbbcc37", _GIT, "pullRequests",
                              "{project}/_apis/{area}/repositories/{repositoryId}/{resource}/{pullRequestId}", 1)
PULL_REQUESTS = Location("a5d28130-9cd2-40fa-9f08-902e7daa9efb", _GIT, "pullRequests",
                         "{project}/_apis/{area}/{resource}", 1)
DASHBOARDS = Location("454b3e51-2e6e-48d4-ad81-978154089351", "Dashboard", "Dashboards",
                      "{project}/{team}/_apis/{area}/{resource}/{dashboardId}", 3, released=False)
AUDIT_LOG = Location("4e5fa14f-7097-4b73-9c85-00abc7353c61", "Audit", "AuditLog", "_apis/{area}/{resource}", 1,
                     released=False)
GRAPH_USERS = Location("005e26ec-6b77-4e4f-a986-b3827bf241f5", "Graph", "Users",
                       "_apis/{area}/{resource}/{userDescriptor}", 1, released=False)
GRAPH_GROUPS = Location("ebbe6af8-0b91-4c13-8cf1-777c14858188", "Graph", "Groups",
                        "_apis/{area}/{resource}/{groupDescriptor}", 1, released=False)
USER_ENTITLEMENTS = Location("387f832c-dbf2-4643-88e9-c1aa94dbb737", "MemberEntitlementManagement",
                             "UserEntitlements", "_apis/{resource}/{userId}", 3)
RELEASES = Location("a166fde7-27ad-408e-ba75-703c2cc9d500", "Release", "releases",
                    "{project}/_apis/{area}/{resource}/{releaseId}", 8)


# -- routes --------------------------------------------------------------------------------------
_PROJECT = r"/(?P<project>[^/_][^/]*)"           # project names never start with "_"
_MAYBE_PROJECT = r"(?:%s)?" % _PROJECT
_TEAM = r"(?:/(?P<team>[^/_][^/]*))?"


@dataclass(frozen=True)
class Route:  # pylint: disable=too-many-instance-attributes
    methods: tuple
    pattern: str                 # regex over the path below "/{org}", matched whole, case-insensitive
    handler: Callable            # handler(call) -> Response, from emulator.devops.areas
    location: Optional[Location] = None   # None: not a versioned REST resource (home page, git, OData, OPTIONS)
    listeners: tuple = ("devops",)
    anonymous: bool = False      # served without credentials
    on_server: Optional[bool] = None      # also on an Azure DevOps Server collection; default: devops-host routes
    patch_body: bool = False     # body must be application/json-patch+json
    regex: object = field(init=False, compare=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "regex", re.compile(self.pattern + r"/?\Z", re.I))

    def allows(self, method):
        return method in self.methods or (method == "HEAD" and "GET" in self.methods)

    def serves(self, listener):
        if listener == SERVER_HOST:
            return self.on_server if self.on_server is not None else "devops" in self.listeners
        return listener in self.listeners

    @property
    def versioned(self):
        return self.location is not None


def location_data(call):
    """``OPTIONS {org}/_apis[/{area}]``: the locations this host serves, from the route table itself."""
    listener = call.request.listener
    host = SERVER_2022 if listener == SERVER_HOST else SERVICES
    seen, locations = set(), []
    for route in ROUTES:
        if route.location is not None and route.serves(listener) and route.location.id not in seen:
            seen.add(route.location.id)
            locations.append(route.location)
    return call.ok(locations_json(locations, host, call.groups.get("area")))


ROUTES = (
    Route(("GET",), r"", core.org_home),
    Route(("OPTIONS",), r"/_apis(?:/(?P<area>[^/]+))?", location_data, listeners=DEVOPS_HOSTS),
    Route(("GET",), r"/_apis/projects", core.list_projects, PROJECTS),
    Route(("GET",), r"/_apis/projects/(?P<project_ref>[^/]+)", core.get_project, PROJECTS),
    Route(("GET",), r"/_apis/connectionData", core.connection_data, CONNECTION_DATA, listeners=DEVOPS_HOSTS),
    Route(("GET",), r"/_apis/resourceAreas", core.list_resource_areas, RESOURCE_AREAS, anonymous=True),
    Route(("GET",), r"/_apis/resourceAreas/(?P<area>[^/]+)", core.get_resource_area, RESOURCE_AREAS,
          anonymous=True),
    Route(("POST",), _PROJECT + r"/_apis/wit/workitems/\$(?P<type>[^/]+)", wit.create_work_item, WORK_ITEMS_BY_TYPE,
          patch_body=True),
    Route(("GET",), _MAYBE_PROJECT + r"/_apis/wit/workitems", wit.list_work_items, WORK_ITEMS),
    Route(("GET",), _MAYBE_PROJECT + r"/_apis/wit/workitems/(?P<id>\d+)", wit.get_work_item, WORK_ITEMS),
    Route(("PATCH",), _MAYBE_PROJECT + r"/_apis/wit/workitems/(?P<id>\d+)", wit.update_work_item, WORK_ITEMS,
          patch_body=True),
    Route(("POST",), _MAYBE_PROJECT + r"/_apis/wit/wiql", wit.wiql, WIQL),
    Route(("POST",), _PROJECT + r"/_apis/wit/attachments", wit.create_attachment, ATTACHMENTS),
    Route(("GET",), _PROJECT + r"/_apis/wit/attachments/(?P<attachment>[0-9a-fA-F-]{36})", wit.get_attachment,
          ATTACHMENTS),
    Route(("GET",), _MAYBE_PROJECT + r"/_apis/wit/reporting/workitemrevisions", wit.work_item_revisions, REVISIONS),
    Route(("GET",), _PROJECT + r"/_apis/build/builds", build.list_builds, BUILDS),
    Route(("GET",), _PROJECT + r"/_apis/build/builds/(?P<build>\d+)", build.get_build, BUILDS),
    Route(("GET",), _PROJECT + r"/_apis/build/builds/(?P<build>\d+)/artifacts", build.build_artifacts, ARTIFACTS),
    Route(("GET",), _PROJECT + r"/_apis/build/builds/(?P<build>\d+)/logs/(?P<log>\d+)", build.build_log, LOGS),
    Route(("GET", "POST"), _PROJECT + r"/_git/(?P<repo>[^/]+?)(?:\.git)?(?P<git_path>/info/refs|/git-upload-pack|"
          r"/git-receive-pack)", git.smart_http),
    Route(("GET",), _PROJECT + r"/_apis/git/repositories/(?P<repo>[^/]+)/pullrequests", git.list_pull_requests,
          REPO_PULL_REQUESTS),
    Route(("GET",), _PROJECT + r"/_apis/git/pullrequests", git.list_pull_requests, PULL_REQUESTS),
    Route(("GET",), _PROJECT + _TEAM + r"/_apis/dashboard/dashboards", dashboard.list_dashboards, DASHBOARDS),
    # Analytics OData: the version is a path segment, no api-version (Learn, odata-query-guidelines).
    Route(("GET",), _PROJECT + r"/_odata/(?P<odata_version>v[0-9.]+(?:-preview)?)/WorkItems", analytics.work_items),
    Route(("GET",), r"/_apis/audit/auditlog", audit.audit_log, AUDIT_LOG, listeners=("auditservice",)),
    Route(("GET",), r"/_apis/graph/users", graph.graph_users, GRAPH_USERS, listeners=("vssps",)),
    Route(("GET",), r"/_apis/graph/groups", graph.graph_groups, GRAPH_GROUPS, listeners=("vssps",)),
    Route(("GET",), r"/_apis/userentitlements", entitlements.user_entitlements, USER_ENTITLEMENTS,
          listeners=("vsaex",)),
    Route(("GET",), _PROJECT + r"/_apis/release/releases", release.list_releases, RELEASES, listeners=("vsrm",),
          on_server=True),
    # Test-only, no Azure DevOps counterpart (see emulator.devops.areas.echo).
    Route(("GET", "POST", "PUT", "PATCH", "DELETE"), r"(?:%s(?:/(?P<team>[^/_][^/]*))?)?" % _PROJECT + echo.ECHO_PATH,
          echo.echo, ECHO),
)


def find_route(listener, method, sub_path):
    """``(route, match)``: the route whose pattern and method fit; ``(route, None)`` when only the
    method is wrong; ``(None, None)`` when nothing fits."""
    wrong_method = None
    for route in ROUTES:
        match = route.regex.match(sub_path) if route.serves(listener) else None
        if match and route.allows(method):
            return route, match
        if route.handler is not location_data:   # OPTIONS _apis/{anything}: no 405 for other methods
            wrong_method = wrong_method or (route if match else None)
    return wrong_method, None


def checked_version(route, request):
    """The request's api-version checked against the route's location on this host (Services or Server)."""
    host = SERVER_2022 if request.listener == SERVER_HOST else SERVICES
    return check_version(request, route.location, host)


def require_patch_content_type(request):
    sent = (request.header("Content-Type") or "").split(";")[0].strip()
    if sent.lower() != "application/json-patch+json":
        raise ApiError(415, "VssRequestContentTypeNotSupportedException",
                       'The request indicated a Content-Type of "%s" for method type "%s" which is not supported. '
                       "Valid content types for this method are: application/json-patch+json." % (
                           sent, request.method))
