"""`piccolo rls doctor`: "my queries return no results", diagnosed step by step.

Every case runs the real CLI against the suite's database. Tests that break the schema
(a revoked grant, a dropped policy) put it back in `finally`: the database is shared.
"""

from __future__ import annotations

import json
import re
import uuid

import jwt

from apps.projects.tables import Project
from apps.tenants.operations import create_tenant
from apps.tenants.tables import Member
from refresh.db.clients import write_client
from refresh.db.sql import quote_ident
from refresh.rls.doctor import plural
from refresh.web.tokens import issue_token
from settings import get_settings
from tests.database import piccolo

TOKEN_DECIDES = {"MEMBERSHIP_CHECK": "false"}


def doctor(token: str, *args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    result = piccolo("rls", "doctor", "--token", token, *args, check=False, env=env)
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    return result


def diagnosis(output: str) -> str:
    lines = [line for line in output.splitlines() if line.startswith("Diagnosis: ")]
    assert len(lines) == 1, output
    return lines[0].removeprefix("Diagnosis: ")


def marks(output: str) -> dict[str, str]:
    """Step name -> its mark (the last one, when a step has a warning too)."""
    steps = {}
    for line in output.splitlines():
        if line[:1] in "✓✗!" and not line.startswith("Diagnosis"):
            name = re.split(r"\s{2,}", line[2:], maxsplit=1)[0]
            steps[name] = line[0]
    return steps


async def add_project(client, tenant) -> None:  # type: ignore[no-untyped-def]
    response = await client.post("/api/projects", json={"name": "doctor"}, headers=tenant.headers)
    assert response.status_code == 201, response.text


async def test_a_good_token_for_a_tenant_with_projects_is_all_good(client, tenant_a):
    await add_project(client, tenant_a)
    await add_project(client, tenant_a)
    own = await write_client.run(Project.count().where(Project.tenant_id == tenant_a.id))

    result = doctor(tenant_a.token, "--table", "project")
    assert result.returncode == 0, result.stdout
    assert diagnosis(result.stdout) == f"all good: this token sees {own} rows of project"
    assert set(marks(result.stdout).values()) == {"✓"}

    every_tenant_table = doctor(tenant_a.token)
    assert every_tenant_table.returncode == 0, every_tenant_table.stdout
    members = await write_client.run(Member.count().where(Member.tenant_id == tenant_a.id))
    # Every tenant table of every app is checked; apps may add tables after these two.
    assert diagnosis(every_tenant_table.stdout).startswith(
        f"all good: this token sees {plural(members)} of member, {plural(own)} of project"
    )
    assert {"member: rows", "project: rows"} <= set(marks(every_tenant_table.stdout))

    as_json = json.loads(doctor(tenant_a.token, "--table", "project", "--json").stdout)
    assert as_json["diagnosis"].startswith("all good")
    steps = {s["name"]: s for s in as_json["steps"]}
    assert steps["project: rows"]["ok"] is True
    assert f"sees {own} rows" in steps["project: rows"]["detail"]
    assert set(steps["tenant"]) == {"name", "ok", "level", "detail"}


async def test_a_token_of_no_tenant(client, tenant_a):
    missing = uuid.uuid4()
    result = doctor(issue_token(get_settings(), missing, "u"))
    assert result.returncode == 1
    assert diagnosis(result.stdout) == (
        f"the token's tenant_id {missing} matches no tenant: the token was issued for another "
        "database or the tenant was deleted"
    )
    assert marks(result.stdout)["tenant"] == "✗"
    assert marks(result.stdout)["token"] == "✓"


async def test_an_expired_token_stops_at_the_token(tenant_a):
    result = doctor(issue_token(get_settings(), tenant_a.id, "u", ttl_seconds=-120))
    assert result.returncode == 1
    assert re.fullmatch(
        r"the token has expired \(at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, 2 min ago\): get a new "
        r"one .*",
        diagnosis(result.stdout),
    )
    assert marks(result.stdout) == {"token": "✗"}  # nothing runs without verified claims


def test_a_forged_or_malformed_token_is_refused_without_a_traceback():
    claims = {"sub": "u", "tenant_id": str(uuid.uuid4()), "exp": 2_000_000_000}
    forged = jwt.encode(claims, "another-secret-of-at-least-32-characters!", algorithm="HS256")
    for token in (forged, "not-a-jwt"):
        result = doctor(token)
        assert result.returncode == 1
        assert diagnosis(result.stdout).startswith("the token is refused")
    bad_claim = jwt.encode({**claims, "tenant_id": "acme"}, get_settings().jwt_secret)
    result = doctor(bad_claim)
    assert marks(result.stdout) == {"token": "✓", "claims": "✗"}
    assert "tenant_id claim is not a UUID" in diagnosis(result.stdout)


async def test_a_table_without_the_select_grant(client, tenant_a):
    await add_project(client, tenant_a)
    role = quote_ident(get_settings().authenticated_role)
    await write_client.fetch(f"revoke select on project from {role}")
    try:
        result = doctor(tenant_a.token, "--table", "project")
    finally:
        await write_client.fetch(f"grant select on project to {role}")
    assert result.returncode == 1
    assert diagnosis(result.stdout) == (
        f"{get_settings().authenticated_role} has no SELECT grant on project: "
        "`piccolo rls check` gives the fix"
    )
    assert marks(result.stdout)["project: grant"] == "✗"
    assert doctor(tenant_a.token, "--table", "project").returncode == 0  # restored


async def test_a_table_without_a_select_policy(client, tenant_a):
    await add_project(client, tenant_a)
    await write_client.fetch("drop policy tenant_isolation_select on project")
    try:
        result = doctor(tenant_a.token, "--table", "project")
    finally:
        await write_client.fetch(
            "create policy tenant_isolation_select on project as permissive for select "
            f"to {quote_ident(get_settings().authenticated_role)} "
            "using (tenant_id = auth.tenant_id())"
        )
    assert result.returncode == 1
    assert diagnosis(result.stdout) == (
        "RLS allows no rows: table project has no SELECT policy for "
        f"{get_settings().authenticated_role}"
    )
    assert marks(result.stdout)["project: rows"] == "✗"  # and indeed it sees nothing
    assert doctor(tenant_a.token, "--table", "project").returncode == 0  # restored


async def test_a_table_whose_rls_is_not_forced_is_no_all_good(client, tenant_a):
    await add_project(client, tenant_a)
    await write_client.fetch("alter table project no force row level security")
    try:
        result = doctor(tenant_a.token, "--table", "project")
    finally:
        await write_client.fetch("alter table project force row level security")
    assert result.returncode == 1
    assert diagnosis(result.stdout) == (
        "RLS of project is enabled but not forced: its owner's queries skip the policies; "
        "`piccolo rls check` gives the fix"
    )
    assert marks(result.stdout)["project: rls"] == "✗"
    assert doctor(tenant_a.token, "--table", "project").returncode == 0  # restored


async def test_a_tenant_without_rows_in_the_table(client, tenant_a):
    await add_project(client, tenant_a)  # the table holds rows, of other tenants
    slug = f"doctor-{uuid.uuid4().hex[:8]}"
    token = issue_token(get_settings(), await create_tenant(slug, "Doctor"), "u")
    total = await write_client.run(Project.count())

    # the token's subject is nobody's member: the token alone decides here (its tenant
    # having no rows is what this test is about)
    result = doctor(token, "--table", "project", env=TOKEN_DECIDES)
    assert result.returncode == 1
    assert diagnosis(result.stdout) == (
        f"no rows: tenant {slug} has no rows in project (the table holds {plural(total)} of "
        "other tenants)"
    )
    assert marks(result.stdout)["tenant"] == "✓"

    # Without --table: the tenant has no rows anywhere, and no table is at fault.
    everywhere = doctor(token, env=TOKEN_DECIDES)
    assert everywhere.returncode == 1
    assert diagnosis(everywhere.stdout).startswith(
        f"no rows: tenant {slug} has no rows in member, project"
    )
    assert marks(everywhere.stdout)["project: rows"] == "!"


async def test_an_unknown_table(tenant_a):
    result = doctor(tenant_a.token, "--table", "no_such_table")
    assert result.returncode == 1
    assert marks(result.stdout)["no_such_table"] == "✗"
    assert diagnosis(result.stdout).startswith(
        "table no_such_table does not exist: check the name (public has "
    )
    assert "project" in diagnosis(result.stdout)

    as_json = json.loads(doctor(tenant_a.token, "--table", "no_such_table", "--json").stdout)
    assert as_json["steps"][-1] == {
        "name": "no_such_table",
        "ok": False,
        "level": "fail",
        "detail": "table no_such_table does not exist in schema public",
    }


def test_expiry_text_never_calls_a_past_moment_future():
    import time

    from refresh.rls.doctor import expiry_text

    now = time.time()
    assert expiry_text(now - 20).endswith("under a minute ago")
    assert expiry_text(now + 20).endswith("in under a minute")
    assert expiry_text(now - 600).endswith("10 min ago")
    assert expiry_text(now + 600).endswith("in 10 min")


async def test_a_token_of_no_member_is_diagnosed_and_the_advice_clears_it(client, tenant_a):
    """Membership is checked at request start: the doctor says so, and adding the member
    as it advises (POST /api/members with a tenant admin's token) clears it."""
    user = f"newcomer-{uuid.uuid4().hex[:6]}"
    token = issue_token(get_settings(), tenant_a.id, user)
    result = doctor(token, "--table", "project")
    assert result.returncode != 0
    said = diagnosis(result.stdout)
    assert f"{user} is not a current member of its tenant" in said
    assert "POST /api/members with a tenant admin's token" in said
    added = await client.post(
        "/api/members",
        json={"user_id": user, "email": f"{user}@x.test", "display_name": "Newcomer"},
        headers={"Authorization": f"Bearer {tenant_a.admin_token}"},
    )
    assert added.status_code == 201, added.text
    assert marks(doctor(token, "--table", "project").stdout)["role switch"] == "✓"
