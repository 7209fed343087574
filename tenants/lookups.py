"""`field__in_list=[…]`: `IN` for a long list of ids, sent to PostgreSQL as one array.

Django writes `pk__in=[…]` as `IN (%s, %s, …)`: for the few hundred guests of a province that
is a few hundred parameters to quote on every query of a search, and as many literals for
PostgreSQL to parse, which cost a province's search about a millisecond per query
(docs/benchmarks.md, "Search by environment"). PostgreSQL turns an `IN` list into `= ANY(array)`
anyway, so it plans both the same. Other databases get the plain `IN`.

The right-hand side may also be:

- `Ids(values)`: ids read from the database, taken as they are. The ORM otherwise looks at every
  value twice while it builds the filter (is it an expression? what does the field make of it?),
  which for a province's 367 guests cost more than sending them.
- `ArrayParam(name)`: a named placeholder in a query whose SQL is kept (tenants/compiled.py); the
  values are put in when it runs. PostgreSQL only.
"""

from __future__ import annotations

import copy

from django.db import NotSupportedError
from django.db.models import IntegerField
from django.db.models.lookups import In

from .compiled import ArrayParam


class Ids:
    """Ids for `field__in_list`, taken as they are (see the module's docstring)."""

    __slots__ = ("values",)

    def __init__(self, values):
        self.values = list(values)

    def __len__(self) -> int:
        return len(self.values)

    def __iter__(self):
        return iter(self.values)

    def __repr__(self) -> str:
        return f"Ids({self.values!r})"


@IntegerField.register_lookup
class InList(In):
    lookup_name = "in_list"

    def get_prep_lookup(self):
        if isinstance(self.rhs, Ids | ArrayParam):
            return self.rhs
        return super().get_prep_lookup()

    def as_postgresql(self, compiler, connection):
        if isinstance(self.rhs, ArrayParam):
            values = self.rhs
        elif isinstance(self.rhs, Ids):
            values = self.rhs.values
        elif isinstance(self.rhs, list | tuple | set | frozenset):
            values = [value for value in self.rhs if value is not None]
        else:
            return super().as_sql(compiler, connection)  # a subquery: as `in`
        lhs, lhs_params = self.process_lhs(compiler, connection)
        array_type = self.lhs.output_field.cast_db_type(connection)
        return f"{lhs} = ANY(%s::{array_type}[])", (*lhs_params, values)

    def as_sql(self, compiler, connection):
        if isinstance(self.rhs, ArrayParam):
            raise NotSupportedError("An ArrayParam is only kept in PostgreSQL's SQL (tenants/compiled.py).")
        if isinstance(self.rhs, Ids):
            # Elsewhere the plain `IN`, of the values as they are.
            plain = copy.copy(self)
            plain.rhs = self.rhs.values
            return super(InList, plain).as_sql(compiler, connection)
        return super().as_sql(compiler, connection)
