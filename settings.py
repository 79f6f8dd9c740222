"""Every setting of the project, read once from the environment (and `.env`).

Misconfiguration is a startup error with a message that names the setting, never a
surprise at the first request.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent

#: The development secret; accepted only when ENVIRONMENT=development or test.
PLACEHOLDER_JWT_SECRET = "dev-only-insecure-secret-change-me-0123456789"  # noqa: S105 (refused in production)


class SettingsError(RuntimeError):
    """A setting is missing or unsafe; the message says which and how to fix it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=PROJECT_ROOT / ".env", env_file_encoding="utf-8", extra="ignore"
    )

    environment: Literal["development", "test", "production"] = "development"

    # Databases. Both unset: an embedded PostgreSQL in EMBEDDED_DATA_DIR is used.
    write_database_url: str | None = None
    read_database_url: str | None = None
    embedded_data_dir: Path = PROJECT_ROOT / ".data" / "postgres"
    embedded_database: str = "refresh"

    # Role names (DESIGN.md "Database roles").
    admin_role: str = "refresh_admin"
    authenticator_role: str = "refresh_authenticator"
    authenticated_role: str = "authenticated"
    anonymous_role: str = "anonymous"

    # Read pool.
    read_pool_min_size: int = Field(default=2, ge=0)
    read_pool_max_size: int = Field(default=10, ge=1)
    # The write client's pool, in the app server: admin logins and operators' requests.
    write_pool_max_size: int = Field(default=4, ge=1)
    db_acquire_timeout: float = Field(default=5.0, gt=0)
    # Fairness (refresh/web/fairness.py): at most this many request transactions of one
    # tenant at a time per app process (0: no limit); a request over it waits up to
    # TENANT_QUEUE_WAIT_SECONDS, then gets 429. Unset: see `tenant_limit`.
    tenant_max_concurrency: int | None = Field(default=None, ge=0)
    tenant_queue_wait_seconds: float = Field(default=0.5, gt=0)
    # Every statement of a request is cancelled after this long (0: no limit): 503.
    statement_timeout_ms: int = Field(default=15_000, ge=0)
    # Behind PgBouncer in transaction mode prepared statements break: cache off.
    pgbouncer: bool = False

    # JWT verification.
    jwt_secret: str | None = PLACEHOLDER_JWT_SECRET
    jwt_algorithms: list[str] = ["HS256"]
    jwks_url: str | None = None
    jwks_file: Path | None = None
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    jwt_leeway_seconds: int = Field(default=0, ge=0, le=300)
    jwt_max_bytes: int = Field(default=8192, ge=256)
    # Verified tokens kept per process until they expire (at most 5 minutes; 0: none),
    # so a client's next requests skip verifying its token again (refresh/web/tokens.py).
    jwt_cache_size: int = Field(default=10_000, ge=0)
    # Every API request checks, in the statement that opens it, that the token's subject
    # is a current member of its tenant with the claimed role (403 not_a_member). False:
    # the token alone decides (the identity provider is the authority).
    membership_check: bool = True

    # HTTP input.
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # The admin's tenant import page takes a whole export file in one request (held in
    # memory while it is read, given a second per MiB of this limit to arrive):
    # `piccolo tenants import` is the tool for larger ones.
    admin_import_max_bytes: int = Field(default=64 * 1_048_576, ge=1024)
    # A body must arrive within this long (408 otherwise); it is read before the request
    # takes a database connection.
    body_read_timeout_seconds: float = Field(default=10.0, gt=0)

    # Admin logins. Failed attempts are counted per (username, client) and per client;
    # past a limit that client waits until its oldest failure in the window expires.
    login_failure_limit: int = Field(default=10, ge=1)
    login_client_failure_limit: int = Field(default=100, ge=1)
    login_window_seconds: int = Field(default=300, ge=1)
    # Proxies (addresses or CIDR networks) whose X-Forwarded-For names the client. Empty:
    # the connection's peer is the client, and X-Forwarded-For is ignored.
    trusted_proxies: list[str] = []
    # The host names the admin is served under over HTTPS, e.g. ["admin.example.com"]:
    # piccolo-admin's CSRF check refuses an HTTPS write whose Origin/Referer names another
    # host (over plain HTTP it does not check).
    admin_allowed_hosts: list[str] = []
    # Operations (README "Operating it"): requests slower than this are logged again with
    # the statements they ran (0: never); /metrics needs `Authorization: Bearer
    # METRICS_TOKEN` when set, and is off in production without one.
    slow_request_ms: int = Field(default=1000, ge=0)
    metrics_token: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if bool(self.write_database_url) != bool(self.read_database_url):
            raise ValueError(
                "set both WRITE_DATABASE_URL and READ_DATABASE_URL, or neither "
                "(neither = embedded PostgreSQL)"
            )
        unsigned = [a for a in self.jwt_algorithms if a.lower() == "none"]
        if unsigned:
            # an unsigned token proves nothing; the verifier would refuse it anyway
            raise ValueError(f"JWT_ALGORITHMS: {unsigned[0]!r} (unsigned tokens) is not accepted")
        uses_secret = any(a.startswith("HS") for a in self.jwt_algorithms)
        if uses_secret and not self.jwt_secret:
            raise ValueError("JWT_SECRET is required for HS* algorithms")
        if uses_secret and self.jwt_secret and len(self.jwt_secret) < 32:
            raise ValueError("JWT_SECRET must be at least 32 characters")
        # The placeholder is public: accept it only on the embedded development server, or
        # where ENVIRONMENT=development/test is said explicitly.
        said_development = "environment" in self.model_fields_set and self.environment != (
            "production"
        )
        if (
            uses_secret
            and self.jwt_secret == PLACEHOLDER_JWT_SECRET
            and (self.environment == "production" or not (self.embedded or said_development))
        ):
            raise ValueError(
                "JWT_SECRET is the development placeholder; set a real secret "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
            )
        if self.environment == "production" and self.embedded:
            raise ValueError(
                "ENVIRONMENT=production needs WRITE_DATABASE_URL and READ_DATABASE_URL "
                "(the embedded PostgreSQL is for development)"
            )
        if any(not a.startswith("HS") for a in self.jwt_algorithms) and not (
            self.jwks_url or self.jwks_file
        ):
            raise ValueError("RS*/ES* algorithms need JWKS_URL or JWKS_FILE")
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(
                    f"TRUSTED_PROXIES: {proxy!r} is not an IP address or network"
                ) from None
        if self.read_pool_min_size > self.read_pool_max_size:
            raise ValueError("READ_POOL_MIN_SIZE exceeds READ_POOL_MAX_SIZE")
        return self

    @property
    def tenant_limit(self) -> int:
        """TENANT_MAX_CONCURRENCY; unset, in production 2 or half the read pool if that is
        less (one tenant never holds all of it; half of it while other tenants are served:
        bench/fairness.py, at 2 per worker another tenant keeps its latency within 2x
        under a flood, and the flooding tenant its throughput), and no limit in
        development and test, where one developer or one test is every tenant there is."""
        if self.tenant_max_concurrency is not None:
            return self.tenant_max_concurrency
        if self.environment != "production":
            return 0
        return max(1, min(2, self.read_pool_max_size // 2))

    @property
    def embedded(self) -> bool:
        return not self.write_database_url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']).upper() or 'settings'}: {e['msg']}"
            for e in exc.errors()
        )
        raise SettingsError(f"invalid configuration: {problems}") from None
