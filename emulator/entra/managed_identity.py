"""Managed identity endpoints.

* ``GET /msi/token``: the App Service protocol (``IDENTITY_ENDPOINT`` + ``IDENTITY_HEADER``), which MSAL's
  ``ManagedIdentityClient`` (az from 2.73) uses whatever the URL scheme.
* ``POST /msi/oauth2/token``: the older VM managed identity extension protocol, which az up to 2.72 uses through
  msrestazure when ``MSI_ENDPOINT`` is set (``msrestazure/azure_active_directory.py`` ``get_msi_token``: form
  ``resource`` plus at most one of ``client_id``/``object_id``/``msi_res_id``, header ``Metadata: true``; its
  default is that extension's ``http://localhost:50342/oauth2/token``)."""
import secrets
import time

import jwt

from emulator.entra import access_tokens
from emulator.entra.common import GRANT_MANAGED_IDENTITY, EntraError
from emulator.server import Response


def managed_identity(entra, request):
    """App Service protocol: GET ?api-version=2019-08-01&resource=…, header X-IDENTITY-HEADER."""
    def refuse(status, message):
        with entra.lock:
            entra.refusals.append({"grant_type": GRANT_MANAGED_IDENTITY, "status": status, "message": message,
                                  "time": time.time()})
        return Response.json(status, {"statusCode": status, "message": message})
    header = request.header("X-IDENTITY-HEADER") or ""
    if not secrets.compare_digest(header.encode(), entra.directory.identity_header.encode()):
        return refuse(401, "Unauthorized: the X-IDENTITY-HEADER header is missing or wrong.")
    if request.method != "GET" or request.arg("api-version") != "2019-08-01":
        return refuse(400, "Only GET with api-version=2019-08-01 is supported.")
    resource = request.arg("resource")
    if not resource:
        return refuse(400, "Required query parameter 'resource' is missing.")
    principal = select_managed_identity(entra, request.arg)
    if principal is None:
        return refuse(400, "Unable to load the proper Managed Identity: no identity matches the request.")
    try:
        access_token, expires_on = _issue(entra, principal, resource)
    except EntraError as refusal:
        return refuse(400, f"AADSTS{refusal.code}: {refusal.message}")
    return Response.json(200, {"access_token": access_token, "expires_on": str(expires_on),
                               "resource": resource, "token_type": "Bearer", "client_id": principal.app_id})


def msi_extension_token(entra, request):
    """The VM MSI extension protocol of msrestazure ``get_msi_token`` (az <= 2.72 with ``MSI_ENDPOINT``): POST, form
    ``resource`` [+ one of client_id/object_id/msi_res_id], header ``Metadata: true``. Refusals in the words of the
    instance metadata service it preceded (Learn, "How to use managed identities for Azure resources on an Azure VM
    to acquire an access token", Error handling): 400 ``invalid_request`` "Required metadata header not
    specified" / "Identity not found"; 405 for another method."""
    def refuse(status, error, description):
        with entra.lock:
            entra.refusals.append({"grant_type": GRANT_MANAGED_IDENTITY, "status": status, "message": description,
                                   "time": time.time()})
        return Response.json(status, {"error": error, "error_description": description})
    if request.method != "POST":
        return refuse(405, "invalid_request", "Only POST is supported.")
    if (request.header("Metadata") or "").lower() != "true":
        return refuse(400, "invalid_request", "Required metadata header not specified")
    form = request.form()
    if not form.get("resource"):
        return refuse(400, "invalid_request", "Required audience parameter not specified")
    selectors = {name: value for name, value in form.items() if name in ("client_id", "object_id", "msi_res_id")}
    if len(selectors) > 1:
        return refuse(400, "invalid_request", "Only one of client_id, object_id and msi_res_id may be given")
    principal = select_managed_identity(entra, selectors.get)
    if principal is None:
        return refuse(400, "invalid_request", "Identity not found")
    try:
        access_token, expires_on = _issue(entra, principal, form["resource"])
    except EntraError as refusal:
        return refuse(400, "invalid_resource", f"AADSTS{refusal.code}: {refusal.message}")
    lifetime = max(0, expires_on - int(time.time()))
    return Response.json(200, {"access_token": access_token, "expires_in": str(lifetime),
                               "expires_on": str(expires_on), "not_before": str(expires_on - lifetime),
                               "resource": form["resource"], "token_type": "Bearer"})


def _issue(entra, principal, resource):
    """An access token of the identity for the resource as asked, and its expiry (epoch seconds)."""
    tenant = principal.home_tenant
    access_tokens.scoped_resource(entra, [resource + "/.default"], tenant)  # only to refuse an unknown resource
    claims = access_tokens.app_claims(principal, tenant, appidacr="2")
    claims["xms_mirid"] = principal.resource_id
    access_token = access_tokens.issue_access_token(entra, claims, resource, tenant)
    expires_on = int(jwt.decode(access_token, options={"verify_signature": False})["exp"])
    entra.record(GRANT_MANAGED_IDENTITY, principal.key, tenant, resource, principal.app_id)
    return access_token, expires_on


def select_managed_identity(entra, lookup):
    """The identity the selectors name (``lookup(name)`` -> value or None: ``request.arg``, ``form.get``); the
    system-assigned one when they name none."""
    selectors = {name: lookup(name) for name in ("client_id", "object_id", "principal_id", "mi_res_id",
                                                 "msi_res_id") if lookup(name)}
    if not selectors:
        return entra.directory.principals.get(entra.system_assigned_identity) if \
            entra.system_assigned_identity else None
    for key in entra.user_assigned_identities:
        candidate = entra.directory.principal(key)
        known = {"client_id": candidate.app_id, "object_id": candidate.oid(candidate.home_tenant),
                 "principal_id": candidate.oid(candidate.home_tenant), "mi_res_id": candidate.resource_id,
                 "msi_res_id": candidate.resource_id}
        if all((known[name] or "").lower() == value.lower() for name, value in selectors.items()):
            return candidate
    return None
