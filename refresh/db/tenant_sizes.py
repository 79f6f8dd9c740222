"""The tenants a table's statistics single out as far above the average size.

A generic plan is made for a tenant of average size: right for most tenants, cheaper
than planning every request (1.8-3.6x on the task list and the task by id), and wrong
for the few tenants many times larger, whose broad filters it sorted where an index read
in order stops at the page (bench/NOTES.md). A caller plans for its values
(RequestTransaction.plan_for_values) where the request could go wrong that way, and asks
`is_large` first when only a large tenant's could.

The planner's own statistics name those tenants (`auth.large_tenants`, the most common
tenant_ids whose share is TIMES_AVERAGE times the average or more). They are read through
the table's engine as the authenticator, outside any request (the function is refused to
the request roles), at most once per `max_age` seconds and in the background: a request
never waits for them. Until the first read, and after a failed one, every tenant counts
as large, which plans for the values as before.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import math
import time
import uuid
from typing import Any

from piccolo.querystring import QueryString
from piccolo.table import Table

log = logging.getLogger("refresh.db")

# A share of the rows this many times the average share (1 / the number of tenants).
TIMES_AVERAGE = 10.0
# New statistics come with ANALYZE (autovacuum's, typically minutes apart).
MAX_AGE_SECONDS = 300.0


class LargeTenants:
    """The large tenants of `table`, read now and then."""

    def __init__(
        self,
        table: type[Table],
        times_average: float = TIMES_AVERAGE,
        max_age: float = MAX_AGE_SECONDS,
    ) -> None:
        self.table = table
        self.times_average = times_average
        self.max_age = max_age
        self._tenants: frozenset[uuid.UUID] | None = None  # None: not known
        self._read_at = -math.inf
        self._reading: asyncio.Task[None] | None = None

    def is_large(self, tenant: uuid.UUID | None) -> bool:
        """Whether `tenant` is one of them, as last read (each tenant is, until then);
        starts a new read in the background when the last is older than `max_age`."""
        if self._reading is None and time.monotonic() - self._read_at > self.max_age:
            # a context of its own: not the request's transaction, whose role may not
            # run the function, and whose end must not wait for this
            self._reading = asyncio.get_running_loop().create_task(
                self.read(), context=contextvars.Context()
            )
        return self._tenants is None or tenant in self._tenants

    async def read(self) -> None:
        query = QueryString(
            "select auth.large_tenants({}, {}) as tenant",
            self.table._meta.tablename,
            self.times_average,
        )
        try:
            rows: list[dict[str, Any]] = await self.table._meta.db.run_querystring(query)
            self._tenants = frozenset(row["tenant"] for row in rows)
        except Exception:
            # e.g. a database migrated before the function: plans for the values, as before
            log.warning("large tenants of %s not read", self.table._meta.tablename, exc_info=True)
            self._tenants = None
        finally:
            self._read_at = time.monotonic()
            self._reading = None
