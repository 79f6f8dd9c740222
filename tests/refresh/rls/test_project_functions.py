"""How refresh/rls/check/project_functions.py reads the project's trigger functions from
the rls migrations: the last definition of each, its body whatever its dollar quoting,
SECURITY DEFINER from the header's SQL (not its comments), and no silent pass when a
definition cannot be found."""

from __future__ import annotations

import pytest

from refresh.rls.check import project_functions
from refresh.rls.check.project_functions import definition, project_definitions, words


def test_the_migrations_define_both_functions_as_the_project_runs_them() -> None:
    found = project_definitions()
    assert found["audit_change"].definer and not found["set_updated_at"].definer
    # the last definition: the one writing operator_action with the entry's tenant
    assert "operator_action" in " ".join(found["audit_change"].words)
    assert found["set_updated_at"].statement.startswith(
        ("-- Keeps updated_at", "create or replace function public.set_updated_at()")
    )


def test_any_dollar_quoting_and_comments_in_the_header() -> None:
    statement = (
        "create or replace function public.audit_change() returns trigger\n"
        "language plpgsql -- not security definer: an invoker, on purpose\n"
        "as $fn$ begin return new; end $fn$;"
    )
    parsed = definition(statement)
    assert parsed.words == words(" begin return new; end ") and not parsed.definer
    assert definition(statement.replace("language plpgsql", "security definer")).definer


def test_a_function_no_migration_defines_stops_the_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        project_functions, "PROJECT_FUNCTIONS", ("audit_change", "set_updated_at", "gone")
    )
    with pytest.raises(RuntimeError, match=r"public\.gone\(\)"):
        project_definitions()
