"""The admin's hostile-input catalogue, its account side: a password change with odd
fields (not text, too long, not JSON, not an object, not Unicode) is a JSON 4xx and
changes nothing; a session cookie that cannot be a session token is no session, not a
500 (a NUL in it was a database error)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.apps.admin.support import PASSWORD, login
from tests.apps.admin.test_admin_hostile_input import World, assert_4xx, make_world, raw
from tests.apps.tasks.support import assert_error


@pytest.fixture(scope="module")
async def world(app: Any, client: Any) -> World:
    return await make_world(app, client)


@pytest.fixture(autouse=True)
def _no_server_errors(no_server_errors: Any) -> None:
    """Nothing here is a server fault."""


@pytest.mark.parametrize(
    "body",
    [
        {"current_password": PASSWORD, "new_password": 5, "confirm_new_password": 5},
        {"current_password": [1], "new_password": "x" * 20, "confirm_new_password": "x" * 20},
        {
            "current_password": PASSWORD,
            "new_password": "x" * 129,
            "confirm_new_password": "x" * 129,
        },
        {"current_password": "wrong", "new_password": "y" * 20, "confirm_new_password": "y" * 20},
        {"current_password": PASSWORD, "new_password": "y" * 20, "confirm_new_password": "z" * 20},
        {},
        b"{nope",
        b"[" * 100_000,
        b'{"current_password": "a\\ud800", "new_password": "x", "confirm_new_password": "x"}',
        b"current_password=x&new_password=" + b"y" * 200 + b"&confirm_new_password=" + b"y" * 200,
    ],
    ids=[
        "number",
        "list",
        "too-long",
        "wrong-current",
        "mismatch",
        "empty",
        "broken",
        "deep",
        "surrogate",
        "form-too-long",
    ],
)
async def test_a_hostile_password_change_is_a_4xx_and_changes_nothing(
    app: Any, world: World, body: Any
) -> None:
    for session, _ in world.sessions:
        if isinstance(body, bytes):
            form = body.startswith(b"current_password=")
            media = "application/x-www-form-urlencoded" if form else "application/json"
            response = await raw(
                session, "POST", "/change-password/", body, **{"content-type": media}
            )
        else:
            response = await session.post("/change-password/", body)
        assert_4xx(response)
        # the password is the same, and the session still works
        assert (await login(app, session.username)).status_code == 200
        assert (await session.get("/tables/task/count/")).status_code == 200


@pytest.mark.parametrize(
    "cookie", ["\x00", "a\x00b", "x" * 5000, "a b", "é", "'; select 1 --", "%00"]
)
async def test_a_session_cookie_that_cannot_be_one_is_no_session(app: Any, cookie: str) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://refresh.test") as anon:
        header = f"id={cookie}; csrftoken=abc".encode()  # as a browser sends it: bytes
        for path in ("/admin/api/tables/task/", "/admin/api/user/", "/admin/api/tables/"):
            response = await anon.get(path, headers={"cookie": header})
            assert_error(response, 401)
        page = await anon.get("/admin/", headers={"cookie": header})
        assert page.status_code == 200  # the login page still shows
