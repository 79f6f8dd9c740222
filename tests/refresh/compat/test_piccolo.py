"""refresh/compat/piccolo.py against the installed Piccolo: each test fails if Piccolo
changes what the adaptation relies on. No database: queries are rendered, not run."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from piccolo.apps.migrations.commands.new import _generate_migration_meta
from piccolo.conf.apps import Finder
from piccolo.query.methods.select import Select

from refresh.compat.piccolo import (
    added_checks,
    current_filter,
    drop_offset,
    group_raw_filters,
    has_filter,
    is_plain_select,
    join_with_condition,
    joined_keys,
    key_actions,
    new_migration_file,
    referenced_table,
    reshaped_tables,
    select_offset,
    select_ordering,
    select_with_filters_of,
    selected_items,
    where_conditions,
    with_own_paging,
)


def test_referenced_table_resolves_a_lazy_reference() -> None:
    from apps.tasks.tables import Task
    from apps.tenants.tables import Member, Tenant

    assert referenced_table(Task.assignee_id) is Member
    assert referenced_table(Task.tenant_id) is Tenant  # a LazyTableReference


def test_key_actions_are_the_columns_own() -> None:
    from piccolo.columns import ForeignKey
    from piccolo.columns.base import OnDelete, OnUpdate
    from piccolo.table import Table

    from apps.tenants.tables import Tenant

    class Keyed(Table):
        default = ForeignKey(Tenant)
        quiet = ForeignKey(Tenant, on_delete=OnDelete.restrict, on_update=OnUpdate.no_action)

    assert key_actions(Keyed.default) == ("CASCADE", "CASCADE")
    assert key_actions(Keyed.quiet) == ("RESTRICT", "NO ACTION")


def test_new_migration_file_has_piccolos_format() -> None:
    config = Finder().get_app_config("tasks")
    ours_id, ours_path = new_migration_file(config)
    theirs = _generate_migration_meta(app_config=config)
    shape = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d:\d{6}")
    assert shape.fullmatch(ours_id) and shape.fullmatch(theirs.migration_id)
    assert ours_path.parent == Path(theirs.migration_path).parent
    name = re.compile(r"tasks_\d{4}_\d\d_\d\dt\d\d_\d\d_\d\d_\d{6}")
    assert name.fullmatch(ours_path.stem) and name.fullmatch(theirs.migration_filename)


def test_joins_are_found_in_columns_filters_and_ordering() -> None:
    from apps.tasks.tables import Task

    select = (
        Task.select(Task.id, Task.project_id.name)
        .where(Task.assignee_id.display_name == "x")
        .order_by(Task.project_id.tenant_id.slug)
    )
    delegates = (select.columns_delegate, select.where_delegate, select.order_by_delegate)
    columns = [
        *delegates[0].selected_columns,
        *delegates[1].get_where_columns(),
        *delegates[2].get_order_by_columns(),
    ]
    keys = joined_keys(columns)
    aliases = {key.table_alias for key in keys}
    sql = str(select)
    # each alias a join of the rendered SQL, as the routing conditions name it
    assert aliases and all("LEFT JOIN" in sql and f'"{alias}"' in sql for alias in aliases)
    assert {referenced_table(key).__name__ for key in keys} == {"Project", "Member", "Tenant"}


def test_a_condition_joins_the_on_clause_of_piccolos_join() -> None:
    from apps.tasks.tables import Task

    [join] = Select(table=Task)._get_joins([Task.project_id.name])  # the form it edits
    assert join == (
        'LEFT JOIN "project" "task$project_id" ON ("task"."project_id" = "task$project_id"."id")'
    )
    pinned = join_with_condition(join, "task$project_id", '"x" = {left}."y"')
    assert pinned == join[:-1] + ' AND "x" = "task"."y")'
    assert join_with_condition(join, "another$alias", "true") == join


def test_has_filter_sees_a_where() -> None:
    from apps.tasks.tables import Task

    assert not has_filter(Task.delete(force=True).where_delegate)
    assert has_filter(Task.delete().where(Task.id == uuid.uuid4()).where_delegate)


def test_a_selects_offset_and_ordering_are_read_and_the_offset_dropped() -> None:
    from apps.tasks.tables import Task

    query = Select(table=Task).order_by(Task.created_at, Task.id, ascending=False)
    query = query.order_by(Task.title).offset(1500).limit(25)
    assert select_offset(query) == 1500
    assert select_ordering(query) == [
        (Task.created_at, False),
        (Task.id, False),
        (Task.title, True),
    ]
    assert str(query).endswith(
        'ORDER BY "task"."created_at" DESC, "task"."id" DESC, "task"."title" ASC'
        " LIMIT 25 OFFSET 1500"
    )
    drop_offset(query)
    assert select_offset(query) == 0
    assert str(query).endswith("LIMIT 25")
    assert select_offset(Select(table=Task)) == 0


def test_a_copy_with_own_paging_changes_without_changing_the_select() -> None:
    from piccolo.columns.combination import WhereRaw

    from apps.tasks.tables import Task

    query = Select(table=Task, columns_list=[Task.id]).where(Task.priority > 1)
    query = query.order_by(Task.id).offset(1500).limit(25)
    before = str(query)
    other = with_own_paging(query)
    drop_offset(other)
    other.order_by(Task.title).where(WhereRaw("false"))
    assert str(query) == before
    assert str(other) == (
        'SELECT ALL "task"."id" AS "id" FROM "task" WHERE ("task"."priority" > 1 AND false)'
        ' ORDER BY "task"."id" ASC, "task"."title" ASC LIMIT 25'
    )
    assert type(other) is type(query) and selected_items(other) == [Task.id]


def test_raw_conditions_are_grouped_only_by_the_grouped_delegate() -> None:
    """Piccolo writes a raw condition as it is inside `(a AND b)`; if it ever groups it
    itself, GroupedWhereDelegate is no longer needed (the first assertion fails)."""
    from piccolo.columns.combination import WhereRaw
    from piccolo.querystring import QueryString

    from apps.tasks.tables import Task

    def rendered(query: Select) -> str:  # type: ignore[type-arg]
        query.where(Task.priority == 1).where(WhereRaw("x OR y"), QueryString("z OR {}", 5))
        return str(query).split(" WHERE ")[1]

    assert rendered(Select(table=Task)) == '(("task"."priority" = 1 AND x OR y) AND z OR 5)'
    grouped = group_raw_filters(Select(table=Task))
    assert rendered(grouped) == '(("task"."priority" = 1 AND (x OR y)) AND (z OR 5))'
    assert current_filter(Select(table=Task).where_delegate) is None


def test_a_plain_select_is_told_from_one_with_more_than_filters_and_paging() -> None:
    from apps.tasks.tables import Task

    def plain() -> Select:  # type: ignore[type-arg]
        return Select(table=Task).where(Task.priority > 1).order_by(Task.id).offset(5)

    assert is_plain_select(plain())
    for other in (
        plain().distinct(),
        plain().group_by(Task.status),
        plain().lock_rows(),
        plain().freeze().query,  # its SQL fixed: a where added would not show
    ):
        assert not is_plain_select(other), other
    having = plain()
    having.having_delegate.where(Task.priority > 2)
    assert not is_plain_select(having)


def test_a_where_is_walked_to_its_conditions() -> None:
    from piccolo.columns.combination import Where, WhereRaw

    from apps.tasks.tables import Task

    query = Select(table=Task).where(
        (Task.priority > 1) | (Task.title == "x"), WhereRaw("true"), Task.status == "done"
    )
    leaves = where_conditions(query.where_delegate)
    assert sorted(type(leaf).__name__ for leaf in leaves) == ["Where", "Where", "Where", "WhereRaw"]
    columns = {leaf.column._meta.name for leaf in leaves if isinstance(leaf, Where)}
    assert columns == {"priority", "title", "status"}
    assert where_conditions(Select(table=Task).where_delegate) == []


def test_a_select_shares_another_ones_filters_and_selection_is_read() -> None:
    from piccolo.querystring import QueryString

    from apps.tasks.tables import Task

    readable = Task.get_readable()
    query = Select(table=Task, columns_list=[Task.id, readable]).where(Task.priority > 3)
    assert selected_items(query) == [Task.id, readable]
    counted = select_with_filters_of(query, [QueryString("count(*) AS n")])
    assert str(counted) == 'SELECT ALL count(*) AS n FROM "task" WHERE "task"."priority" > 3'


def test_added_checks_are_the_managers_on_existing_tables() -> None:
    import asyncio
    import importlib

    from piccolo.apps.migrations.auto.migration_manager import MigrationManager
    from piccolo.constraints import Check

    migration = importlib.import_module("migrations.tasks.tasks_2026_12_06t16_51_58_196879")
    manager = asyncio.run(migration.forwards())
    assert added_checks(manager) == [("task", "task_due_at_finite", "isfinite(due_at)")]

    fresh = MigrationManager(migration_id="x", app_name="x")
    fresh.add_table(class_name="Gadget", tablename="gadget")
    for table, name in (("Gadget", "gadget"), ("Task", "task")):
        fresh.add_constraint(
            table_class_name=table,
            tablename=name,
            constraint_name=f"{name}_size",
            constraint_class=Check,
            params={"condition": "size > 0"},
            schema="app" if table == "Task" else None,
        )
    # A table the migration creates is empty: only the existing one is checked.
    assert added_checks(fresh) == [("app.task", "task_size", "size > 0")]


def test_a_check_on_a_table_the_migration_reshapes_is_not_tried_first() -> None:
    """The pre-flight runs before Piccolo's column steps: a check naming a column the same
    migration adds, renames or alters would fail there on any database."""
    from piccolo.apps.migrations.auto.migration_manager import MigrationManager
    from piccolo.columns import Integer
    from piccolo.constraints import Check

    def with_check(manager: MigrationManager, table: str) -> MigrationManager:
        manager.add_constraint(
            table_class_name=table.capitalize(),
            tablename=table,
            constraint_name=f"{table}_weight_positive",
            constraint_class=Check,
            params={"condition": "weight > 0"},
        )
        return manager

    added = MigrationManager(migration_id="x", app_name="x")
    added.add_column("Gadget", "gadget", "weight", column_class=Integer, params={"null": True})
    renamed = MigrationManager(migration_id="x", app_name="x")
    renamed.rename_column("Gadget", "gadget", "mass", "weight")
    altered = MigrationManager(migration_id="x", app_name="x")
    altered.alter_column("Gadget", "gadget", "weight", params={"null": True})
    moved = MigrationManager(migration_id="x", app_name="x")
    moved.rename_table("Widget", "widget", "Gadget", "gadget")
    for manager in (added, renamed, altered, moved):
        assert reshaped_tables(manager) == {"Gadget"}
        assert added_checks(with_check(manager, "gadget")) == []
    untouched = with_check(MigrationManager(migration_id="x", app_name="x"), "gadget")
    assert added_checks(untouched) == [("gadget", "gadget_weight_positive", "weight > 0")]
