"""The export file, version 1: JSON lines, gzip-compressed when the name ends in `.gz`.

    line 1   the manifest: {"format": "refresh-tenant-export", "version": 1,
             "exported_at": ISO time, "tenant": {"id", "slug"},
             "migrations": {app: [applied migration ids, sorted]},
             "tables": [{"name", "rows", "sha256"}, ...] in insert order}
    then, per table of the manifest, in its order:
             {"table": name, "rows": n}    a section line
             n lines, each one row as PostgreSQL renders it (`to_jsonb(row)::text`),
             ordered by id

A table's `sha256` is the SHA-256 of its row lines, each with its newline, as written: an
import recomputes it from the file before it commits, and again from the rows it
inserted, so a changed byte or a row the database stores differently is refused.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

FORMAT = "refresh-tenant-export"
VERSION = 1
GZIP_MAGIC = b"\x1f\x8b"

#: What reading a damaged file raises: gzip's errors (BadGzipFile is an OSError, EOFError
#: for a cut stream) and zlib's, for a corrupt compressed block, which is neither.
DAMAGED = (OSError, EOFError, zlib.error)

#: The longest line read, its newline included. A row's line is `to_jsonb(row)::text`, and
#: PostgreSQL caps a jsonb value at 2^28 - 1 bytes (the width of its offsets): the text is
#: about that value's size (longer only by JSON's escapes of quotes, backslashes and
#: control characters), and the import inserts rows as elements of one jsonb value, under
#: the same cap. A longer line is damage, or a decompression bomb: 400 MB of one byte
#: gzip to 400 KB, and an unbounded readline held all of it, twice, while joining it.
MAX_LINE = 1 << 28


class BadExport(ValueError):
    """The file is not an export this code can read, or it is damaged."""


@dataclass
class TableEntry:
    name: str
    rows: int
    sha256: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "rows": self.rows, "sha256": self.sha256}


@dataclass
class Manifest:
    tenant_id: str
    slug: str
    exported_at: str
    migrations: dict[str, list[str]]
    tables: list[TableEntry] = field(default_factory=list)

    def to_line(self) -> bytes:
        data = {
            "format": FORMAT,
            "version": VERSION,
            "exported_at": self.exported_at,
            "tenant": {"id": self.tenant_id, "slug": self.slug},
            "migrations": self.migrations,
            "tables": [t.as_dict() for t in self.tables],
        }
        return json.dumps(data, sort_keys=True).encode() + b"\n"

    @classmethod
    def from_line(cls, line: bytes) -> Manifest:
        try:
            data = json.loads(line)
            if data.get("format") != FORMAT:
                raise BadExport("not a tenant export (no refresh-tenant-export manifest)")
            if data.get("version") != VERSION:
                raise BadExport(
                    f"export format version {data.get('version')!r}: this code reads "
                    f"version {VERSION}"
                )
            return cls(
                tenant_id=str(uuid.UUID(str(data["tenant"]["id"]))),
                slug=str(data["tenant"]["slug"]),
                exported_at=str(data["exported_at"]),
                migrations={str(a): [str(m) for m in ids] for a, ids in data["migrations"].items()},
                tables=[
                    TableEntry(str(t["name"]), int(t["rows"]), str(t["sha256"]))
                    for t in data["tables"]
                ],
            )
        except BadExport:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BadExport(f"the manifest (line 1) is damaged: {type(exc).__name__}") from None


def section_line(name: str, rows: int) -> bytes:
    return json.dumps({"table": name, "rows": rows}).encode() + b"\n"


def compressed_name(path: Path) -> bool:
    return path.name.endswith(".gz")


def open_for_writing(path: Path, compress: bool) -> IO[bytes]:
    if compress:
        return cast(IO[bytes], gzip.open(path, "wb", compresslevel=6))
    return path.open("wb")


def open_for_reading(path: Path) -> IO[bytes]:
    with path.open("rb") as probe:
        compressed = probe.read(2) == GZIP_MAGIC
    return cast(IO[bytes], gzip.open(path, "rb")) if compressed else path.open("rb")


class Reader:
    """Reads an export line by line (bounded memory: no line longer than MAX_LINE),
    checking its structure: the sections in the manifest's order, each with the
    manifest's row count and checksum."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.max_line = MAX_LINE
        self.line_number = 0
        self.manifest = Manifest.from_line(self._line("the manifest"))

    def _line(self, what: str) -> bytes:
        try:
            line = self.stream.readline(self.max_line + 1)  # never more in memory
        except DAMAGED as exc:
            raise BadExport(
                f"the file is damaged near line {self.line_number + 1}: {exc}"
            ) from None
        self.line_number += 1
        if len(line) > self.max_line:
            raise BadExport(
                f"line {self.line_number} ({what}) is longer than {self.max_line:,} bytes, "
                "more than any row can be: the file is damaged or not an export"
            )
        if not line.endswith(b"\n"):
            raise BadExport(f"the file ends early: line {self.line_number} ({what}) is missing")
        return line

    def rows(self, entry: TableEntry) -> Iterator[bytes]:
        """The row lines of the next section, which must be `entry`'s; its checksum is
        verified after the last row (BadExport otherwise)."""
        header = self._line(f"the section of {entry.name}")
        try:
            section = json.loads(header)
        except ValueError:
            raise BadExport(
                f"line {self.line_number}: expected the section of {entry.name}"
            ) from None
        if section != {"table": entry.name, "rows": entry.rows}:
            raise BadExport(
                f"line {self.line_number}: expected the section of {entry.name} "
                f"({entry.rows} rows), found {header[:80].decode(errors='replace')!r}"
            )
        digest = hashlib.sha256()
        for _ in range(entry.rows):
            line = self._line(f"a row of {entry.name}")
            digest.update(line)
            yield line
        if digest.hexdigest() != entry.sha256:
            raise BadExport(
                f"checksum mismatch in table {entry.name}: the file's rows do not match its "
                "manifest (the file is damaged or was edited)"
            )

    def finish(self) -> None:
        """Nothing may follow the last section (and gzip checks its CRC here, at the end)."""
        try:
            rest = self.stream.read(1)
        except DAMAGED as exc:
            raise BadExport(f"the file is damaged after line {self.line_number}: {exc}") from None
        if rest:
            raise BadExport(f"unexpected data after line {self.line_number}")
