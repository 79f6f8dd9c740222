"""Read a request body completely before the request takes a database connection.

A client that sends its body slowly (or never) must not hold a pooled connection while
it does: the body is read first, bounded in size and time, then replayed to the app.
"""

from __future__ import annotations

import asyncio

from starlette.types import Message, Receive


class BodyError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class ClientGone(Exception):
    """The client disconnected before sending its whole body."""


async def read_body(receive: Receive, limit: int, seconds: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(seconds):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise ClientGone
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise BodyError(
                        413, "payload_too_large", f"request body is larger than {limit} bytes"
                    )
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return b"".join(chunks)
    except TimeoutError:
        raise BodyError(408, "request_timeout", "the request body arrived too slowly") from None


def replay(body: bytes, receive: Receive) -> Receive:
    """A receive() that hands the app the body already read, then waits as usual."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
