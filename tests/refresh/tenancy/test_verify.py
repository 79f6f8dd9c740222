"""Declaration mistakes found from a table class alone (refresh/tenancy/verify.py); the
same mistakes made through the real CLI are tests/refresh/rls/test_developer_mistakes.py."""

from __future__ import annotations

from piccolo.columns import Varchar
from piccolo.table import Table

from refresh.tenancy.declarations import AUTHENTICATED, global_table
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
