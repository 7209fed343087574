"""Paging relation searches over a million relations.

A plain Paginator counts every match (`COUNT(*)`) and lets PostgreSQL walk the name index hoping
to meet a page of matches early; both are slow for a rare search term or a filter matching most of
the federation (docs/benchmarks.md). Instead one query fetches the ids of at most CAP + 1 matches,
in no particular order, which PostgreSQL answers from the trigram index for a rare term and stops
early for a common one:

- at most CAP matches: the count is exact and the page is sorted from those ids alone;
- more: the count is shown as "more than CAP" and the page comes from the name-ordered walk,
  which finds a page quickly exactly because matches are common.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

CAP = 5000


@dataclass
class SearchPage:
    page: Page
    count: int
    capped: bool


def search_page(matches: QuerySet, *, ordering: list[str], page_number, per_page: int, prepare) -> SearchPage:
    """The page `page_number` of `matches` sorted by `ordering`; `prepare` adds the joins and
    prefetches the page needs to an ordered queryset."""
    ids = list(matches.order_by().values_list("pk", flat=True)[: CAP + 1])
    capped = len(ids) > CAP
    rows = matches if capped else matches.model.objects.filter(pk__in=ids)
    paginator = Paginator(prepare(rows.order_by(*ordering)), per_page)
    # Known already: the paginator must not count again.
    paginator.count = min(len(ids), CAP + 1)
    return SearchPage(page=paginator.get_page(page_number), count=min(len(ids), CAP), capped=capped)
