"""OpenID Connect discovery of the emulated Entra ID: ``/{tenant}/v2.0/.well-known/openid-configuration`` for
tenant ids, the tenants' domain names, ``organizations`` and ``common``; the signing keys; and the instance
discovery older MSAL asks the public cloud about the authority."""
from urllib.parse import urlsplit

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


# The public cloud's answer as MSAL ships it for offline use (microsoft-authentication-library-for-js,
# msal-common src/authority/AuthorityMetadata.ts, instanceDiscoveryMetadata): one group of aliases per cloud.
PUBLIC_CLOUD_ALIASES = (
    ("login.microsoftonline.com", "login.windows.net",
     ("login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net")),
    ("login.partner.microsoftonline.cn", "login.partner.microsoftonline.cn",
     ("login.partner.microsoftonline.cn", "login.chinacloudapi.cn")),
    ("login.microsoftonline.us", "login.microsoftonline.us", ("login.microsoftonline.us", "login.usgovcloudapi.net")),
)


def instance_discovery(entra, request):
    """``GET /common/discovery/instance?api-version=1.1&authorization_endpoint=https://HOST/TENANT/oauth2/…``.

    MSAL Python before 1.21 (az < 2.54) validates every authority outside its well-known hosts here, on
    login.microsoftonline.com (msal/authority.py ``_instance_discovery``; the port of the authority is dropped),
    then reads ``tenant_discovery_endpoint``; after a login it reads ``metadata`` for cache aliases
    (application.py ``_get_instance_metadata``). Entra answers for the clouds it knows - the emulated one is
    such a cloud, reached only through the emulator's proxy - and refuses any other host with ``invalid_instance``
    AADSTS50049 (Learn, MSAL.NET "Custom authority aliases", What is Instance Discovery)."""
    endpoint = urlsplit(request.arg("authorization_endpoint") or "")
    own_host = urlsplit(entra.emulator.login_url).hostname
    groups = PUBLIC_CLOUD_ALIASES + ((own_host, own_host, (own_host,)),)
    if endpoint.scheme != "https" or not any(endpoint.hostname in aliases for _, _, aliases in groups):
        raise EntraError(400, "invalid_instance", 50049, "Unknown or invalid instance.")
    tenant = endpoint.path.strip("/").split("/")[0] or "common"
    base = entra.emulator.login_url if endpoint.hostname == own_host else "https://" + endpoint.hostname
    return Response.json(200, {
        "tenant_discovery_endpoint": f"{base}/{tenant}/v2.0/.well-known/openid-configuration",
        "api-version": "1.1",
        "metadata": [{"preferred_network": network, "preferred_cache": cache, "aliases": list(aliases)}
                     for network, cache, aliases in groups],
    })
