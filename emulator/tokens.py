"""RS256 access tokens, issued by the emulated Entra ID and checked by the emulated Azure DevOps."""
import time
import uuid

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa


class InvalidToken(Exception):
    """``reason`` is one of: malformed, signature, expired, audience."""

    def __init__(self, reason, detail=""):
        super().__init__("%s: %s" % (reason, detail) if detail else reason)
        self.reason = reason


class TokenIssuer:
    def __init__(self):
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = uuid.uuid4().hex[:16]
        self.issued = []  # every access token string issued, for secrecy tests

    def issue(self, claims, audience, tenant, lifetime, version="1.0"):
        """A signed JWT with the standard time and tenant claims added to ``claims``."""
        now = int(time.time())
        body = {
            "aud": audience, "iss": "https://sts.windows.net/%s/" % tenant, "tid": tenant,
            "iat": now, "nbf": now - 5, "exp": now + int(lifetime), "ver": version,
            "uti": uuid.uuid4().hex[:22], "rh": "emulator",
        }
        body.update(claims)
        token = jwt.encode(body, self._key, algorithm="RS256", headers={"kid": self.kid, "typ": "JWT"})
        self.issued.append(token)
        return token

    def verify(self, token, audience=None):
        """The claims of a token this issuer signed, or :class:`InvalidToken`."""
        try:
            return jwt.decode(token, self._key.public_key(), algorithms=["RS256"], audience=audience,
                              options={"require": ["exp", "tid", "aud"], "verify_aud": audience is not None},
                              leeway=0)
        except jwt.ExpiredSignatureError as ex:
            raise InvalidToken("expired", str(ex)) from ex
        except jwt.InvalidAudienceError as ex:
            raise InvalidToken("audience", str(ex)) from ex
        except jwt.InvalidSignatureError as ex:
            raise InvalidToken("signature", str(ex)) from ex
        except jwt.PyJWTError as ex:
            raise InvalidToken("malformed", str(ex)) from ex

    def jwks(self):
        """The public key set, as `{tenant}/discovery/v2.0/keys` serves it."""
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        public.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        return {"keys": [public]}
