"""How `piccolo rls check` links a problem to the root cause that explains it: by code,
then one problem standing for the others of its table with the very same fix. Every
problem is either a root or under one: none is lost in a cycle."""

from __future__ import annotations

from refresh.rls.check import with_causes
from refresh.rls.check.problems import Problem, commands, report, sql

RLS_NEW = commands("piccolo rls new gadgets", "piccolo migrations forwards all")
TENANT_INDEX = sql("create index gadget_tenant_id_idx on gadget (tenant_id);")


def roots(problems: list[Problem]) -> list[str]:
    return [p.code for p in with_causes(problems) if p.cause is None]


def links(problems: list[Problem]) -> list[tuple[str, str | None]]:
    """Each problem's code with its cause's."""
    return [(p.code, p.cause.code if p.cause else None) for p in problems]


def test_one_fix_where_one_problem_explains_the_other_leaves_that_one_the_root() -> None:
    # a table whose declared distribution changed: the same command fixes both
    placement = Problem("placement_not_migrated", "gadget", "placement", RLS_NEW, "gadgets")
    rls = Problem("rls_not_migrated", "gadget", "rls", RLS_NEW, "gadgets")
    linked = with_causes([placement, rls])
    assert [p.code for p in linked if p.cause is None] == ["rls_not_migrated"]
    assert report(linked, "").startswith("piccolo rls check: 2 problems, 1 to fix")


def test_problems_of_one_fix_that_no_code_explains_are_one_to_fix() -> None:
    fk = Problem("fk_without_index", "gadget", "fk", TENANT_INDEX)
    policy = Problem("policy_column_without_index", "gadget", "policy", TENANT_INDEX)
    other_table = Problem("fk_without_index", "part", "fk", TENANT_INDEX)
    assert roots([fk, policy, other_table]) == ["fk_without_index", "fk_without_index"]
    assert with_causes([fk, policy])[1].cause == fk


def test_a_problem_explained_by_code_does_not_take_the_others_of_its_fix_along() -> None:
    """The primary key's fix clears the missing tenant_id index (its code says so), not
    necessarily everything else that happens to share that index's fix: those stay a
    root of their own, and following both fixes works (the names differ)."""
    key = Problem("tenant_primary_key_missing", "gadget", "pk", sql("alter table ..."))
    index = Problem("tenant_id_without_index", "gadget", "index", TENANT_INDEX)
    fk = Problem("fk_without_index", "gadget", "fk", TENANT_INDEX)
    linked = with_causes([key, index, fk])
    assert links(linked) == [
        ("tenant_primary_key_missing", None),
        ("tenant_id_without_index", "tenant_primary_key_missing"),
        ("fk_without_index", None),
    ]


def test_what_a_grouped_root_explains_stays_in_the_report() -> None:
    """A root found by code that shares its fix with an earlier problem goes under that
    one, and so does what it explained: every problem is listed, under some root."""
    key_fix = sql("alter table gadget add primary key (tenant_id, id);")
    fk = Problem("fk_without_index", "gadget", "fk", key_fix)
    key = Problem("tenant_primary_key_missing", "gadget", "pk", key_fix)
    index = Problem("tenant_id_without_index", "gadget", "index", TENANT_INDEX)
    linked = with_causes([fk, key, index])
    assert links(linked) == [
        ("fk_without_index", None),
        ("tenant_primary_key_missing", "fk_without_index"),
        ("tenant_id_without_index", "fk_without_index"),
    ]
    text = report(linked, "")
    assert text.startswith("piccolo rls check: 3 problems, 1 to fix")
    assert all(f"[{p.code}]" in text for p in linked)
