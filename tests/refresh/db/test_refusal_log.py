"""A request refused by a missing grant or policy (issue #12, mistake 6): the client gets
the same 403 as before, and the log says which table, role and command to look at."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from refresh.db.clients import write_client
from refresh.db.refusals import logical_table
from tests.apps.tasks.support import new_project, new_task
from tests.database import superuser_sql, test_database


def forbidden_and_warned(response: Any, caplog: pytest.LogCaptureFixture, says: str) -> Any:
    """The client's 403, and the one warning of the refusal, which starts with `says`."""
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "forbidden"
    [warning] = [r for r in caplog.records if r.name == "refresh.db"]
    assert warning.levelno == logging.WARNING
    assert warning.getMessage().startswith(says), warning.getMessage()
    return warning


async def test_a_missing_grant_is_a_403_and_a_warning_naming_table_role_and_command(
    client: Any, tenant_a: Any, caplog: pytest.LogCaptureFixture
) -> None:
    project = (await new_project(client, tenant_a, "refused"))["id"]
    superuser_sql(test_database(), "revoke update on project from authenticated")
    try:
        caplog.set_level(logging.WARNING, logger="refresh")
        response = await client.patch(
            f"/api/projects/{project}", json={"name": "x"}, headers=tenant_a.headers
        )
    finally:
        superuser_sql(test_database(), "grant update on project to authenticated")
    warning = forbidden_and_warned(
        response,
        caplog,
        "refused by the database: update on project as authenticated "
        "(permission denied for table project)",
    )
    assert (warning.refused_table, warning.refused_command) == ("project", "update")  # type: ignore[attr-defined]


async def test_a_missing_update_or_delete_policy_is_a_404_and_a_warning(
    client: Any, tenant_a: Any, tenant_b: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Without a policy for the command, PostgreSQL refuses an update or delete silently:
    it matches no row. The client's answer stays what it was (404); the log names what
    is missing, but only where the caller can read the row: tenant B aiming at A's
    project is an ordinary 404, and nothing is logged for it."""
    project = (await new_project(client, tenant_a, "no policy"))["id"]
    sql = "drop policy tenant_isolation_{0} on project"
    restore = (
        "create policy tenant_isolation_update on project as permissive for update to "
        "authenticated using ({0}) with check ({0}); create policy tenant_isolation_delete "
        "on project as permissive for delete to authenticated using ({0})"
    )
    policies = (
        "select policyname, permissive, roles::text[], cmd, qual, with_check"
        " from pg_policies where tablename = 'project' order by policyname"
    )
    before = await write_client.fetch(policies)
    superuser_sql(test_database(), f"{sql.format('update')}; {sql.format('delete')}")
    try:
        caplog.set_level(logging.WARNING, logger="refresh")
        url = f"/api/projects/{project}"
        changed = await client.patch(url, json={"name": "x"}, headers=tenant_a.headers)
        deleted = await client.delete(url, headers=tenant_a.headers)
        mine = [r.getMessage() for r in caplog.records if r.name == "refresh.db"]
        caplog.clear()
        b_changed = await client.patch(url, json={"name": "x"}, headers=tenant_b.headers)
        b_deleted = await client.delete(url, headers=tenant_b.headers)
        theirs = [r for r in caplog.records if r.name == "refresh.db"]
    finally:
        superuser_sql(test_database(), restore.format("tenant_id = auth.tenant_id()"))
    assert (changed.status_code, deleted.status_code) == (404, 404)
    assert (b_changed.status_code, b_deleted.status_code) == (404, 404)
    assert mine == [
        f"refused by the database: {command} on project as authenticated (the row is "
        f"readable, but no {command} policy lets this caller change it); check the "
        "table's grants and policies with `piccolo rls check`"
        for command in ("update", "delete")
    ]
    assert theirs == []
    assert await write_client.fetch(policies) == before  # put back as they were
    still = await client.get(f"/api/projects/{project}", headers=tenant_a.headers)
    assert still.json()["name"] == "no policy"  # and nothing changed


UPDATE_POLICY = (
    "create policy tenant_isolation_update on {0} as permissive for update to authenticated"
    " using (tenant_id = auth.tenant_id()) with check (tenant_id = auth.tenant_id())"
)
DELETE_POLICY = (
    "create policy tenant_isolation_delete on {0} as permissive for delete to authenticated"
    " using (tenant_id = auth.tenant_id())"
)


async def test_a_comments_edit_and_delete_and_a_bulk_update_refused_by_policy_are_logged(
    client: Any, tenant_a: Any, tenant_b: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The same outside the shared resource code: a comment's edit and delete answered
    200 and 204 with nothing changed, and a bulk update 404, all without a word in the
    log. Now 404, and the warning; tenant B aiming at A's task is an ordinary 404, and
    nothing is logged for it."""
    project = (await new_project(client, tenant_a, "refused comments"))["id"]
    task = (await new_task(client, tenant_a, project, title="unchanged"))["id"]
    comments = f"/api/tasks/{task}/comments"
    note = (await client.post(comments, json={"body": "kept"}, headers=tenant_a.headers)).json()
    policies = (
        "select tablename, policyname, permissive, roles::text[], cmd, qual, with_check"
        " from pg_policies where tablename in ('comment', 'task') order by 1, 2"
    )
    before = await write_client.fetch(policies)
    drop = "drop policy tenant_isolation_{0} on {1}"
    superuser_sql(
        test_database(),
        "; ".join(
            drop.format(command, table)
            for command, table in (("update", "comment"), ("delete", "comment"), ("update", "task"))
        ),
    )
    bulk = {"ids": [task], "set": {"title": "changed"}}
    try:
        caplog.set_level(logging.WARNING, logger="refresh")
        url = f"{comments}/{note['id']}"
        edited = await client.patch(url, json={"body": "changed"}, headers=tenant_a.headers)
        deleted = await client.delete(url, headers=tenant_a.headers)
        bulked = await client.post("/api/tasks/bulk-update", json=bulk, headers=tenant_a.headers)
        mine = [r.getMessage() for r in caplog.records if r.name == "refresh.db"]
        caplog.clear()
        b_bulked = await client.post("/api/tasks/bulk-update", json=bulk, headers=tenant_b.headers)
        theirs = [r for r in caplog.records if r.name == "refresh.db"]
    finally:
        superuser_sql(
            test_database(),
            "; ".join(
                policy.format(table)
                for policy, table in (
                    (UPDATE_POLICY, "comment"),
                    (DELETE_POLICY, "comment"),
                    (UPDATE_POLICY, "task"),
                )
            ),
        )
    assert [r.status_code for r in (edited, deleted, bulked, b_bulked)] == [404] * 4
    assert mine == [
        f"refused by the database: {command} on {table} as authenticated (the row is "
        f"readable, but no {command} policy lets this caller change it); check the "
        "table's grants and policies with `piccolo rls check`"
        for command, table in (("update", "comment"), ("delete", "comment"), ("update", "task"))
    ]
    assert theirs == []
    assert await write_client.fetch(policies) == before  # put back as they were
    listed = await client.get(comments, headers=tenant_a.headers)
    assert [c["body"] for c in listed.json()["data"]] == ["kept"]  # nothing changed
    fetched = await client.get(f"/api/tasks/{task}", headers=tenant_a.headers)
    assert fetched.json()["title"] == "unchanged"


INSERT_POLICY = (
    "create policy tenant_isolation_insert on {0} as permissive for insert to authenticated"
    " with check (tenant_id = auth.tenant_id())"
)


async def test_a_missing_insert_policy_is_a_403_and_a_warning_naming_table_role_and_command(
    client: Any, tenant_a: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Without an insert policy, PostgreSQL refuses the new row with an error (not
    silently, as for update and delete): the client gets the grant's 403, and the log
    names the table, the role and the command."""
    name = "refused insert"
    policies = (
        "select policyname, permissive, roles::text[], cmd, qual, with_check"
        " from pg_policies where tablename = 'project' order by policyname"
    )
    before = await write_client.fetch(policies)
    superuser_sql(test_database(), "drop policy tenant_isolation_insert on project")
    try:
        caplog.set_level(logging.WARNING, logger="refresh")
        response = await client.post("/api/projects", json={"name": name}, headers=tenant_a.headers)
    finally:
        superuser_sql(test_database(), INSERT_POLICY.format("project"))
    warning = forbidden_and_warned(
        response,
        caplog,
        "refused by the database: insert on project as authenticated "
        '(new row violates row-level security policy for table "project")',
    )
    refused = (warning.refused_table, warning.refused_command, warning.refused_role)  # type: ignore[attr-defined]
    assert refused == ("project", "insert", "authenticated")
    assert await write_client.fetch(policies) == before  # put back as it was
    listed = await client.get("/api/projects", headers=tenant_a.headers)
    assert name not in [p["name"] for p in listed.json()["data"]]  # and nothing was added


def test_a_shards_name_is_logged_as_its_tables() -> None:
    """On Citus the refusal comes from a worker and names the shard (project_102079): the
    log names the table the statement used; a table whose own name ends in digits stays."""
    insert = 'INSERT INTO "project" ("name") VALUES ($1)'
    assert logical_table("project_102079", insert) == "project"
    assert logical_table("project", insert) == "project"
    assert logical_table("audit_2026", "select * from audit_2026") == "audit_2026"
    assert logical_table("other_12", insert) == "other_12"
