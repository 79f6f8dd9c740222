"""What the lifecycle commands refuse, and that a refusal changes nothing: unknown
tenants, damaged or edited files, another migration state, an existing tenant; erase
interrupted by a fault; an export under concurrent writes is one snapshot."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from refresh.db.clients import write_client
from tests.database import superuser_sql, test_database
from tests.refresh.lifecycle.support import (
    ROOT,
    generated_tenant,
    others_digest,
    rows_of,
    run_cli,
    write_tasks_until,
)

NOBODY = uuid.UUID(int=1)  # others_digest(NOBODY): every row of every tenant


@pytest.fixture(scope="module")
async def exported(tmp_path_factory, tenant_a, tenant_b):
    """A tenant of 300 tasks, exported (plain JSON lines) and then erased."""
    slug = f"gone-{uuid.uuid4().hex[:6]}"
    tenant_id = await generated_tenant(slug, tasks=300, comments=20)
    original = await rows_of(tenant_id)
    path = tmp_path_factory.mktemp("export") / "tenant.jsonl"
    assert run_cli("tenants", "export", slug, "--out", str(path)).returncode == 0
    assert run_cli("tenants", "erase", slug).returncode == 0
    return slug, tenant_id, path, original


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def rewritten(path: Path, lines: list[bytes], name: str) -> Path:
    target = path.with_name(name)
    target.write_bytes(b"".join(lines))
    return target


def rehash(lines: list[bytes]) -> list[bytes]:
    """The manifest's checksums recomputed, as someone editing the file on purpose would."""
    manifest = json.loads(lines[0])
    at = 1
    for table in manifest["tables"]:
        at += 1  # the section line
        digest = hashlib.sha256(b"".join(lines[at : at + table["rows"]]))
        table["sha256"] = digest.hexdigest()
        at += table["rows"]
    return [json.dumps(manifest).encode() + b"\n", *lines[1:]]


def first_row_of(lines: list[bytes], table: str) -> int:
    return next(i for i, line in enumerate(lines) if json.loads(line).get("table") == table) + 1


async def refused(args: list[str], expected: str) -> str:
    before = await others_digest(NOBODY)
    result = run_cli(*args)
    assert result.returncode == 1, result
    assert expected in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert await others_digest(NOBODY) == before  # nothing changed, anywhere
    return result.stderr


async def test_unknown_tenant_is_refused(tmp_path):
    out = tmp_path / "x.jsonl"
    for args in (["export", "no-such-tenant", "--out", str(out)], ["erase", "no-such-tenant"]):
        await refused(["tenants", *args], "no tenant with slug or id 'no-such-tenant'")
    assert not out.exists()
    await refused(["tenants", "export", "acme"], "usage: piccolo tenants export SLUG --out FILE")
    await refused(["tenants", "import", str(tmp_path / "missing.jsonl")], "no file")


async def test_damaged_and_edited_files_are_refused(exported):
    _, tenant_id, path, _ = exported
    lines = lines_of(path)
    task = first_row_of(lines, "task")

    flipped = list(lines)
    flipped[task + 5] = flipped[task + 5].replace(b"Task", b"Tusk", 1)
    await refused(
        ["tenants", "import", str(rewritten(path, flipped, "flipped.jsonl"))],
        "checksum mismatch in table task",
    )
    await refused(
        ["tenants", "import", str(rewritten(path, lines[: task + 10], "short.jsonl"))],
        "the file ends early",
    )
    other = list(lines)
    other[task] = other[task].replace(str(tenant_id).encode(), str(uuid.uuid4()).encode())
    await refused(
        ["tenants", "import", str(rewritten(path, rehash(other), "other.jsonl"))],
        "rows belong to another tenant than the manifest's",
    )
    await refused(
        ["tenants", "import", str(rewritten(path, [b"hello\n"], "text.jsonl"))],
        "the manifest (line 1) is damaged",
    )
    manifest = json.loads(lines[0])
    manifest["version"] = 2
    await refused(
        [
            "tenants",
            "import",
            str(rewritten(path, [json.dumps(manifest).encode() + b"\n", *lines[1:]], "v2.jsonl")),
        ],
        "export format version 2: this code reads version 1",
    )
    gz = path.with_name("damaged.jsonl.gz")
    gz.write_bytes(gzip.compress(path.read_bytes())[:-200])
    await refused(["tenants", "import", str(gz)], "import refused, nothing changed")
    assert (await rows_of(tenant_id))["task"] == []


async def test_another_migration_state_is_refused_naming_the_difference(exported):
    path = exported[2]
    lines = lines_of(path)
    manifest = json.loads(lines[0])
    applied = manifest["migrations"]["tasks"]
    manifest["migrations"]["tasks"] = [*applied[:-1], "2099-01-01T00:00:00:000000"]
    edited = rewritten(path, [json.dumps(manifest).encode() + b"\n", *lines[1:]], "mig.jsonl")
    message = await refused(["tenants", "import", str(edited)], "another migration state")
    assert (
        "app tasks: in the file, not applied here: 2099-01-01T00:00:00:000000; "
        f"applied here, not in the file: {applied[-1]}"
    ) in message


async def test_an_existing_tenant_is_refused_unless_replaced(exported):
    _, tenant_id, path, original = exported
    taken = await write_client.fetch("select slug from tenant where slug = 'tenant-b'")
    assert taken
    await refused(
        ["tenants", "import", str(path), "--slug", "tenant-b"],
        "the slug 'tenant-b' belongs to another tenant here",
    )
    # The advice, followed: another slug.
    moved = f"moved-{uuid.uuid4().hex[:6]}"
    assert run_cli("tenants", "import", str(path), "--slug", moved).returncode == 0
    back = await rows_of(tenant_id)
    assert json.loads(back["tenant"][0])["slug"] == moved
    for table in ("member", "project", "task", "comment"):
        assert back[table] == original[table]

    message = await refused(["tenants", "import", str(path)], "exists in this database")
    assert "--replace erases it" in message
    # The advice, followed: --replace (the tenant of the file's id, under its slug).
    replaced = run_cli("tenants", "import", str(path), "--replace")
    assert replaced.returncode == 0, replaced.stderr
    again = await rows_of(tenant_id)
    for table in ("tenant", "member", "project", "task", "comment"):
        assert again[table] == original[table], table
    actions = [json.loads(r)["action"] for r in again["audit_log"]]
    assert actions.count("import") == 1 and actions.count("erase") == 1


async def test_erase_dry_run_counts_and_changes_nothing():
    slug = f"dry-{uuid.uuid4().hex[:6]}"
    tenant_id = await generated_tenant(slug, tasks=25)
    before = await rows_of(tenant_id)
    result = run_cli("tenants", "erase", slug, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "task: 25" in result.stdout and "member: 20" in result.stdout
    assert f"would erase {slug}:" in result.stdout
    assert await rows_of(tenant_id) == before


@pytest.mark.skipif(
    bool(os.environ.get("TEST_CITUS")),
    reason="the fault is a trigger, which Citus refuses on a distributed table",
)
async def test_erase_is_all_or_nothing_when_a_fault_stops_it_midway():
    slug = f"fault-{uuid.uuid4().hex[:6]}"
    tenant_id = await generated_tenant(slug, tasks=50, comments=5)
    before, others = await rows_of(tenant_id), await others_digest(tenant_id)
    # Comments and tasks are deleted before projects: the fault comes after them.
    superuser_sql(
        test_database(),
        "create function fault() returns trigger language plpgsql as $$"
        " begin raise exception 'injected fault'; end $$;"
        " create trigger fault before delete on project for each row"
        f" when (old.tenant_id = '{tenant_id}') execute function fault();",
    )
    try:
        result = run_cli("tenants", "erase", slug)
    finally:
        superuser_sql(test_database(), "drop trigger fault on project; drop function fault();")
    assert result.returncode == 1
    assert "erase failed, nothing erased: injected fault" in result.stderr
    assert "erase task: 50 rows" in result.stderr  # it had got that far
    assert await rows_of(tenant_id) == before
    assert await others_digest(tenant_id) == others


async def test_export_under_concurrent_writes_is_one_snapshot(tmp_path):
    slug = f"busy-{uuid.uuid4().hex[:6]}"
    tenant_id = await generated_tenant(slug, tasks=20_000)
    out = tmp_path / "busy.jsonl"
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "piccolo"),
        *("tenants", "export", slug, "--out", str(out)),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    written = await write_tasks_until(asyncio.ensure_future(process.wait()), tenant_id)
    assert process.returncode == 0
    tasks = audited = 0
    table = None
    for line in out.read_bytes().splitlines()[1:]:
        row = json.loads(line)
        if set(row) == {"table", "rows"}:
            table = row["table"]
        elif table == "task":
            tasks += 1
        elif table == "audit_log" and row["table_name"] == "task" and row["action"] == "insert":
            audited += 1
    in_database = len((await rows_of(tenant_id))["task"])
    assert written > 10 and in_database > tasks  # writes went on after the snapshot
    assert tasks == audited  # and the file holds each task with its audit entry, or neither
