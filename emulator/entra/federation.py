"""Workload identity federation at the token endpoint: a client assertion issued by another identity provider (a
CI system's OIDC issuer), accepted in place of a secret when it matches a federated identity credential of the app
registration and verifies against its issuer's published keys.

Sources: entra-docs ``docs/identity-platform/v2-oauth2-client-creds-grant-flow.md`` ("Third case: Access token
request with a federated credential"); entra-docs ``docs/workload-id/workload-identity-federation.md`` ("How it
works": Entra checks the trust relationship on the app registration and validates the external token against the
issuer's OIDC metadata and keys); Graph ``federatedIdentityCredential`` (issuer, subject, audiences; exact,
case-sensitive matches, no wildcards).
"""
import datetime

import jwt

from emulator.entra.common import EntraError

CERTIFICATE_CREDENTIALS_DOC = "https://learn.microsoft.com/entra/identity-platform/certificate-credentials"
FEDERATION_DOC = "https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation"


def verify_federated_assertion(entra, principal, assertion):
    """The claims of an assertion that one of ``principal``'s federated credentials trusts, or an EntraError."""
    try:
        presented = jwt.decode(assertion, options={"verify_signature": False})
        header = jwt.get_unverified_header(assertion)
    except jwt.PyJWTError as ex:
        raise EntraError(401, "invalid_client", 50027, f"Invalid JWT token. {ex}") from ex
    issuer, subject, audience = presented.get("iss"), presented.get("sub"), presented.get("aud")
    if not any(credential.issuer == issuer and credential.subject == subject and audience in credential.audiences
               for credential in principal.federated_credentials):
        # Body of azure-workload-identity issue #616 (HTTP 400, invalid_request). Entra now often says
        # AADSTS700213 for a subject mismatch (dotnet/maui PR #31978); az shows either the same way.
        raise EntraError(400, "invalid_request", 70021,
                         "No matching federated identity record found for presented assertion. "
                         f"Assertion Issuer: '{issuer}'. Assertion Subject: '{subject}'. "
                         f"Assertion Audience: '{audience}'. {FEDERATION_DOC}")
    key = _signing_key(entra, issuer, header.get("kid"))
    try:
        # No leeway: the emulator is never kinder than the service.
        return jwt.decode(assertion, key, algorithms=["RS256"], audience=audience, issuer=issuer,
                          options={"require": ["exp", "iat", "iss", "sub", "aud"]}, leeway=0)
    except (jwt.ExpiredSignatureError, jwt.ImmatureSignatureError) as ex:
        raise _not_in_time_range(presented) from ex
    except jwt.InvalidSignatureError as ex:
        raise EntraError(401, "invalid_client", 700027, "Client assertion failed signature validation.") from ex
    except jwt.PyJWTError as ex:
        raise EntraError(401, "invalid_client", 50027, f"Invalid JWT token. {ex}") from ex


def _signing_key(entra, issuer_url, kid):
    """The issuer's key named by ``kid``, from the JWKS its discovery document points to (served by the
    emulator's ``oidc`` listener, looked up in-process rather than over a second HTTPS round trip)."""
    issuer = entra.emulator.services["oidc"].issuer_at(issuer_url)
    keys = {jwk.get("kid"): jwk for jwk in (issuer.jwks()["keys"] if issuer else [])}
    if kid not in keys:
        raise EntraError(401, "invalid_client", 700027,
                         "Client assertion failed signature validation. [Reason - The key was not found., "
                         f"Thumbprint of key used by client: '{kid}']")
    return jwt.PyJWK(keys[kid]).key


def _not_in_time_range(presented):
    """AADSTS700024 as Entra words it (401 invalid_client; body quoted in risingwavelabs/risingwave issue #17123,
    newer documentation link per AzureAD/microsoft-authentication-library-for-dotnet issue #4951)."""
    def instant(epoch):
        moment = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond * 10:07d}Z"
    now = datetime.datetime.now(datetime.timezone.utc).timestamp()
    return EntraError(401, "invalid_client", 700024,
                      f"Client assertion is not within its valid time range. Current time: {instant(now)}, "
                      f"assertion valid from {instant(presented.get('nbf', 0))}, expiry time of assertion "
                      f"{instant(presented.get('exp', 0))}. Review the documentation at "
                      f"{CERTIFICATE_CREDENTIALS_DOC} .")
