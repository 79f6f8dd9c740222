"""The admin behind HTTPS: piccolo-admin's CSRF check compares an HTTPS write's Origin with
its allowed hosts, which come from ADMIN_ALLOWED_HOSTS. Listed: the login works; any
other origin: 403."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from settings import get_settings
from tests.apps.admin.support import PASSWORD, new_operator

HOST = "admin.example.test"


@pytest.fixture
def https_app(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The app built with ADMIN_ALLOWED_HOSTS set (the pools are the test session's)."""
    from app import create_app

    monkeypatch.setenv("ADMIN_ALLOWED_HOSTS", f'["{HOST}"]')
    get_settings.cache_clear()
    try:
        assert get_settings().admin_allowed_hosts == [HOST]
        yield create_app()
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


async def https_login(app: Any, origin: str, username: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=f"https://{HOST}") as client:
        await client.get("/admin/")
        client.headers["X-CSRFToken"] = client.cookies.get("csrftoken") or ""
        client.headers["Origin"] = origin
        return await client.post(
            "/admin/public/login/", json={"username": username, "password": PASSWORD}
        )


async def test_an_https_login_from_an_allowed_host_works(https_app: Any) -> None:
    username = await new_operator()
    assert (await https_login(https_app, f"https://{HOST}", username)).status_code == 200
    refused = await https_login(https_app, "https://evil.example.test", username)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"


async def test_without_the_setting_an_https_login_is_refused(app: Any) -> None:
    """What the review found: no allowed hosts, so every HTTPS write got 403."""
    username = await new_operator()
    assert (await https_login(app, f"https://{HOST}", username)).status_code == 403
