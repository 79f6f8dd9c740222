"""A read request costs three round trips: BEGIN with role and claims, the query, COMMIT
with the reset. The claims travel as a quoted literal in the first message: whatever a
claim holds comes back intact and cannot end the literal."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refresh.db.claims import Channel, ClaimsError, build_claims
from refresh.db.engines import READ_DB
from refresh.db.transaction import PooledTransaction, RequestTransaction
from settings import get_settings

INTROSPECTION = ("typeinfo_tree", "set_config('jit'")


@pytest.fixture
def messages(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every message the request transaction's connection sends, from the moment it is
    taken from the pool until it is given back (asyncpg logs one entry per message)."""
    sent: list[str] = []

    def record(query: Any) -> None:
        # asyncpg's type introspection runs once per connection and type (its cache), on
        # the connection's first query of a new type: not a per-request cost
        if not any(marker in query.query for marker in INTROSPECTION):
            sent.append(query.query)

    original_get, original_give_back = (
        PooledTransaction.get_connection,
        PooledTransaction._give_back,
    )

    async def get_connection(self: PooledTransaction) -> Any:
        connection = await original_get(self)
        connection.add_query_logger(record)
        return connection

    async def give_back(self: PooledTransaction, already_reset: bool) -> None:
        self.connection.remove_query_logger(record)
        await original_give_back(self, already_reset)

    monkeypatch.setattr(PooledTransaction, "get_connection", get_connection)
    monkeypatch.setattr(PooledTransaction, "_give_back", give_back)
    return sent


async def test_a_read_request_is_three_round_trips(client, tenant_a, messages):
    listed = await client.get("/api/tasks?limit=50", headers=tenant_a.headers)
    assert listed.status_code == 200, listed.text
    assert len(messages) == 3, "\n---\n".join(messages)
    begin, query, end = messages
    assert begin.startswith("BEGIN READ ONLY; select auth.begin_request(")
    assert 'from "task"' in query.lower()
    assert end.startswith("COMMIT; RESET ROLE;")

    messages.clear()
    missing = await client.get(f"/api/tasks/{uuid.uuid4()}", headers=tenant_a.headers)
    assert missing.status_code == 404
    assert len(messages) == 3, messages
    assert messages[2].startswith("ROLLBACK; RESET ROLE;")


HOSTILE = [
    "'",
    "''",
    "\\",
    "\\'",
    "'; drop table task; --",
    "x'); select pg_sleep(10); --",
    "$$; set role postgres; $$",
    "\\'; reset role; select '",
    "\x00",
    "a\x00'; drop table task; --",
    "é ü 中文 🦄 \u2028 \ufeff",
    "E'\\x27' \"\\\"",
    "\n\r\t\b\f",
]


async def claims_seen_by_the_database(payload: dict[str, Any]) -> tuple[str, str, str]:
    if "\\u0000" in json.dumps(payload):
        # refused before the server: jsonb, as auth.begin_request reads claims, has no NUL
        with pytest.raises(ClaimsError, match="NUL"):
            build_claims(payload, Channel.api)
        sent = json.dumps(payload)
        return sent, get_settings().authenticated_role, sent
    claims = build_claims(payload, Channel.api)
    role = get_settings().authenticated_role
    async with RequestTransaction(READ_DB, claims, role, read_only=True) as transaction:
        row = await transaction.connection.fetchrow(
            "select current_setting('request.jwt.claims') as claims, current_user as role, "
            "current_setting('transaction_read_only') as read_only"
        )
    assert row is not None
    return row["claims"], row["role"], claims.as_json()


@pytest.mark.parametrize("value", HOSTILE)
async def test_hostile_claims_cannot_leave_the_literal(app, tenant_a, value):
    # sub is a member (membership is checked); the hostile text is a claim and a key
    payload = {
        "sub": f"{tenant_a.slug}-member",
        "tenant_id": str(tenant_a.id),
        "note": value,
        value or "empty": [value],
    }
    seen, role, sent = await claims_seen_by_the_database(payload)
    assert seen == sent  # byte for byte: nothing was cut, added or interpreted
    assert json.loads(seen)["note"] == value
    assert role == get_settings().authenticated_role
    assert (await client_tasks_still_there()) is True


async def client_tasks_still_there() -> bool:
    from refresh.db.clients import write_client

    rows = await write_client.fetch("select to_regclass('public.task') is not null as found")
    return bool(rows[0]["found"])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=st.text())
async def test_any_claim_text_comes_back_intact(app, tenant_a, value):
    seen, role, sent = await claims_seen_by_the_database(
        {"sub": f"{tenant_a.slug}-member", "tenant_id": str(tenant_a.id), "note": value}
    )
    assert seen == sent
    assert json.loads(seen)["note"] == value
    assert role == get_settings().authenticated_role


def test_a_nul_or_a_bad_role_is_refused_before_the_server() -> None:
    from refresh.db.transaction import begin_script

    with pytest.raises(ValueError, match="NUL"):
        begin_script("{}", "authenticated\x00", read_only=True, statement_timeout=None)
