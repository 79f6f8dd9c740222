"""JWT verification (PyJWT): signature, expiry, not-before, audience and issuer.

The verified claims are what the database sees through `auth.jwt()`; nothing in them
can choose the database role, which the middleware fixes to `authenticated`.

A client sends the same token with every request until it expires, and verifying it
(parsing, HMAC or signature, claims) was a fifth of a worker's time per read request
(bench/RESULTS.md). So, as PostgREST does (its JWT cache), a verified token's claims are
kept, keyed by the token itself (signature included: another string is verified
afresh), until the token expires (exp + leeway) or at most CACHE_SECONDS, so that a key
withdrawn from a JWKS stops being honoured as soon as the key is. Membership is checked
in the database on every request whatever the cache says (auth.begin_request).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
from cachetools import TLRUCache
from starlette.concurrency import run_in_threadpool
from starlette.types import Scope

from refresh.db.claims import Channel, Claims, ClaimsError, TenantRole, build_claims
from settings import Settings


class AuthError(Exception):
    """The request's credentials are missing or invalid (HTTP 401)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def claims_from_payload(payload: dict[str, Any], check_membership: bool = True) -> Claims:
    """A verified token's payload as request claims (via: api), or AuthError."""
    try:
        return build_claims(payload, Channel.api, check_membership)
    except ClaimsError as exc:
        raise AuthError("invalid_token", str(exc)) from None


def bearer_token(scope: Scope) -> str:
    """The token of the request's one `Authorization: Bearer` header, or AuthError."""
    values = [v for k, v in scope["headers"] if k == b"authorization"]
    if not values:
        raise AuthError("missing_token", "Authorization: Bearer <token> is required")
    if len(values) > 1:
        raise AuthError("invalid_token", "only one Authorization header is allowed")
    scheme, _, token = values[0].decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("invalid_token", "Authorization must use the Bearer scheme")
    return token.strip()


CACHE_SECONDS = 300  # the longest a verified token is trusted without verifying it again


def cached_until(key: str, value: tuple[Claims, float], now: float) -> float:
    return value[1]


class TokenVerifier:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.algorithms = list(settings.jwt_algorithms)
        # token -> (its claims, the time.time() until which they are served from here)
        self._verified: TLRUCache[str, tuple[Claims, float]] | None = (
            TLRUCache(settings.jwt_cache_size, cached_until, timer=time.time)
            if settings.jwt_cache_size
            else None
        )
        self._jwks_client: jwt.PyJWKClient | None = None
        self._jwk_set: jwt.PyJWKSet | None = None
        if settings.jwks_url:
            self._jwks_client = jwt.PyJWKClient(settings.jwks_url, lifespan=300)
        elif settings.jwks_file:
            self._jwk_set = jwt.PyJWKSet.from_json(settings.jwks_file.read_text())

    async def verify(self, token: str) -> Claims:
        if len(token) > self.settings.jwt_max_bytes:
            raise AuthError("invalid_token", "token is too large")
        if self._verified is None:
            return (await self._verify(token))[0]
        cached = self._verified.get(token)  # None once expired
        if cached is not None:
            return cached[0]
        claims, expires = await self._verify(token)
        self._verified[token] = (claims, min(expires, time.time() + CACHE_SECONDS))
        return claims

    async def _verify(self, token: str) -> tuple[Claims, float]:
        """The token's claims and when it expires (exp + leeway), or AuthError."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthError("invalid_token", "token is malformed") from None
        algorithm = header.get("alg")
        if algorithm not in self.algorithms:
            raise AuthError("invalid_token", "token algorithm is not accepted")
        key = await self._key_for(token, header)
        try:
            payload = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.settings.jwt_audience,
                issuer=self.settings.jwt_issuer,
                leeway=self.settings.jwt_leeway_seconds,
                options={
                    "require": ["exp"],
                    "verify_aud": self.settings.jwt_audience is not None,
                },
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("token_expired", "token has expired") from None
        except jwt.ImmatureSignatureError:
            raise AuthError("invalid_token", "token is not valid yet (nbf or iat)") from None
        except jwt.InvalidAudienceError:
            raise AuthError("invalid_token", "token audience is not accepted") from None
        except jwt.InvalidIssuerError:
            raise AuthError("invalid_token", "token issuer is not accepted") from None
        except (jwt.PyJWTError, OverflowError):
            # OverflowError: PyJWT reads exp, nbf and iat with int(), which an infinite
            # number (1e999 in the JSON) overflows
            raise AuthError("invalid_token", "token signature or claims are invalid") from None
        claims = claims_from_payload(payload, self.settings.membership_check)
        try:
            expires = float(payload["exp"]) + self.settings.jwt_leeway_seconds
        except OverflowError:  # an integer beyond a float's range (10**400)
            raise AuthError("invalid_token", "token exp claim is out of range") from None
        return claims, expires

    async def _key_for(self, token: str, header: dict[str, Any]) -> Any:
        if str(header.get("alg", "")).startswith("HS"):
            return self.settings.jwt_secret
        try:
            if self._jwks_client is not None:
                # PyJWKClient caches keys; a miss fetches over HTTP, so off the loop.
                signing_key = await run_in_threadpool(
                    self._jwks_client.get_signing_key_from_jwt, token
                )
                return signing_key.key
            if self._jwk_set is not None:
                return self._jwk_set[str(header.get("kid"))].key
        except (jwt.PyJWKClientError, KeyError):
            raise AuthError("invalid_token", "token key id is unknown") from None
        raise AuthError("invalid_token", "no key is configured for this algorithm")


def issue_token(
    settings: Settings,
    tenant_id: uuid.UUID,
    user_id: str,
    tenant_role: TenantRole = TenantRole.member,
    ttl_seconds: int = 3600,
) -> str:
    """Sign an HS256 token (development, CLI, tests); production tokens come from an IdP."""
    if not settings.jwt_secret or "HS256" not in settings.jwt_algorithms:
        # A token the API would refuse is worse than none.
        raise ValueError("signing tokens needs JWT_SECRET and HS256 in JWT_ALGORITHMS")
    tenant_role = TenantRole(tenant_role)  # ValueError for anything else
    now = int(time.time())
    payload: dict[str, Any] = {
        "sub": user_id,
        "tenant_id": str(tenant_id),
        "tenant_role": tenant_role.value,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if settings.jwt_audience:
        payload["aud"] = settings.jwt_audience
    if settings.jwt_issuer:
        payload["iss"] = settings.jwt_issuer
    return jwt.encode(payload, settings.jwt_secret, algorithm="HS256")
