"""How a confidential client proves who it is at the token endpoint: a client secret (form or Basic), or a
certificate-signed client assertion (RFC 7523) checked against the principal's registered certificate."""
import base64
import hashlib
import secrets

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from emulator.entra.common import CLIENT_ASSERTION_TYPE_JWT, EntraError, b64url
from emulator.entra.federation import verify_federated_assertion


def authenticate_client(entra, request, form, tenant):
    """The service principal a confidential client request authenticates as, and how
    (secret|certificate|federated)."""
    client_id, secret = form.get("client_id", ""), form.get("client_secret")
    basic = request.header("Authorization", "")
    if basic.lower().startswith("basic "):
        client_id, _, secret = base64.b64decode(basic[6:]).decode("utf-8").partition(":")
    principal = entra.directory.by_app_id(client_id)
    if principal is None or principal.kind != "servicePrincipal":
        raise EntraError(400, "unauthorized_client", 700016,
                         f"Application with identifier '{client_id}' was not found in the directory "
                         f"'{entra.tenant_label(tenant)}'. This can happen if the application has not been "
                         "installed by the administrator of the tenant or consented to by any user in the "
                         "tenant. You may have sent your authentication request to the wrong tenant.")
    if form.get("client_assertion"):
        if form.get("client_assertion_type") != CLIENT_ASSERTION_TYPE_JWT:
            raise EntraError(400, "invalid_request", 50027,
                             "The client_assertion_type must be " + CLIENT_ASSERTION_TYPE_JWT + ".")
        if principal.federated_credentials:  # an assertion from a trusted issuer stands in for a certificate
            verify_federated_assertion(entra, principal, form["client_assertion"])
            return principal, "federated"
        verify_client_assertion(entra, request, principal, form["client_assertion"])
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


def verify_client_assertion(entra, request, principal, assertion):
    """Check a certificate-signed client assertion (RFC 7523) against the principal's registered certificate."""
    def refuse(code, message):
        return EntraError(401, "invalid_client", code, message)
    certificate = registered_certificate(principal, assertion)
    try:
        claims = jwt.decode(assertion, certificate.public_key(), algorithms=["RS256", "PS256"],
                            audience=f"{entra.emulator.login_url}{request.path}",
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


def registered_certificate(principal, assertion):
    """The principal's certificate, if the assertion's x5t / x5t#S256 header names it."""
    try:
        header = jwt.get_unverified_header(assertion)
    except jwt.PyJWTError as ex:
        raise EntraError(401, "invalid_client", 50027, f"Invalid JWT token. {ex}") from ex
    if principal.cert_path:
        with open(principal.cert_path, "rb") as handle:
            certificate = x509.load_pem_x509_certificate(handle.read())
        sha1 = b64url(bytes.fromhex(principal.cert_thumbprint))
        sha256 = b64url(hashlib.sha256(certificate.public_bytes(Encoding.DER)).digest())
        # MSAL keeps the base64 padding; Entra does not mind either way
        if (header.get("x5t") or "").rstrip("=") == sha1 or (header.get("x5t#S256") or "").rstrip("=") == sha256:
            return certificate
    raise EntraError(401, "invalid_client", 700027,
                     "Client assertion failed signature validation. [Reason - The key was not found., Thumbprint "
                     f"of key used by client: '{header.get('x5t') or header.get('x5t#S256')}']")
