"""A table served over HTTP, declared once: list, get, create, patch and delete handlers
with their OpenAPI operations, for the common shape of a tenant resource.

    projects = Resource(Project, "/projects", "project", tag="projects", columns=COLUMNS,
                        response=schemas.Project, create=schemas.ProjectCreate,
                        patch=schemas.ProjectPatch)
    projects.get(api, summary="Get a project")

What a resource does not cover (a join, an ownership rule, a bulk change) is a handler of
its own beside it; `fetch` and `on_unchanged` adapt the common ones. No handler names a
tenant in a filter: RLS applies it. New rows get the caller's tenant_id, which the insert
policy checks.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from piccolo.columns import Column
from piccolo.query.methods.select import Select
from piccolo.table import Table
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from refresh.db.refusals import warn_if_unchanged
from refresh.tenancy.declarations import TENANT_COLUMN
from refresh.web.api import Api, parse_query
from refresh.web.pagination import SortKey, after_cursor, order_by, page
from refresh.web.requests import claims_of, found, json_body, path_uuid
from refresh.web.responses import JSONResponse

Row = dict[str, Any]
#: Reads one row the way responses show it (e.g. with joined names), or None.
Fetch = Callable[[uuid.UUID], Awaitable[Row | None]]
#: Called when a change or delete matched no row: raise the error that fits (default 404).
Unchanged = Callable[[uuid.UUID], Awaitable[None]]


@dataclass(frozen=True)
class Resource:
    table: type[Table]
    path: str  # e.g. /projects; items are {path}/{id}
    name: str  # e.g. project: "project not found"
    tag: str
    columns: Sequence[Column]
    response: type[BaseModel]
    create_model: type[BaseModel] | None = None
    patch_model: type[BaseModel] | None = None
    fetch: Fetch | None = None
    on_unchanged: Unchanged | None = None

    @property
    def item(self) -> str:
        return self.path + "/{id}"

    async def read(self, row_id: uuid.UUID) -> Row | None:
        if self.fetch is not None:
            return await self.fetch(row_id)
        row: Row | None = (
            await self.table.select(*self.columns)
            .where(self.table._meta.primary_key == row_id)
            .first()
        )
        return row

    async def returned(self, query: Any) -> Row | None:
        """The row an insert or update changed, as responses show it (one statement when
        the resource has no `fetch`)."""
        if self.fetch is None:
            rows = await query.returning(*self.columns)
            return rows[0] if rows else None
        primary_key = self.table._meta.primary_key
        rows = await query.returning(primary_key)
        return await self.fetch(rows[0][primary_key._meta.name]) if rows else None

    async def missing(self, row_id: uuid.UUID, command: str) -> Response:
        """An update or delete matched no row. If the caller can read the row, a policy
        of `command` refused it (a rule, or no policy at all): say so in the log, as for
        a refused insert; the client's answer is the same either way."""
        await warn_if_unchanged(self.table, row_id, command)
        if self.on_unchanged is not None:
            await self.on_unchanged(row_id)
        return found(None, self.name)

    def list(
        self,
        api: Api,
        *,
        summary: str,
        query: type[BaseModel],
        response: type[BaseModel],
        filters: Callable[[Select[Any], Any], Select[Any]] | None = None,
        sort: SortKey | None = None,
        order: Sequence[Column] = (),
    ) -> None:
        """A list: `filters(select, query)` narrows it; with `sort` it is newest first and
        cursor-paginated (the query model has `limit` and `cursor`), else ordered by
        `order` and whole."""

        async def handler(request: Request) -> Response:
            params: Any = parse_query(request, query)  # has limit and cursor when sorted
            select = self.table.select(*self.columns)
            if filters is not None:
                select = filters(select, params)
            if sort is None:
                return JSONResponse({"data": await select.order_by(*order)})
            if params.cursor is not None:
                table = self.table._meta.tablename
                select = select.where(after_cursor(sort, True, params.cursor, table))
            primary_key = self.table._meta.primary_key
            select = select.order_by(order_by(sort), primary_key, ascending=False)
            rows = await select.limit(params.limit + 1)
            return JSONResponse(page(rows, params.limit, sort, True))

        handler.__name__ = f"list_{self.name}s"
        api.route("GET", self.path, summary=summary, tag=self.tag, query=query, response=response)(
            handler
        )

    def get(self, api: Api, *, summary: str) -> None:
        async def handler(request: Request) -> Response:
            return JSONResponse(found(await self.read(path_uuid(request)), self.name))

        handler.__name__ = f"get_{self.name}"
        api.route(
            "GET", self.item, summary=summary, tag=self.tag, response=self.response, errors=(404,)
        )(handler)

    def create(self, api: Api, *, summary: str, errors: tuple[int, ...] = (409,)) -> None:
        model = self.create_model
        assert model is not None, f"{self.name}: create needs a create model"

        async def handler(request: Request) -> Response:
            body = await json_body(request, model)
            values = {TENANT_COLUMN: claims_of(request).tenant_id, **body.model_dump()}
            row = await self.returned(self.table.insert(self.table(**values)))
            return JSONResponse(row, status_code=201)

        handler.__name__ = f"create_{self.name}"
        api.route(
            "POST",
            self.path,
            summary=summary,
            tag=self.tag,
            status=201,
            body=model,
            response=self.response,
            errors=errors,
        )(handler)

    def patch(self, api: Api, *, summary: str, errors: tuple[int, ...] = (404,)) -> None:
        model = self.patch_model
        assert model is not None, f"{self.name}: patch needs a patch model"

        async def handler(request: Request) -> Response:
            row_id = path_uuid(request)
            changes: dict[Any, Any] = (await json_body(request, model)).model_dump(
                exclude_unset=True
            )
            if not changes:
                return JSONResponse(found(await self.read(row_id), self.name))
            primary_key = self.table._meta.primary_key
            row = await self.returned(self.table.update(changes).where(primary_key == row_id))
            if row is None:
                return await self.missing(row_id, "update")
            return JSONResponse(row)

        handler.__name__ = f"update_{self.name}"
        api.route(
            "PATCH",
            self.item,
            summary=summary,
            tag=self.tag,
            body=model,
            response=self.response,
            errors=errors,
        )(handler)

    def delete(self, api: Api, *, summary: str, errors: tuple[int, ...] = (404,)) -> None:
        async def handler(request: Request) -> Response:
            row_id = path_uuid(request)
            primary_key = self.table._meta.primary_key
            deleted = await self.table.delete().where(primary_key == row_id).returning(primary_key)
            if not deleted:
                return await self.missing(row_id, "delete")
            return Response(status_code=204)

        handler.__name__ = f"delete_{self.name}"
        api.route("DELETE", self.item, summary=summary, tag=self.tag, status=204, errors=errors)(
            handler
        )
