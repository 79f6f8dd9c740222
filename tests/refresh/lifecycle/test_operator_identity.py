"""Who ran a lifecycle command is the operators' to know, not the tenant's: staff see that
the system (or an operator) acted, never which operating-system user or operator. The
tenant's audit entries (its staff's audit log in the admin, its own export through the
API) carry no identity; operator_action, which only operators read, keeps it."""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path
from typing import Any

import pytest

from refresh.db.clients import write_client
from tests.apps.admin.support import new_staff, open_session
from tests.apps.tasks.support import fresh_tenant
from tests.database import piccolo

OS_USER = "jsmith-7f3a"  # unlike any real account, so finding it anywhere is a leak


@pytest.fixture
def temp_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the API export's own files
    return tmp_path


def as_os_user(*args: str) -> None:
    piccolo("tenants", *args, env={"LOGNAME": OS_USER, "USER": OS_USER})


async def lifecycle_entries(tenant_id: Any) -> list[dict[str, Any]]:
    return await write_client.fetch(
        "select a.action, a.actor, a.changes::text as changes, o.operator from audit_log a"
        " left join operator_action o on o.id = a.id and o.tenant_id = a.tenant_id"
        " where a.tenant_id = $1 and a.action in ('erase', 'import') order by a.created_at",
        tenant_id,
    )


async def test_a_cli_import_names_no_os_user_to_the_tenant(
    app: Any, client: Any, temp_folder: Path
) -> None:
    a, b = await fresh_tenant("oid-a"), await fresh_tenant("oid-b")
    saved = temp_folder / f"{a.slug}.jsonl.gz"
    as_os_user("export", a.slug, "--out", str(saved))
    b_staff = await open_session(app, await new_staff(b.id))
    b_entries = await b_staff.rows("audit_log")

    as_os_user("import", str(saved), "--replace")

    # the operators' side: the entries, and who ran the command, apart from them
    entries = await lifecycle_entries(a.id)
    assert [(e["action"], e["actor"]) for e in entries] == [
        ("erase", "system:refresh: piccolo tenants import"),
        ("import", "system:refresh: piccolo tenants import"),
    ]
    assert {e["operator"] for e in entries} == {f"os:{OS_USER}"}
    for entry in entries:
        assert OS_USER not in entry["changes"] and "os_user" not in entry["changes"]

    # the tenant's side: its staff's audit log in the admin (lists and each entry)...
    staff = await open_session(app, await new_staff(a.id))  # the import erased the old
    seen = await staff.rows("audit_log")
    assert {"erase", "import"} <= {row["action"] for row in seen}
    for row in seen:
        detail = await staff.get(f"/tables/audit_log/{row['id']}/")
        assert detail.status_code == 200, detail.text
        for text in (str(row), detail.text):
            assert OS_USER not in text and "os_user" not in text
    # ...and its export through the API, which holds every entry of the tenant
    exported = await client.get(
        "/api/tenant/export", headers={"Authorization": f"Bearer {a.admin_token}"}
    )
    assert exported.status_code == 200, exported.text
    content = gzip.decompress(exported.content).decode()
    assert '"import"' in content
    assert OS_USER not in content and "os_user" not in content
    # the other tenant: nothing new, nothing of A's
    assert await b_staff.rows("audit_log") == b_entries
