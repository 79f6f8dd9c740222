"""A file made for one response (an export) never outlives it: removed once sent, when
the client leaves half-way, and when the request fails after preparing it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from refresh.web.responses import TemporaryFileResponse


def prepared(tmp_path: Path) -> Path:
    path = tmp_path / "export.bin"
    path.write_bytes(b"x" * 200_000)
    return path


async def receive() -> dict[str, Any]:
    await asyncio.Event().wait()  # the client says nothing while the file goes out
    return {"type": "http.disconnect"}


SCOPE = {"type": "http", "method": "GET", "path": "/", "headers": []}


async def test_the_file_is_removed_once_sent(tmp_path: Path) -> None:
    path, removed = prepared(tmp_path), []
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    response = TemporaryFileResponse(str(path), lambda: removed.append(path) or path.unlink())
    await response(SCOPE, receive, send)
    assert sum(len(m.get("body", b"")) for m in sent) == 200_000
    assert removed == [path] and not path.exists()
    response.discard()  # once only
    assert removed == [path]


@pytest.mark.parametrize("range_header", [b"bytes=abc", b"bytes=999999-", b"bytes=0-9"])
async def test_a_range_is_ignored_and_the_whole_file_sent(
    tmp_path: Path, range_header: bytes
) -> None:
    """A range of an export made for this request cannot be resumed by another (which
    makes a new file); FileResponse would answer a bad one in plain text."""
    path = prepared(tmp_path)
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {**SCOPE, "headers": [(b"range", range_header), (b"if-range", b'"x"')]}
    await TemporaryFileResponse(str(path), path.unlink)(scope, receive, send)
    start = sent[0]
    assert start["status"] == 200
    assert (b"accept-ranges", b"none") in start["headers"]
    assert not any(name == b"content-range" for name, _ in start["headers"])
    assert sum(len(m.get("body", b"")) for m in sent) == 200_000


async def test_the_file_is_removed_when_the_client_leaves_half_way(tmp_path: Path) -> None:
    path = prepared(tmp_path)

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            raise OSError("the client went away")

    with pytest.raises(OSError):
        await TemporaryFileResponse(str(path), path.unlink)(SCOPE, receive, send)
    assert not path.exists()


async def test_a_request_failing_after_preparing_a_file_answers_its_error_and_removes_it(
    client: Any, tenant_a: Any, tmp_path: Path
) -> None:
    response = await client.post(
        "/api/_test/file-then-reject",
        params={"folder": str(tmp_path)},
        headers=tenant_a.headers,
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "rejected after preparing a file"
    assert not (tmp_path / "prepared.bin").exists()
