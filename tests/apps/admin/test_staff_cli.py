"""`piccolo admin staff-create`, run as a developer runs it (a real subprocess), and the
login it makes, used through the admin."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from refresh.db.clients import write_client
from tests.apps.admin.support import login, open_session
from tests.apps.tasks.support import fresh_tenant
from tests.database import piccolo

ROOT = Path(__file__).resolve().parents[3]


def name() -> str:
    return f"cli-staff-{uuid.uuid4().hex[:8]}"


async def test_staff_create_with_password_env_makes_a_login_for_that_tenant(app: Any) -> None:
    mine, other = await fresh_tenant("cli-a"), await fresh_tenant("cli-b")
    username = name()
    result = piccolo(
        "admin",
        "staff-create",
        username,
        "--tenant",
        mine.slug,
        "--password-env",
        "STAFF_PW",
        env={"STAFF_PW": "s3cret-enough"},
    )
    assert f"staff user {username} created for tenant {mine.slug}" in result.stdout
    session = await open_session(app, username, "s3cret-enough")
    assert {r["id"] for r in await session.rows("tenant")} == {str(mine.id)}
    assert str(other.id) not in {r["tenant_id"] for r in await session.rows("member")}
    [profile] = await write_client.fetch(
        "select p.tenant_id, u.admin, u.superuser, u.active from staff_profile p"
        " join piccolo_user u on u.id = p.user_id where u.username = $1",
        username,
    )
    assert profile == {"tenant_id": mine.id, "admin": True, "superuser": False, "active": True}


async def test_staff_create_refuses_bad_input_and_changes_nothing() -> None:
    tenant = await fresh_tenant("cli-c")
    taken = name()
    ok = {"STAFF_PW": "long-enough-pw"}
    piccolo(
        "admin",
        "staff-create",
        taken,
        "--tenant",
        tenant.slug,
        "--password-env",
        "STAFF_PW",
        env=ok,
    )
    cases = [
        (["--tenant", "no-such-tenant", "--password-env", "STAFF_PW"], ok, "no tenant"),
        (["--tenant", tenant.slug, "--password-env", "UNSET_VAR"], {}, "UNSET_VAR"),
        (["--tenant", tenant.slug, "--password-env", "STAFF_PW"], {"STAFF_PW": "abc"}, "short"),
    ]
    before = await write_client.fetch("select count(*) as n from piccolo_user")
    for args, env, message in cases:
        result = piccolo("admin", "staff-create", name(), *args, env=env, check=False)
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        assert message in result.stdout + result.stderr
    duplicate = piccolo(
        "admin",
        "staff-create",
        taken,
        "--tenant",
        tenant.slug,
        "--password-env",
        "STAFF_PW",
        env=ok,
        check=False,
    )
    assert duplicate.returncode == 1 and "exists already" in duplicate.stderr + duplicate.stdout
    assert await write_client.fetch("select count(*) as n from piccolo_user") == before


def run_with_terminal(args: list[str], answers: list[str]) -> tuple[int, str]:
    """Run the CLI on a pseudo-terminal, typing `answers` at its prompts."""
    main, child = pty.openpty()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "piccolo"), *args],
        stdin=child,
        stdout=child,
        stderr=child,
        cwd=ROOT,
        env=os.environ.copy(),
        start_new_session=True,
    )
    os.close(child)
    output = b""
    pending = list(answers)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            chunk = os.read(main, 1024)
        except OSError:
            break  # the child closed the terminal
        output += chunk
        if pending and b"assword" in chunk:
            os.write(main, pending.pop(0).encode() + b"\n")
    os.close(main)
    return process.wait(30), output.decode(errors="replace")


async def test_staff_create_prompts_for_the_password_twice(app: Any) -> None:
    tenant = await fresh_tenant("cli-d")
    username = name()
    code, output = run_with_terminal(
        ["admin", "staff-create", username, "--tenant", tenant.slug],
        ["typed-password", "typed-password"],
    )
    assert code == 0, output
    assert "typed-password" not in output  # not echoed
    assert (await login(app, username, "typed-password")).status_code == 200

    code, output = run_with_terminal(
        ["admin", "staff-create", name(), "--tenant", tenant.slug], ["one-password", "another"]
    )
    assert code == 1 and "differ" in output


async def test_an_operator_made_by_piccolo_user_create_sees_every_tenant(app: Any) -> None:
    """Operators are Piccolo's own users with admin and superuser set."""
    mine, other = await fresh_tenant("cli-op-a"), await fresh_tenant("cli-op-b")
    username = name()
    piccolo(
        "user",
        "create",
        f"--username={username}",
        f"--email={username}@example.com",
        "--password=operator-password",
        "--is_admin=t",
        "--is_superuser=t",
        "--is_active=t",
    )
    session = await open_session(app, username, "operator-password")
    tenants = {r["id"] for r in await session.rows("tenant")}
    assert {str(mine.id), str(other.id)} <= tenants
    [entry] = await write_client.fetch(
        "select actor, via from audit_log"
        " where table_name = 'piccolo_user' and changes->>'username' = $1",
        username,
    )
    assert entry == {"actor": "system:refresh: piccolo user create", "via": "write client"}
