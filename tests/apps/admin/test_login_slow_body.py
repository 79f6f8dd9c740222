"""The admin's login reads its body under the same read timeout as the API: a client that
never finishes sending gets 408 (JSON) instead of holding the worker's attention, and a
login that arrives in time still works."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from settings import get_settings
from tests.apps.admin.support import PASSWORD, new_operator


def login_scope(app: Any) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "POST",
        "path": "/admin/public/login/",
        "raw_path": b"/admin/public/login/",
        "root_path": "",
        "query_string": b"",
        "scheme": "http",
        "http_version": "1.1",
        "headers": [(b"content-type", b"application/json"), (b"host", b"refresh.test")],
        "server": ("refresh.test", 80),
        "client": ("127.0.0.1", 1),
        "app": app,
    }


async def test_a_login_body_that_never_arrives_is_408(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app import create_app

    monkeypatch.setattr(get_settings(), "body_read_timeout_seconds", 0.5)
    strict = create_app()  # the login guard takes the timeout when it is built
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(3600)  # the client opened the request and went quiet
        raise AssertionError("unreachable")

    started = time.monotonic()
    await asyncio.wait_for(strict(login_scope(strict), receive, send), 5)
    assert time.monotonic() - started < 2
    assert sent[0]["status"] == 408
    body = json.loads(b"".join(m.get("body", b"") for m in sent[1:]))
    assert body["error"]["code"] == "request_timeout"

    # a login whose body arrives in time is not affected
    username = await new_operator()
    payload = json.dumps({"username": username, "password": PASSWORD}).encode()
    chunks = [{"type": "http.request", "body": payload, "more_body": False}]
    sent.clear()

    async def receive_all() -> dict[str, Any]:
        return chunks.pop(0)

    scope = login_scope(strict)
    scope["headers"] += [(b"cookie", b"csrftoken=t0ken"), (b"x-csrftoken", b"t0ken")]
    await strict(scope, receive_all, send)
    assert sent[0]["status"] == 200, sent
