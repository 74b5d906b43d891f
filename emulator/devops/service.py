"""The emulated Azure DevOps Services: one :class:`DevOpsService` plays every host of
:data:`emulator.constants.DEVOPS_HOSTS` (the organization host, the identity host ``vssps`` with Graph, the
release host ``vsrm``).

Organization URL = ``emu.devops_url + "/" + org``, as an Azure DevOps Server collection URL would be.
What a request meets, in order:

1. test controls under ``/_emulator/`` (devops host only, no auth; :mod:`.controls`) and injected faults
   (:mod:`.faults`);
2. the organization (unknown: 404 without tenant headers);
3. Microsoft Entra bearer authentication (:mod:`.auth`);
4. the route table, ``api-version`` (query or Accept), preview-only resources, content types (:mod:`.routing`);
5. the handler of the resource (:mod:`.areas`), over the data of :mod:`.model`, :mod:`.work_items` and
   :mod:`.artifacts`; refusals are :mod:`.errors` bodies.
"""
import threading
import uuid

from emulator.constants import DEVOPS_HOSTS, SERVER_COLLECTION, SERVER_HOST
from emulator.devops import auth, collection, model, routing
from emulator.devops.artifacts import DEFAULT_ARTIFACT_SIZE
from emulator.devops.call import Call
from emulator.devops.controls import ControlApi
from emulator.devops.errors import ApiError, json_error
from emulator.devops.faults import FaultBook, alter_response, fault_response
from emulator.devops.work_items import AttachmentStore, WorkItemStore


class DevOpsService:
    """Serves the Azure DevOps listeners (which one: ``request.listener``)."""
    identity_endpoint = None

    def __init__(self, emulator):
        self.emulator = emulator
        self.work_items = WorkItemStore()
        self.attachments = AttachmentStore()
        self._faults = FaultBook()
        self._settings_lock = threading.Lock()
        self.latency_ms = 0
        self.artifact_size = DEFAULT_ARTIFACT_SIZE
        self.server_pats = {}         # personal access token -> principal key, for the Server collection
        self._server_collection = collection.organization()
        self._control = ControlApi(self)

    # -- Python control API (tests) --------------------------------------------------------------
    def add_fault(self, kind, path=".*", method=None, count=1, listener=None, query=None, **params):
        """Inject ``kind`` into the next ``count`` requests whose decoded path matches the regex ``path``
        (``re.search``), optionally only for ``method`` / ``listener`` / a raw query string matching the regex
        ``query`` (one page of a list). ``count=None``: until cleared. Kinds and their parameters: see
        ``emulator.devops.faults.FAULT_DEFAULTS``. Returns the fault as JSON."""
        return self._faults.add(kind, path=path, method=method, count=count, listener=listener, query=query,
                                **params).to_json()

    def clear_faults(self):
        return self._faults.clear()

    def list_faults(self):
        return self._faults.list()

    def set_latency(self, ms):
        """Delay every answer of the Azure DevOps hosts by ``ms`` milliseconds (0 = none)."""
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

    def add_server_pat(self, pat, who="alice"):
        """Make ``pat`` a personal access token of ``who`` on the Azure DevOps Server collection."""
        self.emulator.directory.principal(who)
        with self._settings_lock:
            self.server_pats[pat] = who

    def remove_member(self, org, oid):
        self._organization_named(org).member_oids.discard(oid)

    def reset_controls(self):
        """No faults, no latency, the default artifact size (stored work items stay)."""
        self.clear_faults()
        self.set_latency(0)
        self.set_artifact_size(DEFAULT_ARTIFACT_SIZE)
        with self._settings_lock:
            self.server_pats.clear()

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
        call = Call(request, self)
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
        except auth.AuthFailure as failure:
            if call.request.listener == SERVER_HOST:
                return collection.challenge(call, failure)
            return auth.challenge(call, failure)
        except ApiError as error:
            return json_error(error)

    def _dispatch(self, call):
        request = call.request
        org_name, _, rest = request.path.lstrip("/").partition("/")
        call.org = self._organization_on(request.listener, org_name)
        if call.org is None:
            raise ApiError(404, "HostDoesNotExistException",
                           "The organization '%s' could not be found." % org_name if org_name else "Not found.")
        sub_path = "/" + rest if rest else ""
        route, match = routing.find_route(request.listener, request.method, sub_path)
        if route is None or not route.anonymous:
            call.caller = (collection.authenticate if request.listener == SERVER_HOST else auth.authenticate)(call)
        if match is None:
            raise self._no_route(request, route)
        call.groups = match.groupdict()
        if route.versioned:
            call.version = routing.checked_version(route, request)
        if route.patch_body:
            routing.require_patch_content_type(request)
        return route.handler(call)

    @staticmethod
    def _no_route(request, route):
        if route is not None:
            return ApiError(405, "HttpException",
                            "The requested resource does not support http method '%s'." % request.method)
        return ApiError(404, "HttpException", "The controller for path '%s' was not found or does not implement "
                        "IController." % request.path, event_id=0)

    def _organization_on(self, listener, name):
        if listener == SERVER_HOST:
            return self._server_collection if name.lower() == SERVER_COLLECTION.lower() else None
        return self._organizations().get(name.lower())

    def _organizations(self):
        return {name.lower(): org for name, org in self.emulator.directory.organizations.items()}

    @staticmethod
    def _decorate(call, response):
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
