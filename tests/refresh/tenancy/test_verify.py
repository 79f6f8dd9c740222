"""Declaration mistakes found from a table class alone (refresh/tenancy/verify.py); the
same mistakes made through the real CLI are tests/refresh/rls/test_developer_mistakes.py."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from piccolo.columns import UUID, Varchar
from piccolo.conf.apps import AppConfig
from piccolo.table import Table

from refresh.rls import startup
from refresh.rls.startup import DeclarationsNotMet
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
from refresh.tenancy.tables import ReadClientTable, TenantTable
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


@dataclass
class Registry:  # Finder().get_app_registry(), of the given apps only
    app_configs: dict[str, AppConfig]

    def get_app_registry(self) -> Registry:
        return self


class Note(Table, TenantTable):  # Table first: Piccolo's __init_subclass__ never calls
    body = Varchar(length=100)  # the mixins', so nothing binds it to the read client


class FixedNote(TenantTable, Table):  # Note, as the fix says
    body = Varchar(length=100)


def test_a_tenant_table_listing_table_first_is_refused_on_the_write_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """It has tenant_id and inherits tenant_rls(), so it looks like a tenant table, but
    with Table first its queries would run on the write client, which bypasses RLS: the
    declarations check (run by `rls new`, `rls check` and the app's start) refuses it."""
    [found] = mistakes(Note)
    message = (
        "table class Note is declared under RLS but bound to the write client, which "
        "bypasses RLS: inside a request its queries see every tenant's rows"
    )
    fix = (
        "derive it from TenantTable (or ReadClientTable), listed before Table: "
        "`class Note(TenantTable, Table)`"
    )
    assert (found.code, found.message, found.fix) == ("bound_to_write_client", message, fix)
    # the app does not start with it (app.py calls verify_declarations first)
    app = AppConfig(app_name="notes", migrations_folder_path=".", table_classes=[Note])
    monkeypatch.setattr(startup, "Finder", lambda: Registry({"notes": app}))
    with pytest.raises(DeclarationsNotMet) as refused:
        startup.verify_declarations()
    assert f"  note [bound_to_write_client] {message}; fix: {fix}" in str(refused.value)
    assert mistakes(FixedNote) == []  # the fix, followed


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
    id = UUID(primary_key=True)
    tenant_id = UUID(null=False)
    rls = ledger()


class AuditedLedger(ReadClientTable, Table):  # the fix, either way
    id = UUID(primary_key=True)
    tenant_id = UUID(null=False)
    rls = ledger(audited())


class UnauditedLedger(ReadClientTable, Table):
    id = UUID(primary_key=True)
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
