"""`piccolo tenants export|import|erase`: a tenant's lifecycle (refresh/lifecycle), as
commands. Each refusal is one line on stderr and exit status 1, and changes nothing."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import asyncpg

from apps.tenants.tables import slug_problem
from refresh.lifecycle.erase import EraseFailed, erase_tenant
from refresh.lifecycle.export import UnknownTenant, export_tenant
from refresh.lifecycle.fileformat import BadExport
from refresh.lifecycle.refusal import ImportRefused
from refresh.lifecycle.restore import import_tenant


async def export(slug: str, out: str = "") -> None:
    """Export a tenant's rows (one consistent snapshot) to a file: JSON lines, gzip when
    FILE ends in .gz; the format is in docs/database-guide.md.

    :param slug: the tenant's slug or id
    :param out: the file to write (replaced only when complete)
    """
    if not out:
        sys.exit("usage: piccolo tenants export SLUG --out FILE")
    target = _writable_target(out)
    try:
        manifest = await export_tenant(slug, target)
    except UnknownTenant as exc:
        sys.exit(str(exc))
    except asyncpg.PostgresError as exc:  # e.g. a table declared but not migrated yet
        sys.exit(f"export failed, no file written: {exc}")
    except OSError as exc:
        if exc.filename is None:  # not a file's: the connection's, say
            raise
        sys.exit(f"--out: cannot write {out!r}, no file written: {exc.strerror or exc}")
    rows = sum(t.rows for t in manifest.tables)
    print(f"exported {manifest.slug} ({manifest.tenant_id}): {rows:,} rows to {out}")


async def import_(file: str, slug: str = "", replace: bool = False) -> None:
    """Import a tenant from an export: all or nothing, ids kept, at the same migration
    state only; an existing tenant is refused unless --replace.

    :param file: the export file
    :param slug: import under this slug instead of the exported one
    :param replace: erase the tenant of the same id first (in the same transaction)
    """
    path = _existing_file(file)
    problem = slug_problem(slug) if slug else None
    if problem:
        sys.exit(f"--slug {problem}")
    try:
        manifest = await import_tenant(path, slug=slug or None, replace=replace)
    except (BadExport, ImportRefused) as exc:
        sys.exit(f"import refused, nothing changed: {exc}")
    except asyncpg.PostgresError as exc:  # a key or check the database refused
        sys.exit(f"import refused by the database, nothing changed: {exc}")
    rows = sum(t.rows for t in manifest.tables)
    print(f"imported {slug or manifest.slug} ({manifest.tenant_id}): {rows:,} rows")


async def erase(slug: str, dry_run: bool = False) -> None:
    """Erase every row of a tenant in every table, and its audit entries, leaving one
    audit entry of the erasure; all or nothing. Export it first to keep a copy.

    :param slug: the tenant's slug or id
    :param dry_run: print the rows it would delete, delete nothing
    """
    try:
        counts = await erase_tenant(slug, dry_run=dry_run)
    except UnknownTenant as exc:
        sys.exit(str(exc))
    except (EraseFailed, asyncpg.PostgresError) as exc:
        sys.exit(f"erase failed, nothing erased: {exc}")
    for table, count in counts.items():
        print(f"{table}: {count:,}")
    total = sum(counts.values())
    print(f"{'would erase' if dry_run else 'erased'} {slug}: {total:,} rows")


def _existing_file(file: str) -> Path:
    path = Path(file)
    if not path.is_file():
        sys.exit(f"no file {file!r}")
    return path


def _writable_target(out: str) -> Path:
    """`out`, once it can be written: refused up front in one line, before the snapshot
    (an OSError from the export would reach targ, which prints it with the help text)."""
    target = Path(out)
    if out.endswith("/") or target.is_dir():
        sys.exit(f"--out: {out!r} is a directory, not a file")
    if not target.parent.is_dir():
        sys.exit(f"--out: no directory {str(target.parent)!r}")
    try:  # the export writes its temporary files beside the target, then renames them
        with tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}."):
            pass
    except OSError as exc:
        sys.exit(f"--out: cannot write in {str(target.parent)!r}: {exc.strerror or exc}")
    return target
