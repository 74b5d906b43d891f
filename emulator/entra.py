"""The emulated Microsoft Entra ID, as the real ``az`` (MSAL 1.39) talks to it.

Served on the ``login`` listener, which is the authority host of the emulated cloud:

* ``GET /{tenant}/v2.0/.well-known/openid-configuration`` for tenant ids, the tenants' domain names,
  ``organizations`` and ``common``; ``GET /{tenant}/discovery/v2.0/keys``.
* ``POST /{tenant}/oauth2/v2.0/token`` with the grants ``client_credentials`` (client secret or a
  certificate-signed client assertion), ``refresh_token`` and the device code grant.
* ``POST /{tenant}/oauth2/v2.0/devicecode``. Device codes are approved at once by ``device_code_user``
  (``alice`` unless changed), or by the user queued with :meth:`EntraService.sign_in_next_device_code`
  (also reachable over HTTPS, for a harness in another process), or later by
  :meth:`EntraService.approve_device_code` when ``device_code_user`` is None.
* ``GET /msi/token``: the App Service managed identity protocol (``IDENTITY_ENDPOINT`` +
  ``IDENTITY_HEADER``), which MSAL's ``ManagedIdentityClient`` uses whatever the URL scheme.

Refusals carry the AADSTS codes and JSON shape of the real service, since ``az`` prints their
``error_description``. Every grant is recorded in :attr:`EntraService.grants` and every secret handed
out is kept (:meth:`EntraService.secrets`) so tests can prove none of them leaks into output.
"""
import base64
import collections
import datetime
import hashlib
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Optional

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from emulator.constants import ARM_RESOURCE, AZ_CLI_CLIENT_ID, AZURE_DEVOPS_RESOURCE
from emulator.server import Response

GRANT_CLIENT_CREDENTIALS = "client_credentials"
GRANT_REFRESH_TOKEN = "refresh_token"
GRANT_DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"
GRANT_MANAGED_IDENTITY = "managed_identity"  # not an OAuth grant: how MI endpoint tokens are counted
CLIENT_ASSERTION_TYPE_JWT = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

MANAGED_IDENTITY_PATH = "/msi/token"
DEVICE_LOGIN_PATH = "/devicelogin"
NEXT_DEVICE_CODE_USER_PATH = "/_emulator/device-code/next-user"
MULTI_TENANT_ALIASES = ("organizations", "common")
OIDC_SCOPES = frozenset(["openid", "profile", "offline_access", "email"])
FIRST_PARTY_CLIENTS = {AZ_CLI_CLIENT_ID: "Microsoft Azure CLI"}
DEVICE_CODE_LIFETIME = 900
# Resources that have a service principal in every emulated tenant; others get AADSTS500011.
KNOWN_RESOURCES = (ARM_RESOURCE, "https://management.azure.com/", AZURE_DEVOPS_RESOURCE,
                   "https://graph.microsoft.com/", "https://graph.windows.net/", "https://vault.azure.net")


class EntraError(Exception):
    """A refusal in Entra's words: HTTP status, OAuth error, AADSTS number and message."""

    def __init__(self, status, error, code, message):
        super().__init__(f"AADSTS{code}: {message}")
        self.status = status
        self.error = error
        self.code = code
        self.message = message


@dataclass
class RefreshTokenRecord:
    """What the emulator remembers about a refresh token it issued (the token itself is opaque)."""
    principal: str
    client_id: str
    issued_at: float
    revoked: bool = False


@dataclass
class DeviceCodeRecord:
    """One device authorization request and how far it got."""
    device_code: str
    user_code: str
    client_id: str
    scope: str
    tenant: Optional[str]          # None: requested through organizations/common
    expires_at: float
    state: str = "pending"         # pending | approved | declined | redeemed
    user: Optional[str] = None     # principal key once approved


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _random_id(length=22):
    return _b64url(secrets.token_bytes(length))[:length]


class EntraService:  # pylint: disable=too-many-instance-attributes
    """The ``login`` listener's service. Public attributes are meant for tests to read and set."""

    def __init__(self, emulator):
        self.emulator = emulator
        self.directory = emulator.directory
        self.device_code_user = "alice"     # auto-approves new device codes; None: wait for approval
        self.system_assigned_identity = "mi-system"   # what IDENTITY_ENDPOINT yields without a selector
        self.user_assigned_identities = ["mi-user"]   # selectable by client_id/object_id/principal_id/mi_res_id
        self.known_resources = list(KNOWN_RESOURCES)
        self.grants = []                    # one dict per token handed out
        self.grant_counts = collections.Counter()  # (grant_type, principal key) -> tokens handed out
        self.refusals = []                  # one dict per AADSTS refusal (authorization_pending included)
        self.refresh_tokens = {}            # refresh token -> RefreshTokenRecord
        self.device_codes = {}              # device code -> DeviceCodeRecord
        self._next_device_code_users = collections.deque()
        self._lock = threading.Lock()

    @property
    def identity_endpoint(self):
        """The IDENTITY_ENDPOINT value for the App Service managed identity protocol."""
        return self.emulator.login_url + MANAGED_IDENTITY_PATH

    # -- what tests read -----------------------------------------------------------------------
    def grant_count(self, grant_type=None, principal=None, tenant=None):
        """Tokens handed out, optionally only of one grant type / principal key / tenant."""
        with self._lock:
            return sum(1 for g in self.grants if (grant_type is None or g["grant_type"] == grant_type)
                       and (principal is None or g["principal"] == principal)
                       and (tenant is None or g["tenant"] == tenant))

    def secrets(self):
        """Every secret this emulated Entra knows or handed out: tokens, codes, client secrets, header."""
        with self._lock:
            found = list(self.refresh_tokens) + list(self.device_codes)
        found += list(self.emulator.tokens.issued)
        found += [p.secret for p in self.directory.principals.values() if p.secret]
        found.append(self.directory.identity_header)
        return found

    # -- what tests do -------------------------------------------------------------------------
    def sign_in_next_device_code(self, user_key):
        """The next device code requested is approved by this user (as if already signed in in a browser)."""
        self.directory.principal(user_key)  # KeyError for an unknown user, now rather than at login
        with self._lock:
            self._next_device_code_users.append(user_key)

    def approve_device_code(self, user_code, user_key, approve=True):
        """Approve (or decline) a pending device code, as the user at the verification page would."""
        with self._lock:
            for record in self.device_codes.values():
                if record.user_code == user_code and record.state == "pending":
                    record.state, record.user = ("approved", user_key) if approve else ("declined", None)
                    return record
        raise KeyError(f"no pending device code {user_code!r}")

    def revoke_refresh_tokens(self, user_key):
        """Revoke every refresh token of a user, as `Revoke-MgUserSignInSession` does."""
        with self._lock:
            for record in self.refresh_tokens.values():
                if record.principal == user_key:
                    record.revoked = True

    # -- dispatch ------------------------------------------------------------------------------
    def handle(self, request):
        """Route one request of the login listener."""
        path = "/" + "/".join(part for part in request.path.split("/") if part)
        try:
            if path == MANAGED_IDENTITY_PATH:
                return self._managed_identity(request)
            if path == NEXT_DEVICE_CODE_USER_PATH and request.method == "POST":
                return self._queue_device_code_user(request)
            if path == DEVICE_LOGIN_PATH:
                return Response.text(200, "<html><body>Emulated device login: codes are approved by the "
                                          "emulator, nothing to do here.</body></html>", "text/html; charset=utf-8")
            segment, _, rest = path[1:].partition("/")
            route = {
                ("GET", "v2.0/.well-known/openid-configuration"): self._openid_configuration,
                ("GET", "discovery/v2.0/keys"): self._keys,
                ("GET", "discovery/keys"): self._keys,
                ("POST", "oauth2/v2.0/token"): self._token,
                ("POST", "oauth2/v2.0/devicecode"): self._device_authorization,
            }.get((request.method, rest))
            if route is None:
                return Response.text(404, f"not emulated: {request.method} {request.path}")
            return route(request, segment)
        except EntraError as refusal:
            return self._refuse(request, refusal)

    # -- discovery -----------------------------------------------------------------------------
    def _resolve_tenant(self, segment):
        """Tenant id for a path segment (id or domain); None for organizations/common."""
        lowered = segment.lower()
        if lowered in MULTI_TENANT_ALIASES:
            return None
        for tenant_id, domain in self.directory.tenants.items():
            if lowered in (tenant_id, domain.lower()):
                return tenant_id
        raise EntraError(400, "invalid_request", 90002,
                         f"Tenant '{segment}' not found. Check to make sure you have the correct tenant ID and are "
                         "signing into the correct cloud. Check with your subscription administrator, this may "
                         "happen if there are no active subscriptions for the tenant.")

    def _openid_configuration(self, request, segment):
        try:
            tenant = self._resolve_tenant(segment)
        except EntraError as refusal:
            refusal.error = "invalid_tenant"  # discovery names the error so; the token endpoint says invalid_request
            raise
        base = self.emulator.login_url
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

    def _keys(self, request, segment):
        self._resolve_tenant(segment)
        return Response.json(200, self.emulator.tokens.jwks())

    # -- token endpoint ------------------------------------------------------------------------
    def _token(self, request, segment):
        tenant = self._resolve_tenant(segment)
        form = request.form()
        grant_type = form.get("grant_type", "")
        handlers = {
            GRANT_CLIENT_CREDENTIALS: self._client_credentials_grant,
            GRANT_REFRESH_TOKEN: self._refresh_token_grant,
            GRANT_DEVICE_CODE: self._device_code_grant,
        }
        if grant_type not in handlers:
            raise EntraError(400, "unsupported_grant_type", 70003,
                             f"The app requested an unsupported grant type '{grant_type}'.")
        return Response.json(200, handlers[grant_type](request, form, tenant), headers=self._trace_headers(request))

    def _client_credentials_grant(self, request, form, tenant):
        principal, credential_kind = self._authenticate_client(request, form, tenant)
        tenant = tenant or principal.home_tenant  # /organizations for app-only tokens: be lenient, use home
        if tenant not in principal.oids:
            raise EntraError(400, "unauthorized_client", 700016,
                             f"Application with identifier '{principal.app_id}' was not found in the directory "
                             f"'{self._tenant_label(tenant)}'. This can happen if the application has not been "
                             "installed by the administrator of the tenant or consented to by any user in the "
                             "tenant. You may have sent your authentication request to the wrong tenant.")
        scopes = self._resource_scopes(form.get("scope", ""))
        if any(not scope.endswith("/.default") for scope in scopes):
            raise EntraError(400, "invalid_scope", 1002012,
                             f"The provided value for scope {' '.join(scopes)} is not valid. Client credential "
                             "flows must have a scope value with /.default suffixed to the resource identifier "
                             "(application ID URI).")
        resource = self._resource(scopes, tenant)
        claims = self._app_claims(principal, tenant, appidacr="2" if credential_kind == "certificate" else "1")
        claims.update(self._capability_claims(form))
        access_token = self._issue_access_token(claims, resource, tenant)
        self._record(GRANT_CLIENT_CREDENTIALS, principal.key, tenant, resource, principal.app_id)
        lifetime = int(self.emulator.token_lifetime)
        return {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime,
                "access_token": access_token}

    def _refresh_token_grant(self, request, form, tenant):
        with self._lock:
            record = self.refresh_tokens.get(form.get("refresh_token", ""))
        if record is None:
            raise EntraError(400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
        if record.revoked:
            raise EntraError(400, "invalid_grant", 50173,
                             "The provided grant has expired due to it being revoked, a fresh auth token is needed. "
                             "The user might have changed or reset their password.")
        if record.client_id != form.get("client_id"):
            raise EntraError(400, "invalid_grant", 70000,
                             "Provided grant is invalid or malformed: it was issued to another client.")
        user = self.directory.principal(record.principal)
        return self._user_tokens(user, tenant or user.home_tenant, record.client_id, form, GRANT_REFRESH_TOKEN)

    def _device_code_grant(self, request, form, tenant):  # tenant: the one fixed when the code was requested
        with self._lock:
            record = self.device_codes.get(form.get("device_code", ""))
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
        user = self.directory.principal(record.user)
        scoped_form = dict(form, scope=record.scope)
        return self._user_tokens(user, record.tenant or user.home_tenant, record.client_id, scoped_form,
                                 GRANT_DEVICE_CODE)

    def _user_tokens(self, user, tenant, client_id, form, grant_type):  # pylint: disable=too-many-arguments
        """Access, refresh and ID token of a user for one tenant, as the v2.0 endpoint returns them."""
        if tenant not in user.oids:
            app = FIRST_PARTY_CLIENTS.get(client_id, client_id)
            raise EntraError(400, "invalid_grant", 50020,
                             f"User account '{user.upn}' from identity provider "
                             f"'https://sts.windows.net/{user.home_tenant}/' does not exist in tenant "
                             f"'{self._tenant_label(tenant)}' and cannot access the application '{client_id}'({app}) "
                             "in that tenant. The account needs to be added as an external user in the tenant first. "
                             "Sign out and sign in again with a different Azure Active Directory user account.")
        scopes = self._resource_scopes(form.get("scope", ""))
        resource = self._resource(scopes, tenant)
        claims = self._user_claims(user, tenant, client_id)
        claims.update(self._capability_claims(form))
        id_token = self._id_token(user, tenant, client_id)
        access_token = self._issue_access_token(claims, resource, tenant)  # last issued: tokens.issued[-1]
        refresh_token = self._new_refresh_token(user.key, client_id)
        granted = [f"{resource}/user_impersonation" if s.endswith("/.default") else s for s in scopes]
        self._record(grant_type, user.key, tenant, resource, client_id)
        lifetime = int(self.emulator.token_lifetime)
        response = {
            "token_type": "Bearer", "scope": " ".join(granted + [s for s in scopes if s.endswith("/.default")]),
            "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": access_token,
            "refresh_token": refresh_token, "id_token": id_token,
            "client_info": _b64url(json.dumps({"uid": user.oid(user.home_tenant),
                                               "utid": user.home_tenant}).encode("utf-8")),
        }
        if client_id in FIRST_PARTY_CLIENTS:
            response["foci"] = "1"  # Microsoft's first-party apps share refresh tokens (family of client ids)
        return response

    # -- device authorization ------------------------------------------------------------------
    def _device_authorization(self, request, segment):
        tenant = self._resolve_tenant(segment)
        form = request.form()
        client_id = form.get("client_id", "")
        if not client_id:
            raise EntraError(400, "invalid_request", 900144,
                             "The request body must contain the following parameter: 'client_id'.")
        scopes = self._resource_scopes(form.get("scope", ""))
        self._resource(scopes, tenant)  # refuse an unknown resource now, as Entra does
        with self._lock:
            queued = self._next_device_code_users.popleft() if self._next_device_code_users else None
            user = queued or self.device_code_user
            record = DeviceCodeRecord(
                device_code="DAQABIQEAAAD" + _random_id(120), user_code=secrets.token_hex(5).upper()[:9],
                client_id=client_id, scope=form.get("scope", ""), tenant=tenant,
                expires_at=time.time() + DEVICE_CODE_LIFETIME,
                state="approved" if user else "pending", user=user)
            self.device_codes[record.device_code] = record
        verification_uri = self.emulator.login_url + DEVICE_LOGIN_PATH
        return Response.json(200, {
            "user_code": record.user_code, "device_code": record.device_code,
            "verification_uri": verification_uri, "expires_in": DEVICE_CODE_LIFETIME,
            "interval": 1 if user else 5,  # an approved code needs no wait; MSAL polls at this interval
            "message": f"To sign in, use a web browser to open the page {verification_uri} and enter the code "
                       f"{record.user_code} to authenticate.",
        }, headers=self._trace_headers(request))

    def _queue_device_code_user(self, request):
        """The test hook behind :meth:`sign_in_next_device_code`, checked with the user's password."""
        form = request.form()
        user = self.directory.by_upn(form.get("username")) or self.directory.principals.get(form.get("username"))
        if user is None or user.kind != "user" or not secrets.compare_digest(
                (user.password or "").encode(), form.get("password", "").encode()):
            raise EntraError(400, "invalid_grant", 50126,
                             "Error validating credentials due to invalid username or password.")
        self.sign_in_next_device_code(user.key)
        return Response.json(200, {"user": user.key})

    # -- client authentication -----------------------------------------------------------------
    def _authenticate_client(self, request, form, tenant):
        """The service principal a confidential client request authenticates as, and how (secret|certificate)."""
        client_id, secret = form.get("client_id", ""), form.get("client_secret")
        basic = request.header("Authorization", "")
        if basic.lower().startswith("basic "):
            client_id, _, secret = base64.b64decode(basic[6:]).decode("utf-8").partition(":")
        principal = self.directory.by_app_id(client_id)
        if principal is None or principal.kind != "servicePrincipal":
            raise EntraError(400, "unauthorized_client", 700016,
                             f"Application with identifier '{client_id}' was not found in the directory "
                             f"'{self._tenant_label(tenant)}'. This can happen if the application has not been "
                             "installed by the administrator of the tenant or consented to by any user in the "
                             "tenant. You may have sent your authentication request to the wrong tenant.")
        if form.get("client_assertion"):
            if form.get("client_assertion_type") != CLIENT_ASSERTION_TYPE_JWT:
                raise EntraError(400, "invalid_request", 50027,
                                 "The client_assertion_type must be " + CLIENT_ASSERTION_TYPE_JWT + ".")
            self._verify_client_assertion(request, principal, form["client_assertion"])
            return principal, "certificate"
        if secret:
            if not principal.secret or not secrets.compare_digest(secret.encode(), principal.secret.encode()):
                raise EntraError(401, "invalid_client", 7000215,
                                 "Invalid client secret provided. Ensure the secret being sent in the request is the "
                                 "client secret value, not the client secret ID, for a secret added to app "
                                 f"'{principal.app_id}'.")
            return principal, "secret"
        raise EntraError(401, "invalid_client", 7000218,
                         "The request body must contain the following parameter: 'client_assertion' or "
                         "'client_secret'.")

    def _verify_client_assertion(self, request, principal, assertion):
        """Check a certificate-signed client assertion (RFC 7523) against the principal's registered certificate."""
        def refuse(code, message):
            return EntraError(401, "invalid_client", code, message)
        certificate = self._registered_certificate(principal, assertion)
        try:
            claims = jwt.decode(assertion, certificate.public_key(), algorithms=["RS256", "PS256"],
                                audience=f"{self.emulator.login_url}{request.path}",
                                options={"require": ["exp", "aud", "iss", "sub"]}, leeway=300)
        except jwt.InvalidSignatureError as ex:
            raise refuse(700027, "Client assertion failed signature validation.") from ex
        except (jwt.ExpiredSignatureError, jwt.ImmatureSignatureError) as ex:
            raise refuse(700024, "Client assertion is not within its valid time range.") from ex
        except jwt.InvalidAudienceError as ex:
            raise refuse(700021, f"Client assertion audience claim does not match Realm issuer. Review the "
                                 f"documentation at https://aka.ms/certCreds . {ex}") from ex
        except jwt.PyJWTError as ex:
            raise refuse(50027, f"Invalid JWT token. {ex}") from ex
        if claims["iss"] != principal.app_id or claims["sub"] != principal.app_id:
            raise refuse(700023, "Client assertion audience claim does not match the client id.")

    @staticmethod
    def _registered_certificate(principal, assertion):
        """The principal's certificate, if the assertion's x5t / x5t#S256 header names it."""
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError as ex:
            raise EntraError(401, "invalid_client", 50027, f"Invalid JWT token. {ex}") from ex
        if principal.cert_path:
            with open(principal.cert_path, "rb") as handle:
                certificate = x509.load_pem_x509_certificate(handle.read())
            sha1 = _b64url(bytes.fromhex(principal.cert_thumbprint))
            sha256 = _b64url(hashlib.sha256(certificate.public_bytes(Encoding.DER)).digest())
            # MSAL keeps the base64 padding; Entra does not mind either way
            if (header.get("x5t") or "").rstrip("=") == sha1 or (header.get("x5t#S256") or "").rstrip("=") == sha256:
                return certificate
        raise EntraError(401, "invalid_client", 700027,
                         "Client assertion failed signature validation. [Reason - The key was not found., Thumbprint "
                         f"of key used by client: '{header.get('x5t') or header.get('x5t#S256')}']")

    # -- managed identity ----------------------------------------------------------------------
    def _managed_identity(self, request):
        """App Service protocol: GET ?api-version=2019-08-01&resource=…, header X-IDENTITY-HEADER."""
        def refuse(status, message):
            with self._lock:
                self.refusals.append({"grant_type": GRANT_MANAGED_IDENTITY, "status": status, "message": message,
                                      "time": time.time()})
            return Response.json(status, {"statusCode": status, "message": message})
        header = request.header("X-IDENTITY-HEADER") or ""
        if not secrets.compare_digest(header.encode(), self.directory.identity_header.encode()):
            return refuse(401, "Unauthorized: the X-IDENTITY-HEADER header is missing or wrong.")
        if request.method != "GET" or request.arg("api-version") != "2019-08-01":
            return refuse(400, "Only GET with api-version=2019-08-01 is supported.")
        resource = request.arg("resource")
        if not resource:
            return refuse(400, "Required query parameter 'resource' is missing.")
        principal = self._select_managed_identity(request)
        if principal is None:
            return refuse(400, "Unable to load the proper Managed Identity: no identity matches the request.")
        tenant = principal.home_tenant
        try:
            self._resource([resource + "/.default"], tenant)  # only to refuse an unknown resource
        except EntraError as refusal:
            return refuse(400, f"AADSTS{refusal.code}: {refusal.message}")
        claims = self._app_claims(principal, tenant, appidacr="2")
        claims["xms_mirid"] = principal.resource_id
        access_token = self._issue_access_token(claims, resource, tenant)  # the audience is the resource as asked
        expires_on = int(jwt.decode(access_token, options={"verify_signature": False})["exp"])
        self._record(GRANT_MANAGED_IDENTITY, principal.key, tenant, resource, principal.app_id)
        return Response.json(200, {"access_token": access_token, "expires_on": str(expires_on),
                                   "resource": resource, "token_type": "Bearer", "client_id": principal.app_id})

    def _select_managed_identity(self, request):
        selectors = {name: request.arg(name) for name in ("client_id", "object_id", "principal_id", "mi_res_id",
                                                          "msi_res_id") if request.arg(name)}
        if not selectors:
            return self.directory.principals.get(self.system_assigned_identity) if \
                self.system_assigned_identity else None
        for key in self.user_assigned_identities:
            candidate = self.directory.principal(key)
            known = {"client_id": candidate.app_id, "object_id": candidate.oid(candidate.home_tenant),
                     "principal_id": candidate.oid(candidate.home_tenant), "mi_res_id": candidate.resource_id,
                     "msi_res_id": candidate.resource_id}
            if all((known[name] or "").lower() == value.lower() for name, value in selectors.items()):
                return candidate
        return None

    # -- claims and tokens ---------------------------------------------------------------------
    def _resource_scopes(self, scope_parameter):
        scopes = [s for s in scope_parameter.split() if s.lower() not in OIDC_SCOPES]
        if not scopes:
            raise EntraError(400, "invalid_scope", 900144,
                             "The request body must contain the following parameter: 'scope'.")
        return scopes

    def _resource(self, scopes, tenant):
        """The one resource (= access token audience) that the scopes name, e.g. `X/.default` -> `X`."""
        resources = {_scope_resource(scope) for scope in scopes}
        if len(resources) > 1:
            raise EntraError(400, "invalid_scope", 28000,
                             f"Provided value for the input parameter scope '{' '.join(scopes)}' is not valid "
                             "because it contains more than one resource. Scope "
                             f"{' '.join(scopes)} is not valid.")
        resource = resources.pop()
        if resource.rstrip("/").lower() not in {known.rstrip("/").lower() for known in self.known_resources}:
            raise EntraError(400, "invalid_resource", 500011,
                             f"The resource principal named {resource} was not found in the tenant named "
                             f"{self._tenant_label(tenant)}. This can happen if the application has not been "
                             "installed by the administrator of the tenant or consented to by any user in the "
                             "tenant. You might have sent your authentication request to the wrong tenant.")
        return resource

    def _user_claims(self, user, tenant, client_id):
        """Claims of a v1 user access token; guests carry `idp` and no `upn`, as real B2B tokens do."""
        given, _, family = user.display_name.partition(" ")
        oid = user.oid(tenant)
        claims = {
            "acr": "1", "aio": _random_id(60), "amr": ["pwd", "mfa"], "appid": client_id, "appidacr": "0",
            "family_name": family, "given_name": given, "idtyp": "user", "ipaddr": "127.0.0.1",
            "name": user.display_name, "oid": oid, "puid": hashlib.sha256(oid.encode()).hexdigest()[:16].upper(),
            "scp": "user_impersonation", "sub": _b64url(hashlib.sha256(f"{oid}:{client_id}".encode()).digest()),
            "unique_name": user.upn,
        }
        if tenant == user.home_tenant:
            claims["upn"] = user.upn
        else:
            claims["idp"] = f"https://sts.windows.net/{user.home_tenant}/"
        return claims

    @staticmethod
    def _app_claims(principal, tenant, appidacr):
        """Claims of a v1 app-only access token (service principal or managed identity)."""
        oid = principal.oid(tenant)
        return {"aio": _random_id(60), "appid": principal.app_id, "appidacr": appidacr,
                "idp": f"https://sts.windows.net/{tenant}/", "idtyp": "app", "oid": oid, "sub": oid}

    @staticmethod
    def _capability_claims(form):
        """`xms_cc` when the client declared capabilities (az sends CP1: it can handle claims challenges)."""
        try:
            requested = json.loads(form.get("claims") or "{}").get("access_token", {}).get("xms_cc", {})
        except (ValueError, AttributeError):
            return {}
        values = requested.get("values") if isinstance(requested, dict) else None
        return {"xms_cc": list(values)} if values else {}

    def _id_token(self, user, tenant, client_id):
        claims = {"iss": f"{self.emulator.login_url}/{tenant}/v2.0", "name": user.display_name,
                  "oid": user.oid(tenant), "preferred_username": user.upn,
                  "sub": _b64url(hashlib.sha256(f"{user.oid(tenant)}:{client_id}:id".encode()).digest())}
        return self.emulator.tokens.issue(claims, client_id, tenant, self.emulator.token_lifetime, version="2.0")

    def _issue_access_token(self, claims, audience, tenant):
        return self.emulator.tokens.issue(claims, audience, tenant, self.emulator.token_lifetime)

    def _new_refresh_token(self, user_key, client_id):
        token = "1.AQ" + _random_id(300)  # opaque, as Entra's are; only this emulator can redeem it
        with self._lock:
            self.refresh_tokens[token] = RefreshTokenRecord(user_key, client_id, time.time())
        return token

    # -- bookkeeping ---------------------------------------------------------------------------
    def _record(self, grant_type, principal, tenant, resource, client_id):  # pylint: disable=too-many-arguments
        with self._lock:
            self.grants.append({"grant_type": grant_type, "principal": principal, "tenant": tenant,
                                "resource": resource, "client_id": client_id, "time": time.time()})
            self.grant_counts[(grant_type, principal)] += 1

    def _tenant_label(self, tenant):
        if tenant is None:
            return "organizations"
        return self.directory.tenant_names.get(tenant, tenant)

    @staticmethod
    def _trace_headers(request):
        return [("client-request-id", request.header("client-request-id") or str(uuid.uuid4())),
                ("x-ms-request-id", str(uuid.uuid4())), ("Cache-Control", "no-store, no-cache")]

    def _refuse(self, request, refusal):
        """Entra's error JSON; the description ends with trace and correlation ids and a timestamp."""
        trace_id = str(uuid.uuid4())
        correlation_id = request.header("client-request-id") or str(uuid.uuid4())
        timestamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
        try:
            form = request.form() if request.method == "POST" else {}
        except UnicodeDecodeError:
            form = {}
        with self._lock:
            self.refusals.append({"grant_type": form.get("grant_type"), "error": refusal.error,
                                  "code": refusal.code, "status": refusal.status, "time": time.time()})
        headers = self._trace_headers(request)
        if refusal.status == 401:
            headers.append(("WWW-Authenticate", 'Basic realm="emulated Entra ID"'))
        return Response.json(refusal.status, {
            "error": refusal.error,
            "error_description": f"AADSTS{refusal.code}: {refusal.message}\r\nTrace ID: {trace_id}\r\n"
                                 f"Correlation ID: {correlation_id}\r\nTimestamp: {timestamp}",
            "error_codes": [refusal.code], "timestamp": timestamp, "trace_id": trace_id,
            "correlation_id": correlation_id, "error_uri": f"{self.emulator.login_url}/error?code={refusal.code}",
        }, headers=headers)


def _scope_resource(scope):
    """`https://management.core.windows.net//.default` -> `https://management.core.windows.net/`;
    `499b…/user_impersonation` -> `499b…`; a bare resource stays itself."""
    if scope.endswith("/.default"):
        return scope[:-len("/.default")]
    scheme, separator, rest = scope.partition("://")
    if not separator:
        return scope.split("/", 1)[0]
    host_and_path, _, _permission = rest.rpartition("/")
    return f"{scheme}://{host_and_path}" if host_and_path else scope
