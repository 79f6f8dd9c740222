"""Declaration mistakes found from a table class alone (refresh/tenancy/verify.py); the
same mistakes made through the real CLI are tests/refresh/rls/test_developer_mistakes.py."""

from __future__ import annotations

from piccolo.columns import UUID, Varchar
from piccolo.table import Table

from refresh.tenancy.declarations import (
    AUTHENTICATED,
    Audit,
    Distribution,
    NotAudited,
    Policy,
    RowSecurity,
    audited,
    global_table,
    not_audited,
    row_security,
)
from refresh.tenancy.tables import ReadClientTable
from refresh.tenancy.verify import mistakes

SHARED = "units of measure, the same for every tenant"


class Unit(Table):  # a plain Piccolo table: bound to the write client
    name = Varchar(length=20)
    rls = global_table(SHARED, grants={AUTHENTICATED: ("select",)})


class Setting(Table):  # the same, granting nothing: only the CLI and the admin use it
    name = Varchar(length=20)
    rls = global_table(SHARED)


class FixedUnit(ReadClientTable, Table):  # Unit, as the fix says
    name = Varchar(length=20)
    rls = global_table(SHARED, grants={AUTHENTICATED: ("select",)})


def test_a_global_table_granting_request_roles_is_refused_on_the_write_client() -> None:
    [found] = mistakes(Unit)
    assert (found.code, found.message, found.fix) == (
        "bound_to_write_client",
        "table class Unit is a global table that grants authenticated access, but it is "
        "bound to the write client, which bypasses its RLS and grants: requests cannot use "
        "it, and a staff page of it would read and write as the admin role",
        "derive it from ReadClientTable, listed before Table: "
        "`class Unit(ReadClientTable, Table)` (from refresh.tenancy.tables)",
    )
    assert mistakes(FixedUnit) == []  # the fix, followed


def test_a_global_table_granting_nothing_may_stay_on_the_write_client() -> None:
    assert mistakes(Setting) == []


OWN_ROWS = Policy("own_rows", "select", using="tenant_id = auth.tenant_id()")


def ledger(audit: Audit | NotAudited | None = None) -> RowSecurity:
    return row_security(
        OWN_ROWS,
        grants={AUTHENTICATED: ("select",)},
        distribution=Distribution.by_tenant,
        audit=audit,
    )


class Ledger(ReadClientTable, Table):  # tenants' rows under custom policies, audit unsaid
    tenant_id = UUID(null=False)
    rls = ledger()


class AuditedLedger(ReadClientTable, Table):  # the fix, either way
    tenant_id = UUID(null=False)
    rls = ledger(audited())


class UnauditedLedger(ReadClientTable, Table):
    tenant_id = UUID(null=False)
    rls = ledger(not_audited("a copy of the ledger the audit log already records"))


def test_tenants_rows_under_custom_policies_say_whether_they_are_audited() -> None:
    [found] = mistakes(Ledger)
    assert (found.code, found.message, found.fix) == (
        "audit_not_declared",
        "table class Ledger holds tenants' rows (tenant_id), but its declaration says "
        "neither that their changes are audited nor why not",
        "add `audit=audited()` to its row_security(...), or `audit=not_audited(reason)` "
        "with the reason a reviewer can judge (both from refresh.tenancy.declarations)",
    )
    assert mistakes(AuditedLedger) == [] and mistakes(UnauditedLedger) == []
