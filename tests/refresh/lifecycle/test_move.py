"""Moving a tenant to another database, as the guide's "The tenant's lifecycle" shows it:
export here, import there (the CLI pointed at the other database by WRITE_DATABASE_URL
and READ_DATABASE_URL, both databases at the same migrations), erase here. The tenant
arrives row by row, the tenant already living there is untouched and cannot reach it,
and the moved tenant is served by the app on its new database."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator

import asyncpg
import httpx
import pytest

from refresh.db.claims import TenantRole
from refresh.web.tokens import issue_token
from settings import get_settings
from tests.refresh.lifecycle.support import generated_tenant, others_digest, rows_of, run_cli
from tests.scratch import ScratchDatabase, scratch_database, uvicorn


@pytest.fixture(scope="module")
def elsewhere() -> Iterator[ScratchDatabase]:
    """The other database: bootstrapped and migrated as a new server would be."""
    with scratch_database("moved") as database:
        database.piccolo("migrations", "forwards", "all")
        yield database


async def rows_there(database: ScratchDatabase, tenant_id: uuid.UUID) -> dict[str, list[str]]:
    connection = await asyncpg.connect(database.env["WRITE_DATABASE_URL"])
    try:
        return await rows_of(tenant_id, fetch=connection.fetch)
    finally:
        await connection.close()


def digest(rows: dict[str, list[str]]) -> str:
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()


def without_lifecycle(rows: dict[str, list[str]]) -> dict[str, list[str]]:
    """The rows but the audit entries the moves themselves wrote (import, erase)."""
    kept = dict(rows)
    kept["audit_log"] = [
        r for r in rows["audit_log"] if json.loads(r)["action"] not in ("import", "erase")
    ]
    return kept


def import_there(database: ScratchDatabase, path: str) -> None:
    result = database.piccolo("tenants", "import", path, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "imported" in result.stdout + result.stderr


async def test_a_tenant_moves_to_another_database(tmp_path, elsewhere, tenant_a, tenant_b):
    mover = f"mover-{uuid.uuid4().hex[:6]}"
    mover_id = await generated_tenant(mover, tasks=120, comments=15)
    resident = f"resident-{uuid.uuid4().hex[:6]}"
    resident_id = await generated_tenant(resident, tasks=10)
    original = await rows_of(mover_id)
    staying_here = await others_digest(mover_id)

    # The resident lives in the other database already (it moved there first).
    resident_file = tmp_path / "resident.jsonl.gz"
    assert run_cli("tenants", "export", resident, "--out", str(resident_file)).returncode == 0
    import_there(elsewhere, str(resident_file))
    resident_before = digest(await rows_there(elsewhere, resident_id))

    # The guide's three commands.
    moved_file = tmp_path / f"{mover}.jsonl.gz"
    export = run_cli("tenants", "export", mover, "--out", str(moved_file))
    assert export.returncode == 0, export.stderr
    import_there(elsewhere, str(moved_file))
    erase = run_cli("tenants", "erase", mover)
    assert erase.returncode == 0, erase.stderr

    arrived = await rows_there(elsewhere, mover_id)
    assert without_lifecycle(arrived) == without_lifecycle(original)  # row by row
    assert [json.loads(r)["action"] for r in arrived["audit_log"]].count("import") == 1
    assert digest(await rows_there(elsewhere, resident_id)) == resident_before
    left_here = await rows_of(mover_id)
    assert {name: len(rows) for name, rows in left_here.items() if rows} == {"audit_log": 1}
    assert await others_digest(mover_id) == staying_here

    # A second import there is refused: the tenant exists (moving twice is no merge).
    again = elsewhere.piccolo("tenants", "import", str(moved_file), check=False)
    assert again.returncode != 0
    assert "exists" in again.stdout + again.stderr
    assert digest(await rows_there(elsewhere, mover_id)) == digest(arrived)

    # The app on the other database serves the moved tenant, and only to its own members.
    with uvicorn(elsewhere.env) as base:
        async with httpx.AsyncClient(base_url=base) as api:
            theirs = await projects(api, mover_id)
            resident_projects = await projects(api, resident_id)
            assert theirs == {json.loads(r)["id"] for r in original["project"]}
            assert not theirs & resident_projects
            for project in sorted(theirs)[:3]:
                response = await api.get(f"/api/projects/{project}", headers=headers(resident_id))
                assert response.status_code == 404
                assert response.json()["error"]["code"] == "not_found"


def headers(tenant_id: uuid.UUID) -> dict[str, str]:
    # user-1 is the admin member generated_tenant made; the membership came along
    token = issue_token(get_settings(), tenant_id, "user-1", TenantRole.admin)
    return {"Authorization": f"Bearer {token}"}


async def projects(api: httpx.AsyncClient, tenant_id: uuid.UUID) -> set[str]:
    response = await api.get("/api/projects?limit=200", headers=headers(tenant_id))
    assert response.status_code == 200, response.text
    return {p["id"] for p in response.json()["data"]}
