"""Tests for tests/fakes/fake_cert.py: the fake login's certificate credentials.

Self-contained like tests/integration/test_fake_microsoft.py (the fake in-process,
no stack).  Assertions are built here with python3-cryptography, so the fake is
checked independently of postdesk's C code: a good PS256 or RS256 assertion
redeems a code; a wrong key, signature, audience, issuer, time range, an
expired registration or a malformed JWT answers Microsoft's AADSTS code."""
import base64
import datetime as dt
import hashlib
import json
import time
import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from test_fake_microsoft import Client, REDIRECT, assert_oauth_error, code_and_verifier, fake  # noqa: F401

BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def make_cert():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake test")])
    now = dt.datetime.utcnow()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .sign(key, hashes.SHA256()))
    return key, cert


def assertion(key, cert, aud, cid, alg="PS256", header=None, **claims):
    der = cert.public_bytes(serialization.Encoding.DER)
    h = {"alg": alg, "typ": "JWT", "x5t#S256": b64url(hashlib.sha256(der).digest())}
    h.update(header or {})
    h = {k: v for k, v in h.items() if v is not None}
    now = int(time.time())
    c = {"aud": aud, "iss": cid, "sub": cid, "jti": str(uuid.uuid4()), "nbf": now, "iat": now,
         "exp": now + 600}
    c.update(claims)
    signed = (b64url(json.dumps(h).encode()) + "." + b64url(json.dumps(c).encode())).encode()
    pad = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32) if alg == "PS256" \
        else padding.PKCS1v15()
    return signed.decode() + "." + b64url(key.sign(signed, pad, hashes.SHA256()))


@pytest.fixture
def env(fake):  # noqa: F811
    c = Client(fake)
    c.ctl("reset")
    t = c.ctl("tenants", {"domains": ["fabrikam.onmicrosoft.com"]})
    app = c.ctl("apps", {"tenant": t["id"], "redirect_uris": [REDIRECT], "secrets": []})
    c.ctl("users", {"tenant": t["id"], "address": "ann@fabrikam.onmicrosoft.com"})
    c.t, c.cid = t, app["client_id"]
    c.key, c.cert = make_cert()
    c.ctl("apps/certificates", {"client_id": c.cid, "cert_pem": c.cert.public_bytes(
        serialization.Encoding.PEM).decode()})
    c.aud = "%s/%s/oauth2/v2.0/token" % (fake.url, t["id"])
    return c


def redeem(c, a, tenant=None, **over):
    code, v = code_and_verifier(c)
    f = {"grant_type": "authorization_code", "client_id": c.cid, "code": code, "redirect_uri": REDIRECT,
         "code_verifier": v, "client_assertion_type": BEARER, "client_assertion": a}
    f.update(over)
    return c.token(tenant or c.t["id"], {k: x for k, x in f.items() if x is not None})


def test_good_assertions(env):
    c = env
    r = redeem(c, assertion(c.key, c.cert, c.aud, c.cid))
    assert r.status == 200, r.body
    entry = c.ctl("token_log", method="GET")["entries"][-1]
    assert entry["client_auth"] == "assertion" and entry["assertion"]["alg"] == "PS256"
    # RS256 with only the SHA-1 thumbprint, and aud spelled with the domain
    der = c.cert.public_bytes(serialization.Encoding.DER)
    a = assertion(c.key, c.cert, c.aud.replace(c.t["id"], "fabrikam.onmicrosoft.com"), c.cid, alg="RS256",
                  header={"x5t#S256": None, "x5t": b64url(hashlib.sha1(der).digest())})
    assert redeem(c, a).status == 200


def test_refused_assertions(env):
    c = env
    other_key, other_cert = make_cert()
    cases = [
        (assertion(other_key, other_cert, c.aud, c.cid), 700027, "key was not found"),
        (assertion(other_key, c.cert, c.aud, c.cid), 700027, "invalid signature"),
        (assertion(c.key, c.cert, c.aud, c.cid, alg="RS256")[:-4] + "AAAA", 700027, "invalid signature"),
        (assertion(c.key, c.cert, "https://login.example/other/oauth2/v2.0/token", c.cid), 700023, "audience"),
        (assertion(c.key, c.cert, c.aud, c.cid, iss="someone-else"), 700021, "client_id"),
        (assertion(c.key, c.cert, c.aud, c.cid, exp=int(time.time()) - 3600), 700024, "valid time range"),
        (assertion(c.key, c.cert, c.aud, c.cid, nbf=int(time.time()) + 3600), 700024, "valid time range"),
        ("not.a.jwt", 50027, "malformed"),
    ]
    for a, code, words in cases:
        j = assert_oauth_error(redeem(c, a), "invalid_client", code)
        assert words in j["error_description"], (code, j)
    assert_oauth_error(redeem(c, assertion(c.key, c.cert, c.aud, c.cid), client_assertion_type=None),
                       "invalid_request", 90014)
    # an expired registration is no longer a key
    c.ctl("apps/certificates", {"client_id": c.cid, "replace": True, "expires_at": time.time() - 1,
                                "cert_pem": c.cert.public_bytes(serialization.Encoding.PEM).decode()})
    assert_oauth_error(redeem(c, assertion(c.key, c.cert, c.aud, c.cid)), "invalid_client", 700027)
