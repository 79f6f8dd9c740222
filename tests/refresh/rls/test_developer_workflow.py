"""The workflow of the guide's "Creating a table", run as a developer would, on a scratch
app and a database of its own: table classes -> `piccolo rls new` (which writes Piccolo's
auto migration first) -> `forwards` -> `piccolo rls check` clean. Everything is generated
from the declarations: RLS, policies, grants, tenant default, triggers, the composite
tenant key and its index, the audit trigger; and it goes away backwards. Then the drifts
`check` must catch, each fixed by following the fix it prints."""

from __future__ import annotations

import re
import shlex
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from tests.refresh.rls.scratch_app import GADGETS, Scratch, scratch_project


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Scratch]:
    yield from scratch_project(tmp_path, "wf")


def follow_commands(scratch: Scratch, problem: dict[str, object]) -> None:
    """Do what the fix says, literally: delete the files it names, run its commands."""
    fix = problem["fix"]
    assert isinstance(fix, dict) and not fix["sql"], fix
    if fix["edit"]:
        assert fix["edit"].startswith("delete "), fix
        for path in fix["edit"].removeprefix("delete ").split(" and "):
            Path(path).unlink()
    for command in fix["commands"]:
        scratch.run(*shlex.split(command)[1:])


async def test_add_tenant_tables_everything_generated_and_isolated(scratch: Scratch) -> None:
    scratch.run("migrations", "forwards", "all")
    scratch.write_tables(GADGETS.format(gadget_extra=""), "[Colour, Gadget, Part]")
    written = scratch.run("rls", "new", "gadgets").stdout
    # one command: Piccolo's auto migration (the tables), then the RLS migration after it
    assert "differ from its migrations" in written and written.count("Wrote") == 1
    files = sorted(p.name for p in scratch.migrations.glob("gadgets_*.py"))
    assert len(files) == 2
    rls_sql = (scratch.migrations / files[1]).read_text()
    for expected in (
        "alter table part add constraint part_gadget_same_tenant\n"
        "  foreign key (tenant_id, gadget_id) references gadget (tenant_id, id) on delete cascade;",
        "create index if not exists part_tenant_gadget_idx on part (tenant_id, gadget_id);",
        "alter table gadget add constraint gadget_tenant_id_id_key unique (tenant_id, id);",
        "create trigger audit_change after insert or update or delete on part\n"
        "  for each row execute function public.audit_change('part', 'tenant_id', 'updated_at');",
        "alter table colour force row level security;",
        "create policy global_select on colour as permissive for select to {authenticated}",
    ):
        assert expected in rls_sql, expected
    assert "no migration written" in scratch.run("rls", "new", "gadgets").stdout
    scratch.run("migrations", "forwards", "all")
    assert scratch.run("rls", "check").stdout.startswith("✓")
    assert "no migration written" in scratch.run("rls", "new", "gadgets").stdout

    a, b = uuid.uuid4(), uuid.uuid4()
    await scratch.sql(
        "insert into tenant (id, slug, name) values ($1, 'ga', 'A'), ($2, 'gb', 'B')", a, b
    )
    gadget = (await scratch.as_tenant(a, "insert into gadget (name) values ('a1') returning id"))[
        0
    ]["id"]
    # isolated per tenant; tenant_id defaults to the caller's
    assert [r["name"] for r in await scratch.as_tenant(a, "select name from gadget")] == ["a1"]
    assert await scratch.as_tenant(b, "select name from gadget") == []
    # B cannot point a part at A's gadget, and learns nothing: the same error as for none
    errors = []
    for target in (gadget, uuid.uuid4()):
        with pytest.raises(asyncpg.ForeignKeyViolationError) as raised:
            await scratch.as_tenant(
                b, "insert into part (gadget_id, label) values ($1, 'x')", target
            )
        errors.append(str(raised.value).replace(str(target), "<id>"))
    assert errors[0] == errors[1]
    await scratch.as_tenant(a, "insert into part (gadget_id, label) values ($1, 'p')", gadget)
    # audited, with the logical table name and the request's actor
    entries = await scratch.sql(
        "select table_name, actor, tenant_id from audit_log where table_name in ('gadget', "
        "'part') order by created_at"
    )
    assert [tuple(e) for e in entries] == [("gadget", "api:dev", a), ("part", "api:dev", a)]

    # backwards, the RLS migration: all it made goes, the tables stay
    scratch.run("migrations", "backwards", "gadgets", "--auto_agree")
    [left] = await scratch.sql(
        "select c.relrowsecurity as rls,"
        " (select count(*) from pg_policy where polrelid = c.oid) as policies,"
        " (select count(*) from pg_trigger where tgrelid = c.oid and not tgisinternal) as triggers,"
        " (select count(*) from pg_constraint where conrelid = c.oid and contype = 'f'"
        "   and conname = 'part_gadget_same_tenant') as tenant_keys"
        " from pg_class c where c.oid = 'public.part'::regclass"
    )
    assert dict(left) == {"rls": False, "policies": 0, "triggers": 0, "tenant_keys": 0}
    # then the tables too; forwards again: all of it comes back
    scratch.run("migrations", "backwards", "gadgets", "all", "--auto_agree")
    gone = await scratch.sql("select to_regclass('public.part') as part")
    assert gone[0]["part"] is None
    scratch.run("migrations", "forwards", "all")
    assert scratch.run("rls", "check").stdout.startswith("✓")


async def test_every_drift_is_reported_and_its_fix_clears_it(scratch: Scratch) -> None:
    scratch.migrated(GADGETS.format(gadget_extra=""))

    # A column added to the class but to no migration: `piccolo rls new` writes it.
    scratch.write_tables(
        GADGETS.format(gadget_extra="    weight = Integer(null=True)\n"), "[Colour, Gadget, Part]"
    )
    [problem] = [p for p in scratch.problems() if p["cause"] is None]
    assert problem["code"] == "schema_not_migrated"
    follow_commands(scratch, problem)
    assert scratch.problems() == []

    # A rule declared but not migrated: root cause first.
    rule = "    rls = tenant_rls(write_rule=\"auth.tenant_role() = 'admin'\")\n"
    scratch.write_tables(
        GADGETS.format(gadget_extra="    weight = Integer(null=True)\n" + rule),
        "[Colour, Gadget, Part]",
    )
    problems = scratch.problems()
    [problem] = [p for p in problems if p["cause"] is None]
    assert (problem["code"], problem["table"]) == ("rls_not_migrated", "gadget")
    assert problems[0] is problem  # causes first
    assert {p["code"] for p in problems[1:]} == {"policy_differs"}  # grouped under it
    assert problem["fix"]["text"] == (
        "run `piccolo rls new gadgets` && `piccolo migrations forwards all`"
    )
    assert (
        "create policy tenant_isolation_insert on gadget"
        in scratch.run("rls", "sql", "gadgets").stdout
    )
    follow_commands(scratch, problem)
    assert scratch.problems() == []

    # Rolled back: the database no longer matches; the cause is the unapplied migration.
    scratch.run("migrations", "backwards", "gadgets", "1", "--auto_agree")
    problems = scratch.problems()
    [root] = [p for p in problems if p["cause"] is None]
    assert root["code"] == "migration_not_applied"
    assert {"policy_differs"} <= {p["code"] for p in problems if p["cause"]}, problems
    follow_commands(scratch, root)
    assert scratch.problems() == []

    # Two RLS migrations generated on separate branches (same PREVIOUS_RLS).
    newest = sorted(scratch.migrations.glob("gadgets_*.py"))[-1]
    text = newest.read_text()
    found = re.search(r'ID = "(.*)"', text)
    assert found is not None
    sibling_id = re.sub(r"(\d{6})$", lambda m: f"{int(m[1]) + 1:06d}", found[1])
    sibling = newest.with_name(newest.stem + "_branch.py")
    sibling.write_text(text.replace(found[1], sibling_id, 1))
    [conflict] = [p for p in scratch.problems() if p["code"] == "migration_branch_conflict"]
    assert conflict["fix"]["edit"] == f"delete {sibling}"
    follow_commands(scratch, conflict)
    assert not sibling.exists() and scratch.problems() == []

    # An unapplied migration older than the newest applied one.
    stale = scratch.migrations / "gadgets_2000_01_01t00_00_00_000000.py"
    stale.write_text(
        'ID = "2000-01-01T00:00:00:000000"\nVERSION = "1"\nDESCRIPTION = ""\n\n'
        "async def forwards():\n    return None\n"
    )
    [problem] = [p for p in scratch.problems() if p["code"] == "migration_out_of_order"]
    assert "2000-01-01" in problem["message"]
    follow_commands(scratch, problem)
    assert scratch.problems() == []


def test_a_policy_the_server_refuses_is_not_written_and_check_names_it_first(
    scratch: Scratch,
) -> None:
    """A typo in a rule: `rls new` probes the declared policies of the tables that exist
    and writes nothing `forwards` would fail on; `check` puts the declaration first, and
    its fix, the corrected expression, then its commands, clears everything."""
    scratch.migrated(GADGETS.format(gadget_extra=""))
    # with an unrelated new column: the probe still runs, on the columns the table has
    typo = "    weight = Integer(null=True)\n"
    typo += '    rls = tenant_rls(read_rule="colour_idd is not null")\n'
    scratch.write_tables(GADGETS.format(gadget_extra=typo), "[Colour, Gadget, Part]")
    written = sorted(scratch.migrations.glob("*.py"))

    refused = scratch.run("rls", "new", "gadgets", ok=False)
    assert refused.returncode == 1
    assert (
        "✗ gadget [policy_invalid] declared policy tenant_isolation_select is refused by the "
        'server: column "colour_idd" does not exist'
    ) in refused.stderr
    assert sorted(scratch.migrations.glob("*.py")) == written  # nothing written

    problems = scratch.problems()
    roots = [p for p in problems if p["cause"] is None]
    assert [(p["code"], p["table"]) for p in roots] == [("policy_invalid", "gadget")]
    assert "rls_not_migrated" in {p["code"] for p in problems if p["cause"]}
    fix = roots[0]["fix"]
    assert fix["edit"] == (
        "correct the expression of tenant_isolation_select in the table's rls declaration"
    )
    scratch.write_tables(
        GADGETS.format(gadget_extra=typo.replace("colour_idd", "colour_id")),
        "[Colour, Gadget, Part]",
    )
    for command in fix["commands"]:
        scratch.run(*shlex.split(command)[1:])
    assert scratch.problems() == []


def test_a_new_column_and_a_rule_naming_it_are_written_together(scratch: Scratch) -> None:
    """The probe of `rls new` trusts only a table as its class says: a column the rule
    names that only the pending Piccolo migration adds is no typo."""
    scratch.migrated(GADGETS.format(gadget_extra=""))
    extra = "    weight = Integer(null=True, index=True)\n"
    extra += '    rls = tenant_rls(read_rule="weight is not null")\n'
    scratch.write_tables(GADGETS.format(gadget_extra=extra), "[Colour, Gadget, Part]")
    [root] = [p for p in scratch.problems() if p["cause"] is None]
    assert root["code"] == "schema_not_migrated"
    follow_commands(scratch, root)  # rls new (both migrations), then forwards
    assert scratch.problems() == []


async def test_a_tenant_table_kept_off_the_shards_has_its_tenant_target_key_checked(
    scratch: Scratch,
) -> None:
    """A tenant table placed otherwise than by tenant keeps the primary key (id): the
    tenant keys to it need the unique (tenant_id, id) `rls new` adds. Dropped (with the
    key that needs it), `check` names both, the target first, and their SQL restores both."""
    local = "    rls = replace(tenant_rls(), distribution=Distribution.local)\n"
    imports = (
        "from dataclasses import replace\nfrom refresh.tenancy.declarations import Distribution\n"
    )
    # a table keyed to gadget whose name sorts before it: the report's order is the fixes'
    accessory = """

class Accessory(TenantTable, Table):
    id = UUID(primary_key=True, default=UUID4())
    gadget_id = TenantForeignKey(Gadget)
"""
    # the tables keyed to it stay beside it (key_across_placements otherwise)
    label = "    label = Varchar(length=100, null=False)\n"
    source = GADGETS.format(gadget_extra=local).replace(label, label + local) + accessory + local
    scratch.migrated(imports + source, "[Colour, Gadget, Part, Accessory]")
    assert scratch.problems() == []

    await scratch.sql("alter table gadget drop constraint gadget_tenant_id_id_key cascade")
    problems = scratch.problems()
    assert [(p["code"], p["table"], p["cause"]) for p in problems] == [
        ("tenant_target_key_missing", "gadget", None),
        ("tenant_key_missing", "accessory", None),
        ("tenant_key_missing", "part", None),
    ]
    assert problems[0]["fix"]["sql"] == (
        "alter table gadget add constraint gadget_tenant_id_id_key unique (tenant_id, id);"
    )
    for problem in problems:
        assert problem["fix"]["run_as"] == "the admin role" and not problem["fix"]["commands"]
        await scratch.execute(problem["fix"]["sql"])
    assert scratch.problems() == []


def test_an_applied_migration_whose_file_is_gone_is_named_and_restoring_it_clears_it(
    scratch: Scratch,
) -> None:
    scratch.migrated(GADGETS.format(gadget_extra=""))
    rls_migration = sorted(scratch.migrations.glob("gadgets_*.py"))[-1]
    kept = rls_migration.read_text()
    rls_migration.unlink()

    problems = scratch.problems()
    roots = [p for p in problems if p["cause"] is None]
    assert [p["code"] for p in roots] == ["migration_file_missing"], problems
    edit = roots[0]["fix"]["edit"]
    assert edit.startswith(f"restore {rls_migration} (e.g. `git checkout HEAD -- ")
    rls_migration.write_text(kept)  # the edit, followed
    assert scratch.problems() == []


async def test_a_keys_new_delete_action_keeps_its_index(scratch: Scratch) -> None:
    """Changing only `on_delete` remakes the constraint, not its index: on a big table the
    index would be rebuilt under the migration's locks for nothing. Both ways."""
    scratch.migrated(GADGETS.format(gadget_extra=""))
    a = uuid.uuid4()
    await scratch.sql("insert into tenant (id, slug, name) values ($1, 'ga', 'A')", a)
    [gadget] = await scratch.as_tenant(a, "insert into gadget (name) values ('g') returning id")
    await scratch.as_tenant(a, "insert into part (gadget_id, label) values ($1, 'p')", gadget["id"])
    key_and_index = (
        "select c.confdeltype::text as action, i.oid as index from pg_constraint c, pg_class i"
        " where c.conname = 'part_gadget_same_tenant' and i.relname = 'part_tenant_gadget_idx'"
    )
    [cascade] = await scratch.sql(key_and_index)
    assert cascade["action"] == "c"

    restrict = "from piccolo.columns.base import OnDelete\n" + GADGETS.format(
        gadget_extra=""
    ).replace("TenantForeignKey(Gadget)", "TenantForeignKey(Gadget, on_delete=OnDelete.restrict)")
    scratch.write_tables(restrict, "[Colour, Gadget, Part]")
    scratch.run("rls", "new", "gadgets")
    newest = sorted(scratch.migrations.glob("gadgets_*.py"))[-1].read_text()
    assert "drop constraint if exists part_gadget_same_tenant" in newest
    assert "references gadget (tenant_id, id) on delete restrict;" in newest
    assert "drop index" not in newest
    scratch.run("migrations", "forwards", "all")
    assert scratch.run("rls", "check").stdout.startswith("✓")
    [restricted] = await scratch.sql(key_and_index)
    assert dict(restricted) == {"action": "r", "index": cascade["index"]}
    # the new action holds (PostgreSQL 18 names it a restrict violation, 15 a key's)
    with pytest.raises(asyncpg.IntegrityConstraintViolationError, match="part_gadget_same"):
        await scratch.as_tenant(a, "delete from gadget where id = $1", gadget["id"])

    scratch.run("migrations", "backwards", "gadgets", "--auto_agree")
    [back] = await scratch.sql(key_and_index)
    assert dict(back) == {"action": "c", "index": cascade["index"]}
