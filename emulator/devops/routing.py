"""Routing of the emulated Azure DevOps: the route table (path pattern, methods, hosts -> handler function),
the ``api-version`` rules, and the JSON Patch content type check.

Adding an API is one :class:`Route` here plus one handler function in :mod:`emulator.devops.areas`; the
table names the function itself, so a typo fails at import (and in lint), not as a 500 at run time.

api-version: the query parameter, else the ``Accept`` header's ``api-version=`` (as the service's own
VssVersionNotSpecifiedException message says); versions above the newest the service knows are out of range;
a resource without a released version needs ``-preview``.
"""
import re
from dataclasses import dataclass, field
from typing import Callable

from emulator.constants import DEVOPS_HOSTS
from emulator.devops.areas import audit, build, core, echo, git, graph, release, wit
from emulator.devops.errors import ApiError

LATEST_VERSION = (7, 2)       # newest api-version the service knows (7.2 exists only as a preview)
LATEST_RELEASED = (7, 1)      # newest non-preview api-version

_NO_VERSION = ('No api-version was supplied for the "%s" request. The version must be supplied either as part '
               'of the Accept header (e.g. "application/json; api-version=1.0") or as a query parameter '
               '(e.g. "?api-version=1.0").')
_PREVIEW = ('The requested version "%s" of the resource is under preview. The -preview flag must be supplied in '
            'the api-version for such requests. For example: "%s-preview"')
_OUT_OF_RANGE = ("The requested REST API version of %s is out of range for this server. The latest REST API version "
                 "this server supports is %d.%d.")


# -- api-version ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ApiVersion:
    text: str
    number: tuple
    preview: bool


_VERSION_RE = re.compile(r"^(\d+)\.(\d+)(-preview(\.\d+)?)?$", re.I)


def requested_version(request):
    """The api-version text from the query string, else from the Accept header, else None."""
    value = request.arg("api-version")
    if value is None:
        found = re.search(r"api-version\s*=\s*([^;,\s]+)", request.header("Accept") or "", re.I)
        value = found.group(1) if found else None
    return value


def check_version(request, released):
    """The request's :class:`ApiVersion`, or the service's 400 for a missing / invalid / unreleased one."""
    text = (requested_version(request) or "").strip()
    if not text:
        raise ApiError(400, "VssVersionNotSpecifiedException", _NO_VERSION % request.method)
    match = _VERSION_RE.match(text)
    if not match:
        raise ApiError(400, "VssInvalidApiVersionException",
                       "The api-version '%s' is not in the correct format. Expected: "
                       "{major}.{minor}[-preview[.{resourceVersion}]]." % text)
    version = ApiVersion(text, (int(match.group(1)), int(match.group(2))), bool(match.group(3)))
    plain = "%d.%d" % version.number
    if version.number > LATEST_VERSION:
        raise ApiError(400, "VssVersionOutOfRangeException", _OUT_OF_RANGE % ((plain,) + LATEST_VERSION))
    if not version.preview and (not released or version.number > LATEST_RELEASED):
        raise ApiError(400, "VssInvalidPreviewVersionException", _PREVIEW % (plain, plain))
    return version


# -- routes --------------------------------------------------------------------------------------
_PROJECT = r"/(?P<project>[^/_][^/]*)"           # project names never start with "_"
_MAYBE_PROJECT = r"(?:%s)?" % _PROJECT


@dataclass(frozen=True)
class Route:
    methods: tuple
    pattern: str                 # regex over the path below "/{org}", matched whole, case-insensitive
    handler: Callable            # handler(call) -> Response, from emulator.devops.areas
    listeners: tuple = ("devops",)
    anonymous: bool = False      # served without credentials
    released: bool = True        # False: only "-preview" api-versions are accepted
    versioned: bool = True       # needs an api-version
    patch_body: bool = False     # body must be application/json-patch+json
    regex: object = field(init=False, compare=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "regex", re.compile(self.pattern + r"/?\Z", re.I))

    def allows(self, method):
        return method in self.methods or (method == "HEAD" and "GET" in self.methods)


ROUTES = (
    Route(("GET",), r"", core.org_home, versioned=False),
    Route(("GET",), r"/_apis/projects", core.list_projects),
    Route(("GET",), r"/_apis/projects/(?P<project_ref>[^/]+)", core.get_project),
    Route(("GET",), r"/_apis/connectionData", core.connection_data, listeners=DEVOPS_HOSTS, released=False),
    Route(("GET",), r"/_apis/resourceAreas", core.list_resource_areas, anonymous=True, released=False),
    Route(("GET",), r"/_apis/resourceAreas/(?P<area>[^/]+)", core.get_resource_area, anonymous=True,
          released=False),
    Route(("POST",), _PROJECT + r"/_apis/wit/workitems/\$(?P<type>[^/]+)", wit.create_work_item, patch_body=True),
    Route(("GET",), _MAYBE_PROJECT + r"/_apis/wit/workitems", wit.list_work_items),
    Route(("GET",), _MAYBE_PROJECT + r"/_apis/wit/workitems/(?P<id>\d+)", wit.get_work_item),
    Route(("PATCH",), _MAYBE_PROJECT + r"/_apis/wit/workitems/(?P<id>\d+)", wit.update_work_item, patch_body=True),
    Route(("POST",), _MAYBE_PROJECT + r"/_apis/wit/wiql", wit.wiql),
    Route(("POST",), _PROJECT + r"/_apis/wit/attachments", wit.create_attachment),
    Route(("GET",), _PROJECT + r"/_apis/wit/attachments/(?P<attachment>[0-9a-fA-F-]{36})", wit.get_attachment),
    Route(("GET",), _MAYBE_PROJECT + r"/_apis/wit/reporting/workitemrevisions", wit.work_item_revisions),
    Route(("GET",), _PROJECT + r"/_apis/build/builds", build.list_builds),
    Route(("GET",), _PROJECT + r"/_apis/build/builds/(?P<build>\d+)", build.get_build),
    Route(("GET",), _PROJECT + r"/_apis/build/builds/(?P<build>\d+)/artifacts", build.build_artifacts),
    Route(("GET",), _PROJECT + r"/_apis/build/builds/(?P<build>\d+)/logs/(?P<log>\d+)", build.build_log),
    Route(("GET", "POST"), _PROJECT + r"/_git/(?P<repo>[^/]+?)(?:\.git)?(?P<git_path>/info/refs|/git-upload-pack|"
          r"/git-receive-pack)", git.smart_http, versioned=False),
    Route(("GET",), r"/_apis/audit/auditlog", audit.audit_log, released=False),
    Route(("GET",), r"/_apis/graph/users", graph.graph_users, listeners=("vssps",), released=False),
    Route(("GET",), _PROJECT + r"/_apis/release/releases", release.list_releases, listeners=("vsrm",)),
    # Test-only, no Azure DevOps counterpart (see emulator.devops.areas.echo).
    Route(("GET", "POST", "PUT", "PATCH", "DELETE"), r"(?:%s(?:/(?P<team>[^/_][^/]*))?)?" % _PROJECT + echo.ECHO_PATH,
          echo.echo),
)


def find_route(listener, method, sub_path):
    """``(route, match)``: the route whose pattern and method fit; ``(route, None)`` when only the
    method is wrong; ``(None, None)`` when nothing fits."""
    wrong_method = None
    for route in ROUTES:
        match = route.regex.match(sub_path) if listener in route.listeners else None
        if match and route.allows(method):
            return route, match
        wrong_method = wrong_method or (route if match else None)
    return wrong_method, None


def require_patch_content_type(request):
    sent = (request.header("Content-Type") or "").split(";")[0].strip()
    if sent.lower() != "application/json-patch+json":
        raise ApiError(415, "VssRequestContentTypeNotSupportedException",
                       'The request indicated a Content-Type of "%s" for method type "%s" which is not supported. '
                       "Valid content types for this method are: application/json-patch+json." % (
                           sent, request.method))
