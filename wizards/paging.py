"""Pages of a wizard's grid at federation scale, in the order of a member list (surname, first
name, number).

A selection such as "the members of a province on a date" matches tens of thousands of relations
through EXISTS conditions on the functions; PostgreSQL then plans to find every match, sort them
all and keep 50 (seconds, see docs/benchmarks.md). Instead the grid walks the name index in
batches (a keyset walk: `(last_name, first_name, number) > (…)`) and asks which relations of each
batch match, until the page is full: a common selection fills a page from the first batch or
two. When a selection is so rare that the walk has not filled the page after WALK_LIMIT names, the
matching ids are fetched and sorted instead (`relations.paging.search_page`), which is fast
exactly when matches are few.

The exact number of matches is only known when the walk reached the end of the names or the ids
were fetched; otherwise the page says "more" and the count is one click away.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import connections
from django.db.models import QuerySet

from relations.filters import NAME_ORDER
from relations.models import Relation
from relations.paging import search_page

FIRST_BATCH = 2000
MAX_BATCH = 20000
WALK_LIMIT = 60000


@dataclass
class GridPage:
    rows: list[Relation]
    number: int
    per_page: int
    has_next: bool
    count: int | None  # exact when known
    capped: bool = False  # count is "more than count"

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.rows else 0

    @property
    def end_index(self) -> int:
        return self.start_index + len(self.rows) - 1 if self.rows else 0


def _page_number(raw) -> int:
    try:
        return max(1, min(int(raw), 10000))
    except (TypeError, ValueError):
        return 1


def _name_batch(after: tuple | None, size: int, db: str) -> list[tuple]:
    # Only cards that are not archived: no selection matches an archived one, and the name index
    # (`relation_name_order`) holds exactly those; without the condition PostgreSQL sorts every card.
    names = Relation.objects.using(db).listed().order_by(*NAME_ORDER)
    if after is not None:
        quote = connections[db].ops.quote_name
        table = quote(Relation._meta.db_table)
        columns = ", ".join(f"{table}.{quote(c)}" for c in NAME_ORDER)
        names = names.extra(where=[f"({columns}) > (%s, %s, %s)"], params=list(after))  # noqa: S610 (fixed names)
    return list(names.values_list("pk", *NAME_ORDER)[:size])


def grid_page(matches: QuerySet[Relation], *, page_number, per_page: int,
              prepare: Callable[[QuerySet[Relation]], QuerySet[Relation]]) -> GridPage:
    number = _page_number(page_number)
    wanted = number * per_page + 1  # one more than the page: is there a next page?
    hits: list[int] = []
    after, size, walked = None, FIRST_BATCH, 0
    while len(hits) < wanted:
        if walked >= WALK_LIMIT:
            return _sorted_ids_page(matches, number, per_page, prepare)
        batch = _name_batch(after, size, matches.db)
        if not batch:
            break
        ids = [row[0] for row in batch]
        matched = set(matches.filter(pk__in=ids).order_by().values_list("pk", flat=True))
        hits += [pk for pk in ids if pk in matched]
        walked += len(batch)
        if len(batch) < size:
            after = None
            break
        after, size = batch[-1][1:], min(size * 2, MAX_BATCH)
    reached_end = len(hits) < wanted
    page_ids = hits[(number - 1) * per_page: number * per_page]
    by_pk = {r.pk: r for r in prepare(Relation.objects.using(matches.db).filter(pk__in=page_ids))}
    rows = [by_pk[pk] for pk in page_ids if pk in by_pk]
    return GridPage(rows, number, per_page, has_next=len(hits) > number * per_page,
                    count=len(hits) if reached_end else None)


def _sorted_ids_page(matches, number: int, per_page: int, prepare) -> GridPage:
    result = search_page(matches, ordering=list(NAME_ORDER), page_number=number, per_page=per_page, prepare=prepare)
    page = result.page
    return GridPage(list(page.object_list), page.number, per_page, has_next=page.has_next(), count=result.count,
                    capped=result.capped)
