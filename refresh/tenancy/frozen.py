"""Frozen queries of tenant tables, each one query for every tenant.

Inside a request a tenant table's query names the request's tenant as a constant
(refresh/tenancy/routing.py), so a query frozen there (refresh/compat/piccolo_frozen.py)
held that tenant and was frozen again for each tenant: the app kept 4,096 of them, and
once more tenants than that were active most requests built their query again, the
largest share of a request's CPU that freezing had removed. Here the query is built once
with the tenant as a `Param`, and each run gives it the tenant of the run's request
(RLS still decides what the run may see). Outside a request there is no tenant to give:
the query is frozen as built there, without one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from piccolo.query.base import Query
from piccolo.table import Table

from refresh.compat.piccolo_frozen import FrozenWithParams
from refresh.tenancy.routing import TENANT_PARAM, request_tenant, tenant_as_param


class FrozenForTenants:
    """`build()` (a query of `table`) frozen on its first run inside a request for every
    tenant, and on its first run outside one for those; run it as a FrozenWithParams.
    `build` must depend on nothing of the request it first runs in (its user, its role):
    the tenant, which the routing adds, is the only thing each run gives. A build that
    names the tenant's id itself is refused; other request state is not detected."""

    def __init__(self, table: type[Table], build: Callable[[], Query[Any, Any]]) -> None:
        self.table, self._build = table, build
        self._for_requests: FrozenWithParams | None = None
        self._outside: FrozenWithParams | None = None

    def frozen(self) -> tuple[FrozenWithParams, dict[str, Any]]:
        """The frozen query for where the caller runs, and the values it takes from there."""
        tenant = request_tenant(self.table)
        if tenant is None:
            if self._outside is None:
                self._outside = FrozenWithParams(self._build())
            return self._outside, {}
        frozen = self._for_requests
        if frozen is None:
            with tenant_as_param():
                frozen = FrozenWithParams(self._build())
            if tenant in frozen.fixed_values:
                # it would serve every tenant a query naming this one
                raise ValueError(
                    "a query frozen for every tenant names the request's tenant itself: "
                    "leave the tenant to the routing (refresh/tenancy/routing.py)"
                )
            self._for_requests = frozen
        return frozen, ({TENANT_PARAM: tenant} if TENANT_PARAM in frozen.params else {})

    @property
    def returns_records(self) -> bool:
        return self.frozen()[0].returns_records

    def __call__(self, **values: Any) -> Query[Any, Any]:
        frozen, own = self.frozen()
        return frozen(**values, **own)

    async def rows(self, node: str | None = None, /, **values: Any) -> list[dict[str, Any]]:
        frozen, own = self.frozen()
        return await frozen.rows(node, **values, **own)
