"""What the emulated Entra ID's modules share: the grant types and paths, the refusal (:class:`EntraError`),
the records of refresh tokens and device codes, and small helpers."""
import base64
import secrets
import uuid
from dataclasses import dataclass
from typing import Optional

from emulator.constants import ARM_RESOURCE, AZ_CLI_CLIENT_ID, AZURE_DEVOPS_RESOURCE

GRANT_CLIENT_CREDENTIALS = "client_credentials"
GRANT_REFRESH_TOKEN = "refresh_token"
GRANT_DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"
GRANT_MANAGED_IDENTITY = "managed_identity"  # not an OAuth grant: how MI endpoint tokens are counted
CLIENT_ASSERTION_TYPE_JWT = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

MANAGED_IDENTITY_PATH = "/msi/token"
MSI_EXTENSION_PATH = "/msi/oauth2/token"
INSTANCE_DISCOVERY_PATH = "/common/discovery/instance"
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


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def random_id(length=22):
    return b64url(secrets.token_bytes(length))[:length]


def trace_headers(request):
    return [("client-request-id", request.header("client-request-id") or str(uuid.uuid4())),
            ("x-ms-request-id", str(uuid.uuid4())), ("Cache-Control", "no-store, no-cache")]
