"""The placement's SQL, as `piccolo rls distribute` and the placement migrations run it in
one transaction (run on a real cluster by tests/citus): the triggers of the tables it
places are off while their rows are copied, and on again once every key is back."""

from __future__ import annotations

from refresh.schema.distribution import ForeignKey, distribution_sql

KEY = ForeignKey(
    "task", "project", "task_project_same_tenant", "FOREIGN KEY (tenant_id, project_id) ..."
)
TRIGGERS = {
    "tenant": ["audit_change"],
    "task": ["audit_change", "task_set_updated_at"],
    "project": ["audit_change"],
    "member": ["audit_change"],  # not placed here: not touched
}


def test_triggers_of_the_placed_tables_are_off_during_the_copy_and_on_after_the_keys() -> None:
    sql = distribution_sql(["tenant"], ["project", "task"], None, [KEY], TRIGGERS)
    off = [i for i, s in enumerate(sql) if " disable trigger " in s]
    on = [i for i, s in enumerate(sql) if " enable trigger " in s]
    placed = [i for i, s in enumerate(sql) if "create_reference_table" in s or "create_dist" in s]
    keys_back = [i for i, s in enumerate(sql) if " add constraint " in s]
    assert len(off) == len(on) == 4
    assert max(off) < min(placed) and max(placed) < min(keys_back) <= max(keys_back) < min(on)
    assert not [s for s in sql if "member" in s]
    assert sql[on[0] : on[-1] + 1] == [
        "alter table tenant enable trigger audit_change;",
        "alter table project enable trigger audit_change;",
        "alter table task enable trigger audit_change;",
        "alter table task enable trigger task_set_updated_at;",
    ]


def test_nothing_is_switched_on_a_table_without_triggers() -> None:
    sql = distribution_sql([], ["project"], "audit_log", [], {})
    assert not [s for s in sql if " trigger " in s]
