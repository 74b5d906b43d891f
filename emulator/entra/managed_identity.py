"""The App Service managed identity protocol (``IDENTITY_ENDPOINT`` + ``IDENTITY_HEADER``), which MSAL's
``ManagedIdentityClient`` uses whatever the URL scheme: ``GET /msi/token``."""
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
    principal = select_managed_identity(entra, request)
    if principal is None:
        return refuse(400, "Unable to load the proper Managed Identity: no identity matches the request.")
    tenant = principal.home_tenant
    try:
        access_tokens.scoped_resource(entra, [resource + "/.default"], tenant)  # only to refuse an unknown resource
    except EntraError as refusal:
        return refuse(400, f"AADSTS{refusal.code}: {refusal.message}")
    claims = access_tokens.app_claims(principal, tenant, appidacr="2")
    claims["xms_mirid"] = principal.resource_id
    # the audience is the resource as asked
    access_token = access_tokens.issue_access_token(entra, claims, resource, tenant)
    expires_on = int(jwt.decode(access_token, options={"verify_signature": False})["exp"])
    entra.record(GRANT_MANAGED_IDENTITY, principal.key, tenant, resource, principal.app_id)
    return Response.json(200, {"access_token": access_token, "expires_on": str(expires_on),
                               "resource": resource, "token_type": "Bearer", "client_id": principal.app_id})


def select_managed_identity(entra, request):
    selectors = {name: request.arg(name) for name in ("client_id", "object_id", "principal_id", "mi_res_id",
                                                      "msi_res_id") if request.arg(name)}
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
