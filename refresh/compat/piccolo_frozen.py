"""Piccolo: frozen queries that take parameters (Piccolo's freeze() fixes every value).

tests/refresh/compat/test_piccolo_frozen.py fails if Piccolo changes where a frozen query
keeps its compiled SQL or how it runs it, or starts to change the rows of a plain select
that `rows()` returns without its run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from piccolo.columns.m2m import M2MSelect
from piccolo.query.base import Query
from piccolo.query.methods.select import Select
from piccolo.query.mixins import Output
from piccolo.querystring import QueryString


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
    transaction, its result handling, aliases), with the SQL built once.
    Piccolo keeps a frozen query's SQL in `_frozen_querystrings[i]._frozen_compiled_strings`
    and offers no public way to run it with other values.
    """

    def __init__(self, query: Query[Any, Any]) -> None:
        if not isinstance(query, Query):
            # a proxy (first(), output(as_list=True)) would keep the frozen SQL on itself,
            # where the query it wraps never reads it
            raise TypeError(f"freeze the query itself, not a {type(query).__name__}")
        # Rendered now, as Query.freeze() does, but on a copy of this very query rather
        # than a new instance of its class (a subclass may need constructor arguments:
        # refresh.tenancy.routing.RoutedSelect).
        refusal = getattr(query, "why_not_frozen", None)
        if refusal is not None and (why := refusal()):
            # its run would change the query (a deep page's seek), which a frozen query's
            # SQL cannot follow: it would run the unchanged SQL, slowly, every time
            raise ValueError(f"this query cannot be frozen: {why}")
        querystrings = query.querystrings
        if len(querystrings) != 1:
            raise ValueError("only a query of one statement can be frozen with parameters")
        querystrings[0].freeze(engine_type=query.engine_type)
        compiled = querystrings[0]._frozen_compiled_strings
        assert compiled is not None  # freeze() compiled it
        self.sql, self._args = compiled
        self.params = {a.name for a in self._args if isinstance(a, Param)}
        #: The values the query holds (its arguments that are not `Param`s).
        self.fixed_values = tuple(a for a in self._args if not isinstance(a, Param))
        # Each run copies both, with the run's values in place of the `Param`s.
        self._querystring = Snapshot(querystrings[0])
        self._query = Snapshot(query)
        self._table = query.table
        self.returns_records = returns_its_records(query)

    def __call__(self, **values: Any) -> Query[Any, Any]:
        """The query with these values, to await (or `.run()`) as any Piccolo query. Add
        nothing to it (a callback, an output option): it shares its delegates with every
        other run of this frozen query."""
        return self._query.copy(_frozen_querystrings=[self._querystring_with(values)])

    def _querystring_with(self, values: dict[str, Any]) -> QueryString:
        if values.keys() != self.params:
            raise TypeError(f"expected values for {sorted(self.params)}, got {sorted(values)}")
        args = [values[a.name] if isinstance(a, Param) else a for a in self._args]
        return self._querystring.copy(_frozen_compiled_strings=(self.sql, args))

    async def rows(self, node: str | None = None, /, **values: Any) -> list[dict[str, Any]]:
        """What `await self(**values).run(node=node)` returns, for a query Piccolo returns
        the records of as they are (`returns_its_records`) without the layers of its run
        around the statement: the engine runs the querystring (in the current
        transaction, with its own checks), and the records become dicts, as Piccolo's run
        makes them. Those layers (the copy of the query, Select's and Query's run, the
        results' processing and callbacks, none of which change such a query's rows) were
        a visible share of the task by id's CPU (bench/NOTES.md, "Piccolo's run around a
        frozen query"). Any other query runs through Piccolo's run."""
        if not self.returns_records:
            rows: list[dict[str, Any]] = await self(**values).run(node=node)
            return rows
        engine = self._table._meta.db
        if node is not None:  # as Query._run picks it (every engine here is a PostgresEngine)
            engine = engine.extra_nodes[node]
        records = await engine.run_querystring(self._querystring_with(values))
        return engine.transform_response_to_dicts(records) if records else []


#: The methods of Piccolo's run that rows() leaves out besides run() itself: a subclass
#: that overrides one of them does something to its rows that rows() would not.
PROCESSING = ("_run", "_process_results", "response_handler", "_validate")


def returns_its_records(query: Query[Any, Any]) -> bool:
    """Whether Piccolo's run of `query` returns the statement's records, each as a dict,
    and does nothing else: a Select with no output option (JSON loading, objects, nesting,
    a list or JSON text), no many-to-many column (fetched or spliced in after it), no
    callback of any kind, and a class that processes its rows as Select does
    (`PROCESSING`) and runs it as Select does, or whose run's own class says, by a method
    `runs_as_select()` of its own, that what that run adds does nothing for this query.
    Read from Piccolo's delegates (`_output`, `_callbacks`), which have no public
    accessors; tests/refresh/compat/test_piccolo_frozen.py fails if their options change."""
    if not isinstance(query, Select) or hasattr(query, "_raw_response_callback"):
        return False
    cls = type(query)
    if any(getattr(cls, name) is not getattr(Select, name) for name in PROCESSING):
        return False
    if cls.run is not Select.run:
        # the class whose run runs: a subclass of it may run its own way again
        runner = next(c for c in cls.__mro__ if "run" in vars(c))
        runs_as_select = vars(runner).get("runs_as_select")
        if runs_as_select is None or not runs_as_select(query):
            return False
    if query.output_delegate._output != Output():
        return False
    if any(isinstance(c, M2MSelect) for c in query.columns_delegate.selected_columns):
        return False
    return not any(query.callback_delegate._callbacks.values())
