"""A system transaction (an operator's admin request) gives its connection back whatever happens: a
failed COMMIT (a deferred constraint) answers like the same error during the request
would have, and leaves no connection taken and no transaction marked as current."""

from __future__ import annotations

from typing import Any

from refresh.db.clients import write_client
from refresh.db.connection import connection_of
from refresh.db.engines import READ_DB, WRITE_DB
from refresh.db.transaction import SystemTransaction
from refresh.web.middleware import respond_in_transaction
from settings import get_settings


def busy() -> int:
    assert WRITE_DB.pool is not None
    return WRITE_DB.pool.get_size() - WRITE_DB.pool.get_idle_size()


async def run(handler: Any) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    transaction = SystemTransaction(WRITE_DB, "operator:test", (READ_DB,), "5000ms")
    scope = {"type": "http", "method": "POST", "path": "/admin/api/x"}
    await respond_in_transaction(handler, scope, receive, send, transaction)
    return sent


async def ok(send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def test_a_failed_commit_answers_409_and_gives_the_connection_back(app: Any) -> None:
    await write_client.fetch(
        "create table zz_deferred (id int primary key deferrable initially deferred)"
    )
    try:
        before = busy()

        async def duplicate_at_commit(scope: Any, receive: Any, send: Any) -> None:
            async with connection_of(WRITE_DB) as connection:  # the operator's transaction
                await connection.execute("insert into zz_deferred values (1), (1)")
            await ok(send)

        for _ in range(3):  # more than once: a leak would show as a growing count
            sent = await run(duplicate_at_commit)
            assert sent[0]["status"] == 409, sent
        assert busy() == before
        assert WRITE_DB.current_transaction.get() is None
        assert READ_DB.current_transaction.get() is None
        assert await write_client.fetch("select count(*) as n from zz_deferred") == [{"n": 0}]
    finally:
        await write_client.fetch("drop table zz_deferred")


async def test_an_error_status_after_a_write_rolls_it_back(app: Any) -> None:
    """The status decides, not an exception: a handler that wrote and then answered 4xx
    (nothing raised) leaves nothing behind, and its connection goes back."""
    await write_client.fetch("create table zz_rejected (id int primary key)")
    try:
        before = busy()

        async def write_then_reject(scope: Any, receive: Any, send: Any) -> None:
            async with connection_of(WRITE_DB) as connection:
                await connection.execute("insert into zz_rejected values (1)")
            await send({"type": "http.response.start", "status": 400, "headers": []})
            await send({"type": "http.response.body", "body": b"{}"})

        for _ in range(2):  # a committed row would make the second insert a 409
            sent = await run(write_then_reject)
            assert sent[0]["status"] == 400, sent
        assert busy() == before
        assert await write_client.fetch("select count(*) as n from zz_rejected") == [{"n": 0}]

        async def write_then_succeed(scope: Any, receive: Any, send: Any) -> None:
            async with connection_of(WRITE_DB) as connection:
                await connection.execute("insert into zz_rejected values (2)")
            await ok(send)

        await run(write_then_succeed)  # the control: the same write under a 2xx stays
        assert await write_client.fetch("select id from zz_rejected") == [{"id": 2}]
    finally:
        await write_client.fetch("drop table zz_rejected")


async def test_statements_run_as_the_operator_with_a_time_limit(app: Any) -> None:
    seen: dict[str, Any] = {}

    async def handler(scope: Any, receive: Any, send: Any) -> None:
        async with connection_of(READ_DB) as connection:  # read-client tables join it
            seen["row"] = await connection.fetchrow(
                "select current_user, current_setting('refresh.actor') as actor,"
                " current_setting('statement_timeout') as timeout"
            )
        await ok(send)

    sent = await run(handler)
    assert sent[0]["status"] == 200
    assert dict(seen["row"]) == {
        "current_user": get_settings().admin_role,
        "actor": "operator:test",
        "timeout": "5s",
    }
