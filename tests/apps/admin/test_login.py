"""The admin's front door (apps/admin/login.py): bounded bodies, malformed logins answered
with JSON 4xx, throttling per (username, client) that nobody else can trigger, hashing
outside the event loop (test_login_hashing.py)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from apps.admin.login import LoginGuard
from settings import get_settings
from tests.apps.admin.support import PASSWORD, new_operator
from tests.apps.tasks.support import assert_error

LOGIN = "/admin/public/login/"


def browser(app: Any, address: str = "127.0.0.1", **headers: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://refresh.test", headers=headers)


async def with_csrf(client: httpx.AsyncClient) -> httpx.AsyncClient:
    await client.get("/admin/")
    client.headers["X-CSRFToken"] = client.cookies.get("csrftoken") or ""
    return client


async def attempt(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post(LOGIN, json={"username": username, "password": password})


@pytest.fixture
def _no_server_errors(no_server_errors: Any) -> None:
    """Nothing here is a server fault."""


async def test_an_ipv6_client_is_counted_by_its_64_however_it_rotates(
    client_limited_app: Any,
) -> None:
    """A line gets a whole /64 and may use any address in it: each attempt from a new
    address of the same /64 still counts against that one client, which is refused at
    the client limit; a client of the next /64 is not."""
    app = client_limited_app
    username = await new_operator()
    for i in range(CLIENT_LIMIT):
        async with browser(app, f"2001:db8:7:1::{i + 1:x}") as rotating:
            await with_csrf(rotating)
            response = await attempt(rotating, f"{username}-guess-{i}", "wrong-password")
            assert response.status_code == 401, (i, response.text)
    async with browser(app, "2001:db8:7:1:ffff:ffff:ffff:fffe") as rotating:
        await with_csrf(rotating)
        assert_error(await attempt(rotating, username, PASSWORD), 429, "too_many_attempts")
    async with browser(app, "2001:db8:7:2::1") as neighbour:
        await with_csrf(neighbour)
        assert (await attempt(neighbour, username, PASSWORD)).status_code == 200


def login_guard(app: Any) -> LoginGuard:
    mount = next(r for r in app.routes if getattr(r, "path", "") == "/admin")
    cells = [c.cell_contents for c in mount.app.__closure__]  # json_errors(LoginGuard(...))
    found: LoginGuard = next(c for c in cells if isinstance(c, LoginGuard))
    return found


@pytest.fixture
def guard(app: Any) -> LoginGuard:
    """The app's login guard, its counts reset (other tests log in too)."""
    found = login_guard(app)
    found.per_login.reset()
    found.per_client.reset()
    return found


@pytest.mark.parametrize(
    "content",
    [
        b'{"username": "a", "password": [1]}',
        b'{"username": "a", "password": 5}',
        b'{"username": "a", "password": null}',
        b'{"username": {"x": 1}, "password": "p"}',
        b'{"username": "a", "password": "\xff\xfe"}',
        b'{"username": "a", "password": "\\ud800"}',
        b'{"username": "a\\u0000", "password": "p"}',
        b"[1, 2]",
        b"null",
        b'"text"',
        b"{broken",
        b"",
        b'{"username": "a"}',
        b'{"password": "p"}',
        b'{"username": "", "password": "p"}',
        b'{"username": "a", "password": ""}',
        b'{"username": "a", "password": "p"} trailing',
        b"[" * 100_000,
        b'{"username": ' + b"1" * 5_000 + b', "password": "p"}',
        b'{"username": "a", "password": "' + b"p" * 200_000 + b'"}',
    ],
)
async def test_a_malformed_login_body_is_a_json_4xx(
    app: Any, guard: LoginGuard, content: bytes, _no_server_errors: None
) -> None:
    async with browser(app) as client:
        await with_csrf(client)
        response = await client.post(
            LOGIN, content=content, headers={"content-type": "application/json"}
        )
    error = assert_error(response, response.status_code)
    assert 400 <= response.status_code < 500, response.text
    assert "Traceback" not in error["message"]


@pytest.mark.parametrize(
    "content",
    [
        b"username=%00&password=p",
        b"username=a&password=%ED%A0%80",  # an encoded lone surrogate
        b"username=a",
        b"password=p",
        b"username=&password=",
        b"%FF%FE=x",
        b"username=a&username=b&password=p",
    ],
)
async def test_a_malformed_login_form_is_a_json_4xx(
    app: Any, guard: LoginGuard, content: bytes, _no_server_errors: None
) -> None:
    async with browser(app) as client:
        await with_csrf(client)
        response = await client.post(
            LOGIN, content=content, headers={"content-type": "application/x-www-form-urlencoded"}
        )
    assert 400 <= response.status_code < 500, response.text
    assert_error(response, response.status_code)


async def test_the_login_refuses_what_is_not_a_login_in_json(
    app: Any, guard: LoginGuard, _no_server_errors: None
) -> None:
    """No CSRF token, other methods, another page's POST: JSON errors, no session."""
    username = await new_operator()
    async with browser(app) as client:
        await client.get("/admin/")  # the CSRF cookie, but no header
        refused = await attempt(client, username, PASSWORD)
        assert_error(refused, 403)
        assert "id" not in client.cookies
        await with_csrf(client)
        for method in ("PUT", "PATCH", "DELETE"):
            assert_error(await client.request(method, LOGIN, json={}), 405)
        junk_cookie = await client.get("/admin/", headers={"cookie": "id=\x00; csrftoken=x"})
        assert junk_cookie.status_code == 200


async def test_a_login_body_of_another_media_type_is_415(app: Any, guard: LoginGuard) -> None:
    async with browser(app) as client:
        await with_csrf(client)
        response = await client.post(
            LOGIN, content=b"<x/>", headers={"content-type": "application/xml"}
        )
    assert_error(response, 415, "unsupported_media_type")


async def test_a_login_body_over_the_limit_is_413_however_it_arrives(
    app: Any, guard: LoginGuard
) -> None:
    limit = get_settings().max_body_bytes
    big = b'{"username": "a", "password": "' + b"x" * limit + b'"}'

    async def chunks() -> Any:  # no Content-Length: counted as it arrives
        for start in range(0, len(big), 65536):
            yield big[start : start + 65536]

    async with browser(app) as client:
        await with_csrf(client)
        sized = await client.post(LOGIN, content=big, headers={"content-type": "application/json"})
        streamed = await client.post(
            LOGIN, content=chunks(), headers={"content-type": "application/json"}
        )
        logout = await client.post("/admin/public/logout/", content=big)
    assert_error(sized, 413, "payload_too_large")
    assert_error(streamed, 413, "payload_too_large")
    assert_error(logout, 413, "payload_too_large")


async def test_the_right_password_still_logs_in_after_the_guard(
    app: Any, guard: LoginGuard
) -> None:
    username = await new_operator()
    async with browser(app) as client:
        await with_csrf(client)
        form = await client.post(
            LOGIN,
            content=f"username={username}&password={PASSWORD}".encode(),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert form.status_code == 200, form.text
        assert (await attempt(client, username, PASSWORD)).status_code == 200
        assert "id" in client.cookies


async def test_a_stranger_cannot_lock_out_another_client(app: Any, guard: LoginGuard) -> None:
    limit = get_settings().login_failure_limit
    username = await new_operator()
    async with browser(app, "203.0.113.7") as attacker, browser(app, "198.51.100.9") as owner:
        await with_csrf(attacker)
        await with_csrf(owner)
        for _ in range(limit):
            assert (await attempt(attacker, username, "wrong-password")).status_code == 401
        # the attacker is throttled, even with the right password...
        blocked = await attempt(attacker, username, PASSWORD)
        assert_error(blocked, 429, "too_many_attempts")
        assert int(blocked.headers["retry-after"]) > 0
        # ...the owner, from another client, is not
        assert (await attempt(owner, username, PASSWORD)).status_code == 200


async def test_a_block_ends_when_the_window_has_passed(app: Any, guard: LoginGuard) -> None:
    limit = get_settings().login_failure_limit
    username = await new_operator()
    async with browser(app, "203.0.113.8") as client:
        await with_csrf(client)
        for _ in range(limit):
            await attempt(client, username, "wrong-password")
        assert (await attempt(client, username, PASSWORD)).status_code == 429
        # the window passes: every recorded failure is older than it
        throttle = guard.per_login
        for failures in (*throttle._counting.values(), *throttle._blocked.values()):
            for i in range(len(failures)):
                failures[i] -= guard.per_login.window + 1
        assert (await attempt(client, username, PASSWORD)).status_code == 200


async def test_a_failed_html_login_counts_as_a_failure(app: Any, guard: LoginGuard) -> None:
    """piccolo answers a failed format=html login with 200 and the form again."""
    username = await new_operator()
    async with browser(app, "203.0.113.9") as client:
        await with_csrf(client)
        for _ in range(get_settings().login_failure_limit):
            await client.post(
                LOGIN, json={"username": username, "password": "nope", "format": "html"}
            )
        assert (await attempt(client, username, PASSWORD)).status_code == 429


async def test_x_forwarded_for_is_ignored_unless_the_proxy_is_trusted(
    app: Any, guard: LoginGuard
) -> None:
    limit = get_settings().login_failure_limit
    username = await new_operator()
    async with browser(app, "10.0.0.5") as proxy_client:
        await with_csrf(proxy_client)
        # not trusted: a forged header does not give each attempt a fresh identity
        for i in range(limit):
            proxy_client.headers["x-forwarded-for"] = f"192.0.2.{i}"
            await attempt(proxy_client, username, "wrong-password")
        assert (await attempt(proxy_client, username, PASSWORD)).status_code == 429
        guard.per_login.reset()
        guard.per_client.reset()
        # trusted: the forwarded client is the key, so one client behind the proxy
        # being throttled leaves the others alone
        guard.trusted = (*guard.trusted, ipaddress.ip_network("10.0.0.0/8"))
        try:
            proxy_client.headers["x-forwarded-for"] = "192.0.2.200"
            for _ in range(limit):
                await attempt(proxy_client, username, "wrong-password")
            assert (await attempt(proxy_client, username, PASSWORD)).status_code == 429
            proxy_client.headers["x-forwarded-for"] = "6.6.6.6, 192.0.2.201"  # left part forged
            assert (await attempt(proxy_client, username, PASSWORD)).status_code == 200
        finally:
            guard.trusted = guard.trusted[:-1]


CLIENT_LIMIT = 3


@pytest.fixture
def client_limited_app(app: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The app built with LOGIN_CLIENT_FAILURE_LIMIT=3 (the pools are the test session's,
    which `app` started); the limit per (username, client) stays above it."""
    from app import create_app

    monkeypatch.setenv("LOGIN_CLIENT_FAILURE_LIMIT", str(CLIENT_LIMIT))
    monkeypatch.setenv("LOGIN_FAILURE_LIMIT", "10")
    get_settings.cache_clear()
    try:
        assert get_settings().login_client_failure_limit == CLIENT_LIMIT
        limited = create_app()
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    guard = login_guard(limited)
    assert (guard.per_client.limit, guard.per_login.limit) == (CLIENT_LIMIT, 10)
    yield limited


async def test_one_client_failing_against_many_usernames_is_blocked_at_the_client_limit(
    client_limited_app: Any,
) -> None:
    """Each username is tried once (far below the limit per username and client), yet
    the client is refused after LOGIN_CLIENT_FAILURE_LIMIT failures in all, whatever
    username comes next, even a real one with its right password; another client is not."""
    app = client_limited_app
    username = await new_operator()
    async with browser(app, "203.0.113.20") as guesser, browser(app, "198.51.100.20") as other:
        await with_csrf(guesser)
        await with_csrf(other)
        for i in range(CLIENT_LIMIT):  # the last of them is still answered, not throttled
            response = await attempt(guesser, f"{username}-guess-{i}", "wrong-password")
            assert response.status_code == 401, (i, response.text)
        blocked = await attempt(guesser, f"{username}-guess-next", "wrong-password")
        assert_error(blocked, 429, "too_many_attempts")
        assert int(blocked.headers["retry-after"]) > 0
        assert_error(await attempt(guesser, username, PASSWORD), 429, "too_many_attempts")
        # the other client is not blocked: it fails as usual, and logs in
        assert (await attempt(other, f"{username}-guess-0", "wrong-password")).status_code == 401
        assert (await attempt(other, username, PASSWORD)).status_code == 200
        assert "id" in other.cookies
