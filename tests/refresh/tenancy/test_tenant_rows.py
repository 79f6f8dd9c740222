"""Tables of tenants' rows shared, not isolated or serially keyed, and declared policies
with a subquery (refresh/tenancy/tenant_rows.py, through verify.mistakes): each refused
with its fix, and the fix, followed, clears it."""

from __future__ import annotations

import pytest
from piccolo.columns import UUID, Serial, Varchar
from piccolo.columns.defaults.uuid import UUID4
from piccolo.constraints import Unique
from piccolo.table import Table

from refresh.tenancy.declarations import (
    AUTHENTICATED,
    Distribution,
    Policy,
    audited,
    global_table,
    row_security,
    tenant_rls,
)
from refresh.tenancy.tables import ReadClientTable, TenantTable
from refresh.tenancy.verify import mistakes

NOTES = "notes every member of a tenant reads and writes"


def found(table: type[Table]) -> list[tuple[str, str, str]]:
    return [(m.code, m.message, m.fix) for m in mistakes(table)]


class SharedNote(ReadClientTable, Table):
    id = UUID(primary_key=True, default=UUID4())
    tenant_id = UUID(null=False)
    rls = global_table(NOTES, grants={AUTHENTICATED: ("select", "insert")})


class IsolatedNote(TenantTable, Table):  # the fix's first way
    body = Varchar(length=100)
    rls = tenant_rls(grants={"authenticated": ("select", "insert")})


class AdminOnlyNote(ReadClientTable, Table):  # and its second
    id = UUID(primary_key=True, default=UUID4())
    tenant_id = UUID(null=False)
    rls = global_table(NOTES)


def test_a_global_table_of_tenants_rows_granting_request_roles_is_refused() -> None:
    assert found(SharedNote) == [
        (
            "tenant_rows_shared",
            "table class SharedNote holds tenants' rows (tenant_id), but it is a global table "
            "that grants authenticated access: every tenant would reach every tenant's rows",
            "make it a tenant table with the same grants: `class SharedNote(TenantTable, "
            "Table)` (from refresh.tenancy.tables) with `rls = tenant_rls(grants="
            "{'authenticated': ('select', 'insert')})` (from refresh.tenancy.declarations); "
            "or, if only the admin and system code read it, drop the grants: "
            "`rls = global_table(reason)`",
        )
    ]
    assert found(IsolatedNote) == [] and found(AdminOnlyNote) == []
    assert dict(IsolatedNote.rls.grants) == {"authenticated": ("select", "insert")}


OWN = "user_id = auth.user_id()"


class OwnNote(ReadClientTable, Table):  # a member's own notes: isolated by user only
    id = UUID(primary_key=True, default=UUID4())
    tenant_id = UUID(null=False)
    user_id = Varchar(length=100)
    rls = row_security(
        Policy("own_note_select", "select", using=OWN),
        Policy("own_note_insert", "insert", with_check=f"tenant_id = auth.tenant_id() and {OWN}"),
        grants={AUTHENTICATED: ("select", "insert")},
        distribution=Distribution.by_tenant,
        audit=audited(),
    )


class FixedOwnNote(ReadClientTable, Table):  # the fix, followed
    id = UUID(primary_key=True, default=UUID4())
    tenant_id = UUID(null=False)
    user_id = Varchar(length=100)
    rls = row_security(
        Policy("own_note_select", "select", using=f"tenant_id = auth.tenant_id() and ({OWN})"),
        OwnNote.rls.policies[1],
        grants={AUTHENTICATED: ("select", "insert")},
        distribution=Distribution.by_tenant,
        audit=audited(),
    )


def test_a_custom_policy_on_tenants_rows_without_the_isolation_rule_is_refused() -> None:
    """Policies are ORed: the select policy alone would show a member the notes of any
    tenant under their user id; the insert policy carries the rule and passes."""
    assert found(OwnNote) == [
        (
            "policy_without_tenant_check",
            "policy own_note_select of OwnNote admits rows without `tenant_id = "
            "auth.tenant_id()`, but OwnNote holds tenants' rows (tenant_id): policies are "
            "ORed, so this one alone would let a request reach another tenant's rows",
            "declare it with the rule ANDed in: `Policy('own_note_select', 'select', "
            'using="tenant_id = auth.tenant_id() and (user_id = auth.user_id())")`',
        )
    ]
    assert found(FixedOwnNote) == []


def ruled(condition: str) -> type[Table]:
    """A table of tenants' rows whose one select policy is `condition`."""
    policy = Policy("rows_select", "select", using=condition)
    rls = row_security(
        policy,
        grants={AUTHENTICATED: ("select",)},
        distribution=Distribution.by_tenant,
        audit=audited(),
    )
    columns = {"id": UUID(primary_key=True), "tenant_id": UUID(null=False), "rls": rls}
    return type("Ruled", (ReadClientTable, Table), columns)


@pytest.mark.parametrize(
    "condition",
    [
        "tenant_id = auth.tenant_id() or true",
        "tenant_id = auth.tenant_id() or auth.tenant_role() = 'admin'",
        "(tenant_id = auth.tenant_id()) or true",
        "other_tenant_id = auth.tenant_id()",
        "-- tenant_id = auth.tenant_id()\n true",
        "tenant_id <> auth.tenant_id()",
    ],
)
def test_a_condition_that_only_looks_isolated_is_refused(condition: str) -> None:
    """Read from its tokens: a top-level OR, a longer name or a comment hides nothing."""
    assert [code for code, _, _ in found(ruled(condition))] == ["policy_without_tenant_check"]


@pytest.mark.parametrize(
    "condition",
    [
        "auth.tenant_id() = tenant_id",
        "tenant_id=auth.tenant_id()",
        "tenant_id = (auth.tenant_id())",
        '"tenant_id" = auth.tenant_id()',
        "(tenant_id = auth.tenant_id() and status <> 'select')",
        "tenant_id = auth.tenant_id()::uuid and (a = 1 or b = 2)",
    ],
)
def test_the_isolation_rule_is_recognised_however_it_is_written(condition: str) -> None:
    assert found(ruled(condition)) == []


class Ticket(ReadClientTable, Table):  # no id: Piccolo adds a serial
    tenant_id = UUID(null=False)
    rls = row_security(
        Policy("ticket_select", "select", using="tenant_id = auth.tenant_id()"),
        grants={AUTHENTICATED: ("select",)},
        distribution=Distribution.by_tenant,
        audit=audited(),
    )


class FixedTicket(ReadClientTable, Table):  # the fix, followed
    id = UUID(primary_key=True, default=UUID4())
    tenant_id = UUID(null=False)
    rls = Ticket.rls


class SerialTask(TenantTable, Table):  # a tenant table that asks for a serial
    id = Serial(primary_key=True)


class KeyedTask(TenantTable, Table):
    key = UUID(primary_key=True)


def test_tenants_rows_keyed_other_than_by_one_uuid_id_are_refused() -> None:
    assert found(Ticket) == [
        (
            "tenant_rows_key_not_uuid_id",
            "table class Ticket holds tenants' rows (tenant_id) but is keyed by Serial id: "
            "a serial's ids count every tenant's rows, a natural key is unique across "
            "tenants (another tenant's insert of the same key fails, and so learns it "
            "exists), and the tenant keys and shards are built on (tenant_id, id)",
            "make its only primary key `id = UUID(primary_key=True, default=UUID4())` on "
            "Ticket (UUID from piccolo.columns, UUID4 from piccolo.columns.defaults.uuid), "
            "with no primary_key=True on any other column",
        )
    ]
    assert found(FixedTicket) == []
    assert [code for code, _, _ in found(SerialTask)] == ["tenant_rows_key_not_uuid_id"]
    # a key of another name beside TenantTable's id: two primary keys, refused too
    assert [code for code, _, _ in found(KeyedTask)] == ["tenant_rows_key_not_uuid_id"]
    assert "UUID id, UUID key" in found(KeyedTask)[0][1]


def test_a_tenant_table_that_declares_no_id_is_keyed_by_a_uuid() -> None:
    """Safe by construction: TenantTable gives the UUID key Piccolo would make a serial."""
    assert isinstance(IsolatedNote._meta.primary_key, UUID)
    names = [c._meta.name for c in IsolatedNote._meta.columns]
    assert names == ["created_at", "updated_at", "tenant_id", "id", "body"]


class Gadget(TenantTable, Table):
    colour_id = UUID(null=True)
    rls = tenant_rls(read_rule="exists (select from colour c where c.id = colour_id)")


class FixedGadget(TenantTable, Table):  # the rule on the row's own column
    colour_id = UUID(null=True)
    rls = tenant_rls(read_rule="colour_id is not null")


def test_a_declared_policy_with_a_subquery_is_refused() -> None:
    assert found(Gadget) == [
        (
            "declared_policy_subquery",
            "policy tenant_isolation_select of Gadget contains a subquery: Citus refuses it "
            "on distributed tables, and it is evaluated per row, where the planner cannot "
            "use an index through it",
            "write the rule without a subquery: compare the row's own columns with the auth "
            "functions (auth.tenant_id(), auth.user_id(), auth.tenant_role()); a row that "
            "must belong to another row of its tenant says so with a TenantForeignKey",
        )
    ]
    assert found(FixedGadget) == []
    # a word that contains "select", a string or a quoted name is not a subquery
    for rule in ("preselected", "status <> 'select'", '"select" is null'):
        picked = type("Picked", (TenantTable, Table), {"rls": tenant_rls(read_rule=rule)})
        assert mistakes(picked) == [], rule
    for rule in ("colour_id in (values (null::uuid))", "colour_id in (table colour_ids)"):
        gadget = type("Gadget", (TenantTable, Table), {"rls": tenant_rls(read_rule=rule)})
        assert [m.code for m in mistakes(gadget)] == ["declared_policy_subquery"], rule


class Stock(TenantTable, Table):
    sku = Varchar(length=20, unique=True)
    stock_sku_unique = Unique(["sku"])


class FixedStock(TenantTable, Table):  # both fixes, followed
    sku = Varchar(length=20)
    stock_tenant_sku_unique = Unique(["tenant_id", "sku"])
    stock_sku_unique = Unique(["tenant_id", "sku"])


class Shelf(TenantTable, Table):  # Unique given Column objects, Piccolo's documented form
    code = Varchar(length=20)
    shelf_code_unique = Unique([code])


class Settings(TenantTable, Table):  # one row per tenant: unique on tenant_id itself
    tenant_id = UUID(null=False, unique=True)


class Login(Table):  # a global table's unique value is the admin's: no request writes it
    user_id = Varchar(length=20, unique=True)
    tenant_id = UUID(null=False)
    rls = global_table("which tenant each login belongs to: read by the admin only")


def test_a_value_unique_across_tenants_is_refused() -> None:
    """B's insert of A's sku would fail with a unique violation: B learns A has it."""
    assert found(Stock) == [
        (
            "unique_across_tenants",
            "Stock.sku is unique=True: one tenant's value would block another's, and the "
            "error would tell that tenant the value exists",
            "drop `unique=True` from Stock.sku and declare `stock_tenant_sku_unique = "
            'Unique(["tenant_id", "sku"])` on Stock (from piccolo.constraints)',
        ),
        (
            "unique_across_tenants",
            "Stock.stock_sku_unique is unique across tenants: one tenant's value would block "
            "another's, and the error would tell that tenant the value exists",
            'declare it `stock_sku_unique = Unique(["tenant_id", "sku"])`',
        ),
    ]
    assert found(FixedStock) == [] and found(Login) == [] and found(Settings) == []
    assert [fix for _, _, fix in found(Shelf)] == [
        'declare it `shelf_code_unique = Unique(["tenant_id", "code"])`'
    ]
