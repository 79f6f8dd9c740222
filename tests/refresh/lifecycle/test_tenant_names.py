"""A tenant is named unambiguously: a slug can never be read as an id (nor take another
tenant's), no tenant can have the nil id of the platform's own audit entries, and the
commands look up a text that parses as a UUID by id only. Each refusal is one clear line
and changes nothing, seen from the other tenant's side too."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from refresh.db.clients import write_client
from refresh.lifecycle.erase import erase_tenant
from refresh.lifecycle.export import UnknownTenant
from refresh.tenancy.naming import NO_TENANT, find_tenant
from tests.apps.admin.support import new_staff
from tests.refresh.lifecycle.support import exported_and_erased, rows_of, run_cli
from tests.refresh.lifecycle.test_refusals import NOBODY, lines_of, refused, rehash, rewritten


def uuid_shaped(tenant_id: uuid.UUID) -> list[str]:
    """The id, and its 32 hex digits with dashes anywhere: uuid.UUID reads each as it."""
    digits = tenant_id.hex
    return [
        str(tenant_id),
        digits,
        "-".join(digits[i : i + 4] for i in range(0, 32, 4)),
        f"{digits[:1]}-{digits[1:]}-",
    ]


@pytest.fixture(scope="module")
async def exported(tmp_path_factory, tenant_a, tenant_b):
    """A tenant of 30 tasks, exported (plain JSON lines) and then erased."""
    folder = tmp_path_factory.mktemp("export")
    return await exported_and_erased(folder, "named", 30, "tenant.jsonl")


def with_nil_id(path: Path, tenant_id: uuid.UUID) -> Path:
    """The export, every row moved to the nil tenant, checksums recomputed."""
    old, new = str(tenant_id).encode(), str(NO_TENANT).encode()
    lines = [line.replace(old, new) for line in lines_of(path)]
    return rewritten(path, rehash(lines), "nil.jsonl")


async def test_an_export_of_the_nil_tenant_is_refused(exported):
    tenant_id, path = exported
    tampered = with_nil_id(path, tenant_id)
    platform = await write_client.fetch(
        "select count(*) from audit_log where tenant_id = $1", NO_TENANT
    )
    await refused(
        ["tenants", "import", str(tampered)],
        "import refused, nothing changed: the file's tenant id "
        "00000000-0000-0000-0000-000000000000 is the platform's id of no tenant",
    )
    assert await write_client.fetch("select id from tenant where id = $1", NO_TENANT) == []
    assert (
        await write_client.fetch("select count(*) from audit_log where tenant_id = $1", NO_TENANT)
        == platform
    )
    # The database refuses it too, whoever writes the row.
    with pytest.raises(asyncpg.CheckViolationError, match="tenant_id_not_nil"):
        await write_client.fetch(
            "insert into tenant (id, slug, name) values ($1, 'nil-tenant', 'Nil')", NO_TENANT
        )


async def test_a_slug_shaped_like_an_id_is_refused_by_the_cli_and_the_database(
    tenant_a, tenant_b, tmp_path
):
    b_before = await rows_of(tenant_b.id)
    some_file = tmp_path / "x.jsonl"
    some_file.write_text("x\n")  # the slug is refused before the file is read
    for slug in uuid_shaped(tenant_b.id):
        message = await refused(["tenants", "create", slug, "--name", "Impostor"], "slug must be")
        assert "not a tenant id (32 hex digits)" in message
        await refused(["tenants", "import", str(some_file), "--slug", slug], "--slug must be")
        with pytest.raises(asyncpg.CheckViolationError, match="tenant_slug_not_an_id"):
            await write_client.fetch(
                "insert into tenant (id, slug, name) values (gen_random_uuid(), $1, 'I')", slug
            )
    # Close to an id but not one: a slug like any other.
    near = f"{tenant_b.id.hex[:31]}-x"
    assert run_cli("tenants", "create", near).returncode == 0
    assert await rows_of(tenant_b.id) == b_before

    # B's id names B, whoever asks: the export is B's, A's rows are not in it.
    out = tmp_path / "b.jsonl"
    assert run_cli("tenants", "export", str(tenant_b.id), "--out", str(out)).returncode == 0
    text = out.read_text()
    assert str(tenant_b.id) in text and str(tenant_a.id) not in text


class Recorder:
    """A connection that records the lookup's query and finds nothing."""

    def __init__(self) -> None:
        self.queries: list[tuple[str, Any]] = []

    async def fetchrow(self, sql: str, arg: Any) -> None:
        self.queries.append((sql, arg))


async def test_a_lookup_is_by_id_or_by_slug_never_both(tenant_a, tenant_b):
    recorder = Recorder()
    for text in (*uuid_shaped(tenant_b.id), "tenant-b", "a/b"):
        await find_tenant(recorder, text)
    by_id = [arg for sql, arg in recorder.queries if sql.endswith("where id = $1")]
    by_slug = [arg for sql, arg in recorder.queries if sql.endswith("where slug = $1")]
    assert by_id == [tenant_b.id] * 4 and by_slug == ["tenant-b", "a/b"]
    async with write_client.connection() as connection:
        assert await find_tenant(connection, str(tenant_a.id)) == (tenant_a.id, "tenant-a")
        assert await find_tenant(connection, "tenant-b") == (tenant_b.id, "tenant-b")
        assert await find_tenant(connection, tenant_b.id.hex) == (tenant_b.id, "tenant-b")
        assert await find_tenant(connection, str(NO_TENANT)) is None
        assert await find_tenant(connection, str(NOBODY)) is None


async def platform_entries() -> list[dict[str, Any]]:
    """The platform's own audit entries (logins, staff profiles), and who made them."""
    return await write_client.fetch(
        "select a.id, a.action, o.operator from audit_log a left join operator_action o"
        # joined on the tenant too: on Citus a join of two tables sharded by tenant
        " on o.id = a.id and o.tenant_id = a.tenant_id where a.tenant_id = $1 order by a.id",
        NO_TENANT,
    )


async def test_the_nil_tenant_is_never_erased(tenant_a: Any, tenant_b: Any) -> None:
    """The nil id has no tenant row, but it has audit entries: `erase` by id took them for
    what is left of an erased tenant and deleted the platform's history."""
    await new_staff(tenant_a.id)  # a login and a staff profile: platform entries
    entries = await platform_entries()
    assert entries
    for text in (str(NO_TENANT), NO_TENANT.hex):  # the id, however it is spelled
        for dry_run in (True, False):
            with pytest.raises(UnknownTenant, match="the platform's id of no tenant"):
                await erase_tenant(text, dry_run=dry_run)
        for flags in ([], ["--dry-run"]):
            message = await refused(["tenants", "erase", text, *flags], "nothing erased")
            assert message.strip() == (
                "00000000-0000-0000-0000-000000000000 is the platform's id of no tenant, not "
                "a tenant's: its audit entries are the platform's own (logins, staff "
                "profiles); nothing erased"
            )
    assert await platform_entries() == entries
    assert (await rows_of(tenant_b.id))["tenant"]


def with_manifest_slug(path: Path, slug: str, name: str) -> Path:
    lines = lines_of(path)
    manifest = json.loads(lines[0])
    manifest["tenant"]["slug"] = slug
    return rewritten(path, [json.dumps(manifest).encode() + b"\n", *lines[1:]], name)


async def test_a_manifest_slug_other_than_its_tenant_rows_is_refused(
    exported: tuple[uuid.UUID, Path], tenant_b: Any
) -> None:
    """The import checked and recorded the tenant under the manifest's slug, never compared
    with the tenant's row it inserts: another tenant's slug there refused the file for
    that tenant's sake, a free one imported it while reporting and auditing a slug the
    tenant never had. Each way, and the row edited instead, is an edited file."""
    tenant_id, path = exported
    (row,) = rows_of_file(path)
    manifest, *rest = lines_of(path)
    edited_row = [
        manifest,
        *(line.replace(f'"slug": "{row["slug"]}"'.encode(), b'"slug": "zzz-row"') for line in rest),
    ]
    cases = [
        (with_manifest_slug(path, tenant_b.slug, "b.jsonl"), tenant_b.slug, row["slug"]),
        (with_manifest_slug(path, "zzz-other", "free.jsonl"), "zzz-other", row["slug"]),
        (rewritten(path, rehash(edited_row), "row.jsonl"), row["slug"], "zzz-row"),
    ]
    for edited, named, held in cases:
        message = await refused(["tenants", "import", str(edited)], "the file was edited")
        assert message.strip() == (
            f"import refused, nothing changed: the manifest names the tenant {named!r} "
            f"({tenant_id}), but the file's tenant row is {held!r} ({tenant_id}): the file "
            "was edited"
        )
    assert not (await rows_of(tenant_id))["tenant"]


def rows_of_file(path: Path) -> list[dict[str, Any]]:
    """The tenant rows of an export (its first section)."""
    lines = lines_of(path)
    return [json.loads(line) for line in lines[2 : 2 + json.loads(lines[1])["rows"]]]
