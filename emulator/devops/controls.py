"""The test controls of the emulated Azure DevOps over HTTP (``/_emulator/...`` on the devops host, no
auth), for an owner in another process: faults, latency, the artifact size, organization members."""
import json
import re

from emulator.server import Response


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
            ("POST", "/_emulator/server-pats"): lambda body: service.add_server_pat(body["pat"],
                                                                                    body.get("who", "alice")) or {},
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
