"""Piccolo: frozen queries that take parameters (Piccolo's freeze() fixes every value).

tests/refresh/compat/test_piccolo_frozen.py fails if Piccolo changes where a frozen query
keeps its compiled SQL or how it runs it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from piccolo.query.base import Query


@dataclass(frozen=True)
class Param:
    """A placeholder for a value given when a `FrozenWithParams` query runs."""

    name: str


class FrozenWithParams:
    """A Piccolo query built and compiled once, run with new values for its `Param`s.

    Building a select (columns, joins, where clauses) and compiling its SQL was the
    largest share of a fetch by id's CPU under load (bench/RESULTS.md). Piccolo's
    `freeze()` caches the compiled SQL with its arguments fixed; here the query is
    rendered and compiled once the same way, and the arguments that are `Param`s are
    swapped for the run's values in a copy of it, so
    the query runs exactly as Piccolo would run it (its engine, the request's
    transaction, its result handling: `first()`, aliases), with the SQL built once.
    Piccolo keeps a frozen query's SQL in `_frozen_querystrings[i]._frozen_compiled_strings`
    and offers no public way to run it with other values.
    """

    def __init__(self, query: Query[Any, Any]) -> None:
        # Rendered now, as Query.freeze() does, but on a copy of this very query rather
        # than a new instance of its class (a subclass may need constructor arguments:
        # refresh.tenancy.routing.RoutedSelect).
        querystrings = query.querystrings
        if len(querystrings) != 1:
            raise ValueError("only a query of one statement can be frozen with parameters")
        querystrings[0].freeze(engine_type=query.engine_type)
        self._query = copy.copy(query)
        self._query._frozen_querystrings = querystrings
        compiled = querystrings[0]._frozen_compiled_strings
        assert compiled is not None  # freeze() compiled it
        self.sql, self._args = compiled
        self.params = {a.name for a in self._args if isinstance(a, Param)}

    def __call__(self, **values: Any) -> Query[Any, Any]:
        """The query with these values, to await (or `.run()`) as any Piccolo query."""
        if values.keys() != self.params:
            raise TypeError(f"expected values for {sorted(self.params)}, got {sorted(values)}")
        args = [values[a.name] if isinstance(a, Param) else a for a in self._args]
        querystring = copy.copy(self._query._frozen_querystrings[0])  # type: ignore[index]
        querystring._frozen_compiled_strings = (self.sql, args)
        query = copy.copy(self._query)
        query._frozen_querystrings = [querystring]
        return query
