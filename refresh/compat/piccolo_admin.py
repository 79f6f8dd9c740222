"""piccolo-admin / piccolo-api: a filter on a column with choices matches the choice.

piccolo-api filters a text column with `ILIKE '%value%'` unless the request says
`<column>__match=exact`, and piccolo-admin's filter form never says it: filtering tasks
by status `do` would also list `done`, and no index can serve a substring match
(bench/RESULTS.md, admin figures). Neither library has a setting for it, so
`exact_choice_filters` wraps a site as an ASGI app and adds `<column>__match=exact` to
the query string of its table endpoints for every column with choices that the request
filters on without a match type of its own. tests/refresh/compat/test_piccolo_admin.py
fails if piccolo-api stops honouring `__match=exact` or starts matching choices exactly.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import parse_qsl, urlencode

from piccolo_admin.endpoints import TableConfig
from starlette.types import ASGIApp, Receive, Scope, Send

# /api/tables/<tablename>/ (the list and its CSV export) and .../count/
TABLE_LIST = re.compile(r"/api/tables/(?P<table>[a-z0-9_]+)/(count/)?$")


def choice_columns(pages: Sequence[TableConfig]) -> dict[str, frozenset[str]]:
    """tablename -> the names of its columns with choices."""
    return {
        page.table_class._meta.tablename: frozenset(
            c._meta.name for c in page.table_class._meta.columns if c._meta.choices is not None
        )
        for page in pages
    }


def with_exact_matches(query: bytes, columns: frozenset[str]) -> bytes:
    params = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    given = {name for name, _ in params}
    extra = [
        (f"{name}__match", "exact")
        for name in dict.fromkeys(name for name, _ in params)
        if name in columns and f"{name}__match" not in given
    ]
    return urlencode(params + extra).encode("latin-1") if extra else query


def exact_choice_filters(app: ASGIApp, pages: Sequence[TableConfig]) -> ASGIApp:
    choices = choice_columns(pages)

    async def site(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path: str = scope.get("path", "")
            root: str = scope.get("root_path", "")
            relative = path[len(root) :] if root and path.startswith(root) else path
            match = TABLE_LIST.search(relative)
            if match and choices.get(match["table"]):
                query = with_exact_matches(scope.get("query_string", b""), choices[match["table"]])
                scope = {**scope, "query_string": query}
        await app(scope, receive, send)

    return site
