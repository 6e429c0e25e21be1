"""OpenID Connect for the fake Microsoft cloud (tests/fakes/fake_microsoft.py).

The fake's token endpoint signs its id_tokens here: RS256 with a 2048-bit key
whose public half, with its kid, the tenant's JWKS serves at
`/{tenant}/discovery/v2.0/keys` (as login.microsoftonline.com does).  Test
hooks (control API) make the next id_token bad in one chosen way, or rotate
the signing key:

    POST /_control/oidc/forge  {"mode": "forged_signature" | "expired" |
                                "not_yet_valid" | "wrong_audience" |
                                "wrong_nonce" | "wrong_issuer" |
                                "wrong_tenant" | "unknown_kid" | "no_oid"}
    POST /_control/oidc/rotate {}            -> {"kid": new kid}
    GET  /_control/oidc                      -> {"kids": [...], "forge": mode,
                                                "jwks_requests": n}

Uses python3-cryptography (Debian's package, scripts/deps.sh).
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

FORGE_MODES = ("forged_signature", "expired", "not_yet_valid", "wrong_audience", "wrong_nonce",
               "wrong_issuer", "wrong_tenant", "unknown_kid", "no_oid")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _uint(n: int) -> str:
    return b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))


def new_key():
    return secrets.token_hex(8), rsa.generate_private_key(public_exponent=65537, key_size=2048)


class Oidc:
    """The signing keys (published and not) and the one-shot forge mode."""

    def __init__(self):
        self.keys = [new_key()]      # (kid, private key): all published, last signs
        self.forge = None
        self.jwks_requests = 0

    def rotate(self):
        self.keys.append(new_key())
        return self.keys[-1][0]

    def jwks(self):
        self.jwks_requests += 1
        out = []
        for kid, key in self.keys:
            pub = key.public_key().public_numbers()
            out.append({"kty": "RSA", "use": "sig", "kid": kid, "x5t": kid, "n": _uint(pub.n),
                        "e": _uint(pub.e), "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0"})
        return {"keys": out}

    @staticmethod
    def _jws(kid, key, claims):
        hdr = {"typ": "JWT", "alg": "RS256", "kid": kid}
        signing = (b64url(json.dumps(hdr).encode()) + "." + b64url(json.dumps(claims).encode())).encode()
        sig = key.sign(signing, padding.PKCS1v15(), hashes.SHA256())
        return signing.decode() + "." + b64url(sig)

    def sign(self, claims: dict) -> str:
        """The id_token for claims, made bad as the forge mode says (then cleared)."""
        mode, self.forge = self.forge, None
        claims = dict(claims)
        kid, key = self.keys[-1]
        other = str(uuid.uuid4())
        if mode == "expired":
            claims.update(iat=claims["iat"] - 7200, nbf=claims["nbf"] - 7200, exp=claims["iat"] - 3600)
        elif mode == "not_yet_valid":
            claims.update(nbf=claims["nbf"] + 3600)
        elif mode == "wrong_audience":
            claims["aud"] = other
        elif mode == "wrong_nonce":
            claims["nonce"] = b64url(secrets.token_bytes(32))
        elif mode == "wrong_issuer":
            claims["iss"] = claims["iss"].replace(claims["tid"], other)
        elif mode == "wrong_tenant":
            claims["tid"] = other
        elif mode == "no_oid":
            claims.pop("oid", None)
        elif mode == "unknown_kid":
            kid, key = new_key()
        elif mode == "forged_signature":
            # the published kid, someone else's key: the signature cannot verify
            key = new_key()[1]
        return self._jws(kid, key, claims)


def register(control):
    """Add the control endpoints through fake_microsoft's @control decorator."""

    @control("POST", "oidc/forge")
    def ctl_oidc_forge(self, b):
        mode = b.get("mode")
        if mode not in FORGE_MODES:
            raise ValueError(f"mode must be one of {', '.join(FORGE_MODES)}")
        self.state.oidc.forge = mode
        return {"ok": True, "forge": mode}

    @control("POST", "oidc/rotate")
    def ctl_oidc_rotate(self, b):
        return {"kid": self.state.oidc.rotate()}

    @control("GET", "oidc")
    def ctl_oidc(self, b):
        o = self.state.oidc
        return {"kids": [k for k, _ in o.keys], "forge": o.forge, "jwks_requests": o.jwks_requests}
