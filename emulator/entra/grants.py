"""The token endpoint, ``POST /{tenant}/oauth2/v2.0/token``, and its grants: ``client_credentials`` (client
secret or certificate-signed client assertion), ``refresh_token`` and the device code grant."""
import json
import time

from emulator.entra import access_tokens, client_auth
from emulator.entra.common import (FIRST_PARTY_CLIENTS, GRANT_CLIENT_CREDENTIALS, GRANT_DEVICE_CODE,
                                   GRANT_REFRESH_TOKEN, EntraError, b64url, trace_headers)
from emulator.server import Response


def token(entra, request, segment):
    tenant = entra.resolve_tenant(segment)
    form = request.form()
    grant_type = form.get("grant_type", "")
    handlers = {
        GRANT_CLIENT_CREDENTIALS: client_credentials_grant,
        GRANT_REFRESH_TOKEN: refresh_token_grant,
        GRANT_DEVICE_CODE: device_code_grant,
    }
    if grant_type not in handlers:
        raise EntraError(400, "unsupported_grant_type", 70003,
                         f"The app requested an unsupported grant type '{grant_type}'.")
    return Response.json(200, handlers[grant_type](entra, request, form, tenant), headers=trace_headers(request))


def client_credentials_grant(entra, request, form, tenant):
    principal, credential_kind = client_auth.authenticate_client(entra, request, form, tenant)
    tenant = tenant or principal.home_tenant  # /organizations for app-only tokens: be lenient, use home
    if tenant not in principal.oids:
        raise EntraError(400, "unauthorized_client", 700016,
                         f"Application with identifier '{principal.app_id}' was not found in the directory "
                         f"'{entra.tenant_label(tenant)}'. This can happen if the application has not been "
                         "installed by the administrator of the tenant or consented to by any user in the "
                         "tenant. You may have sent your authentication request to the wrong tenant.")
    scopes = access_tokens.resource_scopes(form.get("scope", ""))
    if any(not scope.endswith("/.default") for scope in scopes):
        raise EntraError(400, "invalid_scope", 1002012,
                         f"The provided value for scope {' '.join(scopes)} is not valid. Client credential "
                         "flows must have a scope value with /.default suffixed to the resource identifier "
                         "(application ID URI).")
    resource = access_tokens.scoped_resource(entra, scopes, tenant)
    # appidacr 2: the client proved itself with an assertion (certificate or federated), 1: with a secret
    claims = access_tokens.app_claims(principal, tenant, appidacr="1" if credential_kind == "secret" else "2")
    claims.update(access_tokens.capability_claims(form))
    lifetime = int(entra.access_token_lifetimes.get(principal.key, entra.emulator.token_lifetime))
    access_token = access_tokens.issue_access_token(entra, claims, resource, tenant, lifetime)
    entra.record(GRANT_CLIENT_CREDENTIALS, principal.key, tenant, resource, principal.app_id)
    return {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime,
            "access_token": access_token}


def refresh_token_grant(entra, request, form, tenant):
    with entra.lock:
        record = entra.refresh_tokens.get(form.get("refresh_token", ""))
    if record is None:
        raise EntraError(400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
    if record.revoked:
        raise EntraError(400, "invalid_grant", 50173,
                         "The provided grant has expired due to it being revoked, a fresh auth token is needed. "
                         "The user might have changed or reset their password.")
    if record.client_id != form.get("client_id"):
        raise EntraError(400, "invalid_grant", 70000,
                         "Provided grant is invalid or malformed: it was issued to another client.")
    user = entra.directory.principal(record.principal)
    return user_tokens(entra, user, tenant or user.home_tenant, record.client_id, form, GRANT_REFRESH_TOKEN)


def device_code_grant(entra, request, form, tenant):  # tenant: the one fixed when the code was requested
    with entra.lock:
        record = entra.device_codes.get(form.get("device_code", ""))
        if record is None or record.client_id != form.get("client_id"):
            raise EntraError(400, "invalid_grant", 70000,
                             "The provided value for the input parameter 'device_code' is not valid.")
        if record.expires_at < time.time():
            raise EntraError(400, "expired_token", 70019, "Verification code expired.")
        if record.state == "pending":
            raise EntraError(400, "authorization_pending", 70016,
                             "OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
        if record.state == "declined":
            raise EntraError(400, "authorization_declined", 70000,
                             "The user declined to authorize the device code request.")
        if record.state == "redeemed":
            raise EntraError(400, "invalid_grant", 70000, "The provided device code was already redeemed.")
        record.state = "redeemed"
    user = entra.directory.principal(record.user)
    scoped_form = dict(form, scope=record.scope)
    return user_tokens(entra, user, record.tenant or user.home_tenant, record.client_id, scoped_form,
                       GRANT_DEVICE_CODE)


def user_tokens(entra, user, tenant, client_id, form, grant_type):  # pylint: disable=too-many-arguments
    """Access, refresh and ID token of a user for one tenant, as the v2.0 endpoint returns them."""
    if tenant not in user.oids:
        app = FIRST_PARTY_CLIENTS.get(client_id, client_id)
        raise EntraError(400, "invalid_grant", 50020,
                         f"User account '{user.upn}' from identity provider "
                         f"'https://sts.windows.net/{user.home_tenant}/' does not exist in tenant "
                         f"'{entra.tenant_label(tenant)}' and cannot access the application '{client_id}'({app}) "
                         "in that tenant. The account needs to be added as an external user in the tenant first. "
                         "Sign out and sign in again with a different Azure Active Directory user account.")
    scopes = access_tokens.resource_scopes(form.get("scope", ""))
    resource = access_tokens.scoped_resource(entra, scopes, tenant)
    claims = access_tokens.user_claims(user, tenant, client_id)
    claims.update(access_tokens.capability_claims(form))
    id_token = access_tokens.id_token(entra, user, tenant, client_id)
    access_token = access_tokens.issue_access_token(entra, claims, resource, tenant)  # last issued: tokens.issued[-1]
    refresh_token = access_tokens.new_refresh_token(entra, user.key, client_id)
    granted = [f"{resource}/user_impersonation" if s.endswith("/.default") else s for s in scopes]
    entra.record(grant_type, user.key, tenant, resource, client_id)
    lifetime = int(entra.emulator.token_lifetime)
    response = {
        "token_type": "Bearer", "scope": " ".join(granted + [s for s in scopes if s.endswith("/.default")]),
        "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": access_token,
        "refresh_token": refresh_token, "id_token": id_token,
        "client_info": b64url(json.dumps({"uid": user.oid(user.home_tenant),
                                          "utid": user.home_tenant}).encode("utf-8")),
    }
    if client_id in FIRST_PARTY_CLIENTS:
        response["foci"] = "1"  # Microsoft's first-party apps share refresh tokens (family of client ids)
    return response
