"""Admin sessions over ASGI: log in through piccolo-admin's own login endpoint, with its
CSRF cookie and header, exactly as the browser does."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from piccolo.apps.user.tables import BaseUser

from apps.admin.staff import create_operator, create_staff
from refresh.db.clients import write_client

PASSWORD = "correct-horse-battery"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def new_operator() -> str:
    username = unique("op")
    await create_operator(username, PASSWORD)
    return username


async def new_staff(tenant_id: Any) -> str:
    username = unique("staff")
    await create_staff(username, PASSWORD, tenant_id)
    return username


async def new_plain_admin() -> str:
    """An admin login that is neither an operator nor any tenant's staff."""
    username = unique("nobody")
    await BaseUser.create_user(
        username=username,
        password=PASSWORD,
        email=f"{username}@example.com",
        admin=True,
        active=True,
    )
    return username


@dataclass
class AdminSession:
    client: httpx.AsyncClient
    username: str

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(f"/admin/api{path}", params=params)

    async def rows(self, table: str, **params: Any) -> list[dict[str, Any]]:
        response = await self.get(f"/tables/{table}/", __page_size=1000, **params)
        assert response.status_code == 200, response.text
        rows: list[dict[str, Any]] = response.json()["rows"]
        return rows

    async def count(self, table: str, **params: Any) -> int:
        response = await self.get(f"/tables/{table}/count/", **params)
        assert response.status_code == 200, response.text
        return int(response.json()["count"])

    async def post(self, path: str, body: Any) -> httpx.Response:
        return await self.client.post(f"/admin/api{path}", json=body)

    async def patch(self, path: str, body: Any) -> httpx.Response:
        return await self.client.patch(f"/admin/api{path}", json=body)

    async def delete(self, path: str) -> httpx.Response:
        return await self.client.delete(f"/admin/api{path}")


async def login(app: Any, username: str, password: str = PASSWORD) -> httpx.Response:
    """A fresh client's login attempt; the response carries the session cookie if any."""
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://refresh.test"
    )
    async with client:
        return await _login(client, username, password)


async def _login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    await client.get("/admin/")  # sets the csrftoken cookie
    client.headers["X-CSRFToken"] = client.cookies.get("csrftoken") or ""
    return await client.post(
        "/admin/public/login/", json={"username": username, "password": password}
    )


async def open_session(app: Any, username: str, password: str = PASSWORD) -> AdminSession:
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://refresh.test"
    )
    response = await _login(client, username, password)
    assert response.status_code == 200, response.text
    return AdminSession(client, username)


async def audit_rows(**where: Any) -> list[dict[str, Any]]:
    """Audit entries as the database holds them (write client, no RLS), newest first."""
    conditions = " and ".join(f"{column} = ${i}" for i, column in enumerate(where, 1))
    return await write_client.fetch(
        f"select * from audit_log where {conditions or 'true'} order by created_at desc",
        *where.values(),
    )
