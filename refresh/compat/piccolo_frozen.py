"""Piccolo: frozen queries that take parameters (Piccolo's freeze() fixes every value).

tests/refresh/compat/test_piccolo_frozen.py fails if Piccolo changes where a frozen query
keeps its compiled SQL or how it runs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from piccolo.query.base import Query


@dataclass(frozen=True)
class Param:
    """A placeholder for a value given when a `FrozenWithParams` query runs."""

    name: str


T = TypeVar("T")


class Snapshot(Generic[T]):
    """An object's attributes, read once, to make shallow copies of it that differ in a few.

    What `copy.copy` does, without redoing its work on every call: for an object with
    `__slots__` (Piccolo's queries and querystrings) it goes through `__reduce_ex__` and
    copyreg each time, a visible share of the fetch by id's CPU under load
    (bench/NOTES.md, "The app's own CPU on the task by id"). The same steps as
    `copy.copy` takes (`__getstate__`, a bare `__new__`, `setattr` per attribute), so only
    for classes that leave copying to `object`; the object must not change after the
    snapshot.
    """

    def __init__(self, obj: T) -> None:
        cls = type(obj)
        for custom in ("__copy__", "__setstate__", "__reduce__", "__reduce_ex__", "__getstate__"):
            if getattr(cls, custom, None) is not getattr(object, custom, None):
                raise TypeError(f"{cls.__name__} defines {custom}: copy it with copy.copy")
        state = obj.__getstate__()
        instance, slots = state if isinstance(state, tuple) else (state, None)
        self._cls = cls
        self._dict: dict[str, Any] = dict(instance or {})
        self._slots: dict[str, Any] = dict(slots or {})

    def copy(self, **changed: Any) -> T:
        """A shallow copy of the object, with these attributes set to new values."""
        clone: T = self._cls.__new__(self._cls)
        if self._dict:
            clone.__dict__.update(self._dict)
        for name, value in (self._slots | changed).items():
            setattr(clone, name, value)
        return clone


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
        compiled = querystrings[0]._frozen_compiled_strings
        assert compiled is not None  # freeze() compiled it
        self.sql, self._args = compiled
        self.params = {a.name for a in self._args if isinstance(a, Param)}
        # Each run copies both, with the run's values in place of the `Param`s.
        self._querystring = Snapshot(querystrings[0])
        self._query = Snapshot(query)

    def __call__(self, **values: Any) -> Query[Any, Any]:
        """The query with these values, to await (or `.run()`) as any Piccolo query."""
        if values.keys() != self.params:
            raise TypeError(f"expected values for {sorted(self.params)}, got {sorted(values)}")
        args = [values[a.name] if isinstance(a, Param) else a for a in self._args]
        querystring = self._querystring.copy(_frozen_compiled_strings=(self.sql, args))
        return self._query.copy(_frozen_querystrings=[querystring])
