"""A tenant whose row was deleted some other way (a cascade of its foreign keys, as the
admin's generic delete did before it was refused) leaves its audit entries behind, and
its export could not be imported again. `piccolo tenants erase` by the tenant's id, as its
refusal by slug says, removes what is left; then the import works. Other tenants are
untouched throughout."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import uuid
from pathlib import Path

from refresh.db.clients import write_client
from refresh.lifecycle.export import export_tenant
from tests.refresh.lifecycle.support import (
    counts,
    generated_tenant,
    others_digest,
    rows_of,
    run_cli,
)


def shell(command: str) -> str:
    return subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, check=True
    ).stdout


async def test_erase_by_id_removes_the_leftovers_of_a_deleted_tenant_row(tmp_path: Path) -> None:
    slug = f"left-{uuid.uuid4().hex[:6]}"
    tenant_id = await generated_tenant(slug, tasks=3)
    await generated_tenant(f"other-{uuid.uuid4().hex[:6]}", tasks=3)
    saved = tmp_path / f"{slug}.jsonl.gz"
    await export_tenant(slug, saved)
    before = await rows_of(tenant_id)
    await write_client.fetch("delete from tenant where id = $1", tenant_id)  # cascades
    orphans = counts(await rows_of(tenant_id))
    assert orphans["tenant"] == orphans["task"] == 0 and orphans["audit_log"] > 0
    others = await others_digest(tenant_id)

    stuck = run_cli("tenants", "import", str(saved))
    assert stuck.returncode == 1, stuck.stdout  # the orphaned entries' ids are the file's

    by_slug = run_cli("tenants", "erase", slug)
    assert by_slug.returncode == 1 and "Traceback" not in by_slug.stderr
    # the refusal's advice, followed literally, FILE being the export
    advice = re.search(r"`(zcat FILE \| head -1)`", by_slug.stderr)
    assert advice is not None, by_slug.stderr
    command = advice.group(1).replace("FILE", shlex.quote(str(saved)))
    manifest = json.loads(shell(command))
    assert manifest["tenant"]["id"] == str(tenant_id)

    dry = run_cli("tenants", "erase", manifest["tenant"]["id"], "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert counts(await rows_of(tenant_id)) == orphans
    erased = run_cli("tenants", "erase", manifest["tenant"]["id"])
    assert erased.returncode == 0, erased.stderr
    assert f"erased {tenant_id}:" in erased.stdout
    left = counts(await rows_of(tenant_id))
    assert {name: n for name, n in left.items() if n} == {"audit_log": 1}  # the erasure's

    imported = run_cli("tenants", "import", str(saved))
    assert imported.returncode == 0, imported.stderr
    after = await rows_of(tenant_id)
    assert {n: r for n, r in after.items() if n != "audit_log"} == {
        n: r for n, r in before.items() if n != "audit_log"
    }
    assert set(before["audit_log"]) <= set(after["audit_log"])
    assert await others_digest(tenant_id) == others

    # an erased tenant (its erasure's entry is no leftover), or an id of nothing: refused
    assert run_cli("tenants", "erase", slug).returncode == 0
    for gone in (str(tenant_id), str(uuid.uuid4())):
        again = run_cli("tenants", "erase", gone)
        assert again.returncode == 1 and "no tenant with slug or id" in again.stderr
