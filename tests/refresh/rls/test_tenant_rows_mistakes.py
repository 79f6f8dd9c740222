"""Tables of tenants' rows that would not isolate them, made through the real CLI
(refresh/tenancy/tenant_rows.py): `piccolo rls new` refuses each with its fix, and the
fix, followed, generates a table that tenant B cannot read or write for tenant A."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from tests.refresh.rls.scratch_app import GADGETS, Scratch, scratch_project

NOTE = """
from piccolo.columns.reference import LazyTableReference
from refresh.tenancy.declarations import Distribution, Policy, audited, row_security


class Note(ReadClientTable, Table):
    id = UUID(primary_key=True, default=UUID4())
    tenant_id = ForeignKey(
        LazyTableReference("Tenant", app_name="tenants"), null=False, index=True
    )
    user_id = Varchar(length=100, null=False, default="", index=True)
    body = Varchar(length=100, null=False)

{rls}
"""

SHARED = """    rls = global_table(
        "notes every member of a tenant reads and writes",
        grants={AUTHENTICATED: ("select", "insert")},
    )"""

OWN = """    rls = row_security(
        Policy("own_note_select", "select", using="user_id = auth.user_id()"),
        Policy("own_note_insert", "insert", with_check="user_id = auth.user_id()"),
        grants={AUTHENTICATED: ("select", "insert")},
        distribution=Distribution.by_tenant,
        audit=audited(),
    )"""

#: each refusal's fix, followed literally
SHARED_FIXED = """
class Note(TenantTable, Table):
    id = UUID(primary_key=True, default=UUID4())
    user_id = Varchar(length=100, null=False, default="", index=True)
    body = Varchar(length=100, null=False)

    rls = tenant_rls(grants={'authenticated': ('select', 'insert')})
"""
OWN_FIXED = OWN.replace(
    'using="user_id = auth.user_id()"',
    'using="tenant_id = auth.tenant_id() and (user_id = auth.user_id())"',
).replace(
    'with_check="user_id = auth.user_id()"',
    'with_check="tenant_id = auth.tenant_id() and (user_id = auth.user_id())"',
)

TABLES = "[Colour, Gadget, Part, Note]"


def note_source(rls: str) -> str:
    return NOTE.format(rls=rls) + GADGETS.format(gadget_extra="")


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Scratch]:
    yield from scratch_project(tmp_path, "trows")


@pytest.mark.parametrize(
    ("rls", "code", "fixed"),
    [
        (SHARED, "tenant_rows_shared", SHARED_FIXED + GADGETS.format(gadget_extra="")),
        (OWN, "policy_without_tenant_check", note_source(OWN_FIXED)),
    ],
    ids=["global_table", "row_security"],
)
async def test_a_table_of_tenants_rows_not_isolated_is_refused_and_its_fix_isolates(
    scratch: Scratch, rls: str, code: str, fixed: str
) -> None:
    scratch.run("migrations", "forwards", "all")
    scratch.write_tables(note_source(rls), TABLES)
    refused = scratch.run("rls", "new", "gadgets", ok=False)
    assert refused.returncode == 1 and f"✗ note [{code}]" in refused.stderr
    assert not any(scratch.migrations.glob("*.py")), "nothing generated while refused"

    assert "fix: " in refused.stderr
    scratch.generated(fixed, TABLES)  # the fix, followed
    assert scratch.problems() == []
    a, b = uuid.uuid4(), uuid.uuid4()
    await scratch.sql(
        "insert into tenant (id, slug, name) values ($1, 'ta', 'A'), ($2, 'tb', 'B')", a, b
    )
    # the same subject ("dev") in both tenants: only the tenant tells their notes apart
    insert = "insert into note (tenant_id, user_id, body) values ($1, 'dev', $2)"
    await scratch.as_tenant(a, insert, a, "secret of A")
    assert [r["body"] for r in await scratch.as_tenant(a, "select body from note")] == [
        "secret of A"
    ]
    assert await scratch.as_tenant(b, "select body from note") == []
    with pytest.raises(asyncpg.InsufficientPrivilegeError):  # B cannot write into A
        await scratch.as_tenant(b, insert, a, "planted by B")


SUBQUERY = (
    '    rls = tenant_rls(read_rule="exists (select from colour c where c.id = colour_id)")\n'
)


def test_a_declared_policy_with_a_subquery_is_refused_before_it_is_generated(
    scratch: Scratch,
) -> None:
    """It used to be generated and applied, and `rls check`'s fix for it in the database
    (drop the policy) led back to it (create the declared policy): now the declaration is
    refused, with a fix in the class."""
    scratch.run("migrations", "forwards", "all")
    scratch.write_tables(GADGETS.format(gadget_extra=SUBQUERY), "[Colour, Gadget, Part]")
    refused = scratch.run("rls", "new", "gadgets", ok=False)
    assert refused.returncode == 1
    assert "✗ gadget [declared_policy_subquery] policy tenant_isolation_select" in refused.stderr
    assert "  fix: write the rule without a subquery" in refused.stderr
    fixed = '    rls = tenant_rls(read_rule="colour_id is not null")\n'
    scratch.generated(GADGETS.format(gadget_extra=fixed))
    assert scratch.problems() == []
