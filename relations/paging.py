"""Paging relation searches over a million relations.

A plain Paginator counts every match (`COUNT(*)`) and lets PostgreSQL walk the name index hoping
to meet a page of matches early; both are slow for a rare search term or a filter matching most of
the federation (docs/benchmarks.md). Instead one query fetches the ids of at most CAP + 1 matches,
in no particular order, which PostgreSQL answers from the trigram index for a rare term and stops
early for a common one:

- at most CAP matches: the count is exact and the page is sorted from those ids alone;
- more: the count is shown as "more than CAP" and the page comes from the name-ordered walk,
  which finds a page quickly exactly because matches are common. The walk only picks the page's
  ids (a subquery the covering name index answers on its own, `relation_name_order`); the rows
  themselves are then fetched by primary key, in the same query.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import BooleanField, Case, F, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce

CAP = 5000


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


def _unchanged(rows):
    return rows


def search_page(
    matches: QuerySet, *, ordering: list[str], page_number, per_page: int, prepare, first: Q | None = None
) -> SearchPage:
    """The page `page_number` of `matches` sorted by `ordering`; `prepare` adds the joins and
    prefetches the page needs to an ordered queryset. Matches that meet `first` (an exact relation
    number or e-mail address) come before the others, read in the same query as the ids; with
    more than CAP matches, where the ids are not all read, the order is `ordering` alone."""
    if first is None:
        ids = list(matches.order_by().values_list("pk", flat=True)[: CAP + 1])
        firsts = []
    else:
        flagged = matches.order_by().annotate(
            _first=Case(When(first, then=Value(True)), default=Value(False), output_field=BooleanField())
        )
        rows = list(flagged.values_list("pk", "_first")[: CAP + 1])
        ids = [pk for pk, _is_first in rows]
        firsts = [pk for pk, is_first in rows if is_first]
    capped = len(ids) > CAP
    if capped:
        rows = _WalkedPage(matches.order_by(*ordering), _unindexed(ordering, matches.db), prepare)
        prepare = _unchanged
    else:
        sort = _unindexed(ordering, matches.db)
        if firsts:
            sort = [Case(When(pk__in=firsts, then=Value(0)), default=Value(1)), *sort]
        rows = matches.model.objects.filter(pk__in=ids).order_by(*sort)
    paginator = Paginator(prepare(rows), per_page)
    # Known already: the paginator must not count again.
    paginator.count = min(len(ids), CAP + 1)
    return SearchPage(page=paginator.get_page(page_number), count=min(len(ids), CAP), capped=capped)
