"""Whether the running code serves a tenant's request, for the write client's guard.

A request transaction marks its context while it is open; the write client, which
bypasses RLS, refuses to run there (refresh/db/clients.py) unless the code says, in a
greppable way, that it acts for the system on purpose: `write_client.outside_request(reason)`.
In an API request the write engine itself refuses too (refresh/db/engines.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_IN_REQUEST: ContextVar[bool] = ContextVar("refresh_in_request", default=False)
_SYSTEM_REASON: ContextVar[str | None] = ContextVar("refresh_system_reason", default=None)
_CHANNEL: ContextVar[str] = ContextVar("refresh_request_channel", default="")


class WriteClientInRequest(RuntimeError):
    """The write client was used while a tenant's request is served."""


def in_request() -> bool:
    return _IN_REQUEST.get() and _SYSTEM_REASON.get() is None


def refuse_in_request() -> None:
    if in_request():
        raise WriteClientInRequest(
            "the write client bypasses RLS and was used while a tenant's request is served: "
            "there it would read and write every tenant's rows. In a handler, query the table "
            "classes (they go through RLS); for a system action that must happen inside a "
            'request, wrap it in `with write_client.outside_request("why"):`'
        )


@contextmanager
def serving_request(channel: str = "api") -> Iterator[None]:
    """Mark the context as serving a request that came in through `channel` (the
    claims' `via`: api or admin)."""
    token = _IN_REQUEST.set(True)
    channel_token = _CHANNEL.set(channel)
    try:
        yield
    finally:
        _CHANNEL.reset(channel_token)
        _IN_REQUEST.reset(token)


def refuse_in_api_request() -> None:
    """The write engine's own guard, under write_client's: any query that reaches the
    engine in an API request, however it got there (a table class bound to it,
    `.run(node="write")`, the engine itself). Not in a staff request: piccolo-admin reads
    its own user and session tables, which are bound to the write engine, while serving
    staff; the admin's code is held there by write_client's guard and the lint rule."""
    if _CHANNEL.get() == "api":
        refuse_in_request()


@contextmanager
def system_action(reason: str) -> Iterator[None]:
    if len(reason.strip()) < 10:
        raise ValueError("say why the write client is needed inside a request")
    token = _SYSTEM_REASON.set(reason)
    try:
        yield
    finally:
        _SYSTEM_REASON.reset(token)
