"""The verified-token cache (refresh/web/tokens.py): a cached token is served only while
the token itself would still verify, and only for that exact token string.

No database: TokenVerifier alone. (That membership is still checked on every request
with a cached token: tests/apps/tenants/test_membership.py, which reuses one token.)"""

from __future__ import annotations

import asyncio
import time
import uuid

import jwt
import pytest

from refresh.web import tokens
from refresh.web.tokens import AuthError, TokenVerifier
from settings import Settings

SECRET = "a-test-secret-that-is-long-enough-for-hs256"


def settings(**overrides: object) -> Settings:
    base: dict[str, object] = {
        "write_database_url": None,
        "read_database_url": None,
        "jwt_secret": SECRET,
    }
    return Settings(**{**base, **overrides})  # type: ignore[arg-type]


def token(tenant_id: uuid.UUID, sub: str, exp_in: float, secret: str = SECRET) -> str:
    payload = {"sub": sub, "tenant_id": str(tenant_id), "exp": int(time.time() + exp_in)}
    return jwt.encode(payload, secret, algorithm="HS256")


async def test_each_tenants_token_gives_its_own_claims_again_and_again() -> None:
    verifier = TokenVerifier(settings())
    a, b = uuid.uuid4(), uuid.uuid4()
    token_a, token_b = token(a, "alice", 300), token(b, "bob", 300)
    for _ in range(3):  # first verified, then served from the cache
        claims_a, claims_b = await verifier.verify(token_a), await verifier.verify(token_b)
        assert (claims_a.tenant_id, claims_a.user_id) == (a, "alice")
        assert (claims_b.tenant_id, claims_b.user_id) == (b, "bob")
        assert f'"tenant_id":"{a}"' in claims_a.as_json()


async def test_a_cached_token_is_refused_once_it_expires() -> None:
    verifier = TokenVerifier(settings())
    short = token(uuid.uuid4(), "alice", 2)
    await verifier.verify(short)
    await verifier.verify(short)
    await asyncio.sleep(max(0.0, jwt.decode(short, SECRET, ["HS256"])["exp"] - time.time()) + 0.1)
    with pytest.raises(AuthError) as refused:
        await verifier.verify(short)
    assert refused.value.code == "token_expired"


async def test_a_token_altered_after_its_original_was_cached_is_refused() -> None:
    verifier = TokenVerifier(settings())
    good = token(uuid.uuid4(), "alice", 300)
    await verifier.verify(good)
    header, payload, signature = good.split(".")
    other_tenant = jwt.utils.base64url_encode(
        jwt.utils.base64url_decode(payload).replace(b'"tenant_id":"', b'"tenant_id":"0')
    ).decode()
    for forged in (
        f"{header}.{other_tenant}.{signature}",
        f"{header}.{payload}.{signature[:-2]}AA",
        token(uuid.uuid4(), "alice", 300, secret="another-secret-that-is-long-enough-x"),
    ):
        with pytest.raises(AuthError) as refused:
            await verifier.verify(forged)
        assert refused.value.code == "invalid_token"


async def test_a_rotated_secret_refuses_cached_tokens_after_the_cache_lifetime(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tokens, "CACHE_SECONDS", 1)
    verifier = TokenVerifier(settings())
    issued = token(uuid.uuid4(), "alice", 300)
    await verifier.verify(issued)
    verifier.settings = settings(jwt_secret="the-new-secret-after-a-rotation-xxxx")
    await verifier.verify(issued)  # still within the cache's lifetime
    await asyncio.sleep(1.1)
    with pytest.raises(AuthError) as refused:
        await verifier.verify(issued)
    assert refused.value.code == "invalid_token"


async def test_with_the_cache_off_every_request_verifies_its_token() -> None:
    verifier = TokenVerifier(settings(jwt_cache_size=0))
    issued = token(uuid.uuid4(), "alice", 300)
    assert (await verifier.verify(issued)).user_id == "alice"
    verifier.settings = settings(jwt_secret="the-new-secret-after-a-rotation-xxxx")
    with pytest.raises(AuthError):
        await verifier.verify(issued)


async def test_the_cache_holds_at_most_its_size() -> None:
    verifier = TokenVerifier(settings(jwt_cache_size=2))
    issued = [token(uuid.uuid4(), f"u{n}", 300) for n in range(3)]
    for one in issued:
        await verifier.verify(one)
    verifier.settings = settings(jwt_secret="the-new-secret-after-a-rotation-xxxx")
    with pytest.raises(AuthError):
        await verifier.verify(issued[0])  # evicted: verified again, with the new secret
    assert (await verifier.verify(issued[2])).user_id == "u2"
