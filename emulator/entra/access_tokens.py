"""What goes into the tokens the emulated Entra ID issues: the one resource that the scopes name (refusing
unknown ones), the claims of user and app-only access tokens (v1, as Entra issues them for these resources),
ID tokens, and opaque refresh tokens."""
import hashlib
import json
import time

from emulator.entra.common import OIDC_SCOPES, EntraError, RefreshTokenRecord, b64url, random_id


def resource_scopes(scope_parameter):
    scopes = [s for s in scope_parameter.split() if s.lower() not in OIDC_SCOPES]
    if not scopes:
        raise EntraError(400, "invalid_scope", 900144,
                         "The request body must contain the following parameter: 'scope'.")
    return scopes


def scoped_resource(entra, scopes, tenant):
    """The one resource (= access token audience) that the scopes name, e.g. `X/.default` -> `X`."""
    resources = {scope_resource(scope) for scope in scopes}
    if len(resources) > 1:
        raise EntraError(400, "invalid_scope", 28000,
                         f"Provided value for the input parameter scope '{' '.join(scopes)}' is not valid "
                         "because it contains more than one resource. Scope "
                         f"{' '.join(scopes)} is not valid.")
    resource = resources.pop()
    if resource.rstrip("/").lower() not in {known.rstrip("/").lower() for known in entra.known_resources}:
        raise EntraError(400, "invalid_resource", 500011,
                         f"The resource principal named {resource} was not found in the tenant named "
                         f"{entra.tenant_label(tenant)}. This can happen if the application has not been "
                         "installed by the administrator of the tenant or consented to by any user in the "
                         "tenant. You might have sent your authentication request to the wrong tenant.")
    return resource


def user_claims(user, tenant, client_id):
    """Claims of a v1 user access token; guests carry `idp` and no `upn`, as real B2B tokens do."""
    given, _, family = user.display_name.partition(" ")
    oid = user.oid(tenant)
    claims = {
        "acr": "1", "aio": random_id(60), "amr": ["pwd", "mfa"], "appid": client_id, "appidacr": "0",
        "family_name": family, "given_name": given, "idtyp": "user", "ipaddr": "127.0.0.1",
        "name": user.display_name, "oid": oid, "puid": hashlib.sha256(oid.encode()).hexdigest()[:16].upper(),
        "scp": "user_impersonation", "sub": b64url(hashlib.sha256(f"{oid}:{client_id}".encode()).digest()),
        "unique_name": user.upn,
    }
    if tenant == user.home_tenant:
        claims["upn"] = user.upn
    else:
        claims["idp"] = f"https://sts.windows.net/{user.home_tenant}/"
    return claims


def app_claims(principal, tenant, appidacr):
    """Claims of a v1 app-only access token (service principal or managed identity)."""
    oid = principal.oid(tenant)
    return {"aio": random_id(60), "appid": principal.app_id, "appidacr": appidacr,
            "idp": f"https://sts.windows.net/{tenant}/", "idtyp": "app", "oid": oid, "sub": oid}


def capability_claims(form):
    """`xms_cc` when the client declared capabilities (az sends CP1: it can handle claims challenges)."""
    try:
        requested = json.loads(form.get("claims") or "{}").get("access_token", {}).get("xms_cc", {})
    except (ValueError, AttributeError):
        return {}
    values = requested.get("values") if isinstance(requested, dict) else None
    return {"xms_cc": list(values)} if values else {}


def id_token(entra, user, tenant, client_id):
    claims = {"iss": f"{entra.emulator.login_url}/{tenant}/v2.0", "name": user.display_name,
              "oid": user.oid(tenant), "preferred_username": user.upn,
              "sub": b64url(hashlib.sha256(f"{user.oid(tenant)}:{client_id}:id".encode()).digest())}
    return entra.emulator.tokens.issue(claims, client_id, tenant, entra.emulator.token_lifetime, version="2.0")


def issue_access_token(entra, claims, audience, tenant, lifetime=None):
    return entra.emulator.tokens.issue(claims, audience, tenant, lifetime or entra.emulator.token_lifetime)


def new_refresh_token(entra, user_key, client_id):
    token = "1.AQ" + random_id(300)  # opaque, as Entra's are; only this emulator can redeem it
    with entra.lock:
        entra.refresh_tokens[token] = RefreshTokenRecord(user_key, client_id, time.time())
    return token


def scope_resource(scope):
    """`https://management.core.windows.net//.default` -> `https://management.core.windows.net/`;
    `499b…/user_impersonation` -> `499b…`; a bare resource stays itself."""
    if scope.endswith("/.default"):
        return scope[:-len("/.default")]
    scheme, separator, rest = scope.partition("://")
    if not separator:
        return scope.split("/", 1)[0]
    host_and_path, _, _permission = rest.rpartition("/")
    return f"{scheme}://{host_and_path}" if host_and_path else scope
