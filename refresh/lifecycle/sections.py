"""What an import checks of a file's sections before their rows go in, from the file
alone: its tables must be this code's tenant tables, in the same order; a tenant imported
under another slug gets it in its row.
"""

from __future__ import annotations

import json

from refresh.lifecycle.fileformat import BadExport, Manifest, TableEntry
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
