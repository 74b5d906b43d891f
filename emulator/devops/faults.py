"""Faults a test injects into the emulated Azure DevOps: throttling (429 with Retry-After and the
X-RateLimit-* headers, JSON or HTML body), delay-mode throttling (the real 200 with Retry-After and
X-RateLimit-Delay), 5xx answers (503 with X-VSS-HostOfflineError, Azure Front Door's 502/504 pages), any other
error status, a proxy's HTML page, redirects, 403s, and alterations of the real answer (a connection reset
mid-body, a stall, rewritten tenant headers).

The rate-limit headers are those of Azure DevOps rate limits (Learn, "Rate and usage limits",
https://learn.microsoft.com/azure/devops/integrate/concepts/rate-limits): requests are first delayed — "The
response still returns HTTP 200" with ``Retry-After`` and ``X-RateLimit-Delay`` ("How long the request is delayed.
Units: seconds with up to three decimal places") — then blocked with 429 and TF400733. A 429 can come from a front
end as an HTML page (REFERENCE.md), hence ``throttle(html=True)``.

Tenant headers: the service may send ``X-VSS-ResourceTenant`` more than once (Git Credential Manager's
``AzureDevOpsApiTests.VssResourceTenantMultiple_ReturnsFirstAadAuthority``: ``aad1, 0000..., aad2``), and a
Bearer challenge without ``authorization_uri`` (``WwwAuthenticateMultiple_ReturnsBearerAuthority``).
"""
import re
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Optional

from emulator.devops.errors import ApiError, json_error
from emulator.server import Response

_THROTTLED = ("TF400733: The request has been canceled: Request was blocked due to exceeding usage of resource "
              "'Core' in namespace 'User'.")
FAULT_DEFAULTS = {
    "throttle": {"retry_after": 1, "delay": None, "limit": 200, "html": False},
    "delay": {"retry_after": 1, "delay": 0.5, "limit": 200},
    "error": {"status": 500},
    "proxy_page": {"status": 200},
    "tenant_headers": {"tenants": (), "bearer": None},
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
    query: Optional[str] = None   # a regex the raw (still encoded) query string must match

    def matches(self, request):
        return ((self.method is None or self.method.upper() == request.method)
                and (self.listener is None or self.listener == request.listener)
                and re.search(self.path, request.path) is not None
                and (self.query is None or re.search(self.query, request.raw_query) is not None))

    def to_json(self):
        return {"id": self.id, "kind": self.kind, "path": self.path, "method": self.method, "count": self.count,
                "listener": self.listener, "query": self.query, **self.params}

    @property
    def answers(self):
        """True for faults that replace the response; False for those that alter the real one."""
        return self.kind not in ("reset", "stall", "delay", "tenant_headers")


def make_fault(ident, kind, path=".*", method=None, count=1, listener=None, query=None, **params):
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
    re.compile(query or "")
    merged = dict(FAULT_DEFAULTS[kind], **params)
    return Fault(ident, kind, path, method, None if count is None else int(count), listener, merged, query)


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
    if fault.kind == "error":
        status = int(params["status"])
        return json_error(ApiError(status, "HttpException", "The server answered %d." % status))
    if fault.kind == "proxy_page":
        return Response.text(int(params["status"]), _PROXY_PAGE, content_type="text/html; charset=utf-8")
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


_PROXY_PAGE = ("<!DOCTYPE html><html><head><title>Web Filter</title></head><body><h1>Access to this site is "
               "being checked</h1><p>Your request is being inspected by the corporate proxy.</p></body></html>")
_HTML_429 = ("<!DOCTYPE html><html><head><title>Too Many Requests</title></head><body><h1>429 Too Many Requests</h1>"
             "<p>TF400733: Request was blocked due to exceeding usage of resource 'Core'.</p></body></html>")


def _rate_limit_headers(params, retry, delay):
    headers = [("X-RateLimit-Resource", "Core"), ("X-RateLimit-Delay", "%.3f" % float(delay)),
               ("X-RateLimit-Limit", str(params["limit"])), ("X-RateLimit-Remaining", "0"),
               ("X-RateLimit-Reset", str(int(time.time() + float(retry or delay or 0))))]
    if retry is not None:
        headers.insert(0, ("Retry-After", str(retry)))
    return headers


def _throttled(params):
    retry = params["retry_after"]
    delay = params["delay"] if params["delay"] is not None else (retry or 0)
    headers = _rate_limit_headers(params, retry, delay)
    if params["html"]:
        return Response.text(429, _HTML_429, content_type="text/html; charset=utf-8", headers=headers)
    return json_error(ApiError(429, "RequestBlockedException", _THROTTLED, headers=headers))


def alter_response(fault, response):
    if fault.kind == "reset":
        response.reset_after_bytes = int(fault.params["after_bytes"])
    elif fault.kind == "stall":
        response.stall_seconds += float(fault.params["seconds"])
    elif fault.kind == "delay":   # the real answer, delayed by the service: still 200
        params = fault.params
        response.stall_seconds += float(params["delay"])
        response.headers.extend(_rate_limit_headers(params, params["retry_after"], params["delay"]))
    elif fault.kind == "tenant_headers":
        _rewrite_tenant_headers(response, fault.params)


def _rewrite_tenant_headers(response, params):
    """One X-VSS-ResourceTenant line per value of ``tenants``; ``bearer`` (when not None) replaces the Bearer
    challenge ("" drops it)."""
    bearer = params["bearer"]
    kept = [(k, v) for k, v in response.headers if k.lower() != "x-vss-resourcetenant" and not (
        bearer is not None and k.lower() == "www-authenticate" and v.lower().startswith("bearer"))]
    kept += [("X-VSS-ResourceTenant", tenant) for tenant in params["tenants"]]
    if bearer:
        kept.append(("WWW-Authenticate", bearer))
    response.headers[:] = kept
