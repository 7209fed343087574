"""`field__in_list=[…]`: `IN` for a long list of ids, sent to PostgreSQL as one array.

Django writes `pk__in=[…]` as `IN (%s, %s, …)`: for the few hundred guests of a province that
is a few hundred parameters to quote on every query of a search, and as many literals for
PostgreSQL to parse, which cost a province's search about a millisecond per query
(docs/benchmarks.md, "Search by environment"). PostgreSQL turns an `IN` list into `= ANY(array)`
anyway, so it plans both the same. Other databases get the plain `IN`.
"""

from __future__ import annotations

from django.db.models import IntegerField
from django.db.models.lookups import In


@IntegerField.register_lookup
class InList(In):
    lookup_name = "in_list"

    def as_postgresql(self, compiler, connection):
        if not isinstance(self.rhs, list | tuple | set | frozenset):
            return super().as_sql(compiler, connection)  # a subquery: as `in`
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = [value for value in self.rhs if value is not None]
        array_type = self.lhs.output_field.cast_db_type(connection)
        return f"{lhs} = ANY(%s::{array_type}[])", (*lhs_params, values)
