"""The claims a request transaction carries: what `auth.jwt()` returns in the database.

Built here and only here, whether they come from a verified JWT (the API) or from an
admin login (tenant staff), so the database always sees the same shape: `sub`, a
canonical `tenant_id`, a known `tenant_role`, and `via`, the channel the audit log
records, which is the server's to say and never the token's.
"""

from __future__ import annotations

import functools
import json
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class TenantRole(StrEnum):
    """A member's role in their tenant (the token's `tenant_role`)."""

    member = "member"
    admin = "admin"


class Channel(StrEnum):
    """How a request reached the database (the audit log's `via`)."""

    api = "api"
    admin = "admin"


# The server's claim that turns the membership check off (never taken from a token).
MEMBERSHIP = "membership"


class ClaimsError(ValueError):
    """Claims that cannot name a tenant and a subject (the API answers 401)."""


@dataclass(frozen=True)
class Claims:
    tenant_id: uuid.UUID
    user_id: str
    tenant_role: TenantRole
    payload: dict[str, Any]

    def as_json(self) -> str:
        return self._json

    @functools.cached_property
    def _json(self) -> str:
        # once per claims: a cached token's claims serve many requests
        # NaN and infinity are numbers to Python's JSON reader but not JSON: PostgreSQL's
        # jsonb refuses them (build_claims turns the ValueError into a ClaimsError)
        return json.dumps(self.payload, separators=(",", ":"), allow_nan=False)


def build_claims(payload: dict[str, Any], via: Channel, check_membership: bool = True) -> Claims:
    """Validate and normalise claims; raise ClaimsError naming the faulty claim.

    `check_membership`: auth.begin_request refuses a subject that is not a current member
    of its tenant with the claimed role, unless the claims say `membership: token` (the
    identity provider is the authority), which only the server says, never the token."""
    tenant = payload.get("tenant_id")
    if not isinstance(tenant, str):
        raise ClaimsError("token has no tenant_id claim")
    try:
        tenant_id = uuid.UUID(tenant)
    except ValueError:
        raise ClaimsError("tenant_id claim is not a UUID") from None
    subject = payload.get("sub")
    if not isinstance(subject, str) or not subject:
        raise ClaimsError("token has no sub claim")
    try:
        tenant_role = TenantRole(payload.get("tenant_role", TenantRole.member))
    except ValueError:
        roles = " or ".join(TenantRole)
        raise ClaimsError(f"tenant_role claim must be {roles}") from None
    # The canonical UUID form is what the database compares against.
    normalised = {
        **{k: v for k, v in payload.items() if k != MEMBERSHIP},
        "tenant_id": str(tenant_id),
        "tenant_role": tenant_role.value,
        "via": via.value,
    }
    if not check_membership:
        normalised[MEMBERSHIP] = "token"
    claims = Claims(tenant_id, subject, tenant_role, normalised)
    try:
        as_json = claims.as_json()
    except ValueError:
        raise ClaimsError(
            "token claims contain a number JSON cannot hold (NaN or infinity)"
        ) from None
    if "\\u0000" in as_json:
        # PostgreSQL's jsonb (auth.begin_request reads the claims as jsonb) has no NUL
        raise ClaimsError("token claims contain a NUL character")
    return claims
