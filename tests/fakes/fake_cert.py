"""Certificate credentials at the fake Microsoft login (issue 14 item 2).

An app registration holds certificates like Azure's "Certificates & secrets"
(the test uploads one through the control API "apps/certificates"), and the
token endpoint of tests/fakes/fake_microsoft.py hands a request carrying
client_assertion to check_assertion() here: the JWT's signature is verified
against a registered, unexpired certificate found by its thumbprint
(x5t#S256 or x5t), and aud, iss/sub, nbf/exp and jti are checked the way
Microsoft's "certificate credentials" page describes; a failure raises the
caller's OAuthError with Microsoft's AADSTS code (700027 key not found or
bad signature, 700024 outside the valid time range, 700023 audience,
700021 iss/sub, 50027 malformed)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SKEW = 300  # seconds of clock skew the fake allows, like Microsoft's 5 minutes


def b64url(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64url(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class Certificate:
    """One uploaded certificate (PEM or DER) of an app registration."""

    def __init__(self, pem=None, der_b64=None, expires_at=None):
        if pem:
            self.cert = x509.load_pem_x509_certificate(pem.encode())
        else:
            self.cert = x509.load_der_x509_certificate(base64.b64decode(der_b64))
        der = self.cert.public_bytes(encoding=Encoding.DER)
        self.sha1 = hashlib.sha1(der).digest()
        self.sha256 = hashlib.sha256(der).digest()
        self.thumbprint = self.sha1.hex().upper()
        na = self.cert.not_valid_after.replace(tzinfo=dt.timezone.utc).timestamp()
        self.expires_at = float(expires_at) if expires_at is not None else na

    def public(self):
        return {"thumbprint": self.thumbprint, "x5t": b64url(self.sha1),
                "x5t#S256": b64url(self.sha256), "expires_at": self.expires_at}


def certificates(app):
    """The certificates registered on app (created on first use)."""
    if not hasattr(app, "certificates"):
        app.certificates = []
    return app.certificates


def ctl_add(app, body):
    """Control API: {"client_id", "cert_pem" | "cert_der_b64", "expires_at"?,
    "replace"?}: upload a certificate to the app (replace: the only one)."""
    c = Certificate(body.get("cert_pem"), body.get("cert_der_b64"), body.get("expires_at"))
    if body.get("replace"):
        certificates(app).clear()
    certificates(app).append(c)
    return {"client_id": app.client_id, "certificates": [x.public() for x in certificates(app)]}


def _parts(assertion, OAuthError):
    try:
        h64, c64, s64 = assertion.split(".")
        header, claims = json.loads(unb64url(h64)), json.loads(unb64url(c64))
        sig = unb64url(s64)
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise ValueError
    except (ValueError, UnicodeDecodeError):
        raise OAuthError("invalid_client", 50027, "JWT token is invalid or malformed.")
    return header, claims, (h64 + "." + c64).encode(), sig


def _find(app, header, now, OAuthError, cid):
    s256, s1 = header.get("x5t#S256"), header.get("x5t")
    for c in certificates(app):
        if (s256 and s256 == b64url(c.sha256)) or (s1 and s1 == b64url(c.sha1)):
            if c.expires_at > now:
                return c
    shown = s256 or s1 or "(none)"
    raise OAuthError("invalid_client", 700027, "Client assertion failed signature validation. "
                     f"[Reason - The key was not found., Thumbprint of key used by client: '{shown}', "
                     f"Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see "
                     f"configured keys for app Id '{cid}'. Review the documentation at "
                     "https://docs.microsoft.com/en-us/graph/deployments to determine the "
                     "corresponding service endpoint and https://docs.microsoft.com/en-us/graph/api/"
                     "application-get?view=graph-rest-1.0&tabs=http to build a query request URL, "
                     "such as 'https://graph.microsoft.com/beta/applications/" + cid + "']")


def _verify(c, header, signed, sig, OAuthError):
    alg = header.get("alg")
    pad = {"RS256": padding.PKCS1v15(),
           "PS256": padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)}.get(alg)
    key = c.cert.public_key()
    try:
        if pad is None or not isinstance(key, rsa.RSAPublicKey):
            raise InvalidSignature
        key.verify(sig, signed, pad, hashes.SHA256())
    except InvalidSignature:
        raise OAuthError("invalid_client", 700027, "Client assertion contains an invalid signature. "
                         f"[Reason - The provided signature value did not match the expected signature "
                         f"value., Thumbprint of key used by client: '{c.thumbprint}']")


def check_assertion(form, app, token_urls, now, OAuthError, seen_jti):
    """Check the client assertion of a token request (form) for app; token_urls
    are the spellings of this endpoint the aud may take.  Returns the
    certificate's thumbprint, or raises OAuthError."""
    cid = app.client_id
    if form.get("client_assertion_type") != JWT_BEARER:
        raise OAuthError("invalid_request", 700025 if "client_secret" in form else 90014,
                         "The request body must contain the following parameter: "
                         "'client_assertion_type'." if not form.get("client_assertion_type") else
                         f"Client assertion type '{form.get('client_assertion_type')}' is not supported.")
    header, claims, signed, sig = _parts(form.get("client_assertion", ""), OAuthError)
    c = _find(app, header, now, OAuthError, cid)
    _verify(c, header, signed, sig, OAuthError)
    if str(claims.get("aud", "")).lower() not in [u.lower() for u in token_urls]:
        raise OAuthError("invalid_client", 700023, "Client assertion audience claim does not match "
                         "Realm issuer. Review the documentation at https://aka.ms/certCreds .")
    if claims.get("iss") != cid or claims.get("sub") != cid:
        raise OAuthError("invalid_client", 700021, "Client assertion application identifier doesn't "
                         "match 'client_id' parameter. Review the documentation at "
                         "https://aka.ms/certCreds .")
    nbf, exp = claims.get("nbf"), claims.get("exp")
    if not isinstance(exp, int) or (nbf is not None and not isinstance(nbf, int)) or \
            exp + SKEW < now or (nbf or 0) - SKEW > now:
        raise OAuthError("invalid_client", 700024, "Client assertion is not within its valid time "
                         f"range. Current time: {_iso(now)}, assertion valid from {_iso(nbf or 0)}, "
                         f"expiry time of assertion {_iso(exp or 0)}. Review the documentation at "
                         "https://aka.ms/certCreds .")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise OAuthError("invalid_client", 50027, "JWT token is invalid or malformed (no jti).")
    repeat = jti in seen_jti
    seen_jti.add(jti)
    return {"thumbprint": c.thumbprint, "alg": header.get("alg"), "jti_repeat": repeat,
            "lifetime": (exp - (nbf or exp))}


def _iso(t):
    return dt.datetime.fromtimestamp(float(t), dt.timezone.utc).strftime("%m/%d/%Y %H:%M:%S")
