"""The admin's password hashing (PBKDF2, ~0.3 s of CPU each) runs in threads, never in
the event loop: failed logins and password changes leave every other request of the
process answering."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from apps.admin.login import LoginGuard
from apps.admin.tables import AdminUser
from tests.apps.admin.support import (
    PASSWORD,
    login,
    new_operator,
    new_staff,
    open_session,
    unique,
)
from tests.apps.admin.test_login import attempt, browser, guard, with_csrf

__all__ = ["guard"]  # the fixture, shared with test_login.py


@dataclass
class Probe:
    """What the event loop did while a block ran: /healthz rounds (pause included; a
    stalled loop delays the wake-up too) and the CPU time of the loop's thread (this one).
    Hashing on the loop spends each hash's CPU in that thread; in a worker thread, none of
    it. The CPU time is the robust test: a busy machine (CI runs two suites side by side)
    can pause the whole process for a while, which lengthens rounds but costs the thread
    no CPU."""

    rounds: list[float] = field(default_factory=list)
    loop_cpu: float = 0.0


@contextlib.asynccontextmanager
async def healthz_rounds(app: Any) -> AsyncIterator[Probe]:
    """/healthz asked over and over while the block runs."""
    probe = Probe()
    done = asyncio.Event()

    async def ask() -> None:
        async with browser(app) as health:
            while not done.is_set():
                started = time.perf_counter()
                await asyncio.sleep(0.005)
                assert (await health.get("/healthz")).status_code == 200
                probe.rounds.append(time.perf_counter() - started)

    cpu_before = time.thread_time()
    prober = asyncio.create_task(ask())
    try:
        await asyncio.sleep(0.05)
        yield probe
    finally:
        done.set()
        await prober
        probe.loop_cpu = time.thread_time() - cpu_before


def one_hash_cpu() -> float:
    """The CPU time of one password hash on this machine, now."""
    started = time.thread_time()
    AdminUser.hash_password("a-new-and-long-password")
    return time.thread_time() - started


def assert_hashed_off_the_loop(probe: Probe, hashes: int, one_hash: float) -> None:
    """/healthz kept answering, and the loop's thread spent less CPU than half of the
    hashes' (on the loop it would spend all of it, besides the requests' own work)."""
    assert len(probe.rounds) >= 5, probe
    assert probe.loop_cpu < hashes * one_hash / 2, (hashes, one_hash, probe)


async def test_failed_logins_do_not_stall_other_requests(app: Any, guard: LoginGuard) -> None:
    """PBKDF2 (~0.3 s each) runs in threads: /healthz answers while 8 logins hash."""
    username = await new_operator()
    clients = [await with_csrf(browser(app, f"203.0.113.{20 + i}")) for i in range(8)]
    one_hash = one_hash_cpu()
    try:
        async with healthz_rounds(app) as probe:
            results = await asyncio.gather(*(attempt(c, username, "wrong") for c in clients))
        assert all(r.status_code == 401 for r in results)
    finally:
        for c in clients:
            await c.aclose()
    assert_hashed_off_the_loop(probe, 8, one_hash)


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
    one_hash = one_hash_cpu()
    try:
        async with healthz_rounds(app) as probe:
            changed = await asyncio.gather(*(s.post("/change-password/", body) for s in sessions))
    finally:
        for session in sessions:
            await session.client.aclose()
    assert all(r.status_code in (200, 303) for r in changed), [r.text for r in changed]
    assert_hashed_off_the_loop(probe, 2 * len(sessions), one_hash)  # current and new
    for username in changing:
        assert (await login(app, username, new_password)).status_code == 200
        assert (await login(app, username)).status_code == 401
    assert (await login(app, bystander)).status_code == 200


# what the logins page's add form sends
NEW_LOGIN = {
    "password": PASSWORD,
    "first_name": "",
    "last_name": "",
    "active": True,
    "admin": False,
    "superuser": False,
    "last_login": None,
}


async def test_operators_logins_page_hashes_off_the_loop(app: Any) -> None:
    """An operator adding logins, and setting their passwords by an edit, on the logins
    page: piccolo-api hashes both in the event loop; here in threads, so /healthz answers
    meanwhile, and the passwords work. A bad password is refused as Piccolo refuses it
    and changes nothing; the id of a login cannot be changed; the newest login comes first."""
    operator = await open_session(app, await new_operator())
    names = [unique("added") for _ in range(4)]
    one_hash = one_hash_cpu()
    try:
        async with healthz_rounds(app) as probe:
            added = await asyncio.gather(
                *(
                    operator.post(
                        "/tables/piccolo_user/",
                        {**NEW_LOGIN, "username": n, "email": f"{n}@x.test"},
                    )
                    for n in names
                )
            )
            assert [r.status_code for r in added] == [201] * 4, [r.text for r in added]
            ids = [r.json()["id"] for r in added]
            edited = await asyncio.gather(
                *(
                    operator.patch(f"/tables/piccolo_user/{i}/", {"password": "edited-password"})
                    for i in ids
                )
            )
        assert [r.status_code for r in edited] == [200] * 4, [r.text for r in edited]
        assert_hashed_off_the_loop(probe, 2 * len(names), one_hash)  # added, then edited

        too_short = await operator.patch(
            f"/tables/piccolo_user/{ids[0]}/", {"password": "x", "active": False}
        )
        assert too_short.status_code == 400
        assert "The password is too short. (min 6)" in too_short.text
        moved = await operator.patch(f"/tables/piccolo_user/{ids[1]}/", {"id": ids[1] + 10_000})
        assert moved.status_code == 422, moved.text
        newest = [r["id"] for r in await operator.rows("piccolo_user")][:4]
        assert newest == sorted(ids, reverse=True)  # added at once: in the order of their ids
    finally:
        await operator.client.aclose()
    assert (await login(app, names[0], "edited-password")).status_code == 200
    assert (await login(app, names[0], PASSWORD)).status_code == 401
    row = await AdminUser.select(AdminUser.active).where(AdminUser.id == ids[0]).first()
    assert row is not None and row["active"] is True  # the refused edit changed nothing
