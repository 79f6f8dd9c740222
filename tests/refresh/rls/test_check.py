"""`piccolo rls check` against faults made in a real database: exit 1 naming the table and
the problem, then exit 0 once repaired. Every fault is undone, whatever happens."""

from __future__ import annotations

import json

import pytest

from tests.database import piccolo, superuser_sql, test_database


def check(*args: str):
    return piccolo("rls", "check", *args, check=False)


def test_clean_database_passes():
    result = check()
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("✓ piccolo rls check: no problems")
    as_json = json.loads(check("--json").stdout)
    assert as_json == {"ok": True, "problems": []}


FAULTS = {
    "rls disabled": (
        "alter table project disable row level security",
        "alter table project enable row level security",
        "project",
        "rls_disabled",
    ),
    "rls not forced": (
        "alter table member no force row level security",
        "alter table member force row level security",
        "member",
        "rls_not_forced",
    ),
    "policy USING altered": (
        "alter policy tenant_isolation_select on project using (true)",
        "alter policy tenant_isolation_select on project using (tenant_id = auth.tenant_id())",
        "project",
        "policy_differs",
    ),
    "policy WITH CHECK altered": (
        "alter policy tenant_isolation_update on project with check (true)",
        "alter policy tenant_isolation_update on project with check (tenant_id = auth.tenant_id())",
        "project",
        "policy_differs",
    ),
    "policy dropped": (
        "drop policy tenant_isolation_delete on project",
        "create policy tenant_isolation_delete on project for delete to authenticated "
        "using (tenant_id = auth.tenant_id())",
        "project",
        "missing_policy",
    ),
    "undeclared policy": (
        "create policy open_door on project for select to authenticated using (true)",
        "drop policy open_door on project",
        "project",
        "policy_not_declared",
    ),
    "grant revoked": (
        "revoke update on member from authenticated",
        "grant update on member to authenticated",
        "member",
        "grant_missing",
    ),
    "tenant_id index dropped": (
        "drop index comment_tenant_id; drop index comment_tenant_task_idx; "
        "drop index comment_tenant_author_idx",
        "create index comment_tenant_id on comment (tenant_id); "
        "create index comment_tenant_task_idx on comment (tenant_id, task_id, created_at, id); "
        "create index comment_tenant_author_idx on comment (tenant_id, author_id)",
        "comment",
        "tenant_id_without_index",
    ),
    "FK index dropped": (
        "drop index task_tenant_assignee_idx",
        "create index task_tenant_assignee_idx on task (tenant_id, assignee_id)",
        "task",
        "fk_without_index",
    ),
    "FK without tenant_id": (
        "alter table task add constraint task_project_plain_fk "
        "foreign key (project_id) references project (id)",
        "alter table task drop constraint task_project_plain_fk",
        "task",
        "fk_without_tenant_id",
    ),
    "table nobody declares": (
        "create table leaky (id int); grant select on leaky to authenticated",
        "drop table leaky",
        "leaky",
        "table_not_declared",
    ),
    "unique without tenant_id": (
        # (email, id): unique whatever members other tests made, yet without tenant_id
        "create unique index member_email_key on member (email, id)",
        "drop index member_email_key",
        "member",
        "unique_without_tenant_id",
    ),
    "read role BYPASSRLS": (
        "alter role refresh_authenticator bypassrls",
        "alter role refresh_authenticator nobypassrls",
        None,
        "read_role_bypassrls",
    ),
    "read role superuser": (
        "alter role refresh_authenticator superuser",
        "alter role refresh_authenticator nosuperuser",
        None,
        "read_role_superuser",
    ),
    "read role owns a table": (
        "create table stray (id int); alter table stray owner to refresh_authenticator",
        "drop table stray",
        None,
        "read_role_owns_objects",
    ),
    "read role has a table grant": (
        "grant select on project to refresh_authenticator",
        "revoke select on project from refresh_authenticator",
        None,
        "read_role_has_grants",
    ),
    "view without security_invoker": (
        "create view project_names as select name from project",
        "drop view project_names",
        "project_names",
        "view_without_security_invoker",
    ),
    "security definer function": (
        "create function public.all_projects() returns bigint language sql security definer "
        "as 'select count(*) from project'",
        "drop function public.all_projects()",
        None,
        "security_definer_executable",
    ),
    "security definer function without pg_temp last": (
        "create function public.quiet_count() returns bigint language sql security definer "
        "set search_path = public as 'select 1::bigint';"
        "revoke execute on function public.quiet_count() from public",
        "drop function public.quiet_count()",
        None,
        "security_definer_search_path",
    ),
    "request roles may create temporary tables": (
        "do $$ begin execute format('grant temporary on database %I to public', "
        "current_database()); end $$",
        "do $$ begin execute format('revoke temporary on database %I from public', "
        "current_database()); end $$",
        None,
        "request_role_temp_tables",
    ),
    "correlated subquery policy": (
        "create policy slow_form on member as restrictive for select to authenticated "
        "using ((select auth.tenant_id() = tenant_id))",
        "drop policy slow_form on member",
        "member",
        "policy_subquery",
    ),
    "volatile function in a policy": (
        "create function public.coin() returns boolean language sql volatile as 'select true';"
        "create policy coin_flip on member as restrictive for select to authenticated "
        "using (public.coin())",
        "drop policy coin_flip on member; drop function public.coin()",
        "member",
        "policy_volatile_function",
    ),
    "policy column without index": (
        "create policy by_email on member as restrictive for select to authenticated "
        "using (email <> '')",
        "drop policy by_email on member",
        "member",
        "policy_column_without_index",
    ),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_is_reported_then_cleared(fault):
    make, undo, table, code = FAULTS[fault]
    superuser_sql(test_database(), make)
    try:
        result = check()
        report = json.loads(check("--json").stdout)
    finally:
        superuser_sql(test_database(), undo)
    assert result.returncode == 1
    assert f"[{code}]" in result.stdout
    matching = [p for p in report["problems"] if p["code"] == code]
    assert matching, report
    assert any(p["table"] == table for p in matching)
    assert all(p["fix"] for p in report["problems"])
    after = check()
    assert after.returncode == 0, after.stdout
