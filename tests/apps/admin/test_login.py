"""The admin's front door (apps/admin/login.py): bounded bodies, malformed logins answered
with JSON 4xx, throttling per (username, client) that nobody else can trigger, hashing
outside the event loop (logins and password changes)."""

from __future__ import annotations

import asyncio
import ipaddress
import time
from typing import Any

import httpx
import pytest

from apps.admin.login import LoginGuard
from apps.admin.tables import AdminUser
from settings import get_settings
from tests.apps.admin.support import PASSWORD, login, new_operator, new_staff, open_session
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


@pytest.fixture
def guard(app: Any) -> LoginGuard:
    """The app's login guard, its counts reset (other tests log in too)."""
    mount = next(r for r in app.routes if getattr(r, "path", "") == "/admin")
    cells = [c.cell_contents for c in mount.app.__closure__]  # json_errors(LoginGuard(...))
    found = next(c for c in cells if isinstance(c, LoginGuard))
    found.per_login._failures.clear()
    found.per_client._failures.clear()
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
        for failures in guard.per_login._failures.values():
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
        guard.per_login._failures.clear()
        guard.per_client._failures.clear()
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


async def test_failed_logins_do_not_stall_other_requests(app: Any, guard: LoginGuard) -> None:
    """PBKDF2 (~0.3 s each) runs in threads: /healthz answers while 8 logins hash."""
    username = await new_operator()
    clients = [await with_csrf(browser(app, f"203.0.113.{20 + i}")) for i in range(8)]
    latencies: list[float] = []
    done = asyncio.Event()

    async def probe() -> None:
        async with browser(app) as health:
            while not done.is_set():
                # the whole round, pause included: a stalled loop delays the wake-up too
                started = time.perf_counter()
                await asyncio.sleep(0.005)
                assert (await health.get("/healthz")).status_code == 200
                latencies.append(time.perf_counter() - started)

    prober = asyncio.create_task(probe())
    try:
        await asyncio.sleep(0.05)
        results = await asyncio.gather(*(attempt(c, username, "wrong") for c in clients))
        assert all(r.status_code == 401 for r in results)
    finally:
        done.set()
        await prober
        for c in clients:
            await c.aclose()
    assert len(latencies) >= 5, latencies
    # hashing on the loop: rounds of 1-3.7 s here (8 hashes of ~0.27 s back to back);
    # in threads: about 0.1 s at worst on a busy 2-core machine
    assert max(latencies) < 0.5, max(latencies)


async def test_password_changes_hash_off_the_loop_and_take_effect(
    app: Any, tenant_a: Any, tenant_b: Any
) -> None:
    """Piccolo's change-password page hashes twice (the current password, the new one):
    in threads here, so /healthz answers meanwhile; the new password logs in, the old
    one no longer does, and another tenant's staff keep theirs."""
    changing = [await new_staff(tenant_a.id) for _ in range(4)]
    bystander = await new_staff(tenant_b.id)
    sessions = [await open_session(app, username) for username in changing]
    new_password = "a-new-and-long-password"
    body = {
        "current_password": PASSWORD,
        "new_password": new_password,
        "confirm_new_password": new_password,
    }
    started = time.perf_counter()
    AdminUser.hash_password(new_password)  # what one hash costs on this machine, now
    one_hash = time.perf_counter() - started
    latencies: list[float] = []
    done = asyncio.Event()

    async def probe() -> None:
        async with browser(app) as health:
            while not done.is_set():
                started = time.perf_counter()
                await asyncio.sleep(0.005)
                assert (await health.get("/healthz")).status_code == 200
                latencies.append(time.perf_counter() - started)

    prober = asyncio.create_task(probe())
    try:
        await asyncio.sleep(0.05)
        changed = await asyncio.gather(*(s.post("/change-password/", body) for s in sessions))
    finally:
        done.set()
        await prober
        for session in sessions:
            await session.client.aclose()
    assert all(r.status_code in (200, 303) for r in changed), [r.text for r in changed]
    # on the loop, one hash alone holds every other request for its whole duration (the
    # probe's worst round was 0.26-0.42 s here); in threads, 0.01 s
    assert len(latencies) >= 5 and max(latencies) < one_hash / 2, (one_hash, latencies)
    for username in changing:
        assert (await login(app, username, new_password)).status_code == 200
        assert (await login(app, username)).status_code == 401
    assert (await login(app, bystander)).status_code == 200
