"""The emulated Azure Resource Manager: just what `az cloud register` and `az login` read.

* ``GET /metadata/endpoints`` - the cloud's endpoints, pointing at the emulator's login and ARM hosts (the
  2022-09-01 shape, or the 2015-01-01 one older az asks for).
* ``GET /subscriptions``, ``GET /subscriptions/{id}``, ``GET /tenants`` - for the principal of the
  bearer token (its signature, expiry and ARM audience are checked; refusals use ARM's 401 JSON).

A principal sees the subscriptions of the token's tenant when it has an object id in that tenant.
"""
import datetime
import re
import uuid

from emulator.constants import ARM_RESOURCE
from emulator.server import Response
from emulator.tokens import InvalidToken

# Audiences ARM accepts (with and without the trailing slash, as the real one does).
ARM_AUDIENCES = (ARM_RESOURCE, ARM_RESOURCE.rstrip("/"),
                 "https://management.azure.com/", "https://management.azure.com")
SUBSCRIPTION_PATH = re.compile(r"/subscriptions/([^/]+)")


class ArmError(Exception):
    """An ARM refusal: HTTP status, error code, message and optional extra headers."""

    def __init__(self, status, code, message, headers=()):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, list(headers)


class ArmService:
    """The ``arm`` listener's service."""

    def __init__(self, emulator):
        self.emulator = emulator
        self.directory = emulator.directory

    def handle(self, request):
        """Route one ARM request."""
        path = "/" + "/".join(part for part in request.path.split("/") if part)  # `…//metadata` as az sends it
        try:
            if request.method != "GET":
                raise ArmError(405, "MethodNotAllowed", f"The HTTP method '{request.method}' is not emulated.")
            if path == "/metadata/endpoints":
                body = self.metadata_2015() if request.arg("api-version") == "2015-01-01" else self.metadata()
                return Response.json(200, body, headers=self._trace_headers(request))
            if not request.arg("api-version"):
                raise ArmError(400, "MissingApiVersionParameter",
                               "The api-version query parameter (?api-version=) is required for all requests.")
            claims = self._authenticate(request)
            if path == "/subscriptions":
                body = self._list(self._visible_subscriptions(claims))
            elif path == "/tenants":
                body = self._list(self._visible_tenants(claims))
            elif SUBSCRIPTION_PATH.fullmatch(path):
                body = self._subscription(claims, SUBSCRIPTION_PATH.fullmatch(path).group(1))
            else:
                raise ArmError(404, "NotFound", f"The path '{request.path}' is not emulated.")
            return Response.json(200, body, headers=self._trace_headers(request))
        except ArmError as refusal:
            return Response.json(refusal.status, {"error": {"code": refusal.code, "message": refusal.message}},
                                 headers=self._trace_headers(request) + refusal.headers)

    def metadata(self):
        """What `GET https://management.azure.com/metadata/endpoints?api-version=2022-09-01` says, for the emulator."""
        login = self.emulator.login_url
        return {
            "name": "AzureEmulator",
            "portal": "https://portal.emulator.invalid",
            "authentication": {"loginEndpoint": login, "audiences": [ARM_RESOURCE, "https://management.azure.com/"],
                               "tenant": "common", "identityProvider": "AAD"},
            "resourceManager": self.emulator.arm_url,
            "media": "https://rest.media.emulator.invalid",
            "graphAudience": "https://graph.windows.net/",
            "graph": "https://graph.emulator.invalid/",
            "batch": "https://batch.core.windows.net/",
            "activeDirectoryDataLake": "https://datalake.azure.net/",
            "sqlManagement": "https://management.core.windows.net:8443/",
            "microsoftGraphResourceId": "https://graph.microsoft.com/",
            "appInsightsResourceId": "https://api.applicationinsights.io",
            "appInsightsTelemetryChannelResourceId": "https://dc.emulator.invalid/v2/track",
            "attestationResourceId": "https://attest.azure.net",
            "synapseAnalyticsResourceId": "https://dev.azuresynapse.net",
            "logAnalyticsResourceId": "https://api.loganalytics.io",
            "ossrDbmsResourceId": "https://ossrdbms-aad.database.windows.net",
            "suffixes": {"acrLoginServer": "azurecr.emulator.invalid", "keyVaultDns": "vault.emulator.invalid",
                         "storage": "storage.emulator.invalid", "sqlServerHostname": "database.emulator.invalid"},
        }

    def metadata_2015(self):
        """The ``api-version=2015-01-01`` shape, which `az cloud register` asks for up to az 2.72 (msrestazure
        ``azure_cloud.py`` ``_populate_from_metadata_endpoint`` reads galleryEndpoint, graphEndpoint,
        authentication.loginEndpoint and audiences[0]); shaped like the example of Azure Stack Hub's docs
        ("Use API version profiles with Azure CLI", the metadata endpoint)."""
        return {
            "galleryEndpoint": "https://gallery.emulator.invalid/",
            "graphEndpoint": "https://graph.windows.net/",
            "portalEndpoint": "https://portal.emulator.invalid/",
            "authentication": {"loginEndpoint": self.emulator.login_url,
                               "audiences": [ARM_RESOURCE, "https://management.azure.com/"]},
        }

    # -- authentication ------------------------------------------------------------------------
    def _authenticate(self, request):
        authorization = request.header("Authorization") or ""
        scheme, _, token = authorization.partition(" ")
        challenge = [("WWW-Authenticate", f'Bearer authorization_uri="{self.emulator.login_url}/", '
                                          'error="invalid_token", error_description="The authentication failed."')]
        if scheme.lower() != "bearer" or not token.strip():
            raise ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.",
                           challenge)
        try:
            claims = self.emulator.tokens.verify(token.strip())
        except InvalidToken as ex:
            if ex.reason == "expired":
                now = datetime.datetime.now(datetime.timezone.utc).strftime("%m/%d/%Y %H:%M:%S")
                raise ArmError(401, "ExpiredAuthenticationToken",
                               f"The access token expiry UTC time is earlier than current UTC time '{now}'.",
                               challenge) from ex
            raise ArmError(401, "InvalidAuthenticationToken", "The access token is invalid.", challenge) from ex
        if claims.get("aud") not in ARM_AUDIENCES:
            raise ArmError(401, "InvalidAuthenticationTokenAudience",
                           f"The access token has been obtained for wrong audience or resource '{claims.get('aud')}'. "
                           "It should exactly match with one of the allowed audiences "
                           f"{','.join(repr(a) for a in ARM_AUDIENCES)}.", challenge)
        return claims

    def _principal_in_tenant(self, claims):
        """The token's principal if it has an object id in the token's tenant, else None."""
        principal = self.directory.by_oid(claims.get("oid"))
        if principal is None or principal.oid(claims["tid"]) != claims.get("oid"):
            return None
        return principal

    # -- resources -----------------------------------------------------------------------------
    def _visible_subscriptions(self, claims):
        if self._principal_in_tenant(claims) is None:
            return []
        return [self._subscription_body(s) for s in self.directory.subscriptions if s.tenant == claims["tid"]]

    def _visible_tenants(self, claims):
        principal = self.directory.by_oid(claims.get("oid"))
        if principal is None:
            return []
        return [{
            "id": f"/tenants/{tenant}", "tenantId": tenant, "countryCode": "US",
            "displayName": self.directory.tenant_names.get(tenant, self.directory.tenants[tenant]),
            "domains": [self.directory.tenants[tenant]], "tenantCategory": "Home",
            "defaultDomain": self.directory.tenants[tenant], "tenantType": "AAD",
        } for tenant in principal.tenants if tenant in self.directory.tenants]

    def _subscription(self, claims, subscription_id):
        found = next((s for s in self.directory.subscriptions if s.id.lower() == subscription_id.lower()), None)
        if found is None:
            raise ArmError(404, "SubscriptionNotFound", f"The subscription '{subscription_id}' could not be found.")
        if found.tenant != claims["tid"]:
            raise ArmError(401, "InvalidAuthenticationTokenTenant",
                           f"The access token is from the wrong issuer 'https://sts.windows.net/{claims['tid']}/'. "
                           f"It must match the tenant 'https://sts.windows.net/{found.tenant}/' associated with this "
                           f"subscription. Please use the authority (URL) '{self.emulator.login_url}/{found.tenant}' "
                           "to get the token. Note, if the subscription is transferred to another tenant there is no "
                           "impact to the services, but information about new tenant could take time to propagate "
                           "(up to an hour). If you just transferred your subscription and see this error message, "
                           "please try back later.",
                           [("WWW-Authenticate",
                             f'Bearer authorization_uri="{self.emulator.login_url}/{found.tenant}", '
                             'error="invalid_token", error_description="The access token is from the wrong issuer."')])
        if self._principal_in_tenant(claims) is None:
            raise ArmError(403, "AuthorizationFailed",
                           f"The client '{claims.get('oid')}' does not have authorization to perform action "
                           f"'Microsoft.Resources/subscriptions/read' over scope '/subscriptions/{found.id}'.")
        return self._subscription_body(found)

    @staticmethod
    def _subscription_body(subscription):
        return {
            "id": f"/subscriptions/{subscription.id}", "authorizationSource": "RoleBased", "managedByTenants": [],
            "subscriptionId": subscription.id, "tenantId": subscription.tenant, "displayName": subscription.name,
            "state": "Enabled",
            "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01",
                                     "spendingLimit": "Off"},
        }

    @staticmethod
    def _list(items):
        return {"value": items, "count": {"type": "Total", "value": len(items)}}

    @staticmethod
    def _trace_headers(request):
        request_id = str(uuid.uuid4())
        return [("x-ms-request-id", request_id),
                ("x-ms-correlation-request-id", request.header("x-ms-correlation-request-id") or request_id),
                ("x-ms-client-request-id", request.header("x-ms-client-request-id") or request_id),
                ("Cache-Control", "no-cache")]
