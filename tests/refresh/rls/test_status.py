"""`piccolo rls status`: every table of schema public, its kind and its live RLS."""

from __future__ import annotations

import json

from refresh.rls.status import TableStatus, render_text
from settings import get_settings
from tests.database import piccolo

EXPECTED_KINDS = {
    "tenant": ("tenants", "rls"),
    "member": ("tenants", "tenant"),
    "project": ("projects", "tenant"),
    "migration": ("-", "not-in-code"),  # Piccolo's own table: no app declares it
}


def table_rows(output: str) -> dict[str, list[str]]:
    """Unindented lines of the text table, by table name (column 2)."""
    rows = {}
    for line in output.splitlines()[1:]:
        if line and not line.startswith(" ") and len(line.split()) > 2:
            columns = line.split()
            rows[columns[1]] = columns
    return rows


def test_status_prints_every_table_with_its_kind():
    result = piccolo("rls", "status")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0].split()[:6] == ["APP", "TABLE", "KIND", "RLS", "FORCED", "AUDITED"]
    rows = table_rows(result.stdout)
    for table, (app, kind) in EXPECTED_KINDS.items():
        assert rows[table][:5] == [app, table, kind, *rows[table][3:5]], rows[table]
    assert rows["project"][3:5] == ["yes", "yes"]  # RLS enabled and forced
    assert rows["migration"][3:5] == ["yes", "yes"]  # nothing without RLS, not even this
    assert rows["sessions"][2:5] == ["global", "yes", "yes"]  # global: RLS on, deny-all
    # audited: the audit trigger is on the table (every tenant table, the logins)
    assert [rows[t][5] for t in ("project", "piccolo_user", "sessions", "migration")] == [
        "yes",
        "yes",
        "no",
        "no",
    ]
    # The policies are listed, indented, under their table (before the next table).
    start = next(i for i, line in enumerate(lines) if line.split()[1:2] == ["project"])
    policies = []
    for line in lines[start + 1 :]:
        if not line.startswith("    "):
            break
        policies.append(line.split())
    assert {p[0] for p in policies} == {
        "tenant_isolation_select",
        "tenant_isolation_insert",
        "tenant_isolation_update",
        "tenant_isolation_delete",
    }
    select = next(p for p in policies if p[0] == "tenant_isolation_select")
    assert " ".join(select[1:]).startswith("SELECT permissive to authenticated USING")


def test_status_json_lists_the_policies_and_grants_of_project():
    result = piccolo("rls", "status", "--json")
    assert result.returncode == 0
    tables = {t["table"]: t for t in json.loads(result.stdout)["tables"]}
    for table, (app, kind) in EXPECTED_KINDS.items():
        assert tables[table]["kind"] == kind
        assert tables[table]["app"] == (None if app == "-" else app)
    project = tables["project"]
    role = get_settings().authenticated_role
    assert project["in_database"] and project["rls_enabled"] and project["rls_forced"]
    assert project["audited"] is True and tables["sessions"]["audited"] is False
    policies = {p["name"]: p for p in project["policies"]}
    assert set(policies) == {
        f"tenant_isolation_{c}" for c in ("select", "insert", "update", "delete")
    }
    assert policies["tenant_isolation_select"] == {
        "name": "tenant_isolation_select",
        "command": "select",
        "permissive": True,
        "roles": [role],
        "using": "(tenant_id = auth.tenant_id())",
        "with_check": None,
    }
    assert policies["tenant_isolation_insert"]["with_check"] == "(tenant_id = auth.tenant_id())"
    assert project["grants"] == {role: ["delete", "insert", "select", "update"]}
    # no RESTRICTIVE policy (Citus would make it permissive): the admins-only rule of
    # member is folded into its isolation policies
    assert all(p["permissive"] for p in tables["member"]["policies"])
    member = {p["name"]: p for p in tables["member"]["policies"]}
    assert "auth.tenant_role() = 'admin'" in member["tenant_isolation_insert"]["with_check"]
    assert tables["tenant"]["grants"] == {role: ["select"]}
    assert tables["migration"]["policies"] == [] and tables["migration"]["grants"] == {}


def test_a_declared_table_missing_from_the_database_is_shown_as_such():
    text = render_text([TableStatus("shop", "invoice", "undeclared", in_database=False)])
    row = text.splitlines()[1]
    assert row.split()[:3] == ["shop", "invoice", "undeclared"]
    assert "(not in the database)" in row
