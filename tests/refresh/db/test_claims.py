"""refresh/db/claims.py: the one place claims are built, for the API and the admin."""

from __future__ import annotations

import uuid

import pytest

from refresh.db.claims import Channel, ClaimsError, TenantRole, build_claims

TENANT = uuid.uuid4()


def test_claims_are_normalised_and_the_channel_is_the_servers() -> None:
    claims = build_claims(
        {"sub": "u", "tenant_id": str(TENANT).upper(), "via": "admin", "x": 1}, Channel.api
    )
    assert claims.tenant_id == TENANT and claims.user_id == "u"
    assert claims.tenant_role is TenantRole.member  # absent: the least privilege
    assert claims.payload == {
        "sub": "u",
        "tenant_id": str(TENANT),
        "tenant_role": "member",
        "via": "api",  # never the token's
        "x": 1,
    }


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"sub": "u"}, "token has no tenant_id claim"),
        ({"sub": "u", "tenant_id": "acme"}, "tenant_id claim is not a UUID"),
        ({"tenant_id": str(TENANT)}, "token has no sub claim"),
        ({"sub": "", "tenant_id": str(TENANT)}, "token has no sub claim"),
        (
            {"sub": "u", "tenant_id": str(TENANT), "tenant_role": "owner"},
            "tenant_role claim must be member or admin",
        ),
    ],
)
def test_unusable_claims_are_refused_by_name(payload: dict[str, object], message: str) -> None:
    with pytest.raises(ClaimsError, match=message):
        build_claims(payload, Channel.api)


def test_a_nul_in_any_claim_is_refused_as_a_bad_token() -> None:
    # jsonb, as auth.begin_request reads the claims, cannot hold one: a 401, never a 500
    payload = {"sub": "a", "tenant_id": str(uuid.uuid4()), "name": "x\x00y"}
    with pytest.raises(ClaimsError, match="NUL"):
        build_claims(payload, Channel.api)


@pytest.mark.parametrize("number", [float("inf"), float("-inf"), float("nan")])
def test_a_number_json_cannot_hold_is_refused_as_a_bad_token(number: float) -> None:
    # Python's JSON reader takes 1e999 and NaN; jsonb does not: a 401, never a 422 or 500
    payload = {"sub": "a", "tenant_id": str(uuid.uuid4()), "score": number}
    with pytest.raises(ClaimsError, match="NaN or infinity"):
        build_claims(payload, Channel.api)
