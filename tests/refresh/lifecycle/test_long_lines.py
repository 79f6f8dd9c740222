"""A line longer than any row can be is refused as it is read, before it fills memory: a
gzip of one byte repeated, with no newline, is a decompression bomb (400 MB in 400 KB),
and the reader held the whole line. Here the limit is lowered to 1 MiB so that a bomb of
64 MiB shows it in a moment; memory is measured with tracemalloc. Nothing changes, for
any tenant."""

from __future__ import annotations

import gzip
import io
import json
import tracemalloc
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, cast

import pytest

from refresh.lifecycle import fileformat, inserting
from refresh.lifecycle.fileformat import BadExport, Reader
from refresh.lifecycle.restore import import_tenant
from tests.refresh.lifecycle.support import exported_and_erased, others_digest, rows_of
from tests.refresh.lifecycle.test_refusals import NOBODY, first_row_of, lines_of

LIMIT = 1 << 20
BOMB = 64 << 20
MiB = 1 << 20


def gzipped(*parts: bytes, repeat: bytes = b"", times: int = 0) -> bytes:
    """`parts`, then `repeat` `times` times, compressed as a stream (never whole)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip's header and trailer
    chunks = [compressor.compress(part) for part in parts]
    chunks += [compressor.compress(repeat) for _ in range(times)]
    return b"".join([*chunks, compressor.flush()])


@contextmanager
def peak_memory() -> Iterator[list[int]]:
    """The peak of Python's allocations inside the block, in bytes (appended on exit)."""
    peak: list[int] = []
    tracemalloc.start()
    try:
        yield peak
    finally:
        peak.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()


@pytest.fixture
def one_mib_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    # raising=False: without the limit the reader runs as it did, and the test says how
    monkeypatch.setattr(fileformat, "MAX_LINE", LIMIT, raising=False)


def test_a_first_line_with_no_end_is_refused_before_it_fills_memory(one_mib_lines: None) -> None:
    bomb = gzipped(repeat=b"a" * MiB, times=BOMB // MiB)
    assert len(bomb) < BOMB // 500
    with peak_memory() as peak, pytest.raises(BadExport) as refused:
        Reader(cast(IO[bytes], gzip.GzipFile(fileobj=io.BytesIO(bomb))))
    assert peak[0] < 4 * LIMIT, f"{peak[0]:,} bytes"  # the unbounded readline: 128 MiB
    assert str(refused.value) == (
        "line 1 (the manifest) is longer than 1,048,576 bytes, more than any row can be: "
        "the file is damaged or not an export"
    )


@pytest.fixture(scope="module")
async def exported(tmp_path_factory: Any, tenant_a: Any, tenant_b: Any) -> tuple[uuid.UUID, Path]:
    """A tenant exported (plain JSON lines) and then erased."""
    folder = tmp_path_factory.mktemp("export")
    return await exported_and_erased(folder, "long", 10, "tenant.jsonl")


async def test_a_row_longer_than_any_row_is_refused_before_it_fills_memory(
    exported: tuple[uuid.UUID, Path], one_mib_lines: None
) -> None:
    tenant_id, path = exported
    lines = lines_of(path)
    at = first_row_of(lines, "task") + 3
    bomb = path.with_name("bomb.jsonl.gz")  # a task's row replaced by 64 MiB of one byte
    bomb.write_bytes(gzipped(*lines[:at], repeat=b"a" * MiB, times=BOMB // MiB))
    others = await others_digest(NOBODY)
    with peak_memory() as peak, pytest.raises(BadExport) as refused:
        await import_tenant(bomb, stream=io.StringIO())
    assert peak[0] < 8 * LIMIT, f"{peak[0]:,} bytes"
    assert str(refused.value) == (
        f"line {at + 1} (a row of task) is longer than 1,048,576 bytes, more than any row "
        "can be: the file is damaged or not an export"
    )
    assert await others_digest(NOBODY) == others
    assert not (await rows_of(tenant_id))["tenant"]


async def test_long_rows_go_in_before_a_batch_fills_memory(
    exported: tuple[uuid.UUID, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lines each under the limit, but a thousand of them made one batch: it was held
    three times before it went to the database (and one over 256 MB was refused there,
    as a jsonb value too large). Here 64 lines of 512 KiB, batches of 1 MiB."""
    monkeypatch.setattr(inserting, "BATCH_BYTES", MiB)  # raises if it moves again
    tenant_id, path = exported
    lines = lines_of(path)
    at = first_row_of(lines, "task")
    manifest = json.loads(lines[0])
    (task,) = [t for t in manifest["tables"] if t["name"] == "task"]
    task["rows"] = 64
    head = [json.dumps(manifest).encode() + b"\n", *lines[1 : at - 1]]
    head.append(fileformat.section_line("task", 64))
    long_rows = path.with_name("long.jsonl.gz")
    long_rows.write_bytes(gzipped(*head, repeat=b"a" * (MiB // 2 - 1) + b"\n", times=64))
    others = await others_digest(NOBODY)
    with peak_memory() as peak, pytest.raises(BadExport) as refused:
        await import_tenant(long_rows, stream=io.StringIO())
    assert peak[0] < 8 * MiB, f"{peak[0]:,} bytes"  # all in one batch: over 32 MiB
    assert str(refused.value).startswith("checksum mismatch in table task")  # not JSON rows
    assert await others_digest(NOBODY) == others
    assert not (await rows_of(tenant_id))["tenant"]
