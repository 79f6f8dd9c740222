"""What an import checks of a file's sections before their rows go in, from the file
alone: its tables must be this code's tenant tables, in the same order, and its tenant row
the tenant its manifest names; a tenant imported under another slug gets it in its row.
"""

from __future__ import annotations

import json

from refresh.lifecycle.fileformat import BadExport, Manifest, Reader, TableEntry
from refresh.lifecycle.tables import TenantRows, exported_tables


def tables_of(manifest: Manifest) -> list[tuple[TenantRows, TableEntry]]:
    """The manifest's tables must be this code's tenant tables, in the same order."""
    expected = exported_tables()
    names = [e.name for e in manifest.tables]
    if names != [t.name for t in expected]:
        missing = sorted({t.name for t in expected} - set(names))
        extra = sorted(set(names) - {t.name for t in expected})
        raise BadExport(
            "the file's tables are not this database's tenant tables"
            + (f"; not in the file: {', '.join(missing)}" if missing else "")
            + (f"; unknown here: {', '.join(extra)}" if extra else "")
            + ("" if missing or extra else "; they are in another order")
        )
    return list(zip(expected, manifest.tables, strict=True))


def with_slug(line: bytes, slug: str) -> bytes:
    try:
        row = json.loads(line)
    except ValueError:
        raise BadExport("the tenant's row is not JSON: the file is damaged") from None
    row["slug"] = slug
    return json.dumps(row).encode() + b"\n"


def tenant_row(reader: Reader, first: tuple[TenantRows, TableEntry]) -> list[bytes]:
    """The tenant's own section, first in the file, read (its checksum verified) before
    anything else: its row must be the tenant the manifest names, by whose id and slug
    the import checks, reports and records it (an edited manifest's slug gave refusals
    for another tenant's sake, and reports and an audit entry of a slug never imported)."""
    table, entry = first
    assert table.key == "id", "the tenant's own table comes first (dependency_order)"
    lines = list(reader.rows(entry))
    try:
        row = json.loads(lines[0]) if len(lines) == 1 else None
    except ValueError:
        row = None
    found = (str(row.get("id")), row.get("slug")) if isinstance(row, dict) else None
    if found != (reader.manifest.tenant_id, reader.manifest.slug):
        named = f"{reader.manifest.slug!r} ({reader.manifest.tenant_id})"
        held = f"{found[1]!r} ({found[0]})" if found else f"not one row ({len(lines)} lines)"
        raise BadExport(
            f"the manifest names the tenant {named}, but the file's tenant row is {held}: "
            "the file was edited"
        )
    return lines
