"""`piccolo rls check` on what RLS cannot guard (refresh/rls/check/exposure.py): a
materialized view, a relation outside schema public, a sequence, each made reachable by a
request role as a hand-written migration would. Seen from two tenants: B reads A's rows
(or counts A's) through it; the check names it; its printed fix, run literally, clears
the report and closes the door to B."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import asyncpg
import pytest

from tests.database import superuser_sql, test_database
from tests.refresh.rls.test_check import check, follow
from tests.request_sql import as_request

#: name -> (SQL making the mistake as a superuser, with {a} for tenant A's id and
#: {marker} for a row of A's; what tenant B runs to read through it; the SQL undoing it;
#: the name the problem gives; its code)
EXPOSURES: dict[str, tuple[str, str, str, str, str]] = {
    "materialized view over a tenant table": (
        # made as a superuser (it reads every tenant's rows, as an owner with BYPASSRLS or
        # a refresh outside RLS would), owned by the admin role as a migration leaves it
        "create materialized view project_names as select tenant_id, name from project; "
        "alter materialized view project_names owner to refresh_admin; "
        "grant select on project_names to authenticated",
        "select name from project_names",
        "drop materialized view if exists project_names",
        "project_names",
        "materialized_view_readable",
    ),
    "materialized view made and owned by a superuser": (
        # the admin role's revoke would revoke nothing (a warning only): the fix says
        # who may run it
        "create materialized view project_names as select tenant_id, name from project; "
        "grant select on project_names to authenticated",
        "select name from project_names",
        "drop materialized view if exists project_names",
        "project_names",
        "materialized_view_readable",
    ),
    "materialized view granted to a role the request role inherits": (
        # revoking from the request roles alone would leave it readable: the fix names
        # the role the grant was made to
        "create role project_readers nologin; grant project_readers to authenticated; "
        "create materialized view project_names as select tenant_id, name from project; "
        "alter materialized view project_names owner to refresh_admin; "
        "grant select on project_names to project_readers",
        "select name from project_names",
        "drop materialized view if exists project_names; drop role if exists project_readers",
        "project_names",
        "materialized_view_readable",
    ),
    "table in another schema": (
        "create schema reporting authorization refresh_admin; "
        "grant usage on schema reporting to authenticated; "
        "create table reporting.project_names as select tenant_id, name from public.project; "
        "alter table reporting.project_names owner to refresh_admin; "
        "grant select on reporting.project_names to authenticated",
        "select name from reporting.project_names",
        "drop schema if exists reporting cascade",
        "reporting.project_names",
        "relation_outside_public",
    ),
    "view without security_invoker in another schema": (
        # two problems, two fixes: security_invoker (the view, named with its schema)
        # and the revoke; after either alone B would read nothing of A's
        "create schema reporting authorization refresh_admin; "
        "grant usage on schema reporting to authenticated; set role refresh_admin; "
        "create view reporting.project_names as select tenant_id, name from public.project; "
        "grant select on reporting.project_names to authenticated",
        "select name from reporting.project_names",
        "drop schema if exists reporting cascade",
        "reporting.project_names",
        "relation_outside_public",
    ),
    "sequence usable by the request role": (
        # a hand-made ticket number: tenant A drew from it {count} times
        "set role refresh_admin; create sequence ticket_number_seq; "
        "select nextval('ticket_number_seq') from generate_series(1, 3); "
        "grant usage, select on sequence ticket_number_seq to authenticated",
        "select last_value::text as name from ticket_number_seq",
        "drop sequence if exists ticket_number_seq",
        "ticket_number_seq",
        "sequence_readable",
    ),
}


async def test_a_clean_database_has_no_exposure() -> None:
    """The project's own sequences (Piccolo's serial keys of the admin's tables) and
    schemas (auth: functions only) are granted to no request role."""
    from refresh.rls.check.exposure import exposure_problems

    assert [p.render() for p in await exposure_problems()] == []


@pytest.mark.parametrize("exposure", list(EXPOSURES))
async def test_exposure_is_reported_and_its_printed_fix_closes_it(
    exposure: str, tenant_a: Any, tenant_b: Any
) -> None:
    make, read, undo, table, code = EXPOSURES[exposure]
    marker = f"secret of A {uuid.uuid4()}"
    database = test_database()
    superuser_sql(
        database, f"insert into project (tenant_id, name) values ('{tenant_a.id}', '{marker}')"
    )
    try:
        superuser_sql(database, make)
        seen_by_b = [row["name"] for row in await as_request(tenant_b, read)]
        # B reads A's row (or, through the sequence, A's three draws)
        assert (marker in seen_by_b) if code != "sequence_readable" else seen_by_b == ["3"]

        result = await asyncio.to_thread(check)
        report = json.loads((await asyncio.to_thread(check, "--json")).stdout)
        assert result.returncode == 1, result.stdout
        assert f"[{code}]" in result.stdout
        [problem] = [p for p in report["problems"] if p["code"] == code]
        assert (problem["table"], problem["cause"]) == (table, None), problem
        assert "authenticated" in problem["message"]
        if exposure.startswith("view"):
            [view] = [p for p in report["problems"] if p["code"] == "view_without_security_invoker"]
            assert (view["table"], view["cause"]) == (table, None), view
        assert f"fix: {problem['fix']['text']}" in result.stdout
        for root in [p for p in report["problems"] if p["cause"] is None]:
            await asyncio.to_thread(follow, root["fix"])

        after = await asyncio.to_thread(check)
        assert after.returncode == 0, after.stdout
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await as_request(tenant_b, read)
    finally:
        superuser_sql(database, f"{undo}; delete from project where name = '{marker}'")
    assert (await asyncio.to_thread(check)).returncode == 0
