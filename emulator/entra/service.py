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
* ``GET /metadata/identity/oauth2/token``: IMDS (:mod:`.imds`), reached through AZURE_POD_IDENTITY_AUTHORITY_HOST.
* ``GET /common/discovery/instance``: instance discovery, which MSAL before 1.21 asks login.microsoftonline.com
  (reached through the emulator's proxy, :mod:`emulator.proxy`) about the emulated authority.
* ``GET /msi/token``: the App Service managed identity protocol (``IDENTITY_ENDPOINT`` +
  ``IDENTITY_HEADER``), which MSAL's ``ManagedIdentityClient`` uses whatever the URL scheme; ``POST
  /msi/oauth2/token``: the older protocol of ``MSI_ENDPOINT`` (az <= 2.72).

One module per concern: :mod:`.discovery`, :mod:`.grants` (the token endpoint), :mod:`.client_auth`,
:mod:`.device_code`, :mod:`.managed_identity`, :mod:`.access_tokens` (claims and tokens), :mod:`.common`.

Refusals carry the AADSTS codes and JSON shape of the real service, since ``az`` prints their
``error_description``. Every grant is recorded in :attr:`EntraService.grants` and every secret handed
out is kept (:meth:`EntraService.secrets`) so tests can prove none of them leaks into output.
"""
import collections
import datetime
import threading
import time
import uuid

from emulator.entra import device_code, discovery, grants, imds, managed_identity
from emulator.entra.common import (DEVICE_LOGIN_PATH, INSTANCE_DISCOVERY_PATH, KNOWN_RESOURCES, MANAGED_IDENTITY_PATH,
                                   MSI_EXTENSION_PATH, MULTI_TENANT_ALIASES,
                                   NEXT_DEVICE_CODE_USER_PATH, EntraError, trace_headers)
from emulator.server import Response

# (method, path below /{tenant}/) -> handler(entra, request, tenant path segment)
TENANT_ROUTES = {
    ("GET", "v2.0/.well-known/openid-configuration"): discovery.openid_configuration,
    ("GET", "discovery/v2.0/keys"): discovery.keys,
    ("GET", "discovery/keys"): discovery.keys,
    ("POST", "oauth2/v2.0/token"): grants.token,
    ("POST", "oauth2/v2.0/devicecode"): device_code.device_authorization,
}


class EntraService:  # pylint: disable=too-many-instance-attributes
    """The ``login`` listener's service. Public attributes are meant for tests to read and set."""

    def __init__(self, emulator):
        self.emulator = emulator
        self.directory = emulator.directory
        self.device_code_user = "alice"     # auto-approves new device codes; None: wait for approval
        self.system_assigned_identity = "mi-system"   # what IDENTITY_ENDPOINT yields without a selector
        self.user_assigned_identities = ["mi-user"]   # selectable by client_id/object_id/principal_id/mi_res_id
        self.known_resources = list(KNOWN_RESOURCES)
        # principal key -> seconds its app-only access tokens live (default: the emulator's token_lifetime);
        # MSAL never serves an access token from its cache within 5 minutes of expiry (msal application.py)
        self.access_token_lifetimes = {}
        self.grants = []                    # one dict per token handed out
        self.grant_counts = collections.Counter()  # (grant_type, principal key) -> tokens handed out
        self.refusals = []                  # one dict per AADSTS refusal (authorization_pending included)
        self.refresh_tokens = {}            # refresh token -> RefreshTokenRecord
        self.device_codes = {}              # device code -> DeviceCodeRecord
        self.next_device_code_users = collections.deque()
        self.lock = threading.Lock()

    @property
    def msi_endpoint(self):
        """The MSI_ENDPOINT value for the older POST protocol (az <= 2.72, msrestazure)."""
        return self.emulator.login_url + MSI_EXTENSION_PATH

    @property
    def identity_endpoint(self):
        """The IDENTITY_ENDPOINT value for the App Service managed identity protocol."""
        return self.emulator.login_url + MANAGED_IDENTITY_PATH

    # -- what tests read -----------------------------------------------------------------------
    def grant_count(self, grant_type=None, principal=None, tenant=None):
        """Tokens handed out, optionally only of one grant type / principal key / tenant."""
        with self.lock:
            return sum(1 for g in self.grants if (grant_type is None or g["grant_type"] == grant_type)
                       and (principal is None or g["principal"] == principal)
                       and (tenant is None or g["tenant"] == tenant))

    def secrets(self):
        """Every secret this emulated Entra knows or handed out: tokens, codes, client secrets, header."""
        with self.lock:
            found = list(self.refresh_tokens) + list(self.device_codes)
        found += list(self.emulator.tokens.issued)
        found += [p.secret for p in self.directory.principals.values() if p.secret]
        found.append(self.directory.identity_header)
        if "oidc" in self.emulator.services:  # the emulated CI systems' assertions and request secrets
            found += self.emulator.services["oidc"].secrets()
        return found

    # -- what tests do -------------------------------------------------------------------------
    def sign_in_next_device_code(self, user_key):
        """The next device code requested is approved by this user (as if already signed in in a browser)."""
        self.directory.principal(user_key)  # KeyError for an unknown user, now rather than at login
        with self.lock:
            self.next_device_code_users.append(user_key)

    def approve_device_code(self, user_code, user_key, approve=True):
        """Approve (or decline) a pending device code, as the user at the verification page would."""
        with self.lock:
            for record in self.device_codes.values():
                if record.user_code == user_code and record.state == "pending":
                    record.state, record.user = ("approved", user_key) if approve else ("declined", None)
                    return record
        raise KeyError(f"no pending device code {user_code!r}")

    def revoke_refresh_tokens(self, user_key):
        """Revoke every refresh token of a user, as `Revoke-MgUserSignInSession` does."""
        with self.lock:
            for record in self.refresh_tokens.values():
                if record.principal == user_key:
                    record.revoked = True

    # -- dispatch ------------------------------------------------------------------------------
    def handle(self, request):
        """Route one request of the login listener."""
        path = "/" + "/".join(part for part in request.path.split("/") if part)
        try:
            if path == INSTANCE_DISCOVERY_PATH and request.method == "GET":
                return discovery.instance_discovery(self, request)
            if path == MANAGED_IDENTITY_PATH:
                return managed_identity.managed_identity(self, request)
            if path == imds.IMDS_TOKEN_PATH:
                return imds.imds_token(self, request)
            if path == MSI_EXTENSION_PATH:
                return managed_identity.msi_extension_token(self, request)
            if path == NEXT_DEVICE_CODE_USER_PATH and request.method == "POST":
                return device_code.queue_device_code_user(self, request)
            if path == DEVICE_LOGIN_PATH:
                return Response.text(200, "<html><body>Emulated device login: codes are approved by the "
                                          "emulator, nothing to do here.</body></html>", "text/html; charset=utf-8")
            segment, _, rest = path[1:].partition("/")
            route = TENANT_ROUTES.get((request.method, rest))
            if route is None:
                return Response.text(404, f"not emulated: {request.method} {request.path}")
            return route(self, request, segment)
        except EntraError as refusal:
            return self.refuse(request, refusal)

    # -- shared by the concern modules ---------------------------------------------------------
    def resolve_tenant(self, segment):
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

    def record(self, grant_type, principal, tenant, resource, client_id):  # pylint: disable=too-many-arguments
        with self.lock:
            self.grants.append({"grant_type": grant_type, "principal": principal, "tenant": tenant,
                                "resource": resource, "client_id": client_id, "time": time.time()})
            self.grant_counts[(grant_type, principal)] += 1

    def tenant_label(self, tenant):
        if tenant is None:
            return "organizations"
        return self.directory.tenant_names.get(tenant, tenant)

    def refuse(self, request, refusal):
        """Entra's error JSON; the description ends with trace and correlation ids and a timestamp."""
        trace_id = str(uuid.uuid4())
        correlation_id = request.header("client-request-id") or str(uuid.uuid4())
        timestamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
        try:
            form = request.form() if request.method == "POST" else {}
        except UnicodeDecodeError:
            form = {}
        with self.lock:
            self.refusals.append({"grant_type": form.get("grant_type"), "error": refusal.error,
                                  "code": refusal.code, "status": refusal.status, "time": time.time()})
        headers = trace_headers(request)
        if refusal.status == 401:
            headers.append(("WWW-Authenticate", 'Basic realm="emulated Entra ID"'))
        return Response.json(refusal.status, {
            "error": refusal.error,
            "error_description": f"AADSTS{refusal.code}: {refusal.message}\r\nTrace ID: {trace_id}\r\n"
                                 f"Correlation ID: {correlation_id}\r\nTimestamp: {timestamp}",
            "error_codes": [refusal.code], "timestamp": timestamp, "trace_id": trace_id,
            "correlation_id": correlation_id, "error_uri": f"{self.emulator.login_url}/error?code={refusal.code}",
        }, headers=headers)
