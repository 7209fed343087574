"""Paging relation searches over a million relations.

A plain Paginator counts every match (`COUNT(*)`) and lets PostgreSQL walk the name index hoping
to meet a page of matches early; both are slow for a rare search term, for a term whose matches
lie late in the alphabet, and for a filter matching most of the federation (docs/benchmarks.md).
Instead one query reads at most CAP + 1 matches, in no particular order — PostgreSQL answers it
from the trigram index for a term, and stops early for a common one — and, in the same query,
counts them and sorts them to pick the page:

- at most CAP matches: the count is exact and the page is right; the page's rows are then read by
  primary key (one more query, plus what `prepare` prefetches);
- more: the count is shown as "more than CAP" and the page comes from the name-ordered walk,
  which finds a page quickly exactly because matches are common. The walk only picks the page's
  ids (a subquery the covering name index answers on its own, `relation_name_order`); the rows
  themselves are then fetched by primary key, in the same query.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce

CAP = 10_000


@dataclass
class SearchPage:
    page: Page
    count: int
    capped: bool


def _unindexed(ordering: list[str], db: str) -> list:
    """`ordering` for sorting a handful of rows fetched by primary key. On PostgreSQL each field
    becomes COALESCE(field, field): the same order, but one no index serves, so PostgreSQL fetches
    the ids by primary key and sorts them instead of walking the whole name index looking for
    them (seconds when they cluster at the end of the alphabet)."""
    if connections[db].vendor != "postgresql":
        return list(ordering)
    sort = []
    for field in ordering:
        name = field.lstrip("-")
        expression = Coalesce(F(name), F(name))
        sort.append(expression.desc() if field.startswith("-") else expression.asc())
    return sort


class _WalkedPage:
    """What the paginator slices for a search with many matches: the page's ids come from the
    walk in `ordered`'s order (a subquery), the rows by primary key, sorted again."""

    ordered = True

    def __init__(self, ordered: QuerySet, sort: list, prepare):
        self.walk, self.sort, self.prepare = ordered, sort, prepare

    def __getitem__(self, window: slice) -> QuerySet:
        page_ids = self.walk.values("pk")[window]
        return self.prepare(self.walk.model.objects.filter(pk__in=page_ids).order_by(*self.sort))


class _SortedPage:
    """What the paginator slices for a search with at most CAP matches: the ids of the page, as
    the counting query sorted them, read by primary key."""

    ordered = True

    def __init__(self, model, page_ids: list[int], sort: list, prepare):
        self.model, self.page_ids, self.sort, self.prepare = model, page_ids, sort, prepare

    def __getitem__(self, window: slice) -> QuerySet:
        return self.prepare(self.model.objects.filter(pk__in=self.page_ids).order_by(*self.sort))


def _page_number(page_number) -> int:
    try:
        return max(1, int(page_number))
    except (TypeError, ValueError):
        return 1


def _sorted_matches(matches: QuerySet, ordering: list[str], first: Q | None, number: int, per_page: int):
    """One query: at most CAP + 1 matches, how many there are, and the ids of page `number` among
    them in `ordering` (the ones meeting `first` ahead). Returns (count, ids of the page)."""
    keys = {"_pk": F("pk")}
    order = []
    if first is not None:
        keys["_first"] = Case(When(first, then=Value(0)), default=Value(1))
        order.append('"_first"')
    for i, field in enumerate(ordering):
        keys[f"_k{i}"] = F(field.lstrip("-"))
        order.append(f'"_k{i}" {"DESC" if field.startswith("-") else "ASC"}')
    inner = matches.order_by().annotate(**keys).values_list(*keys)[: CAP + 1]
    try:
        sql, params = inner.query.sql_with_params()
    except EmptyResultSet:  # a search that can find nothing (queryset.none())
        return None, []
    connection = connections[matches.db]
    query = (
        f'SELECT "_pk", COUNT(*) OVER () FROM ({sql}) matches '  # noqa: S608 (Django's own SQL)
        f"ORDER BY {', '.join(order)} LIMIT %s OFFSET %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, (*params, per_page, (number - 1) * per_page))
        rows = cursor.fetchall()
    if rows:
        return rows[0][1], [row[0] for row in rows]
    return None, []


def search_page(
    matches: QuerySet, *, ordering: list[str], page_number, per_page: int, prepare, first: Q | None = None
) -> SearchPage:
    """The page `page_number` of `matches` sorted by `ordering`; `prepare` adds the joins and
    prefetches the page needs to an ordered queryset. Matches that meet `first` (an exact relation
    number or e-mail address) come before the others; with more than CAP matches, where they are
    not all read, the order is `ordering` alone."""
    number = _page_number(page_number)
    count, page_ids = _sorted_matches(matches, ordering, first, number, per_page)
    if count is None:
        # Nothing found, or past the last page: count, then show the last page.
        count = matches.order_by()[: CAP + 1].count() if number > 1 else 0
        if count:
            number = max(1, min(number, -(-min(count, CAP + 1) // per_page)))
            count, page_ids = _sorted_matches(matches, ordering, first, number, per_page)
            count = count or 0
    capped = count > CAP
    sort = _unindexed(ordering, matches.db)
    if capped:
        rows = _WalkedPage(matches.order_by(*ordering), sort, prepare)
    else:
        if first is not None:
            sort = [Case(When(first, then=Value(0)), default=Value(1)), *sort]
        rows = _SortedPage(matches.model, page_ids, sort, prepare)
    paginator = Paginator(rows, per_page)
    # Known already: the paginator must not count again.
    paginator.count = min(count, CAP + 1)
    return SearchPage(page=paginator.get_page(number), count=min(count, CAP), capped=capped)
