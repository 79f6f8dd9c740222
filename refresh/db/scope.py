"""Whether the running code serves a tenant's request, for the write client's guard.

A request transaction marks its context while it is open; the write client, which
bypasses RLS, refuses to run there (refresh/db/clients.py) unless the code says, in a
greppable way, that it acts for the system on purpose: `write_client.outside_request(reason)`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_IN_REQUEST: ContextVar[bool] = ContextVar("refresh_in_request", default=False)
_SYSTEM_REASON: ContextVar[str | None] = ContextVar("refresh_system_reason", default=None)


class WriteClientInRequest(RuntimeError):
    """The write client was used while a tenant's request is served."""


def in_request() -> bool:
    return _IN_REQUEST.get() and _SYSTEM_REASON.get() is None


@contextmanager
def serving_request() -> Iterator[None]:
    token = _IN_REQUEST.set(True)
    try:
        yield
    finally:
        _IN_REQUEST.reset(token)


@contextmanager
def system_action(reason: str) -> Iterator[None]:
    if len(reason.strip()) < 10:
        raise ValueError("say why the write client is needed inside a request")
    token = _SYSTEM_REASON.set(reason)
    try:
        yield
    finally:
        _SYSTEM_REASON.reset(token)
