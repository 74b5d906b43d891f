"""Azure DevOps Services, emulated: the organization host (``devops``), the identity host (``vssps``,
Graph) and the release host (``vsrm``), all played by one :class:`DevOpsService`.

Organization URL = ``emu.devops_url + "/" + org``, as an Azure DevOps Server collection URL would be.
What is modelled, in the order a request meets it:

1. test controls under ``/_emulator/`` (devops host only, no auth) and injected faults;
2. the organization (unknown: 404 without tenant headers);
3. Microsoft Entra bearer authentication: 203 sign-in page, or 401 with the tenant-discovery
   headers (``X-TFS-FedAuthRedirect: Suppress``, HEAD/OPTIONS/PATCH), TF400813 / TF401444;
4. the route table, ``api-version`` (query or Accept), preview-only resources, content types;
5. the resource: projects, connectionData, work items + WIQL, builds + a streamed artifact zip,
   resource areas, Graph users, releases, the audit log, work-item revision reporting.

Data and error bodies live in :mod:`emulator.devops_model`.
"""
import base64
import html
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Optional
from urllib.parse import quote, quote_plus

from emulator import devops_model as model
from emulator.constants import AZURE_DEVOPS_RESOURCE, DEVOPS_HOSTS, MSA_TENANT
from emulator.server import Request, Response
from emulator.devops_model import ApiError, Caller, artifact_sha256
from emulator.tokens import InvalidToken

LATEST_VERSION = (7, 2)       # newest api-version the service knows (7.2 exists only as a preview)
LATEST_RELEASED = (7, 1)      # newest non-preview api-version
DEFAULT_ARTIFACT_SIZE = 1 << 20
GRAPH_PAGE = 75
SUPPRESS_METHODS = ("HEAD", "OPTIONS", "PATCH")   # never redirected to sign-in: always 401

# areaId -> (name, listener whose URL is the locationUrl)
RESOURCE_AREAS = {
    "79134c72-4a58-4b42-976c-04e7115f32bf": ("core", "devops"),
    "5264459e-e5e0-4bd8-b118-0985e68a4ec5": ("wit", "devops"),
    "5d6898bb-45ec-463f-95f9-54d49c71752e": ("build", "devops"),
    "4e080c62-fa21-4fbc-8fef-2a10a2b38049": ("git", "devops"),
    "bb1e7ec9-e901-4b68-999a-de7012b920f8": ("graph", "vssps"),
    "efc2f575-36ef-48e9-b672-0c6fb4a48ac5": ("release", "vsrm"),
}

_NO_VERSION = ('No api-version was supplied for the "%s" request. The version must be supplied either as part '
               'of the Accept header (e.g. "application/json; api-version=1.0") or as a query parameter '
               '(e.g. "?api-version=1.0").')
_PREVIEW = ('The requested version "%s" of the resource is under preview. The -preview flag must be supplied in '
            'the api-version for such requests. For example: "%s-preview"')
_OUT_OF_RANGE = ("The requested REST API version of %s is out of range for this server. The latest REST API version "
                 "this server supports is %d.%d.")
_NOT_AUTHORIZED = "TF400813: The user '%s' is not authorized to access this resource."
_SIGN_IN_ONCE = ("TF401444: Please sign-in at least once as %s\\%s in a web browser to enable access to the "
                 "service.")
_THROTTLED = ("TF400733: The request has been canceled: Request was blocked due to exceeding usage of resource "
              "'Core' in namespace 'User'.")


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
    handler: str                 # DevOpsService method name, without the leading underscore
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
    Route(("GET",), r"", "org_home", versioned=False),
    Route(("GET",), r"/_apis/projects", "list_projects"),
    Route(("GET",), r"/_apis/projects/(?P<project_ref>[^/]+)", "get_project"),
    Route(("GET",), r"/_apis/connectionData", "connection_data", listeners=DEVOPS_HOSTS, released=False),
    Route(("GET",), r"/_apis/resourceAreas", "list_resource_areas", anonymous=True, released=False),
    Route(("GET",), r"/_apis/resourceAreas/(?P<area>[^/]+)", "get_resource_area", anonymous=True, released=False),
    Route(("POST",), _PROJECT + r"/_apis/wit/workitems/\$(?P<type>[^/]+)", "create_work_item", patch_body=True),
    Route(("GET",), _MAYBE_PROJECT + r"/_apis/wit/workitems", "list_work_items"),
    Route(("GET",), _MAYBE_PROJECT + r"/_apis/wit/workitems/(?P<id>\d+)", "get_work_item"),
    Route(("PATCH",), _MAYBE_PROJECT + r"/_apis/wit/workitems/(?P<id>\d+)", "update_work_item", patch_body=True),
    Route(("POST",), _MAYBE_PROJECT + r"/_apis/wit/wiql", "wiql"),
    Route(("GET",), _MAYBE_PROJECT + r"/_apis/wit/reporting/workitemrevisions", "work_item_revisions"),
    Route(("GET",), _PROJECT + r"/_apis/build/builds", "list_builds"),
    Route(("GET",), _PROJECT + r"/_apis/build/builds/(?P<build>\d+)", "get_build"),
    Route(("GET",), _PROJECT + r"/_apis/build/builds/(?P<build>\d+)/artifacts", "build_artifacts"),
    Route(("GET",), _PROJECT + r"/_apis/build/builds/(?P<build>\d+)/logs/(?P<log>\d+)", "build_log"),
    Route(("GET", "POST"), _PROJECT + r"/_git/(?P<repo>[^/]+?)(?:\.git)?(?P<git_path>/info/refs|/git-upload-pack|"
          r"/git-receive-pack)", "git_smart_http", versioned=False),
    Route(("GET",), r"/_apis/audit/auditlog", "audit_log", released=False),
    Route(("GET",), r"/_apis/graph/users", "graph_users", listeners=("vssps",), released=False),
    Route(("GET",), _PROJECT + r"/_apis/release/releases", "list_releases", listeners=("vsrm",)),
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


# -- faults --------------------------------------------------------------------------------------
FAULT_DEFAULTS = {
    "throttle": {"retry_after": 1, "delay": None, "limit": 200},
    "unavailable": {"retry_after": None, "host_offline": False},
    "bad_gateway": {},
    "gateway_timeout": {},
    "reset": {"after_bytes": 0},
    "stall": {"seconds": 1.0},
    "redirect": {"location": None, "status": 302},
    "forbidden": {"permission": "View project-level information"},
}
_FRONT_DOOR_PAGE = ("<!DOCTYPE html><html><head><title>Azure Front Door</title></head><body><h2>Our services "
                    "aren't available right now</h2><p>We're working to restore all services as soon as possible. "
                    "Please check back soon.</p>%s</body></html>")


@dataclass
class Fault:
    id: int
    kind: str
    path: str
    method: Optional[str]
    count: Optional[int]          # None: every matching request until cleared
    listener: Optional[str]
    params: dict

    def matches(self, request):
        return ((self.method is None or self.method.upper() == request.method)
                and (self.listener is None or self.listener == request.listener)
                and re.search(self.path, request.path) is not None)

    def to_json(self):
        return {"id": self.id, "kind": self.kind, "path": self.path, "method": self.method, "count": self.count,
                "listener": self.listener, **self.params}

    @property
    def answers(self):
        """True for faults that replace the response; False for those that alter the real one."""
        return self.kind not in ("reset", "stall")


def make_fault(ident, kind, path=".*", method=None, count=1, listener=None, **params):
    if kind not in FAULT_DEFAULTS:
        raise ValueError("unknown fault kind %r (known: %s)" % (kind, ", ".join(FAULT_DEFAULTS)))
    unknown = set(params) - set(FAULT_DEFAULTS[kind])
    if unknown:
        raise ValueError("fault %r takes no %s" % (kind, ", ".join(sorted(unknown))))
    if kind == "redirect" and not params.get("location"):
        raise ValueError("a redirect fault needs a location")
    if count is not None and int(count) < 1:
        raise ValueError("count must be a positive number, or None for every request")
    re.compile(path)
    merged = dict(FAULT_DEFAULTS[kind], **params)
    return Fault(ident, kind, path, method, None if count is None else int(count), listener, merged)


class FaultBook:
    """Faults waiting for matching requests; the first match is consumed (thread-safe)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._faults = []
        self._ids = 0

    def add(self, kind, **spec):
        with self._lock:
            self._ids += 1
            fault = make_fault(self._ids, kind, **spec)
            self._faults.append(fault)
            return fault

    def take(self, request):
        with self._lock:
            for fault in self._faults:
                if fault.matches(request):
                    if fault.count is not None:
                        fault.count -= 1
                        if fault.count == 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def clear(self):
        with self._lock:
            cleared, self._faults = len(self._faults), []
            return cleared

    def list(self):
        with self._lock:
            return [f.to_json() for f in self._faults]


def fault_response(fault, call):
    """The response a replacing fault answers with."""
    params = fault.params
    if fault.kind == "redirect":
        return Response(int(params["status"]), [("Location", params["location"])], b"")
    if fault.kind == "throttle":
        return _throttled(params)
    if fault.kind == "forbidden":
        return json_error(ApiError(403, "AccessCheckException", "VS402904: Access denied: you need %s permissions "
                                   "to perform this action. For more information, contact the organization "
                                   "administrator." % params["permission"]))
    if fault.kind == "unavailable":
        headers = [("Retry-After", str(params["retry_after"]))] if params["retry_after"] is not None else []
        if params["host_offline"]:
            headers.append(("X-VSS-HostOfflineError", "true"))
        return json_error(ApiError(503, "ServiceUnavailableException",
                                   "The service is temporarily unavailable. Please try again later.",
                                   headers=headers))
    status = 502 if fault.kind == "bad_gateway" else 504
    ref = "<p>Ref A: %s Ref B: %s</p>" % (uuid.uuid4().hex.upper(), call.edge_ref)
    return Response.text(status, _FRONT_DOOR_PAGE % ref, content_type="text/html; charset=utf-8")


def _throttled(params):
    retry = params["retry_after"]
    delay = params["delay"] if params["delay"] is not None else (retry or 0)
    headers = [("X-RateLimit-Resource", "Core"), ("X-RateLimit-Delay", "%.3f" % float(delay)),
               ("X-RateLimit-Limit", str(params["limit"])), ("X-RateLimit-Remaining", "0"),
               ("X-RateLimit-Reset", str(int(time.time() + float(retry or delay or 0))))]
    if retry is not None:
        headers.insert(0, ("Retry-After", str(retry)))
    return json_error(ApiError(429, "RequestBlockedException", _THROTTLED, headers=headers))


def alter_response(fault, response):
    if fault.kind == "reset":
        response.reset_after_bytes = int(fault.params["after_bytes"])
    elif fault.kind == "stall":
        response.stall_seconds += float(fault.params["seconds"])


# -- responses -----------------------------------------------------------------------------------
def _dumps(obj):
    return json.dumps(obj, separators=(",", ":")).encode("utf-8")


def json_error(error):
    headers = [("Content-Type", "application/json; charset=utf-8"),
               ("X-TFS-ServiceError", quote_plus(error.message))] + error.headers
    return Response(error.status, headers, _dumps(error.body()))


class AuthFailure(ApiError):
    """401 (or the 203 sign-in page, for ``anonymous`` failures of redirectable requests)."""

    def __init__(self, message, reason, anonymous):
        super().__init__(401, "UnauthorizedRequestException", message)
        self.reason = reason
        self.anonymous = anonymous


def _bearer(request):
    """The access token of a request: ``Bearer <jwt>``, or ``Basic`` with the JWT as password (as git and other
    Basic-only clients send it; Azure DevOps accepts Entra tokens there too)."""
    scheme, _, token = (request.header("Authorization") or "").strip().partition(" ")
    if scheme.lower() == "basic" and token.strip():
        try:
            _, _, password = base64.b64decode(token.strip()).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return password if password.count(".") == 2 else None
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def caller_from_claims(claims, directory):
    oid = claims.get("oid") or claims.get("sub") or ""
    principal = directory.by_oid(oid)
    upn = claims.get("upn") or claims.get("unique_name") or claims.get("preferred_username")
    if principal is not None:
        kind, upn = principal.kind, principal.upn or upn
        name = claims.get("name") or principal.display_name
        app_id = principal.app_id or claims.get("appid") or claims.get("azp")
    else:
        kind = "user" if upn and claims.get("idtyp") != "app" else "servicePrincipal"
        name, app_id = claims.get("name") or upn or oid, claims.get("appid") or claims.get("azp")
    return Caller(oid=oid, tenant=claims.get("tid", ""), kind=kind, name=name,
                  upn=upn if kind == "user" else None, app_id=app_id)


# -- one request ---------------------------------------------------------------------------------
@dataclass
class Call:
    request: Request
    org: object = None
    caller: Optional[Caller] = None
    version: Optional[ApiVersion] = None
    groups: dict = field(default_factory=dict)
    edge_ref: str = field(default_factory=lambda: "AMS%09d" % (uuid.uuid4().int % 10 ** 9))

    def arg(self, name, default=None):
        return self.request.arg(name, default)

    def int_arg(self, name, default, minimum=0):
        raw = self.request.arg(name)
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise ApiError(400, "ArgumentException", "The value '%s' is not valid for %s." % (raw, name))
        return value


def _bad_token(token):
    return ApiError(400, "InvalidContinuationTokenException", "The continuation token '%s' is not valid." % token)


def _decode_token(token, prefix):
    """The offset in an opaque ``prefix:offset`` continuation token."""
    try:
        kind, _, offset = model.unb64(token).partition(":")
        if kind != prefix:
            raise ValueError(token)
        return int(offset)
    except ValueError as ex:
        raise _bad_token(token) from ex


def _numeric_token(token):
    try:
        return int(token.split(";")[0])
    except ValueError as ex:
        raise _bad_token(token) from ex


class DevOpsService:
    """Serves the ``devops``, ``vssps`` and ``vsrm`` listeners (decided by ``request.listener``)."""
    identity_endpoint = None

    def __init__(self, emulator):
        self.emulator = emulator
        self.work_items = model.WorkItemStore()
        self._faults = FaultBook()
        self._settings_lock = threading.Lock()
        self.latency_ms = 0
        self.artifact_size = DEFAULT_ARTIFACT_SIZE
        self._control = ControlApi(self)

    # -- Python control API (tests) --------------------------------------------------------------
    def add_fault(self, kind, path=".*", method=None, count=1, listener=None, **params):
        """Inject ``kind`` into the next ``count`` requests whose decoded path matches the regex ``path``
        (``re.search``), optionally only for ``method`` / ``listener``. ``count=None``: until cleared.
        Kinds and their parameters: see ``FAULT_DEFAULTS``. Returns the fault as JSON."""
        return self._faults.add(kind, path=path, method=method, count=count, listener=listener,
                                **params).to_json()

    def clear_faults(self):
        return self._faults.clear()

    def list_faults(self):
        return self._faults.list()

    def set_latency(self, ms):
        """Delay every answer of the three Azure DevOps hosts by ``ms`` milliseconds (0 = none)."""
        with self._settings_lock:
            self.latency_ms = max(0, float(ms))

    def set_artifact_size(self, size):
        """Size in bytes of the build artifact zip (the default is 1 MiB)."""
        if int(size) < 0:
            raise ValueError("size must not be negative")
        with self._settings_lock:
            self.artifact_size = int(size)

    def add_member(self, org, oid):
        self._organization_named(org).member_oids.add(oid)

    def remove_member(self, org, oid):
        self._organization_named(org).member_oids.discard(oid)

    def reset_controls(self):
        """No faults, no latency, the default artifact size (stored work items stay)."""
        self.clear_faults()
        self.set_latency(0)
        self.set_artifact_size(DEFAULT_ARTIFACT_SIZE)

    def state(self):
        return {"faults": self.list_faults(), "latency_ms": self.latency_ms, "artifact_size": self.artifact_size,
                "urls": {name: self.emulator.urls.get(name) for name in DEVOPS_HOSTS}}

    def _organization_named(self, name):
        org = self._organizations().get((name or "").lower())
        if org is None:
            raise ValueError("unknown organization %r" % name)
        return org

    # -- addresses ---------------------------------------------------------------------------------
    def host_url(self, listener):
        return self.emulator.urls[listener]

    def org_url(self, org, listener="devops"):
        return "%s/%s" % (self.host_url(listener), org.name)

    # -- the pipeline --------------------------------------------------------------------------------
    def handle(self, request):
        if request.listener == "devops" and request.path.startswith("/_emulator/"):
            return self._control.handle(request)
        fault = self._faults.take(request)
        call = Call(request)
        if fault is not None and fault.answers:
            response = fault_response(fault, call)
        else:
            response = self._serve(call)
            if fault is not None:
                alter_response(fault, response)
        response.stall_seconds += self.latency_ms / 1000.0
        return self._decorate(call, response)

    def _serve(self, call):
        try:
            return self._dispatch(call)
        except AuthFailure as failure:
            return self._challenge(call, failure)
        except ApiError as error:
            return json_error(error)

    def _dispatch(self, call):
        request = call.request
        org_name, _, rest = request.path.lstrip("/").partition("/")
        call.org = self._organizations().get(org_name.lower())
        if call.org is None:
            raise ApiError(404, "HostDoesNotExistException",
                           "The organization '%s' could not be found." % org_name if org_name else "Not found.")
        sub_path = "/" + rest if rest else ""
        route, match = find_route(request.listener, request.method, sub_path)
        if route is None or not route.anonymous:
            call.caller = self._authenticate(call)
        if match is None:
            raise self._no_route(request, route)
        call.groups = match.groupdict()
        if route.versioned:
            call.version = check_version(request, route.released)
        if route.patch_body:
            _require_patch_content_type(request)
        return getattr(self, "_" + route.handler)(call)

    @staticmethod
    def _no_route(request, route):
        if route is not None:
            return ApiError(405, "HttpException",
                            "The requested resource does not support http method '%s'." % request.method)
        return ApiError(404, "HttpException", "The controller for path '%s' was not found or does not implement "
                        "IController." % request.path, event_id=0)

    def _organizations(self):
        return {name.lower(): org for name, org in self.emulator.directory.organizations.items()}

    def _decorate(self, call, response):
        request = call.request
        have = {name.lower() for name, _ in response.headers}
        headers = [("Cache-Control", "no-cache"), ("Pragma", "no-cache"), ("Expires", "-1"),
                   ("P3P", 'CP="CAO DSP COR ADMa DEV CONo TELo CUR PSA PSD TAI IVDo OUR SAMi BUS DEM NAV STA UNI '
                           'COM INT PHY ONL FIN PUR LOC CNT"'),
                   ("X-TFS-ProcessId", model.stable_id("process", request.listener)),
                   ("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),
                   ("ActivityId", str(uuid.uuid4())),
                   ("X-TFS-Session", request.header("X-TFS-Session") or str(uuid.uuid4())),
                   ("X-VSS-E2EID", str(uuid.uuid4())), ("X-VSS-SenderDeploymentId", model.DEPLOYMENT_ID),
                   ("X-Frame-Options", "SAMEORIGIN"), ("X-Content-Type-Options", "nosniff"),
                   ("X-MSEdge-Ref", "Ref A: %s Ref B: %s Ref C: %s" % (
                       uuid.uuid4().hex.upper(), call.edge_ref, model.now_iso()[:19] + "Z"))]
        if call.caller is not None:
            headers.append(("X-VSS-UserData", "%s:%s" % (call.caller.oid, call.caller.account)))
        response.headers.extend(h for h in headers if h[0].lower() not in have)
        return response

    # -- authentication ------------------------------------------------------------------------------
    def _authenticate(self, call):
        token = _bearer(call.request)
        if token is None:
            raise AuthFailure(_NOT_AUTHORIZED % "", "missing", anonymous=True)
        try:
            claims = self.emulator.tokens.verify(token, AZURE_DEVOPS_RESOURCE)
        except InvalidToken as ex:
            raise AuthFailure(_NOT_AUTHORIZED % "", ex.reason, anonymous=True) from ex
        caller = caller_from_claims(claims, self.emulator.directory)
        call.caller = caller
        if caller.tenant != call.org.tenant:
            raise AuthFailure(_NOT_AUTHORIZED % (caller.upn or caller.oid), "tenant", anonymous=False)
        if caller.oid not in call.org.member_oids:
            if caller.is_user and caller.upn:
                raise AuthFailure(_SIGN_IN_ONCE % (caller.tenant, caller.upn), "not-member", anonymous=False)
            raise AuthFailure(_NOT_AUTHORIZED % caller.oid, "not-member", anonymous=False)
        return caller

    def _challenge(self, call, failure):
        """The answer to a failed authentication: 203 sign-in page or 401, with tenant discovery headers."""
        request, org = call.request, call.org
        tenant = org.tenant
        host = self.host_url(request.listener) + "/"
        bearer = "Bearer" if tenant == MSA_TENANT else \
            "Bearer authorization_uri=https://login.microsoftonline.com/%s" % tenant
        discovery = [("WWW-Authenticate", bearer), ("X-VSS-ResourceTenant", tenant)]
        sign_in = "%s/_signin?realm=%s&reply_to=%s&redirect=1&hid=%s" % (
            self.host_url("vssps"), quote(request.host), quote(host.rstrip("/") + request.raw_path, safe=""),
            model.stable_id(org.name, "collection"))
        call.caller = None
        redirectable = (request.header("X-TFS-FedAuthRedirect") or "").lower() != "suppress" \
            and request.method not in SUPPRESS_METHODS and "/_git/" not in request.path  # git clients get 401
        if failure.anonymous and redirectable:
            page = _sign_in_page(org.name, sign_in)
            return Response.text(203, page, content_type="text/html; charset=utf-8", headers=discovery + [
                ("X-Emulator-Auth-Failure", failure.reason)])
        failure.headers = discovery + [
            ("WWW-Authenticate", 'Basic realm="%s"' % host), ("WWW-Authenticate", "TFS-Federated"),
            ("X-TFS-FedAuthRealm", host), ("X-TFS-FedAuthIssuer", self.org_url(org) + "/"),
            ("X-VSS-AuthorizationEndpoint", self.org_url(org, "vssps") + "/"),
            ("X-TFS-FedAuthRedirect", sign_in), ("X-Emulator-Auth-Failure", failure.reason)]
        return json_error(failure)

    # -- responses -----------------------------------------------------------------------------------
    @staticmethod
    def _ok(call, body, headers=(), status=200):
        content_type = "application/json; charset=utf-8"
        if call.version is not None:
            content_type += "; api-version=" + call.version.text
        return Response(status, [("Content-Type", content_type)] + list(headers), _dumps(body))

    def _projects(self, org):
        return model.projects_for(org.name, org.project_count)

    def _project(self, call):
        return model.find_project(self._projects(call.org), call.groups.get("project"))

    def _optional_project(self, call):
        return self._project(call) if call.groups.get("project") else None

    # -- org home, projects ----------------------------------------------------------------------------
    def _org_home(self, call):
        page = "<!DOCTYPE html><html><head><title>Projects - Home</title></head><body><h1>%s</h1></body></html>"
        return Response.text(200, page % html.escape(call.org.name), content_type="text/html; charset=utf-8")

    def _list_projects(self, call):
        projects = self._projects(call.org)
        top = call.int_arg("$top", 100, minimum=1)
        token = call.arg("continuationToken")
        start = _numeric_token(token) if token else call.int_arg("$skip", 0)
        page = projects[start:start + top]
        headers = [("x-ms-continuationtoken", str(start + top))] if start + top < len(projects) else []
        org_url = self.org_url(call.org)
        return self._ok(call, {"count": len(page), "value": [model.project_json(p, org_url) for p in page]},
                        headers)

    def _get_project(self, call):
        project = model.find_project(self._projects(call.org), call.groups["project_ref"])
        return self._ok(call, model.project_json(project, self.org_url(call.org), detailed=True))

    # -- connectionData, resource areas ------------------------------------------------------------------
    def _connection_data(self, call):
        identity = model.connection_identity(call.caller)
        owner = model.SPS_SERVICE_OWNER if call.request.listener == "vssps" else model.TFS_SERVICE_OWNER
        location = {"serviceOwner": owner, "defaultAccessMappingMoniker": "PublicAccessMapping",
                    "lastChangeId": 2084321, "lastChangeId64": 2084321}
        if (call.arg("connectOptions") or "").lower() in ("1", "includeservices"):
            location["accessMappings"] = [{"displayName": "Public Access Mapping", "moniker": "PublicAccessMapping",
                                           "accessPoint": self.host_url(call.request.listener) + "/",
                                           "serviceOwner": owner, "virtualDirectory": call.org.name}]
        return self._ok(call, {"authenticatedUser": identity, "authorizedUser": dict(identity),
                               "instanceId": model.stable_id(call.org.name, "collection"),
                               "deploymentId": model.DEPLOYMENT_ID, "deploymentType": "hosted",
                               "locationServiceData": location})

    def _area_json(self, call, area_id):
        name, listener = RESOURCE_AREAS[area_id]
        return {"id": area_id, "name": name, "locationUrl": self.org_url(call.org, listener) + "/"}

    def _list_resource_areas(self, call):
        areas = [self._area_json(call, area) for area in RESOURCE_AREAS]
        return self._ok(call, {"count": len(areas), "value": areas})

    def _get_resource_area(self, call):
        area = call.groups["area"].lower()
        if area not in RESOURCE_AREAS:
            raise ApiError(404, "ResourceAreaNotFoundException",
                           "Resource area with id %s was not found." % call.groups["area"])
        return self._ok(call, self._area_json(call, area))

    # -- work items ------------------------------------------------------------------------------------
    def _create_work_item(self, call):
        project = self._project(call)
        ops = model.parse_patch(call.request.body)
        org_url = self.org_url(call.org)
        item = self.work_items.create(project, call.groups["type"], ops, call.caller, org_url)
        return self._ok(call, model.work_item_json(item, org_url))

    def _get_work_item(self, call):
        self._optional_project(call)
        item = self.work_items.get(call.org.name, int(call.groups["id"]))
        return self._ok(call, model.work_item_json(item, self.org_url(call.org), _wanted_fields(call)))

    def _update_work_item(self, call):
        self._optional_project(call)
        ops = model.parse_patch(call.request.body)
        org_url = self.org_url(call.org)
        item = self.work_items.update(call.org.name, int(call.groups["id"]), ops, call.caller, org_url)
        return self._ok(call, model.work_item_json(item, org_url))

    def _list_work_items(self, call):
        self._optional_project(call)
        ids = [part for part in (call.arg("ids") or "").split(",") if part.strip()]
        if not ids:
            raise ApiError(400, "ArgumentNullException", "Value cannot be null.\r\nParameter name: ids")
        omit = (call.arg("errorPolicy") or "").lower() == "omit"
        org_url, values = self.org_url(call.org), []
        for ident in ids:
            try:
                item = self.work_items.get(call.org.name, int(ident))
                values.append(model.work_item_json(item, org_url, _wanted_fields(call)))
            except (ApiError, ValueError):
                if not omit:
                    raise model.ApiError(404, "WorkItemUnauthorizedAccessException", "TF401232: Work item %s does "
                                         "not exist, or you do not have permissions to read it." % ident,
                                         event_id=3200) from None
                values.append(None)
        return self._ok(call, {"count": len(values), "value": values})

    def _wiql(self, call):
        project = self._optional_project(call)
        query = _json_body(call.request).get("query")
        if not query:
            raise ApiError(400, "ArgumentNullException", "Value cannot be null.\r\nParameter name: wiql")
        columns, conditions = model.parse_wiql(query)
        macros = {"@project": project.name if project else None, "@me": call.caller.account}
        items = self.work_items.in_project(project) if project else self.work_items.in_org(call.org.name)
        hits = [i for i in items if model.wiql_matches(i, conditions, macros)]
        top = call.int_arg("$top", None, minimum=1)
        org_url = self.org_url(call.org)
        return self._ok(call, {
            "queryType": "flat", "queryResultType": "workItem", "asOf": model.now_iso(),
            "columns": model.wiql_columns(columns, org_url),
            "workItems": [{"id": i.id, "url": "%s/_apis/wit/workItems/%d" % (org_url, i.id)} for i in hits[:top]]})

    def _work_item_revisions(self, call):
        project = self._optional_project(call) or self._projects(call.org)[0]
        size = call.int_arg("$maxPageSize", 1000, minimum=1)
        token = call.arg("continuationToken")
        start = _numeric_token(token) if token else 0
        end = min(start + size, model.REVISIONS_PER_PROJECT)
        next_token = "%d;%d" % (end, 638400000 + end)
        link = "%s/_apis/wit/reporting/workItemRevisions?continuationToken=%s&api-version=%s" % (
            self.org_url(call.org) + ("/" + quote(project.name) if call.groups.get("project") else ""),
            quote(next_token), call.version.text)
        return self._ok(call, {"values": [model.revision_json(project, i) for i in range(start, end)],
                               "nextLink": link, "continuationToken": next_token,
                               "isLastBatch": end >= model.REVISIONS_PER_PROJECT})

    # -- builds ----------------------------------------------------------------------------------------
    def _list_builds(self, call):
        project = self._project(call)
        top = call.int_arg("$top", 1000, minimum=1)
        token = call.arg("continuationToken")
        start = _decode_token(token, "builds") if token else 0
        numbers = list(range(model.BUILDS_PER_PROJECT, 0, -1))[start:start + top]
        headers = [("x-ms-continuationtoken", model.b64("builds:%d" % (start + top)))] \
            if start + top < model.BUILDS_PER_PROJECT else []
        org_url = self.org_url(call.org)
        return self._ok(call, {"count": len(numbers), "value": [model.build_json(project, n, org_url)
                                                                for n in numbers]}, headers)

    def _build(self, call):
        project = self._project(call)
        found, number = model.find_build(self._projects(call.org), int(call.groups["build"]))
        if found != project:
            raise ApiError(404, "BuildNotFoundException",
                           "The requested build %s could not be found." % call.groups["build"])
        return project, number

    def _get_build(self, call):
        project, number = self._build(call)
        return self._ok(call, model.build_json(project, number, self.org_url(call.org)))

    def _build_artifacts(self, call):
        project, number = self._build(call)
        org_url = self.org_url(call.org)
        artifact = model.artifact_json(project, number, org_url, call.version.text)
        name = call.arg("artifactName")
        if name is None:
            return self._ok(call, {"count": 1, "value": [artifact]})
        if name.lower() != "drop":
            raise ApiError(404, "ArtifactNotFoundException",
                           "Artifact %s was not found for build %s." % (name, call.groups["build"]))
        wants_zip = (call.arg("$format") or "").lower() == "zip" or "application/zip" in (
            call.request.header("Accept") or "").lower()
        return self._artifact_zip() if wants_zip else self._ok(call, artifact)

    def _git_smart_http(self, call):
        from emulator import git_http
        project = self._project(call)
        if call.groups["repo"].lower() != project.name.lower():
            raise ApiError(404, "GitRepositoryNotFoundException",
                           "TF401019: The Git repository with name or identifier %s does not exist or you do not "
                           "have permissions for the operation you are attempting." % call.groups["repo"])
        root, repo_dir = git_http.repository(self.emulator.workdir, call.org.name, project)
        return git_http.serve(call.request, root, repo_dir, call.groups["git_path"], call.caller.account)

    def _build_log(self, call):
        """A build log is plain text (the real service answers text/plain unless JSON is asked for)."""
        project, number = self._build(call)
        log_id = int(call.groups["log"])
        if not 1 <= log_id <= 3:
            raise ApiError(404, "BuildLogNotFoundException", "Build log %d was not found." % log_id)
        lines = model.build_log_lines(project, number, log_id)
        return Response.text(200, "\r\n".join(lines) + "\r\n")

    def _artifact_zip(self):
        size = self.artifact_size
        return Response(200, [("Content-Type", "application/zip"), ("Content-Length", str(size)),
                              ("Content-Disposition", "attachment; filename=drop.zip; filename*=utf-8''drop.zip")],
                        model.artifact_chunks(size))

    # -- body-carried and odd continuation -----------------------------------------------------------------
    def _audit_log(self, call):
        size = call.int_arg("batchSize", 200, minimum=1)
        token = call.arg("continuationToken")
        start = _decode_token(token, "audit") if token else 0
        end = min(start + size, model.AUDIT_ENTRIES)
        return self._ok(call, {
            "decoratedAuditLogEntries": [model.audit_entry_json(call.org, i) for i in range(start, end)],
            "continuationToken": model.b64("audit:%d" % end), "hasMore": end < model.AUDIT_ENTRIES})

    def _graph_users(self, call):
        users = model.graph_users(call.org, self.emulator.directory)
        pages = [users[i:i + GRAPH_PAGE] for i in range(0, len(users), GRAPH_PAGE)] or [[]]
        pages.insert(1, [])      # as the real Graph does now and then: an empty page, more to come
        token = call.arg("continuationToken")
        index = _decode_token(token, "graph") if token else 0
        if index >= len(pages):
            raise _bad_token(token)
        headers = [("X-MS-ContinuationToken", model.b64("graph:%d" % (index + 1)))] if index + 1 < len(pages) else []
        vssps_org = self.org_url(call.org, "vssps")
        value = [model.graph_user_json(u, call.org, vssps_org) for u in pages[index]]
        return self._ok(call, {"count": len(value), "value": value}, headers)

    def _list_releases(self, call):
        project = self._project(call)
        top = call.int_arg("$top", 50, minimum=1)
        token = call.arg("continuationToken")
        first = _numeric_token(token) if token else model.RELEASES_PER_PROJECT
        numbers = list(range(min(first, model.RELEASES_PER_PROJECT), 0, -1))[:top]
        headers = [("x-ms-continuationtoken", str(numbers[-1] - 1))] if numbers and numbers[-1] > 1 else []
        org_url, vsrm_org = self.org_url(call.org), self.org_url(call.org, "vsrm")
        return self._ok(call, {"count": len(numbers), "value": [
            model.release_json(project, n, org_url, vsrm_org) for n in numbers]}, headers)


def _wanted_fields(call):
    raw = call.arg("fields")
    return {f.strip().lower() for f in raw.split(",") if f.strip()} if raw else None


def _json_body(request):
    try:
        body = json.loads(request.body.decode("utf-8")) if request.body else {}
    except (ValueError, UnicodeDecodeError) as ex:
        raise ApiError(400, "ArgumentException", "The request body is not valid JSON.") from ex
    return body if isinstance(body, dict) else {}


def _require_patch_content_type(request):
    sent = (request.header("Content-Type") or "").split(";")[0].strip()
    if sent.lower() != "application/json-patch+json":
        raise ApiError(415, "VssRequestContentTypeNotSupportedException",
                       'The request indicated a Content-Type of "%s" for method type "%s" which is not supported. '
                       "Valid content types for this method are: application/json-patch+json." % (
                           sent, request.method))


def _sign_in_page(org_name, sign_in_url):
    link = html.escape(sign_in_url, quote=True)
    return """<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="utf-8">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Azure DevOps Services | Sign In</title>
<link rel="shortcut icon" href="https://cdn.vsassets.io/content/icons/favicon.ico">
</head>
<body class="signin-page">
<div class="signin-container" role="main">
<h1>Azure DevOps</h1>
<p>Sign in to continue to <strong>%s</strong>.</p>
<form id="signInForm" method="get" action="%s" autocomplete="off">
<a id="signInLink" href="%s">Sign in</a>
</form>
<noscript>JavaScript is required to sign in.</noscript>
</div>
<script type="text/javascript">window.location.replace(document.getElementById("signInLink").href);</script>
</body>
</html>
""" % (html.escape(org_name), link, link)


# -- /_emulator/ over HTTP -----------------------------------------------------------------------------
class ControlApi:
    """JSON control of the faults and settings, for an owner in another process (no auth)."""

    def __init__(self, service):
        self.service = service
        self._routes = {
            ("GET", "/_emulator/state"): lambda body: service.state(),
            ("GET", "/_emulator/faults"): lambda body: {"faults": service.list_faults()},
            ("POST", "/_emulator/faults"): self._add_fault,
            ("DELETE", "/_emulator/faults"): lambda body: {"cleared": service.clear_faults()},
            ("PUT", "/_emulator/latency"): lambda body: service.set_latency(body["ms"]) or service.state(),
            ("PUT", "/_emulator/artifact"): lambda body: service.set_artifact_size(body["size"]) or service.state(),
            ("POST", "/_emulator/members"): lambda body: service.add_member(body["org"], body["oid"]) or {},
            ("DELETE", "/_emulator/members"): lambda body: service.remove_member(body["org"], body["oid"]) or {},
            ("POST", "/_emulator/reset"): lambda body: service.reset_controls() or service.state(),
        }

    def handle(self, request):
        action = self._routes.get((request.method, request.path.rstrip("/")))
        if action is None:
            return Response.json(404, {"error": "no control %s %s" % (request.method, request.path)})
        try:
            body = json.loads(request.body.decode("utf-8")) if request.body.strip() else {}
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            result = action(body)
        except (KeyError, TypeError, ValueError, re.error) as ex:
            return Response.json(400, {"error": "%s: %s" % (type(ex).__name__, ex)})
        return Response.json(201 if request.method == "POST" else 200, result)

    def _add_fault(self, body):
        spec = dict(body)
        kind = spec.pop("kind")
        return self.service.add_fault(kind, **spec)


__all__ = ["DevOpsService", "artifact_sha256", "DEFAULT_ARTIFACT_SIZE", "AZURE_DEVOPS_RESOURCE", "RESOURCE_AREAS",
           "ROUTES", "FAULT_DEFAULTS"]
