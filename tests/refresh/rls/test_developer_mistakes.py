"""The mistakes a developer adding a tenant table made that shipped silently before
(issue #12), each made again as a developer makes it, on a scratch app with the real CLI
and a real database, and each caught, with its message, before it can serve a request;
the printed fix, followed literally, clears it."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.project_copy import copy_project, lint_imports
from tests.refresh.rls.scratch_app import GADGETS, Scratch, scratch_project

#: Mistake 1: a plain Piccolo table with a declaration (what the old fix text suggested).
PLAIN_NOTE = """

class Note(Table):
    id = UUID(primary_key=True, default=UUID4())
    tenant_id = ForeignKey(LazyTableReference("Tenant", app_name="tenants"), null=False)
    body = Varchar(length=100, null=False)

    rls = tenant_rls()
"""
LAZY = "from piccolo.columns.reference import LazyTableReference\n"


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Scratch]:
    yield from scratch_project(tmp_path, "mis")


def test_a_plain_table_with_a_tenant_declaration_is_refused_everywhere(scratch: Scratch) -> None:
    scratch.run("migrations", "forwards", "all")
    scratch.write_tables(LAZY + PLAIN_NOTE, "[Note]")
    message = (
        "table class Note is declared under RLS but bound to the write client, which bypasses "
        "RLS: inside a request its queries see every tenant's rows"
    )
    fix = "derive it from TenantTable (or ReadClientTable), listed before Table: "
    fix += "`class Note(TenantTable, Table)`"
    refused = scratch.run("rls", "new", "gadgets", ok=False)
    assert refused.returncode == 1
    assert f"✗ note [bound_to_write_client] {message}\n  fix: {fix}" in refused.stderr
    assert not list(scratch.migrations.glob("*.py"))  # nothing written
    roots = [p for p in scratch.problems() if p["cause"] is None]
    assert {p["code"] for p in roots} == {"bound_to_write_client", "schema_not_migrated"}
    [problem] = [p for p in roots if p["code"] == "bound_to_write_client"]
    assert (problem["code"], problem["message"], problem["fix"]["edit"]) == (
        "bound_to_write_client",
        message,
        fix,
    )
    # the app refuses to start with it
    started = scratch.python("import app")
    assert started.returncode == 1
    assert "DeclarationsNotMet" in started.stderr and message in started.stderr

    # the fix, followed literally: the class line as it says
    source = (scratch.root / "gadgets" / "tables.py").read_text()
    scratch.write_tables(
        LAZY + PLAIN_NOTE.replace("class Note(Table):", "class Note(TenantTable, Table):"), "[Note]"
    )
    assert "class Note(TenantTable, Table):" not in source
    scratch.run("rls", "new", "gadgets")
    scratch.run("migrations", "forwards", "all")
    assert scratch.problems() == []
    assert scratch.python("import app").returncode == 0


async def test_a_forgotten_rls_migration_stops_the_app_and_check_names_the_cause_first(
    scratch: Scratch,
) -> None:
    """Mistakes 3 and 5: Piccolo's own commands alone (`migrations new --auto`, then
    `forwards`) make the tables without RLS, keys or audit."""
    scratch.run("migrations", "forwards", "all")
    scratch.write_tables(GADGETS.format(gadget_extra=""), "[Colour, Gadget, Part]")
    scratch.run("migrations", "new", "gadgets", "--auto")
    scratch.run("migrations", "forwards", "all")
    problems = scratch.problems()
    roots = [p for p in problems if p["cause"] is None]
    assert [(p["code"], p["table"]) for p in roots] == [
        ("rls_not_migrated", "colour"),
        ("rls_not_migrated", "gadget"),
        ("rls_not_migrated", "part"),
    ]
    assert problems[0] is roots[0]  # causes first, each followed by what it explains
    explained = {p["code"] for p in problems if p["cause"]}
    assert {"rls_disabled", "audit_trigger_missing", "tenant_key_missing"} <= explained
    text = scratch.run("rls", "check", ok=False).stdout
    assert text.splitlines()[2].startswith("✗ colour [rls_not_migrated]")
    # the app refuses to start: its lifespan compares the database with the declarations
    started = scratch.python(
        "import asyncio, app\n"
        "async def main():\n"
        "    async with app.app.router.lifespan_context(app.app):\n"
        "        pass\n"
        "asyncio.run(main())\n"
    )
    assert started.returncode == 1
    assert "DeclarationsNotMet" in started.stderr
    assert "part: RLS enabled/forced is False/False" in started.stderr
    # the fix, literally
    for command in roots[0]["fix"]["commands"]:
        scratch.run(*command.split()[1:])
    assert scratch.problems() == []
    # audited now: a change to a part is in the log
    tenant = uuid.uuid4()
    await scratch.sql("insert into tenant (id, slug, name) values ($1, 'mt', 'M')", tenant)
    [gadget] = await scratch.as_tenant(
        tenant, "insert into gadget (name) values ('g') returning id"
    )
    await scratch.as_tenant(
        tenant, "insert into part (gadget_id, label) values ($1, 'p')", gadget["id"]
    )
    logged = await scratch.sql("select count(*) as n from audit_log where table_name = 'part'")
    assert logged[0]["n"] == 1


def test_a_plain_key_between_tenant_tables_is_refused_with_the_composite_as_fix(
    scratch: Scratch,
) -> None:
    """Mistake 4: the unsafe single-column key."""
    scratch.run("migrations", "forwards", "all")
    plain = GADGETS.format(gadget_extra="").replace(
        "gadget_id = TenantForeignKey(Gadget)", "gadget_id = ForeignKey(Gadget)"
    )
    scratch.write_tables(plain, "[Colour, Gadget, Part]")
    refused = scratch.run("rls", "new", "gadgets", ok=False)
    assert refused.returncode == 1
    assert (
        "✗ part [plain_key_between_tenant_tables] Part.gadget_id is a plain ForeignKey to "
        "tenant table Gadget: its check ignores RLS, so a row could point at another "
        "tenant's row (and learn whether it exists)\n"
        "  fix: declare it `gadget_id = TenantForeignKey(Gadget, ...)` (from "
        "refresh.tenancy.columns)"
    ) in refused.stderr
    scratch.generated(GADGETS.format(gadget_extra=""), "[Colour, Gadget, Part]")
    assert scratch.problems() == []


def test_one_undeclared_class_leaves_the_declared_tables_of_its_app_alone(
    scratch: Scratch,
) -> None:
    """Mistake 5: the declared tables of the app were reported as `table_not_declared`."""
    scratch.migrated(GADGETS.format(gadget_extra=""))
    loose = GADGETS.format(gadget_extra="") + "\n\nclass Loose(Table):\n    label = Varchar()\n"
    scratch.write_tables(loose, "[Colour, Gadget, Part, Loose]")
    problems = scratch.problems()
    assert {(p["code"], p["table"]) for p in problems if p["cause"] is None} == {
        ("undeclared_table", "loose"),
        ("schema_not_migrated", None),
    }
    assert not [p for p in problems if p["table"] in ("gadget", "part", "colour")]


#: A class as the app's other tables are written, but neither declared nor a TenantTable.
LOOSE = (
    "class Loose(Table):\n    id = UUID(primary_key=True, default=UUID4())\n    label = Varchar()\n"
)
#: The same with Piccolo's default (serial) primary key.
SERIAL_LOOSE = "class Loose(Table):\n    label = Varchar()\n"
AS_TENANT_TABLE = ("class Loose(Table):", "class Loose(TenantTable, Table):")
AS_GLOBAL_TABLE = (
    "label = Varchar()",
    'label = Varchar()\n\n    rls = global_table("labels, the same for every tenant")',
)
#: The third: a read-client table with policies of its own (the imports it needs with it).
AS_ROW_SECURITY = (
    LOOSE,
    "from refresh.tenancy.declarations import Distribution, Policy, row_security\n\n\n"
    "class Loose(ReadClientTable, Table):\n    id = UUID(primary_key=True, default=UUID4())\n"
    "    label = Varchar()\n\n    rls = row_security(\n"
    '        Policy("loose_read", "select", using="true"),\n'
    '        grants={"authenticated": ("select",)},\n'
    "        distribution=Distribution.local,\n"
    '        reason="labels every member reads",\n    )\n',
)


@pytest.mark.parametrize(
    ("loose", "edit"),
    [
        pytest.param(LOOSE, AS_TENANT_TABLE, id="tenant_table"),
        pytest.param(LOOSE, AS_GLOBAL_TABLE, id="global_table"),
        pytest.param(LOOSE, AS_ROW_SECURITY, id="row_security"),
        # no UUID column of its own: Piccolo's migration of tenant_id used to leave out
        # `import UUID4` (refresh/compat/piccolo_migration_imports.py)
        pytest.param(SERIAL_LOOSE, AS_TENANT_TABLE, id="tenant_table_serial_key"),
    ],
)
def test_an_undeclared_class_is_cleared_by_its_printed_fix(
    scratch: Scratch, loose: str, edit: tuple[str, str]
) -> None:
    """The fix of `undeclared_table`, followed literally (each declaration it names,
    then the commands the check prints next), leaves nothing to report."""
    scratch.migrated(GADGETS.format(gadget_extra=""))
    tables, gadgets = "[Colour, Gadget, Part, Loose]", GADGETS.format(gadget_extra="")
    scratch.write_tables(gadgets + "\n\n" + loose, tables)
    [problem] = [p for p in scratch.problems() if p["code"] == "undeclared_table"]
    fix = (
        "make it a tenant table: `class Loose(TenantTable, Table)` (from "
        "refresh.tenancy.tables), or declare `rls = global_table(reason)` on it, or "
        "derive it from ReadClientTable (`class Loose(ReadClientTable, Table)`) and "
        "declare `rls = row_security(...)` on it"
    )
    assert (problem["fix"]["edit"], problem["fix"]["commands"]) == (fix, [])
    assert f"✗ loose [undeclared_table] {problem['message']}\n  fix: {fix}" in (
        scratch.run("rls", "check", ok=False).stdout
    )
    assert edit[1] not in loose
    scratch.write_tables(gadgets + "\n\n" + loose.replace(*edit), tables)
    roots = [p for p in scratch.problems() if p["cause"] is None]
    assert [p["code"] for p in roots] == ["schema_not_migrated"]  # commands only, now
    for command in roots[0]["fix"]["commands"]:
        scratch.run(*command.split()[1:])
    assert scratch.problems() == []


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_lint_refuses_the_write_client_in_an_endpoint_module(tmp_path: Path) -> None:
    """Mistake 2, at lint time (at run time: tests/refresh/db/test_write_client_guard.py)."""
    copy = copy_project(tmp_path)
    endpoints = copy / "apps" / "projects" / "endpoints.py"
    endpoints.write_text(
        endpoints.read_text() + "\nfrom refresh.db.clients import write_client  # noqa\n"
    )
    lint = lint_imports(copy)
    assert lint.returncode == 1, lint.stdout
    assert "Request handlers never reach the write client" in lint.stdout
    assert "apps.projects.endpoints -> refresh.db.clients" in lint.stdout


#: A restrictive policy on a table Citus keeps in shards (here a reference table).
NOTICE = """
from piccolo.columns import Boolean
from refresh.tenancy.declarations import Distribution, Policy, not_audited, row_security


class Notice(ReadClientTable, Table):
    id = UUID(primary_key=True, default=UUID4())
    body = Varchar(length=100, null=False)
    visible = Boolean(default=True, null=False, index=True)

    rls = row_security(
        Policy("notice_select", "select", using="true"),
        Policy("notice_visible", "select", using="visible", permissive=False),
        grants={AUTHENTICATED: ("select",)},
        reason="notices for every tenant; a hidden one for nobody",
        audit=not_audited("written by operators in migrations, never by a request"),
        distribution=Distribution.reference,
    )
"""


def test_a_restrictive_policy_on_a_sharded_or_reference_table_is_refused(
    scratch: Scratch,
) -> None:
    """Not only on tenant tables: Citus re-creates a RESTRICTIVE policy as PERMISSIVE on
    the shards of any table it distributes, so `hidden` notices would be seen there.
    On the coordinator only (Distribution.local) it stays what it says, and is allowed."""
    scratch.run("migrations", "forwards", "all")
    scratch.write_tables(NOTICE, "[Notice]")
    refused = scratch.run("rls", "new", "gadgets", ok=False)
    assert refused.returncode == 1
    assert (
        "✗ notice [restrictive_policy] policy notice_visible of Notice is RESTRICTIVE: Citus "
        "re-creates it as PERMISSIVE on the shards of a table sharded by tenant or a reference "
        "table, where it would widen access instead of narrowing it\n"
        "  fix: drop notice_visible and AND its condition into the permissive policies of "
        "the same command (a permissive policy narrows only by its own condition)"
    ) in refused.stderr
    assert not list(scratch.migrations.glob("*.py"))
    local = NOTICE.replace("Distribution.reference", "Distribution.local")
    scratch.write_tables(local, "[Notice]")
    assert "restrictive_policy" not in {p["code"] for p in scratch.problems()}
    # the fix, followed literally, on the reference table
    folded = NOTICE.replace(
        '        Policy("notice_visible", "select", using="visible", permissive=False),\n', ""
    ).replace('using="true"', 'using="true and visible"')
    assert folded != NOTICE and "permissive=False" not in folded
    scratch.write_tables(folded, "[Notice]")
    scratch.run("migrations", "new", "gadgets", "--auto")
    scratch.run("rls", "new", "gadgets")
    scratch.run("migrations", "forwards", "all")
    assert scratch.problems() == []


def test_tenant_declarations_on_the_wrong_tables_are_refused_with_fixes_that_work(
    scratch: Scratch,
) -> None:
    """A TenantForeignKey to a global table, and tenant isolation declared on a table with
    no tenant_id: `rls new` names each with its fix, and the fixes, followed literally,
    clear them."""
    scratch.run("migrations", "forwards", "all")
    wrong = GADGETS.format(
        gadget_extra="\n\nclass Loose(ReadClientTable, Table):\n"
        "    label = Varchar(length=20)\n\n    rls = tenant_rls()\n"
    ).replace(
        "colour_id = ForeignKey(Colour, null=True, index=True)",
        "colour_id = TenantForeignKey(Colour, null=True, index=True)",
    )
    scratch.write_tables(wrong, "[Colour, Gadget, Part, Loose]")
    refused = scratch.run("rls", "new", "gadgets", ok=False)
    assert refused.returncode == 1
    assert (
        "✗ gadget [tenant_key_not_between_tenant_tables] Gadget.colour_id is a "
        "TenantForeignKey, but Gadget and Colour are not both tenant tables\n"
        "  fix: make Gadget.colour_id a plain ForeignKey(Colour, ...)"
    ) in refused.stderr
    assert (
        "✗ loose [tenant_table_without_tenant_id] table class Loose is declared a tenant "
        "table but has no tenant_id column\n"
        "  fix: derive it from TenantTable: `class Loose(TenantTable, Table)`"
    ) in refused.stderr
    fixed = wrong.replace(
        "TenantForeignKey(Colour, null=True, index=True)",
        "ForeignKey(Colour, null=True, index=True)",
    ).replace("class Loose(ReadClientTable, Table):", "class Loose(TenantTable, Table):")
    scratch.write_tables(fixed, "[Colour, Gadget, Part, Loose]")
    scratch.run("migrations", "new", "gadgets", "--auto")
    scratch.run("rls", "new", "gadgets")
    scratch.run("migrations", "forwards", "all")
    assert scratch.problems() == []
