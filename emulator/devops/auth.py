"""Microsoft Entra authentication of the emulated Azure DevOps: the bearer token (or a JWT as the Basic
password), who it speaks for, organization membership, and the answers to a failure — the 203 sign-in page,
or a 401 with the tenant-discovery headers (``X-TFS-FedAuthRedirect: Suppress``, HEAD/OPTIONS/PATCH, git
clients), TF400813 / TF401444.
"""
import base64
import html
from urllib.parse import quote

from emulator.constants import AZURE_DEVOPS_RESOURCE, MSA_TENANT
from emulator.devops import model
from emulator.devops.errors import ApiError, json_error
from emulator.server import Response
from emulator.tokens import InvalidToken

SUPPRESS_METHODS = ("HEAD", "OPTIONS", "PATCH")   # never redirected to sign-in: always 401
_NOT_AUTHORIZED = "TF400813: The user '%s' is not authorized to access this resource."
_SIGN_IN_ONCE = ("TF401444: Please sign-in at least once as %s\\%s in a web browser to enable access to the "
                 "service.")


class AuthFailure(ApiError):
    """401 (or the 203 sign-in page, for ``anonymous`` failures of redirectable requests)."""

    def __init__(self, message, reason, anonymous):
        super().__init__(401, "UnauthorizedRequestException", message)
        self.reason = reason
        self.anonymous = anonymous


def bearer(request):
    """The access token of a request: ``Bearer <jwt>``, or ``Basic`` with the JWT as password (as git and other
    Basic-only clients send it; Azure DevOps accepts Entra tokens there too)."""
    scheme, _, token = (request.header("Authorization") or "").strip().partition(" ")
    if scheme.lower() == "basic" and token.strip():
        try:
            _, _, password = base64.b64decode(token.strip()).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return password if password.count(".") == 2 else None
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def caller_from_claims(claims, directory):
    oid = claims.get("oid") or claims.get("sub") or ""
    principal = directory.by_oid(oid)
    upn = claims.get("upn") or claims.get("unique_name") or claims.get("preferred_username")
    if principal is not None:
        kind, upn = principal.kind, principal.upn or upn
        name = claims.get("name") or principal.display_name
        app_id = principal.app_id or claims.get("appid") or claims.get("azp")
    else:
        kind = "user" if upn and claims.get("idtyp") != "app" else "servicePrincipal"
        name, app_id = claims.get("name") or upn or oid, claims.get("appid") or claims.get("azp")
    return model.Caller(oid=oid, tenant=claims.get("tid", ""), kind=kind, name=name,
                        upn=upn if kind == "user" else None, app_id=app_id)


def authenticate(call):
    """The :class:`~emulator.devops.model.Caller` of an accepted token (also set on ``call``), or
    :class:`AuthFailure`."""
    token = bearer(call.request)
    if token is None:
        raise AuthFailure(_NOT_AUTHORIZED % "", "missing", anonymous=True)
    try:
        claims = call.emulator.tokens.verify(token, AZURE_DEVOPS_RESOURCE)
    except InvalidToken as ex:
        raise AuthFailure(_NOT_AUTHORIZED % "", ex.reason, anonymous=True) from ex
    caller = caller_from_claims(claims, call.emulator.directory)
    call.caller = caller
    if caller.tenant != call.org.tenant:
        raise AuthFailure(_NOT_AUTHORIZED % (caller.upn or caller.oid), "tenant", anonymous=False)
    if caller.oid not in call.org.member_oids:
        if caller.is_user and caller.upn:
            raise AuthFailure(_SIGN_IN_ONCE % (caller.tenant, caller.upn), "not-member", anonymous=False)
        raise AuthFailure(_NOT_AUTHORIZED % caller.oid, "not-member", anonymous=False)
    return caller


def challenge(call, failure):
    """The answer to a failed authentication: 203 sign-in page or 401, with tenant discovery headers."""
    request, org, service = call.request, call.org, call.service
    tenant = org.tenant
    host = service.host_url(request.listener) + "/"
    bearer_header = "Bearer" if tenant == MSA_TENANT else \
        "Bearer authorization_uri=https://login.microsoftonline.com/%s" % tenant
    discovery = [("WWW-Authenticate", bearer_header), ("X-VSS-ResourceTenant", tenant)]
    sign_in = "%s/_signin?realm=%s&reply_to=%s&redirect=1&hid=%s" % (
        service.host_url("vssps"), quote(request.host), quote(host.rstrip("/") + request.raw_path, safe=""),
        model.stable_id(org.name, "collection"))
    call.caller = None
    redirectable = (request.header("X-TFS-FedAuthRedirect") or "").lower() != "suppress" \
        and request.method not in SUPPRESS_METHODS and "/_git/" not in request.path  # git clients get 401
    if failure.anonymous and redirectable:
        page = _sign_in_page(org.name, sign_in)
        return Response.text(203, page, content_type="text/html; charset=utf-8", headers=discovery + [
            ("X-Emulator-Auth-Failure", failure.reason)])
    failure.headers = discovery + [
        ("WWW-Authenticate", 'Basic realm="%s"' % host), ("WWW-Authenticate", "TFS-Federated"),
        ("X-TFS-FedAuthRealm", host), ("X-TFS-FedAuthIssuer", call.org_url() + "/"),
        ("X-VSS-AuthorizationEndpoint", call.org_url("vssps") + "/"),
        ("X-TFS-FedAuthRedirect", sign_in), ("X-Emulator-Auth-Failure", failure.reason)]
    return json_error(failure)


def _sign_in_page(org_name, sign_in_url):
    link = html.escape(sign_in_url, quote=True)
    return """<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="utf-8">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Azure DevOps Services | Sign In</title>
<link rel="shortcut icon" href="https://cdn.vsassets.io/content/icons/favicon.ico">
</head>
<body class="signin-page">
<div class="signin-container" role="main">
<h1>Azure DevOps</h1>
<p>Sign in to continue to <strong>%s</strong>.</p>
<form id="signInForm" method="get" action="%s" autocomplete="off">
<a id="signInLink" href="%s">Sign in</a>
</form>
<noscript>JavaScript is required to sign in.</noscript>
</div>
<script type="text/javascript">window.location.replace(document.getElementById("signInLink").href);</script>
</body>
</html>
""" % (html.escape(org_name), link, link)
