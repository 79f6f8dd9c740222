"""Export -> erase -> import of a tenant, through the real CLI: the tenant comes back row
by row, every other tenant is untouched throughout, and memory stays flat."""

from __future__ import annotations

import gzip
import json
import os
import time
import uuid

import pytest

from refresh.db.clients import write_client
from refresh.lifecycle.tables import exported_tables
from tests.refresh.lifecycle.support import (
    counts,
    generated_tenant,
    others_digest,
    rows_of,
    run_cli,
)

pytestmark = pytest.mark.slow
# The size; LIFECYCLE_TASKS=... for a quicker look.
TASKS = int(os.environ.get("LIFECYCLE_TASKS", "100000"))


async def test_round_trip_of_100k_tasks(tmp_path, tenant_a, tenant_b, capsys):
    started = time.monotonic()
    slug = f"big-{uuid.uuid4().hex[:6]}"
    tenant_id = await generated_tenant(slug, tasks=TASKS, comments=2_000)
    small = f"small-{uuid.uuid4().hex[:6]}"
    await generated_tenant(small, tasks=10)
    generated = time.monotonic() - started
    original = await rows_of(tenant_id)
    others = await others_digest(tenant_id)
    assert counts(original)["task"] == TASKS

    out = tmp_path / "big.jsonl.gz"
    export = run_cli("tenants", "export", slug, "--out", str(out))
    assert export.returncode == 0, export.stderr
    assert f"exported {slug} ({tenant_id})" in export.stdout
    baseline = run_cli("tenants", "export", small, "--out", str(tmp_path / "small.jsonl"))
    assert baseline.returncode == 0, baseline.stderr

    with gzip.open(out, "rb") as file:
        manifest = json.loads(file.readline())
    assert manifest["tenant"] == {"id": str(tenant_id), "slug": slug}
    exported = {t.name for t in exported_tables()}
    assert {t["name"]: t["rows"] for t in manifest["tables"]} == {
        name: n for name, n in counts(original).items() if name in exported
    }

    erase = run_cli("tenants", "erase", slug)
    assert erase.returncode == 0, erase.stderr
    assert f"task: {TASKS:,}" in erase.stdout
    gone = await rows_of(tenant_id)
    assert {name: n for name, n in counts(gone).items() if n} == {"audit_log": 1}
    (entry,) = [json.loads(r) for r in gone["audit_log"]]
    assert entry["action"] == "erase"
    assert entry["actor"] == "system:refresh: piccolo tenants erase"
    assert entry["changes"]["rows"]["task"] == TASKS
    assert await others_digest(tenant_id) == others

    restore = run_cli("tenants", "import", str(out))
    assert restore.returncode == 0, restore.stderr
    print(restore.stderr)
    restored = await rows_of(tenant_id)
    lifecycle = [json.loads(r) for r in restored["audit_log"]]
    lifecycle = [e for e in lifecycle if e["action"] in ("erase", "import")]
    assert [e["action"] for e in sorted(lifecycle, key=lambda e: e["created_at"])] == [
        "erase",
        "import",
    ]
    restored["audit_log"] = [
        r for r in restored["audit_log"] if json.loads(r)["action"] not in ("erase", "import")
    ]
    for table, rows in original.items():
        assert restored[table] == rows, table  # row by row
    assert await others_digest(tenant_id) == others

    # Memory does not grow with the tenant: 100,000 tasks against 10.
    assert export.peak_rss_mb - baseline.peak_rss_mb < 40, (export, baseline)
    assert restore.peak_rss_mb - baseline.peak_rss_mb < 60, (restore, baseline)
    with capsys.disabled():
        print(
            f"\n100k round trip: generated in {generated:.1f} s,"
            f" export {export.seconds:.1f} s ({export.peak_rss_mb:.0f} MB),"
            f" erase {erase.seconds:.1f} s ({erase.peak_rss_mb:.0f} MB),"
            f" import {restore.seconds:.1f} s ({restore.peak_rss_mb:.0f} MB);"
            f" small export {baseline.peak_rss_mb:.0f} MB; file {out.stat().st_size / 1e6:.1f} MB"
        )
    await write_client.fetch("select 1")
