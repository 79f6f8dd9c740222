"""Policy conditions read from their SQL tokens (refresh/tenancy/policy_sql.py); the
declarations these refuse are tests/refresh/tenancy/test_tenant_rows.py."""

from __future__ import annotations

from refresh.tenancy.policy_sql import conjuncts, has_subquery, isolates_tenant, normalised


def test_a_top_level_or_leaves_no_conjunct_that_holds_on_every_row() -> None:
    assert conjuncts("tenant_id = auth.tenant_id() or true") is None
    parts = conjuncts("(a = 1 and (b = 2 or c = 3))")
    assert parts is not None
    assert [normalised(p) for p in parts] == ["a=1", "b=2orc=3"]


def test_comments_and_whitespace_are_not_part_of_the_condition() -> None:
    assert not isolates_tenant("/* tenant_id = auth.tenant_id() */ true")
    assert isolates_tenant("tenant_id\n  =  auth.tenant_id() -- the rule")


def test_a_subquery_is_a_keyword_not_a_word() -> None:
    assert has_subquery("exists (SELECT 1 from colour)")
    assert not has_subquery("note <> 'select * from task'")
    assert not has_subquery("selected_at is not null")
