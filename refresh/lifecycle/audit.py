"""The audit log's side of the lifecycle: a tenant's entries removed with it, and one entry
per lifecycle action (export, import, erase) saying who did it and when.

The tenant's staff read its audit entries (and get them in its export), so an entry names
the kind of actor only (`operator`, `system:<command>`); which operator, or which
operating-system user ran the command, goes to operator_action, which only operators
read, under the entry's id.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import uuid
from dataclasses import dataclass
from typing import Any

from refresh.db.sql import ident
from refresh.lifecycle.tables import AUDIT_LOG, OPERATOR_ACTION
from refresh.tenancy.tables import tenant_root_table


@dataclass(frozen=True)
class Actor:
    """Who acts, in the audit log's namespaces (refresh/rls/tables.py): `system:<command>`
    for the CLI (its connection's application_name, as the audit trigger writes it), or an
    operator of the admin. `operator` is the person, for operator_action only: the
    admin's `operator:<username>`, or the CLI's `os:<operating-system user>`."""

    actor: str
    via: str
    operator: str | None = None

    @classmethod
    def operator_named(cls, name: str) -> Actor:
        return cls("operator", "operator", name)


async def system_actor(connection: Any) -> Actor:
    actor = await connection.fetchval(
        "select 'system:' || coalesce(nullif(current_setting('application_name'), ''),"
        " session_user::text)"
    )
    os_user = _os_user()
    return Actor(str(actor), "write client", f"os:{os_user}" if os_user else None)


async def record(
    connection: Any, actor: Actor, tenant_id: uuid.UUID, action: str, changes: dict[str, Any]
) -> uuid.UUID:
    """One audit entry about the tenant as a whole (table: the tenant root, row: its id),
    and who of the operators (or which OS user of the CLI) made it, apart."""
    entry = uuid.uuid4()
    await connection.execute(
        f"insert into {ident(AUDIT_LOG)}"
        " (id, created_at, actor, via, tenant_id, table_name, row_id, action, changes)"
        " values ($1, clock_timestamp(), left($2, 255), $3, $4, $5, $6, $7, $8::jsonb)",
        entry,
        actor.actor,
        actor.via,
        tenant_id,
        tenant_root_table()._meta.tablename,
        str(tenant_id),
        action,
        json.dumps(changes),
    )
    if actor.operator is not None:
        await connection.execute(
            f"insert into {ident(OPERATOR_ACTION)} (id, tenant_id, operator)"
            " values ($1, $2, left($3, 255))",
            entry,
            tenant_id,
            actor.operator,
        )
    return entry


async def record_while_present(
    connection: Any, actor: Actor, tenant_id: uuid.UUID, action: str, changes: dict[str, Any]
) -> bool:
    """`record`, if the tenant's row is still there; False (nothing recorded) otherwise.

    For an action read on another connection than the entry's (an export): an erase in
    between would leave the entry of a tenant that is gone. The row is locked (KEY SHARE)
    from the check to the end of the entry's transaction only, a few statements, not for
    the export's whole read: an erase running now is waited for and then finds here no
    tenant; one that starts after waits for the entry and erases it with the rest."""
    async with contextlib.AsyncExitStack() as stack:
        if not connection.is_in_transaction():
            await stack.enter_async_context(connection.transaction())
        present = await connection.fetchval(
            f"select true from {ident(tenant_root_table()._meta.tablename)}"
            " where id = $1 for key share",
            tenant_id,
        )
        if not present:
            return False
        await record(connection, actor, tenant_id, action, changes)
        return True


async def remove_entries(
    connection: Any, tenant_id: uuid.UUID, keep: list[uuid.UUID] | None = None
) -> int:
    """Delete the tenant's audit entries (and who of the operators made them), except the
    entries `keep`; returns how many went."""
    keep = keep or []
    await connection.execute(
        f"delete from {ident(OPERATOR_ACTION)} where tenant_id = $1 and not (id = any($2))",
        tenant_id,
        keep,
    )
    status = await connection.execute(
        f"delete from {ident(AUDIT_LOG)} where tenant_id = $1 and not (id = any($2))",
        tenant_id,
        keep,
    )
    return int(status.split()[-1])


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return ""
