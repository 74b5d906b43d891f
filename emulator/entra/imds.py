"""Managed identity through the Azure Instance Metadata Service (VMs, scale sets, AKS, self-hosted agents):
``GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=…`` with ``Metadata: true``, served by the
login listener so that MSAL reaches it through ``AZURE_POD_IDENTITY_AUTHORITY_HOST`` (msal
``managed_identity.py`` ``_obtain_token_on_azure_vm``: the host from that variable, else http://169.254.169.254).

Shapes from MicrosoftDocs ``how-to-use-vm-token.md`` ("Get a token using HTTP", "Error handling"): every number in
the answer is a string; a missing or not lower-case ``Metadata: true`` is 400 ``bad_request_102``; an unknown
resource is 400 ``invalid_resource`` (AADSTS50001); user-assigned identities are chosen by ``client_id``,
``object_id`` or ``msi_res_id``. IMDS refuses requests that went through a proxy (``X-Forwarded-For``).
"""
import time

import jwt

from emulator.entra import access_tokens
from emulator.entra.common import GRANT_MANAGED_IDENTITY, EntraError
from emulator.entra.managed_identity import select_managed_identity
from emulator.server import Response

IMDS_TOKEN_PATH = "/metadata/identity/oauth2/token"
IMDS_API_VERSION = "2018-02-01"
IMDS_SELECTORS = ("client_id", "object_id", "msi_res_id")


def imds_token(entra, request):
    refusal = _refusal(request)
    if refusal:
        return _refuse(entra, *refusal)
    resource = request.arg("resource")
    principal = select_managed_identity(entra, request.arg)
    if principal is None:
        return _refuse(entra, 400, "invalid_request", "Identity not found")
    tenant = principal.home_tenant
    try:
        access_tokens.scoped_resource(entra, [resource + "/.default"], tenant)  # only to refuse an unknown resource
    except EntraError:
        return _refuse(entra, 400, "invalid_resource",
                       f"AADSTS50001: The application named {resource} was not found in the tenant named "
                       f"{tenant}.")
    claims = access_tokens.app_claims(principal, tenant, appidacr="2")
    claims["xms_mirid"] = principal.resource_id
    token = access_tokens.issue_access_token(entra, claims, resource, tenant,
                                             entra.access_token_lifetimes.get(principal.key))
    issued = jwt.decode(token, options={"verify_signature": False})
    entra.record(GRANT_MANAGED_IDENTITY, principal.key, tenant, resource, principal.app_id)
    return Response.json(200, {
        "access_token": token, "refresh_token": "", "expires_in": str(issued["exp"] - int(time.time())),
        "expires_on": str(issued["exp"]), "not_before": str(issued["nbf"]), "resource": resource,
        "token_type": "Bearer", "client_id": principal.app_id})


def _refusal(request):
    """(status, error, description) for a request IMDS does not answer with a token, else None."""
    if request.method != "GET":
        return 405, "invalid_request", "The HTTP method is not supported."
    if request.header("Metadata") != "true":
        return 400, "bad_request_102", "Required metadata header not specified"
    if request.header("X-Forwarded-For") is not None:
        return 400, "invalid_request", "Requests through a proxy are not supported."
    if request.arg("api-version") is None:
        return 400, "invalid_request", "Required query variable 'api-version' is missing"
    if request.arg("api-version") < IMDS_API_VERSION:
        return 400, "invalid_request", "Invalid version"
    if not request.arg("resource"):
        return 400, "invalid_request", "Required audience parameter not specified"
    if sum(1 for name in IMDS_SELECTORS if request.arg(name)) > 1:
        return 400, "invalid_request", "Only one of client_id, object_id and msi_res_id may be given"
    return None


def _refuse(entra, status, error, description):
    with entra.lock:
        entra.refusals.append({"grant_type": GRANT_MANAGED_IDENTITY, "status": status, "error": error,
                               "time": time.time()})
    return Response.json(status, {"error": error, "error_description": description})
