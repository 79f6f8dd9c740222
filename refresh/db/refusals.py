"""Refusals by the database's grants and policies, logged so a developer can act on them:
which command, on which table, as which role (`piccolo rls check` says what is missing).
The client's answer does not change (403, or 404 where a policy hides the row)."""

from __future__ import annotations

import logging
import re
from typing import Any

log = logging.getLogger("refresh.db")

TABLE_IN_MESSAGE = re.compile(r'(?:table|relation) "?([A-Za-z0-9_$.]+)"?')
SHARD = re.compile(r"(.+)_\d+")  # Citus names a shard of table t t_102079


def logical_table(name: str, statement: str) -> str:
    """The table the statement named: on Citus a worker's error names the shard."""
    shard = SHARD.fullmatch(name)
    if shard is None or re.search(rf"\b{re.escape(name)}\b", statement):
        return name
    return shard[1] if re.search(rf"\b{re.escape(shard[1])}\b", statement) else name


def log_refusal(exc: Exception, statement: str, transaction: Any) -> None:
    """A statement refused by a missing grant or policy: the client gets its 403 (or 404)
    as before; the log says what to look at (`piccolo rls check`)."""
    why = str(exc)
    found = TABLE_IN_MESSAGE.search(why)
    table = logical_table(found[1], statement) if found else "?"
    if found and table != found[1]:
        why = why.replace(f'"{found[1]}"', f'"{table}"')
    command = statement.lstrip().split(None, 1)[0].lower() if statement.strip() else "?"
    warn_refused(command, table, transaction, why)


def warn_refused(command: str, table: str, transaction: Any, why: str) -> None:
    """The warning of a refusal: an error's (above), or an update or delete that matched
    no row while the row is there to read (refresh/web/resources.py), which is how a
    policy says no to those commands, silently."""
    role = getattr(transaction, "role", None) or "the client's login role"
    log.warning(
        "refused by the database: %s on %s as %s (%s); check the table's grants and "
        "policies with `piccolo rls check`",
        command,
        table,
        role,
        why,
        extra={"refused_command": command, "refused_table": table, "refused_role": role},
    )


async def warn_if_unchanged(table: Any, row_id: Any, command: str) -> None:
    """An update or delete of the row `row_id` (or rows: a list) that matched nothing: if
    the caller can still read it, a policy of `command` said no, silently (no policy for
    it, or a rule), which the log says; a row not there (another tenant's, or deleted
    meanwhile) is an ordinary miss."""
    key = table._meta.primary_key
    matching = key.is_in(row_id) if isinstance(row_id, list) else key == row_id
    if await table.exists().where(matching):
        why = f"the row is readable, but no {command} policy lets this caller change it"
        transaction = table._meta.db.current_transaction.get()
        warn_refused(command, table._meta.tablename, transaction, why)
