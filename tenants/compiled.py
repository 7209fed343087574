"""Queries every page asks in the same shape, compiled once per process and run with a cursor.

Building a queryset and compiling it costs the ORM more than PostgreSQL takes to answer the small
queries every page makes: the user's grants (1.1 ms against 0.5 ms for the same SQL sent as it
is), the environment's custom fields (0.5 against 0.2 ms), the page's rows. A search request of
the relation list paid some 3 ms of its fixed cost there (docs/benchmarks.md, issue 16).

`CompiledQueries.sql(key, build, db)` compiles `build()` the first time `key` is asked and keeps
its SQL text and parameters; nothing is kept of what the query finds, the rows are read anew every
time. The key must therefore hold every value the query's text or parameters depend on (the
user's id, the day, the database alias). A value that changes on every call — the ids of a page —
goes in an `ArrayParam` instead: the SQL holds a named placeholder there (`field__in_list`,
tenants/lookups.py), and `rows(…, arrays={name: ids})` fills it in.

Only PostgreSQL's SQL is kept: elsewhere (SQLite in the demo and the tests) an `IN` list has one
placeholder per value, so every call compiles `build()` with the real values.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Model, QuerySet


class ArrayParam:
    """A named list of ids left open in a kept query (`field__in_list=ArrayParam("ids")`)."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"ArrayParam({self.name!r})"


class CompiledQueries:
    """The SQL of one kind of query, per key; at most `limit` keys (then it starts afresh)."""

    def __init__(self, limit: int = 1000):
        self.limit = limit
        self._known: dict[Hashable, _Compiled] = {}

    def clear(self) -> None:
        self._known.clear()

    def _compiled(self, key: Hashable, build: Callable[[], QuerySet], db: str) -> _Compiled:
        compiled = self._known.get((db, key))
        if compiled is None:
            compiler = build().query.get_compiler(db)
            try:
                sql, params = compiler.as_sql()
            except EmptyResultSet:  # a query that can find nothing (`queryset.none()`)
                sql, params = "", ()
            # What the ORM does to a value as it reads it (a JSON text into its value, say).
            converters = [
                (position, functions, expression)
                for position, (functions, expression) in compiler.get_converters(
                    [column for column, _sql, _alias in compiler.select]
                ).items()
            ]
            if len(self._known) >= self.limit:
                self._known.clear()
            compiled = self._known[(db, key)] = _Compiled(sql, tuple(params), converters)
        return compiled

    def sql(self, key: Hashable, build: Callable[[], QuerySet], db: str) -> tuple[str, tuple]:
        """The SQL and parameters of `build()` on database `db`, compiled once per `key`."""
        compiled = self._compiled(key, build, db)
        return compiled.sql, compiled.params

    def rows(
        self,
        key: Hashable,
        build: Callable[..., QuerySet],
        db: str,
        *,
        arrays: dict[str, Sequence[int]] | None = None,
    ) -> list[tuple]:
        """The rows of `build()` (a `values_list` query) as tuples, each value as the ORM reads it.

        With `arrays`, `build` takes them as keyword arguments: on PostgreSQL it is called once
        with an `ArrayParam` for each, and the values are put in on every call; elsewhere it is
        called with the values themselves."""
        arrays = arrays or {}
        connection = connections[db]
        if connection.vendor != "postgresql":
            return list(build(**arrays))
        compiled = self._compiled(key, lambda: build(**{name: ArrayParam(name) for name in arrays}), db)
        if not compiled.sql:
            return []
        params = compiled.params
        if arrays:
            params = tuple(list(arrays[p.name]) if isinstance(p, ArrayParam) else p for p in params)
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if not compiled.converters:
            return rows
        converted = []
        for row in rows:
            values = list(row)
            for position, functions, expression in compiled.converters:
                value = values[position]
                for function in functions:
                    value = function(value, expression, connection)
                values[position] = value
            converted.append(tuple(values))
        return converted

    def objects(
        self, key: Hashable, model: type[Model], build: Callable[[], QuerySet], db: str,
        fields: Sequence[str] | None = None,
    ) -> list[Any]:
        """The `model` instances of `build()` (a queryset of `model`, in its order), loaded as the
        ORM loads them (`Model.from_db`): whole rows, or only `fields` (attribute names; the
        others deferred, as `only()` leaves them)."""
        # In the model's order of fields, which `from_db` expects.
        names = [f.attname for f in model._meta.concrete_fields if fields is None or f.attname in fields]
        rows = self.rows(key, lambda: build().values_list(*names), db)
        return [model.from_db(db, names, row) for row in rows]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    converters: list[tuple[int, list, Any]]
