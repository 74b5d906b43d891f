"""An Azure DevOps Server collection (``https://server/DefaultCollection``), played by the emulated Azure DevOps
with the rules that differ from Services:

- no Microsoft Entra tokens: Server authenticates Windows accounts and personal access tokens; a PAT is sent as
  Basic with an empty user name (azure-devops CLI extension ``services.py _get_credentials``:
  ``BasicAuthentication('', pat)``). A bearer token is refused with 401 and no tenant headers (the collection
  belongs to no Entra tenant);
- api-versions up to 7.0 (Azure DevOps Server 2022: "... out of range for this server. The latest REST API
  version this server supports is 7.0." — :mod:`emulator.devops.locations`);
- resource-area lookups answer ``{"count": 0, "value": null}`` (Node SDK ``WebApi.ts _getResourceAreaUrl``: "When
  we are on prem we get: {"count":0,"value":null}"); clients then use the collection URL itself;
- no Graph, audit or member entitlement routes (the specs have no ``azure-devops-server-*`` folders for them).
"""
import base64
import binascii

from emulator.constants import SERVER_COLLECTION
from emulator.devops import model
from emulator.devops.auth import AuthFailure
from emulator.devops.errors import json_error
from emulator.directory import Organization

_NOT_AUTHORIZED = "TF400813: The user '' is not authorized to access this resource."


def organization():
    """The collection, as an organization of no tenant."""
    return Organization(SERVER_COLLECTION, tenant="", member_oids=set())


def pat_of(request):
    """The password of a Basic Authorization header, or None."""
    scheme, _, value = (request.header("Authorization") or "").strip().partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        _, _, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return password or None


def authenticate(call):
    """The caller a registered PAT speaks for, or :class:`AuthFailure` (401: Server never redirects an API
    client to an Entra sign-in page)."""
    pat = pat_of(call.request)
    who = call.service.server_pats.get(pat) if pat else None
    if who is None:
        raise AuthFailure(_NOT_AUTHORIZED, "bearer" if _is_bearer(call.request) else "missing", anonymous=False)
    principal = call.emulator.directory.principal(who)
    caller = model.Caller(oid=principal.oid(principal.home_tenant), tenant="", kind=principal.kind,
                          name=principal.display_name, upn=principal.upn, app_id=principal.app_id)
    call.caller = caller
    return caller


def _is_bearer(request):
    return (request.header("Authorization") or "").strip().lower().startswith("bearer ")


def challenge(call, failure):
    host = call.service.host_url(call.request.listener) + "/"
    call.caller = None
    failure.headers = [("WWW-Authenticate", 'Basic realm="%s"' % host), ("WWW-Authenticate", "Negotiate"),
                       ("WWW-Authenticate", "NTLM"), ("X-Emulator-Auth-Failure", failure.reason)]
    return json_error(failure)
