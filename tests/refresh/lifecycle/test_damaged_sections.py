"""A damaged or tampered file is reported as such, whatever the size of the section or
the shape of its values: a section of more than one batch (1,000 rows) goes to the
database before its checksum is read, and a value nested deeper than the server parses
must not bring back the server's advice. Nothing changes, for any tenant."""

from __future__ import annotations

import json
import uuid

import pytest

from refresh.lifecycle.inserting import BATCH
from tests.refresh.lifecycle.support import generated_tenant, rows_of, run_cli
from tests.refresh.lifecycle.test_refusals import (
    first_row_of,
    lines_of,
    refused,
    rehash,
    rewritten,
)

TASKS = BATCH + 500


@pytest.fixture(scope="module")
async def exported(tmp_path_factory, tenant_a, tenant_b):
    """A tenant of more tasks than one batch, exported (plain JSON lines), then erased."""
    slug = f"big-{uuid.uuid4().hex[:6]}"
    tenant_id = await generated_tenant(slug, tasks=TASKS)
    path = tmp_path_factory.mktemp("export") / "tenant.jsonl"
    assert run_cli("tenants", "export", slug, "--out", str(path)).returncode == 0
    assert run_cli("tenants", "erase", slug).returncode == 0
    return tenant_id, path


async def test_a_damaged_row_in_the_first_batch_of_a_long_section_is_a_checksum_mismatch(
    exported,
):
    tenant_id, path = exported
    lines = lines_of(path)
    task = first_row_of(lines, "task")
    for name, damage in (
        ("truncated.jsonl", lines[task + 10][:40] + b"\n"),  # no longer JSON
        (  # a row of another tenant, checksum not recomputed
            "foreign.jsonl",
            lines[task + 10].replace(str(tenant_id).encode(), str(uuid.uuid4()).encode()),
        ),
    ):
        damaged = list(lines)
        damaged[task + 10] = damage
        message = await refused(
            ["tenants", "import", str(rewritten(path, damaged, name))],
            "checksum mismatch in table task: the file's rows do not match its manifest "
            "(the file is damaged or was edited)",
        )
        assert "invalid input syntax" not in message and "another tenant" not in message
    assert not (await rows_of(tenant_id))["tenant"]


def deeply_nested(lines: list[bytes], at: int, depth: int = 300_000) -> list[bytes]:
    """Row `at` with its tags nested `depth` arrays deep, checksums recomputed."""
    row = json.loads(lines[at])
    row["tags"] = "DEEP"
    line = json.dumps(row).encode().replace(b'"DEEP"', b"[" * depth + b"]" * depth)
    return rehash([*lines[:at], line + b"\n", *lines[at + 1 :]])


async def test_a_value_nested_too_deeply_is_a_damaged_file(exported):
    tenant_id, path = exported
    lines = lines_of(path)
    tampered = rewritten(path, deeply_nested(lines, first_row_of(lines, "task") + 3), "deep.jsonl")
    message = await refused(
        ["tenants", "import", str(tampered)],
        "import refused, nothing changed: table task: a value is nested too deeply for a "
        "row of this table (the file is damaged or was edited)",
    )
    assert "max_stack_depth" not in message and "HINT" not in message
    assert message.splitlines()[-1].startswith("import refused")  # after the progress lines
    assert not (await rows_of(tenant_id))["tenant"]
