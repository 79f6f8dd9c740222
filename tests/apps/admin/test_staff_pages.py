"""Building the staff site refuses a page its requests would not read through RLS
(apps/admin/staff_pages.py), and each piece of the refusal's advice, applied literally,
clears it. The refused shape is the one a probe showed leaking: a plain `Table` (bound to
the write client) with a tenant_id, declared `global_table(reason)` without grants, in an
app's ADMIN_PAGES: tenant A's staff listed and edited tenant B's rows."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
from piccolo.columns import UUID, ForeignKey, Varchar
from piccolo.columns.defaults.uuid import UUID4
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table
from piccolo_admin.endpoints import TableConfig

from apps.admin import site
from apps.admin.staff_pages import StaffPageRefused
from refresh.db.engines import READ_DB
from refresh.registry import contributions
from refresh.tenancy.declarations import AUTHENTICATED, global_table
from refresh.tenancy.tables import ReadClientTable, TenantTable, Timestamps, tenant_root_reference

MODULE = "gadgets.admin"


# The probe's table, as a developer writes it after apps/admin's StaffProfile.
class Supplier(Timestamps, Table, tablename="probe_supplier"):
    id = UUID(primary_key=True, default=UUID4())
    tenant_id: ForeignKey[Table] = ForeignKey(
        LazyTableReference(**tenant_root_reference()), null=False, index=True
    )
    name = Varchar(length=100, null=False)

    rls = global_table("each tenant's suppliers, kept by the operators")


# The advice "make it a tenant table: `class Supplier(TenantTable, Table)` ... with no
# `rls = ...` of its own", applied.
class TenantSupplier(TenantTable, Table, tablename="probe_tenant_supplier"):
    id = UUID(primary_key=True, default=UUID4())
    name = Varchar(length=100, null=False)


# Rows shared by every tenant, on the write client and readable by nobody in a request.
class Currency(Table, tablename="probe_currency"):
    code = Varchar(length=3, null=False)

    rls = global_table("currencies, the same for every tenant")


# The advice for it: "derive it from ReadClientTable ... and declare
# `rls = global_table(reason, grants={AUTHENTICATED: ("select",)})`", applied.
class SharedCurrency(ReadClientTable, Table, tablename="probe_shared_currency"):
    code = Varchar(length=3, null=False)

    rls = global_table("currencies, the same for every tenant", grants={AUTHENTICATED: ("select",)})


def with_app_module(
    monkeypatch: pytest.MonkeyPatch, pages: list[Any], operator_pages: list[Any] = ()
) -> None:
    """The registered apps' admin modules, and one more (`gadgets.admin`) with these pages."""
    module = ModuleType(MODULE)
    module.ADMIN_PAGES = [TableConfig(t, menu_group="Gadgets") for t in pages]  # type: ignore[attr-defined]
    module.ADMIN_OPERATOR_PAGES = [TableConfig(t) for t in operator_pages]  # type: ignore[attr-defined]
    shipped = contributions("admin")
    monkeypatch.setattr(site, "contributions", lambda name: [*shipped, (None, module)])


def refusal(monkeypatch: pytest.MonkeyPatch, pages: list[Any]) -> str:
    with_app_module(monkeypatch, pages)
    with pytest.raises(StaffPageRefused) as refused:
        site.create_sites(production=False)
    return str(refused.value)


def tables_of(pages: list[TableConfig]) -> set[type[Table]]:
    return {page.table_class for page in pages}


def test_the_shipped_pages_are_all_read_through_rls() -> None:
    staff = site.app_pages(staff=True)
    assert staff and all(page.table_class._meta.db is READ_DB for page in staff)
    site.create_sites(production=False)


def test_a_write_client_table_of_tenant_rows_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    message = refusal(monkeypatch, [Supplier])
    print(message)
    assert message.startswith(
        "table class Supplier (table probe_supplier), listed in gadgets.admin, cannot be a "
        "page of the tenant staff's admin site: it is bound to the write client"
    )
    assert "move its page from ADMIN_PAGES to ADMIN_OPERATOR_PAGES in gadgets.admin" in message
    assert "`class Supplier(TenantTable, Table)`" in message
    assert "with no `rls = ...` of its own" in message


def test_the_tenant_table_advice_clears_it(monkeypatch: pytest.MonkeyPatch) -> None:
    with_app_module(monkeypatch, [TenantSupplier])
    site.create_sites(production=False)
    assert TenantSupplier in tables_of(site.app_pages(staff=True))


def test_the_operators_only_advice_clears_it_and_staff_do_not_get_the_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with_app_module(monkeypatch, [], operator_pages=[Supplier])
    site.create_sites(production=False)
    assert Supplier in tables_of(site.app_pages(staff=False))
    assert Supplier not in tables_of(site.app_pages(staff=True))


def test_a_shared_table_nobody_may_read_in_a_request_is_refused_and_the_advice_clears_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    message = refusal(monkeypatch, [Currency])
    assert "it is bound to the write client" in message
    assert (
        "derive it from ReadClientTable, listed before Table: "
        "`class Currency(ReadClientTable, ..., Table)`" in message
    )
    assert 'declare `rls = global_table(reason, grants={AUTHENTICATED: ("select",)})`' in message
    with_app_module(monkeypatch, [SharedCurrency])
    site.create_sites(production=False)


def test_a_global_table_of_tenant_rows_on_the_read_client_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Read through RLS, but its `true` policies show every tenant's rows to all."""

    class Note(ReadClientTable, Table, tablename="probe_note"):
        tenant_id: ForeignKey[Table] = ForeignKey(
            LazyTableReference(**tenant_root_reference()), null=False
        )
        rls = global_table("notes of every tenant", grants={AUTHENTICATED: ("select",)})

    message = refusal(monkeypatch, [Note, Currency])
    assert "table class Note (table probe_note)" in message
    assert "a global table with a tenant_id column" in message
    assert "`class Note(TenantTable, Table)`" in message
    assert "table class Currency" in message  # every refused page at once
