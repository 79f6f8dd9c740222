"""After an erase and an import, the tenant's staff logins remain but are nobody's staff
(the erase removes staff profiles; exports never hold them): `piccolo admin staff-create`
attaches such a login again, as docs/database-guide.md says to, and refuses a login that
is an operator or another tenant's staff. Run as a developer runs it (a real subprocess)."""

from __future__ import annotations

import re
import shlex
import uuid
from pathlib import Path
from typing import Any

from apps.admin.tables import AdminUser
from refresh.db.clients import write_client
from refresh.lifecycle.erase import erase_tenant
from refresh.lifecycle.export import export_tenant
from refresh.lifecycle.restore import import_tenant
from tests.apps.admin.support import (
    PASSWORD,
    login,
    new_operator,
    new_plain_admin,
    new_staff,
    open_session,
)
from tests.apps.tasks.support import fresh_tenant
from tests.database import piccolo


async def profiles(username: str) -> list[Any]:
    rows = await write_client.fetch(
        "select p.tenant_id from staff_profile p join piccolo_user u on u.id = p.user_id"
        " where u.username = $1",
        username,
    )
    return [r["tenant_id"] for r in rows]


async def test_staff_of_an_erased_then_imported_tenant_are_attached_again(
    app: Any, tmp_path: Path
) -> None:
    a, b = await fresh_tenant("re-a"), await fresh_tenant("re-b")
    kept, renewed, of_b = await new_staff(a.id), await new_staff(a.id), await new_staff(b.id)
    saved = tmp_path / f"{a.slug}.jsonl.gz"
    await export_tenant(a.slug, saved)
    await erase_tenant(a.slug)
    await import_tenant(saved)
    assert await profiles(kept) == [] and await profiles(renewed) == []
    assert (await login(app, kept)).status_code == 200  # a login...
    session = await open_session(app, kept)
    assert (await session.get("/tables/task/")).status_code == 403  # ...of no tenant

    # as the guide shows it: the login's password unchanged
    result = piccolo("admin", "staff-create", kept, "--tenant", a.slug)
    assert result.stdout.strip() == (
        f"staff user {kept} attached to tenant {a.slug} again, its password unchanged"
    )
    # as the reviewer typed it: the tenant positional, a new password from the environment
    result = piccolo(
        "admin", "staff-create", renewed, a.slug, "--password-env", "X", env={"X": "new-pw-12345"}
    )
    assert result.stdout.strip() == (
        f"staff user {renewed} attached to tenant {a.slug} again, its password from X"
    )
    assert (await login(app, renewed)).status_code == 401
    for username, password in ((kept, PASSWORD), (renewed, "new-pw-12345")):
        assert await profiles(username) == [a.id]
        staff = await open_session(app, username, password)
        assert {r["id"] for r in await staff.rows("tenant")} == {str(a.id)}
    assert await profiles(of_b) == [b.id]  # B's staff untouched


async def test_a_login_that_is_staff_or_operator_is_not_attached(app: Any) -> None:
    a, b = await fresh_tenant("re-c"), await fresh_tenant("re-d")
    of_b, operator = await new_staff(b.id), await new_operator()
    cases = (
        (of_b, a.slug, f"as the staff of tenant {b.slug}"),
        (of_b, b.slug, f"as the staff of tenant {b.slug}"),
        (operator, a.slug, "as an operator"),
    )
    for username, slug, message in cases:
        result = piccolo("admin", "staff-create", username, "--tenant", slug, check=False)
        assert result.returncode == 1, result.stdout
        assert "exists already" in result.stderr and message in result.stderr
        assert "Traceback" not in result.stderr
    assert await profiles(of_b) == [b.id]
    assert await profiles(operator) == []
    missing = piccolo(
        "admin", "staff-create", f"x-{uuid.uuid4().hex[:6]}", "--tenant", "nope", check=False
    )
    assert missing.returncode == 1 and "no tenant with slug 'nope'" in missing.stderr


async def test_a_login_no_admin_may_use_is_not_attached(app: Any) -> None:
    """Not an admin login (an app's own user): never made a tenant's staff by its name."""
    a = await fresh_tenant("re-e")
    username = f"app-user-{uuid.uuid4().hex[:6]}"
    await AdminUser.create_user(
        username=username, password=PASSWORD, email=f"{username}@example.com", admin=False
    )
    result = piccolo("admin", "staff-create", username, "--tenant", a.slug, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "is not an admin login" in result.stderr
    assert await profiles(username) == []


async def test_a_deactivated_login_is_attached_only_once_reactivated(app: Any) -> None:
    a, b = await fresh_tenant("re-f"), await fresh_tenant("re-g")
    username, of_b = await new_plain_admin(), await new_staff(b.id)
    await AdminUser.update({AdminUser.active: False}).where(AdminUser.username == username)
    refused = piccolo("admin", "staff-create", username, "--tenant", a.slug, check=False)
    assert refused.returncode == 1 and "deactivated" in refused.stderr
    assert await profiles(username) == []

    # The advice, as printed: reactivate, then the same command again.
    [advice] = re.findall(r"`piccolo ([^`]+)`", refused.stderr)
    piccolo(*shlex.split(advice))
    attached = piccolo("admin", "staff-create", username, "--tenant", a.slug)
    assert "attached to tenant" in attached.stdout
    assert await profiles(username) == [a.id]
    staff = await open_session(app, username)
    assert {r["id"] for r in await staff.rows("tenant")} == {str(a.id)}
    assert await profiles(of_b) == [b.id]  # B's staff untouched
