"""The CI systems' side of workload identity federation, on the emulator's ``oidc`` listener: two OIDC issuers
of their own (discovery document + JWKS) and the endpoints a running job asks for an ID token.

* GitHub Actions. Issuer ``{oidc}/github`` (the real one is https://token.actions.githubusercontent.com; claims and
  lifetime per https://docs.github.com/en/actions/reference/security/oidc: ``nbf`` = iat - 600 s, ``exp`` = iat +
  300 s). The job asks ``GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=<url-encoded>`` with ``Authorization: Bearer
  $ACTIONS_ID_TOKEN_REQUEST_TOKEN`` and gets ``{"value": "<jwt>"}`` (actions/toolkit
  ``packages/core/src/oidc-utils.ts``); without ``audience`` the token's ``aud`` is the repository owner's URL.
* Azure Pipelines. Issuer ``{oidc}/vstoken/{organization id}`` (real: ``https://vstoken.dev.azure.com/<org id>``,
  sigstore/fulcio issue #1803: ``nbf`` = iat - 600, ``exp`` = iat + 600). The job asks ``POST
  $SYSTEM_OIDCREQUESTURI?api-version=7.1&serviceConnectionId=<id>`` with ``Authorization: Bearer
  $SYSTEM_ACCESSTOKEN`` and an empty body, and gets ``{"oidcToken": "<jwt>"}`` (Learn "Oidctoken - Create";
  Azure/azure-sdk-for-python ``azure_pipelines.py``). Subject ``sc://<org>/<project>/<service connection>``
  (microsoft/azure-pipelines-tasks ``docs/service-connections/azure-oidc/README.md``); without a service connection,
  a pipeline-scoped ``p://<org>/<project>/<pipeline>`` (pnp/cli-microsoft365 issue #6649).

Lifetimes are settable (``lifetimes``, seconds) so a test can outlive an assertion in seconds. Every assertion
handed out is kept in ``issued`` and the request secrets are in :meth:`secrets`, for secrecy tests.
"""
import secrets
import threading
import time
import uuid

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from emulator.directory import FEDERATED_APP, TOKEN_EXCHANGE_AUDIENCE
from emulator.server import Response

GITHUB_SUBJECT = "repo:contoso/app:ref:refs/heads/main"
GITHUB_OWNER_URL = "https://github.com/contoso"
PIPELINES_ORG, PIPELINES_PROJECT = "contoso", "app"
PIPELINES_ORG_ID = "0c0a0000-0000-4000-8000-00000000c0a0"
SERVICE_CONNECTION_ID = "5c0c0000-0000-4000-8000-0000000005c0"
SERVICE_CONNECTION_NAME = "fed-connection"
PIPELINES_SUBJECT = f"sc://{PIPELINES_ORG}/{PIPELINES_PROJECT}/{SERVICE_CONNECTION_NAME}"
GITHUB_REQUEST_PATH = "/github-actions/run/1/idtoken"
PIPELINES_REQUEST_PATH = (f"/pipelines/{PIPELINES_ORG}/{PIPELINES_PROJECT}/_apis/distributedtask/hubs/build/plans/"
                          "7e1a0000-0000-4000-8000-000000000001/jobs/7e1a0000-0000-4000-8000-000000000002/oidctoken")
PIPELINES_API_VERSIONS = ("7.1", "7.1-preview.1")  # the SDKs send 7.1; the REST reference names 7.1-preview.1
DEFAULT_LIFETIMES = {"github": 300, "pipelines": 600}  # seconds an assertion lives, per the sources above
VSS_ERROR_FIELDS = {"$id": "1", "innerException": None, "errorCode": 0, "eventId": 3000}


class OidcIssuer:
    """One OpenID Connect issuer: an RSA key, its discovery document and JWKS, and the JWTs it signs."""

    def __init__(self, url):
        self.url = url
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = uuid.uuid4().hex[:16]

    def discovery(self):
        """As https://token.actions.githubusercontent.com/.well-known/openid-configuration shapes it."""
        return {"issuer": self.url, "jwks_uri": self.url + "/.well-known/jwks",
                "subject_types_supported": ["public", "pairwise"], "response_types_supported": ["id_token"],
                "claims_supported": ["sub", "aud", "exp", "iat", "iss", "jti", "nbf"],
                "id_token_signing_alg_values_supported": ["RS256"], "scopes_supported": ["openid"]}

    def jwks(self):
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        public.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        return {"keys": [public]}

    def sign(self, subject, audience, lifetime, extra=None):
        now = int(time.time())
        claims = {"jti": str(uuid.uuid4()), "sub": subject, "aud": audience, "iss": self.url,
                  "nbf": now - 600, "iat": now, "exp": now + int(lifetime)}
        claims.update(extra or {})
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid, "typ": "JWT"})


class CiOidcService:  # pylint: disable=too-many-instance-attributes
    """The ``oidc`` listener's service. ``lifetimes`` and ``refuse_requests`` are for tests to set."""

    def __init__(self, emulator):
        self.emulator = emulator
        self.github_request_token = secrets.token_urlsafe(32)    # ACTIONS_ID_TOKEN_REQUEST_TOKEN
        self.pipelines_access_token = secrets.token_urlsafe(32)  # SYSTEM_ACCESSTOKEN
        self.lifetimes = dict(DEFAULT_LIFETIMES)
        self.issuers = {}        # "github" | "pipelines" -> OidcIssuer, once the listener has its URL
        self.issued = []         # every assertion handed out
        self.requests = {"github": 0, "pipelines": 0}
        self.lock = threading.Lock()

    def bind(self, base_url):
        """Create the issuers at the listener's URL and make the app registration trust them."""
        self.issuers = {"github": OidcIssuer(base_url + "/github"),
                        "pipelines": OidcIssuer(f"{base_url}/vstoken/{PIPELINES_ORG_ID}")}
        directory = self.emulator.directory
        directory.trust_issuer(FEDERATED_APP, "github-main", self.issuers["github"].url, GITHUB_SUBJECT)
        directory.trust_issuer(FEDERATED_APP, "pipelines-fed-connection", self.issuers["pipelines"].url,
                               PIPELINES_SUBJECT)

    def reset(self):
        self.lifetimes = dict(DEFAULT_LIFETIMES)

    def issuer_at(self, url):
        return next((issuer for issuer in self.issuers.values() if issuer.url == url), None)

    def secrets(self):
        with self.lock:
            return list(self.issued) + [self.github_request_token, self.pipelines_access_token]

    def assertion(self, ci, subject=None, audience=TOKEN_EXCHANGE_AUDIENCE):
        """A fresh assertion as the CI system would hand it to a job (also for harnesses: azure/login's part)."""
        default_subject = GITHUB_SUBJECT if ci == "github" else PIPELINES_SUBJECT
        token = self.issuers[ci].sign(subject or default_subject, audience, self.lifetimes[ci])
        with self.lock:
            self.issued.append(token)
            self.requests[ci] += 1
        return token

    def job_environment(self, ci):
        """The variables a job of that CI system sees (GitHub with ``id-token: write``; an AzureCLI@2 script with
        SYSTEM_ACCESSTOKEN mapped), pointing at this listener."""
        base = self.emulator.urls["oidc"]
        if ci == "github":
            return {"ACTIONS_ID_TOKEN_REQUEST_URL": f"{base}{GITHUB_REQUEST_PATH}?api-version=2.0",
                    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": self.github_request_token}
        app = self.emulator.directory.principal(FEDERATED_APP)
        return {"SYSTEM_OIDCREQUESTURI": base + PIPELINES_REQUEST_PATH,
                "SYSTEM_ACCESSTOKEN": self.pipelines_access_token,
                # set by AzureCLI@2 for its script (azure-pipelines-tasks Tasks/AzureCLIV2/azureclitask.ts)
                "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID": SERVICE_CONNECTION_ID,
                "AZURESUBSCRIPTION_CLIENT_ID": app.app_id, "AZURESUBSCRIPTION_TENANT_ID": app.home_tenant}

    # -- dispatch ------------------------------------------------------------------------------
    def handle(self, request):
        for issuer in self.issuers.values():
            path = issuer.url[len(self.emulator.urls["oidc"]):]
            if request.method == "GET" and request.path == path + "/.well-known/openid-configuration":
                return Response.json(200, issuer.discovery())
            if request.method == "GET" and request.path == path + "/.well-known/jwks":
                return Response.json(200, issuer.jwks())
        if request.path == GITHUB_REQUEST_PATH and request.method == "GET":
            return self._github_id_token(request)
        if request.path == PIPELINES_REQUEST_PATH and request.method == "POST":
            return self._pipelines_oidc_token(request)
        return Response.text(404, f"not emulated: {request.method} {request.path}")

    def _bearer_matches(self, request, expected):
        sent = request.header("Authorization") or ""
        return sent[:7].lower() == "bearer " and secrets.compare_digest(sent[7:].encode(), expected.encode())

    def _github_id_token(self, request):
        if not self._bearer_matches(request, self.github_request_token):
            return Response.json(401, {"message": "Bad credentials"})
        audience = request.arg("audience") or GITHUB_OWNER_URL
        return Response.json(200, {"value": self.assertion("github", audience=audience)})

    def _pipelines_oidc_token(self, request):
        if not self._bearer_matches(request, self.pipelines_access_token):
            # REFERENCE.md: without X-TFS-FedAuthRedirect: Suppress an unauthenticated POST ends on a 203 sign-in page
            if (request.header("X-TFS-FedAuthRedirect") or "").lower() == "suppress":
                return Response.json(401, dict(VSS_ERROR_FIELDS, typeName="", typeKey="UnauthorizedRequestException",
                                               message="TF400813: The user '' is not authorized to access this "
                                                       "resource."))
            return Response.text(203, "<html><body>Sign in</body></html>", "text/html; charset=utf-8")
        if request.arg("api-version") not in PIPELINES_API_VERSIONS:
            return Response.json(400, dict(
                VSS_ERROR_FIELDS, typeKey="VssVersionNotSpecifiedException",
                typeName="Microsoft.VisualStudio.Services.WebApi.VssVersionNotSpecifiedException, "
                         "Microsoft.VisualStudio.Services.WebApi",
                message="No api-version was supplied for the POST request. An api-version is required."))
        connection = request.arg("serviceConnectionId")
        if connection is None:
            subject = f"p://{PIPELINES_ORG}/{PIPELINES_PROJECT}/app-ci"
        elif connection.lower() == SERVICE_CONNECTION_ID:
            subject = PIPELINES_SUBJECT
        else:  # the SDKs only say "non-200"; the emulator's wording
            return Response.json(400, dict(VSS_ERROR_FIELDS, typeKey="ArgumentException", typeName="",
                                           message=f"Service connection {connection} was not found."))
        return Response.json(200, {"oidcToken": self.assertion("pipelines", subject=subject)})
