"""Every bad credential is a 401 JSON with a Bearer challenge, and never reaches the database."""

from __future__ import annotations

import base64
import json
import time
import uuid

import jwt
import pytest

from settings import get_settings


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def signed(payload: dict, secret: str | None = None, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, secret or get_settings().jwt_secret, algorithm=algorithm)


def claims(tenant_id, **extra) -> dict:
    now = int(time.time())
    return {"sub": "user-1", "tenant_id": str(tenant_id), "exp": now + 600} | extra


def bad_tokens(tenant_id) -> dict[str, str | None]:
    now = int(time.time())
    good = claims(tenant_id)
    return {
        "missing": None,
        "empty bearer": "",
        "not a jwt": "hello",
        "two parts": "abc.def",
        "garbage segments": "a.b.c",
        "expired": signed({**good, "exp": now - 10}),
        "nbf in future": signed({**good, "nbf": now + 600}),
        "no exp": signed({k: v for k, v in good.items() if k != "exp"}),
        "wrong signature": signed(good, secret="another-secret-of-at-least-32-characters!"),
        "alg none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(good)}.",
        "alg none no dot": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(good)}",
        "HS512 not accepted": signed(good, secret="k" * 64, algorithm="HS512"),
        "no tenant_id": signed({k: v for k, v in good.items() if k != "tenant_id"}),
        "tenant_id not a uuid": signed({**good, "tenant_id": "acme"}),
        "tenant_id sql": signed({**good, "tenant_id": "' or 1=1 --"}),
        "tenant_id array": signed({**good, "tenant_id": [str(tenant_id)]}),
        "tenant_id object": signed({**good, "tenant_id": {"id": str(tenant_id)}}),
        "no sub": signed({k: v for k, v in good.items() if k != "sub"}),
        "unknown tenant_role": signed({**good, "tenant_role": "owner"}),
        "oversized": signed({**good, "pad": "x" * 20_000}),
    }


@pytest.mark.parametrize("case", list(bad_tokens(uuid.uuid4()).keys()))
async def test_bad_token_is_401_json(client, tenant_a, case, no_server_errors):
    from tests.apps.tasks.support import table_counts

    token = bad_tokens(tenant_a.id)[case]
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    before = await table_counts()
    post = await client.post("/api/projects", json={"name": "with a bad token"}, headers=headers)
    assert post.status_code == 401
    assert await table_counts() == before
    response = await client.get("/api/projects", headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    error = response.json()["error"]
    assert error["code"] in {"missing_token", "invalid_token", "token_expired"}
    assert "Traceback" not in response.text and "select" not in response.text.lower()


async def test_wrong_scheme_is_401(client, tenant_a):
    for value in (f"Basic {tenant_a.token}", tenant_a.token, "Bearer"):
        response = await client.get("/api/projects", headers={"Authorization": value})
        assert response.status_code == 401


async def test_a_role_claim_cannot_choose_the_database_role(client, tenant_a):
    token = signed(
        claims(tenant_a.id, sub=f"{tenant_a.slug}-admin", role="refresh_admin", tenant_role="admin")
    )
    response = await client.get("/api/_test/session", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json()["role"] == get_settings().authenticated_role


async def test_valid_token_for_an_unknown_tenant_sees_nothing(client, tenant_a):
    await client.post("/api/projects", json={"name": "exists"}, headers=tenant_a.headers)
    token = signed(claims(uuid.uuid4()))
    response = await client.get("/api/projects", headers={"Authorization": f"Bearer {token}"})
    # nobody is a member of a tenant that does not exist: refused, nothing seen
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_a_member"
