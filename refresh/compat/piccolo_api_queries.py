"""piccolo-api's own reading of an admin list request, for showing the SQL it runs.

bench/admin_explain.py prints the plan of each statement behind an admin request, built
by piccolo-api's code rather than a copy of it: the parameters parsed as `PiccoloCRUD`
parses them (filters, match types, order, page), the filters applied as it applies them,
a foreign key's readable joined as its list does. None of the three has a public
counterpart in piccolo-api 1.x or Piccolo 1.x (they are the private steps of
`PiccoloCRUD.get_all` and `Table.get_readable`), so they are reached here and only here;
tests/refresh/compat/test_piccolo_api_queries.py fails if their names or results change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from piccolo.columns import ForeignKey
from piccolo.columns.readable import Readable
from piccolo.table import Table
from piccolo_api.crud.endpoints import PiccoloCRUD


def request_params(crud: PiccoloCRUD, params: Mapping[str, str]) -> Any:
    """The request's query parameters split as piccolo-api does (its `Params`)."""
    return crud._split_params(dict(params))


def with_request_filters(crud: PiccoloCRUD, query: Any, params: Any) -> Any:
    """`query` (a select or count) with the filters of `params` applied by piccolo-api."""
    return crud._apply_filters(query, params)


def related_readable(table: type[Table], column: ForeignKey[Any]) -> Readable:
    """The readable of the row `column` points at, as the admin's list joins it."""
    return table._get_related_readable(column)
