"""Asymmetric keys through a JWKS (file or URL), audience and issuer, with real crypto."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from refresh.web.tokens import AuthError, TokenVerifier
from settings import Settings

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwks() -> dict:
    rsa_jwk = json.loads(RSAAlgorithm.to_jwk(RSA_KEY.public_key()))
    ec_jwk = json.loads(ECAlgorithm.to_jwk(EC_KEY.public_key()))
    return {
        "keys": [
            {**rsa_jwk, "kid": "rsa-1", "alg": "RS256", "use": "sig"},
            {**ec_jwk, "kid": "ec-1", "alg": "ES256", "use": "sig"},
        ]
    }


def payload(**extra) -> dict:
    return {"sub": "u1", "tenant_id": str(uuid.uuid4()), "exp": int(time.time()) + 300, **extra}


def settings(**overrides) -> Settings:
    base = {
        "write_database_url": None,
        "read_database_url": None,
        "jwt_algorithms": ["RS256", "ES256"],
    }
    return Settings(**{**base, **overrides})


@pytest.fixture(scope="module")
def jwks_file(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("jwks") / "jwks.json"
    path.write_text(json.dumps(jwks()))
    return str(path)


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    body = json.dumps(jwks()).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    server.shutdown()


@pytest.mark.parametrize("source", ["file", "url"])
async def test_rs256_and_es256_through_a_jwks(source, jwks_file, jwks_url):
    config = {"jwks_file": jwks_file} if source == "file" else {"jwks_url": jwks_url}
    verifier = TokenVerifier(settings(**config))
    claims = payload()
    rs = jwt.encode(claims, RSA_KEY, algorithm="RS256", headers={"kid": "rsa-1"})
    es = jwt.encode(claims, EC_KEY, algorithm="ES256", headers={"kid": "ec-1"})
    for token in (rs, es):
        verified = await verifier.verify(token)
        assert str(verified.tenant_id) == claims["tenant_id"]

    forged = jwt.encode(claims, OTHER_RSA_KEY, algorithm="RS256", headers={"kid": "rsa-1"})
    unknown_kid = jwt.encode(claims, RSA_KEY, algorithm="RS256", headers={"kid": "nope"})
    for token in (forged, unknown_kid):
        with pytest.raises(AuthError):
            await verifier.verify(token)


async def test_hs256_signed_with_the_public_key_is_refused(jwks_file):
    """The algorithm-confusion attack: the public key used as an HMAC secret."""
    verifier = TokenVerifier(settings(jwks_file=jwks_file))
    public_pem = RSA_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    import base64
    import hashlib
    import hmac

    def b64(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    signing_input = (
        b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}).encode())
        + b"."
        + b64(json.dumps(payload()).encode())
    )
    signature = hmac.new(public_pem, signing_input, hashlib.sha256).digest()
    with pytest.raises(AuthError, match="algorithm"):
        await verifier.verify((signing_input + b"." + b64(signature)).decode())


async def test_audience_and_issuer_are_checked_when_configured():
    secret = "s" * 40
    verifier = TokenVerifier(
        settings(
            jwt_algorithms=["HS256"],
            jwt_secret=secret,
            jwt_audience="refresh-api",
            jwt_issuer="https://id.example",
        )
    )
    good = payload(aud="refresh-api", iss="https://id.example")
    assert (await verifier.verify(jwt.encode(good, secret, algorithm="HS256"))).user_id == "u1"
    for bad in (
        {**good, "aud": "another-api"},
        {**good, "iss": "https://evil.example"},
        {k: v for k, v in good.items() if k != "aud"},
        {k: v for k, v in good.items() if k != "iss"},
    ):
        with pytest.raises(AuthError):
            await verifier.verify(jwt.encode(bad, secret, algorithm="HS256"))


async def test_leeway_admits_small_clock_skew():
    secret = "s" * 40
    token = jwt.encode(payload(exp=int(time.time()) - 5), secret, algorithm="HS256")
    strict = TokenVerifier(settings(jwt_algorithms=["HS256"], jwt_secret=secret))
    lenient = TokenVerifier(
        settings(jwt_algorithms=["HS256"], jwt_secret=secret, jwt_leeway_seconds=30)
    )
    with pytest.raises(AuthError, match="expired"):
        await strict.verify(token)
    assert (await lenient.verify(token)).user_id == "u1"


def unsigned(alg: str, signature: str = "", **header: str) -> str:
    import base64

    def b64(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{b64({'alg': alg, 'typ': 'JWT', **header})}.{b64(payload())}.{signature}"


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
async def test_an_unsigned_token_is_refused_whatever_the_keys(alg, jwks_file):
    """`alg: none` at the verifier itself, for a shared secret and for a JWKS (the API's
    test, tests/refresh/rls/test_tokens.py, goes through the app with HS256 only)."""
    verifiers = [
        TokenVerifier(settings(jwt_algorithms=["HS256"], jwt_secret="s" * 40)),
        TokenVerifier(settings(jwks_file=jwks_file)),
    ]
    tokens = [
        unsigned(alg),
        unsigned(alg, kid="rsa-1"),  # a kid the JWKS knows
        unsigned(alg, "c2lnbmF0dXJl", kid="ec-1"),  # some bytes where the signature goes
    ]
    for verifier in verifiers:
        for token in tokens:
            with pytest.raises(AuthError):
                await verifier.verify(token)


def test_none_is_no_algorithm_to_configure(jwks_file):
    with pytest.raises(ValueError, match="none"):
        settings(jwks_file=jwks_file, jwt_algorithms=["RS256", "none"])


async def test_numbers_out_of_range_are_a_bad_token_not_a_server_error():
    """Correctly signed, but exp is an integer beyond a float (10**400) or infinite
    (1e999 in the JSON, which PyJWT's int() overflows), or a claim is NaN or infinite
    (jsonb has neither): 401 invalid_token, as any other bad claim."""
    secret = "s" * 40
    verifier = TokenVerifier(settings(jwt_algorithms=["HS256"], jwt_secret=secret))
    header = {"alg": "HS256", "typ": "JWT"}
    for claims in (
        json.dumps(payload(exp=10**400)),
        json.dumps(payload()).replace('"exp": ', '"exp": 1e999, "was": '),
        json.dumps(payload()).replace('"exp": ', '"nbf": 1e999, "exp": '),
        json.dumps(payload(score=float("inf"))),
        json.dumps(payload(score=float("nan"))),
    ):
        token = jwt.api_jws.encode(claims.encode(), secret, algorithm="HS256", headers=header)
        with pytest.raises(AuthError) as refused:
            await verifier.verify(token)
        assert refused.value.code == "invalid_token", claims


async def test_an_iat_in_the_future_is_named_in_the_message():
    secret = "s" * 40
    verifier = TokenVerifier(settings(jwt_algorithms=["HS256"], jwt_secret=secret))
    token = jwt.encode(payload(iat=int(time.time()) + 3600), secret, algorithm="HS256")
    with pytest.raises(AuthError, match=r"not valid yet \(nbf or iat\)"):
        await verifier.verify(token)
