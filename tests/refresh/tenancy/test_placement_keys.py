"""Keys Citus could not check, found from the declarations alone, and fixes that, followed,
make no other key uncheckable (refresh/tenancy/placement_keys.py). Pure: no database; the
same refusal through `rls new` and `rls check` is tests/refresh/rls/test_placement_mistakes.py."""

from __future__ import annotations

from piccolo.columns import UUID, ForeignKey
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.table import Table

from refresh.tenancy.columns import TenantForeignKey
from refresh.tenancy.declarations import Distribution, global_table, tenant_rls
from refresh.tenancy.tables import ReadClientTable, TenantTable
from refresh.tenancy.verify import all_mistakes, app_mistakes

LOCAL, REFERENCE = Distribution.local, Distribution.reference


def placement_fixes(*tables: type[Table]) -> dict[str, str]:
    return {m.table: m.fix for m in all_mistakes(tables) if m.code == "key_across_placements"}


class Kept(TenantTable, Table):  # on the coordinator
    rls = tenant_rls(distribution=LOCAL)


class Sharded(TenantTable, Table):
    pass


class Both(TenantTable, Table):  # keyed to one of each
    kept_id = TenantForeignKey(Kept)
    sharded_id = TenantForeignKey(Sharded)


def test_the_fix_moves_the_table_whose_move_breaks_no_other_key() -> None:
    """Moving Both beside Kept would break its key to Sharded: Kept is moved instead."""
    [fix] = placement_fixes(Kept, Sharded, Both).values()
    assert fix.startswith(
        "declare Kept `rls = tenant_rls(..., distribution=Distribution.by_tenant)`"
    )


class Ledger(ReadClientTable, Table):  # a global table of the coordinator
    sharded_id = ForeignKey(Sharded)
    rls = global_table("the platform's own ledger", distribution=LOCAL)


class Pinned(TenantTable, Table):  # sharded, and keyed from a local table and to Sharded
    sharded_id = TenantForeignKey(Sharded)


class Audited(ReadClientTable, Table):  # a global table keyed to a table sharded by tenant,
    pinned_id = ForeignKey(Pinned)  # whose own key to Sharded forbids making it a reference
    rls = global_table("an index of the pinned rows", distribution=LOCAL)


def test_a_global_table_is_never_told_to_be_sharded() -> None:
    """Ledger cannot be sharded, and Sharded kept local would break Pinned's key to it:
    Sharded becomes a reference table."""
    [fix] = placement_fixes(Sharded, Pinned, Ledger).values()
    assert fix.startswith("declare Sharded `rls = tenant_rls(..., distribution=Distribution.ref")


def test_no_single_move_is_said_so() -> None:
    [fix] = placement_fixes(Sharded, Pinned, Audited).values()
    assert fix.startswith("declare Audited and Pinned in one placement")


class Catalogue(ReadClientTable, Table):  # a reference table keyed to a local one
    kept_global_id = ForeignKey(Ledger, on_delete=OnDelete.cascade)
    rls = global_table("a catalogue every node reads")


class QuietCatalogue(ReadClientTable, Table):
    kept_global_id = ForeignKey(Ledger, on_delete=OnDelete.restrict, on_update=OnUpdate.restrict)
    rls = global_table("a catalogue every node reads")


def test_a_reference_table_may_refer_to_a_local_one_only_without_actions() -> None:
    assert set(placement_fixes(Sharded, Ledger, Catalogue)) == {"ledger", "catalogue"}
    assert set(placement_fixes(Sharded, Ledger, QuietCatalogue)) == {"ledger"}


class TenantsOfTheCoordinator(TenantTable, Table):  # its tenant_id key to the tenant root
    id = UUID(primary_key=True)  # (a reference table): nothing to report


def test_the_tenant_roots_key_is_checked_like_any_other() -> None:
    assert placement_fixes(TenantsOfTheCoordinator) == {}


def test_an_apps_mistakes_include_the_keys_of_other_apps_into_its_tables() -> None:
    """Kept's app has no mistake of its own; Both's key into Kept, from another app, is
    still one of its mistakes (with the fix `rls check` gives it from Both's app), and a
    key of the other app not touching Kept's tables is not."""
    found = app_mistakes([Kept], [[Sharded, Both], [Ledger]])
    assert [(m.table, m.code) for m in found] == [(both_table(), "key_across_placements")]
    assert found[0].fix == placement_fixes(Both, Sharded)[both_table()]
    assert app_mistakes([Sharded], [[Ledger]]) != []  # Ledger's key into Sharded
    assert app_mistakes([Sharded], [[Pinned]]) == []  # sharded to sharded: checkable


def both_table() -> str:
    return Both._meta.tablename


class Unit(ReadClientTable, Table):  # global in one app ...
    rls = global_table("units, the same for every tenant")


class UnitNowTenant(TenantTable, Table):  # ... and the same table made a tenant table
    pass


class Stock(TenantTable, Table):  # another app's tenant table, keyed to it by a plain key
    unit_id = ForeignKey(Unit)


class StockOfTenantUnit(TenantTable, Table):
    unit_id = ForeignKey(UnitNowTenant)


def test_a_table_made_a_tenant_table_while_a_plain_key_points_at_it() -> None:
    """A plain key from another app's tenant table, harmless to a global table, would
    leak once the target holds tenants' rows: the target's app is refused too."""
    assert app_mistakes([Unit], [[Stock]]) == []
    [found] = app_mistakes([UnitNowTenant], [[StockOfTenantUnit]])
    assert (found.table, found.code) == (
        StockOfTenantUnit._meta.tablename,
        "plain_key_between_tenant_tables",
    )
