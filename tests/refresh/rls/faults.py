"""The faults tests/refresh/rls/test_check.py makes in the suite's database, each as
(the SQL that makes it, as a superuser; the SQL that puts back what the fix does not;
the table the problem names, or None; the code `piccolo rls check` must report)."""

from __future__ import annotations

FAULTS: dict[str, tuple[str, str, str | None, str]] = {
    # its migrations ran: the fix makes it again, keys, policies and triggers included
    "table dropped by hand": (
        "drop table comment cascade",
        "",
        "comment",
        "table_missing",
    ),
    "rls disabled": (
        "alter table project disable row level security",
        "",
        "project",
        "rls_disabled",
    ),
    "rls not forced": (
        "alter table member no force row level security",
        "",
        "member",
        "rls_not_forced",
    ),
    "policy USING altered": (
        "alter policy tenant_isolation_select on project using (true)",
        "",
        "project",
        "policy_differs",
    ),
    "policy WITH CHECK altered": (
        "alter policy tenant_isolation_update on project with check (true)",
        "",
        "project",
        "policy_differs",
    ),
    "policy dropped": (
        "drop policy tenant_isolation_delete on project",
        "",
        "project",
        "policy_missing",
    ),
    "undeclared policy": (
        "create policy open_door on project for select to authenticated using (true)",
        "",
        "project",
        "policy_not_declared",
    ),
    "grant revoked": (
        "revoke update on member from authenticated",
        "",
        "member",
        "grant_missing",
    ),
    "tenant_id index dropped": (
        "drop index comment_tenant_id; drop index comment_tenant_task_idx; "
        "drop index comment_tenant_author_idx",
        # the fixes make plain indexes; the originals come back as they were
        "drop index comment_tenant_task_idx, comment_tenant_author_idx; "
        "create index comment_tenant_id on comment (tenant_id); "
        "create index comment_tenant_task_idx on comment (tenant_id, task_id, created_at, id); "
        "create index comment_tenant_author_idx on comment (tenant_id, author_id)",
        "comment",
        "tenant_key_index_missing",
    ),
    "no index leads with tenant_id": (
        # the primary key (tenant_id, id) leads with it too: its fix is the root's; the
        # tenant foreign key's index (one fix for it and the policies) is a root of its own
        "drop index comment_tenant_id; drop index comment_tenant_task_idx; "
        "drop index comment_tenant_author_idx; alter table comment drop constraint comment_pkey",
        # the fixes make plain indexes; the originals come back as they were
        "drop index comment_tenant_task_idx, comment_tenant_author_idx, comment_tenant_id_idx; "
        "create index comment_tenant_id on comment (tenant_id); "
        "create index comment_tenant_task_idx on comment (tenant_id, task_id, created_at, id); "
        "create index comment_tenant_author_idx on comment (tenant_id, author_id)",
        "comment",
        "tenant_id_without_index",
    ),
    "primary key of a table other apps' keys point at dropped": (
        # task's and comment's keys (app tasks) point at member (app tenants): the report
        # lists the target first, or following it in order would fail
        "alter table member drop constraint member_pkey cascade",
        "",
        "member",
        "tenant_primary_key_missing",
    ),
    "FK index dropped": (
        "drop index task_tenant_assignee_idx",
        "",
        "task",
        "tenant_key_index_missing",
    ),
    "audit trigger dropped": (
        "drop trigger audit_change on project",
        "",
        "project",
        "audit_trigger_missing",
    ),
    "audit trigger of other arguments": (
        "drop trigger audit_change on project; create trigger audit_change after insert or "
        "update or delete on project for each row execute function "
        "public.audit_change('project', 'tenant_id')",
        "",
        "project",
        "audit_trigger_differs",
    ),
    # switched off by hand (a bulk load) and left so: present, but doing nothing
    "audit trigger disabled": (
        "alter table project disable trigger audit_change",
        "",
        "project",
        "trigger_disabled",
    ),
    # fires in a replica's sessions only: none of the app's
    "audit trigger on replicas only": (
        "alter table task enable replica trigger audit_change",
        "",
        "task",
        "trigger_disabled",
    ),
    "updated_at trigger disabled": (
        "alter table comment disable trigger comment_set_updated_at",
        "",
        "comment",
        "trigger_disabled",
    ),
    # deleting a member would then fail on the tasks assigned to them, not unassign them
    "SET NULL trigger disabled": (
        "alter table member disable trigger task_assignee_unset",
        "",
        "member",
        "trigger_disabled",
    ),
    "updated_at trigger dropped": (
        "drop trigger comment_set_updated_at on comment",
        "",
        "comment",
        "updated_at_trigger_missing",
    ),
    "tenant_id default dropped": (
        "alter table task alter column tenant_id drop default",
        "",
        "task",
        "tenant_default_missing",
    ),
    "tenant key dropped": (
        "alter table comment drop constraint comment_task_same_tenant",
        "",
        "comment",
        "tenant_key_missing",
    ),
    "tenant key with another delete action": (
        "alter table comment drop constraint comment_author_same_tenant; "
        "alter table comment add constraint comment_author_same_tenant foreign key "
        "(tenant_id, author_id) references member (tenant_id, id) on delete restrict",
        "",
        "comment",
        "tenant_key_differs",
    ),
    "tenant table's primary key dropped": (
        "alter table comment drop constraint comment_pkey",
        "",
        "comment",
        "tenant_primary_key_missing",
    ),
    "FK without tenant_id": (
        "alter table task add constraint task_project_plain_fk "
        "foreign key (project_id) references project (id)",
        "",
        "task",
        "fk_without_tenant_id",
    ),
    "table nobody declares": (
        # made as the admin role, like every object of the schema
        "set role refresh_admin; create table leaky (id int); "
        "grant select on leaky to authenticated",
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
        "",
        None,
        "read_role_bypassrls",
    ),
    "read role superuser": (
        "alter role refresh_authenticator superuser",
        "",
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
        "",
        None,
        "read_role_has_grants",
    ),
    "view without security_invoker": (
        "set role refresh_admin; create view project_names as select name from project",
        "drop view project_names",
        "project_names",
        "view_without_security_invoker",
    ),
    "security definer function": (
        "set role refresh_admin; "
        "create function public.all_projects() returns bigint language sql security definer "
        "as 'select count(*) from project'",
        "drop function public.all_projects()",
        None,
        "security_definer_executable",
    ),
    # made by hand as a superuser: the fixes say to run them as one (the admin role may
    # not alter, or revoke on, what it does not own)
    "security definer function made by a superuser": (
        "create function public.every_project() returns bigint language sql security definer "
        "as 'select count(*) from project'",
        "drop function public.every_project()",
        None,
        "security_definer_executable",
    ),
    "view made by a superuser": (
        "create view project_titles as select name from project",
        "drop view project_titles",
        "project_titles",
        "view_without_security_invoker",
    ),
    "security definer function without pg_temp last": (
        "set role refresh_admin; "
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
        "",
        None,
        "request_role_temp_tables",
    ),
    "correlated subquery policy": (
        "create policy slow_form on member as restrictive for select to authenticated "
        "using ((select auth.tenant_id() = tenant_id))",
        "",
        "member",
        "policy_subquery",
    ),
    "volatile function in a policy": (
        "create function public.coin() returns boolean language sql volatile as 'select true';"
        "create policy coin_flip on member as restrictive for select to authenticated "
        "using (public.coin())",
        "drop function public.coin()",
        "member",
        "policy_volatile_function",
    ),
    "foreign key of a global table without an index": (
        "drop index staff_profile_tenant_id",
        # the fix makes an index of its own name; the original comes back as it was
        "drop index staff_profile_tenant_id_idx; "
        "create index staff_profile_tenant_id on staff_profile (tenant_id)",
        "staff_profile",
        "fk_without_index",
    ),
    "undeclared grant": (
        "grant delete on tenant to authenticated",
        "",
        "tenant",
        "grant_not_declared",
    ),
    "undeclared audit trigger": (
        "create trigger audit_change after insert or update or delete on sessions "
        "for each row execute function public.audit_change('sessions', '')",
        "",
        "sessions",
        "audit_trigger_not_declared",
    ),
    "policy column without index": (
        "create policy by_email on member as restrictive for select to authenticated "
        "using (email <> '')",
        "",
        "member",
        "policy_column_without_index",
    ),
}
