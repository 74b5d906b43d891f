"""OpenID Connect discovery of the emulated Entra ID: ``/{tenant}/v2.0/.well-known/openid-configuration`` for
tenant ids, the tenants' domain names, ``organizations`` and ``common``; and the signing keys."""
from emulator.entra.common import EntraError
from emulator.server import Response


def openid_configuration(entra, request, segment):
    try:
        tenant = entra.resolve_tenant(segment)
    except EntraError as refusal:
        refusal.error = "invalid_tenant"  # discovery names the error so; the token endpoint says invalid_request
        raise
    base = entra.emulator.login_url
    path_tenant = tenant or segment.lower()  # domain names are answered with the tenant id, as Entra does
    issuer = f"{base}/{tenant or '{tenantid}'}/v2.0"
    return Response.json(200, {
        "token_endpoint": f"{base}/{path_tenant}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": f"{base}/{path_tenant}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": issuer,
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": f"{base}/oidc/userinfo",
        "authorization_endpoint": f"{base}/{path_tenant}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{base}/{path_tenant}/oauth2/v2.0/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{base}/{path_tenant}/oauth2/v2.0/logout",
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
                             "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr",
                             "nonce",
                             "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "kerberos_endpoint": f"{base}/{path_tenant}/kerberos",
        "tenant_region_scope": "NA" if tenant else None,
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    })


def keys(entra, request, segment):
    entra.resolve_tenant(segment)
    return Response.json(200, entra.emulator.tokens.jwks())
