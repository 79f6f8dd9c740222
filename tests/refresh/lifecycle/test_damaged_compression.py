"""A gzip export damaged inside its compressed data is refused as damaged, by the library
call and the command alike, and changes nothing (zlib's error is neither gzip's nor an
OSError: it came out of the command as targ's "The command failed" with its help text).
The admin's import page: tests/apps/admin/test_import_page.py."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

import pytest

from refresh.lifecycle.fileformat import BadExport
from refresh.lifecycle.restore import import_tenant
from tests.refresh.lifecycle.support import (
    corrupt_deflate,
    exported_and_erased,
    others_digest,
    rows_of,
)
from tests.refresh.lifecycle.test_refusals import NOBODY, refused


@pytest.fixture(scope="module")
async def exported(tmp_path_factory: Any, tenant_a: Any, tenant_b: Any) -> tuple[uuid.UUID, Path]:
    """A tenant exported (gzip) and then erased."""
    folder = tmp_path_factory.mktemp("export")
    return await exported_and_erased(folder, "gz", 30, "tenant.jsonl.gz")


async def test_a_corrupt_compressed_block_is_a_damaged_file(
    exported: tuple[uuid.UUID, Path],
) -> None:
    tenant_id, path = exported
    damaged = path.with_name("damaged.jsonl.gz")
    damaged.write_bytes(corrupt_deflate(path.read_bytes()))
    others = await others_digest(NOBODY)
    with pytest.raises(BadExport, match=r"^the file is damaged near line 1: Error -3 "):
        await import_tenant(damaged, stream=io.StringIO())
    assert await others_digest(NOBODY) == others
    message = await refused(
        ["tenants", "import", str(damaged)],
        "import refused, nothing changed: the file is damaged near line 1",
    )
    assert "--trace" not in message and "usage" not in message.lower()
    assert not (await rows_of(tenant_id))["tenant"]
