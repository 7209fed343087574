"""The wizard grid's keyset walk over the name index gives the same pages as sorting every match,
also across batches and when it gives up on a rare selection."""

from __future__ import annotations

import pytest

from relations.filters import NAME_ORDER
from relations.models import Relation
from tests.factories import make_relation
from wizards import paging

pytestmark = pytest.mark.django_db


@pytest.fixture
def relations(federation):
    # Interleaved by name: the province-2 relations sit between the province-1 ones.
    for index in range(24):
        tenant = federation.department11 if index % 3 else federation.department21
        make_relation(tenant, last_name=f"Naam {index % 7}", first_name=f"V{index:02d}")
    return Relation.objects.filter(federation.province1.subtree_filter("tenant"))


def _expected(matches, page: int, per_page: int) -> list[int]:
    ordered = list(matches.order_by(*NAME_ORDER).values_list("pk", flat=True))
    return ordered[(page - 1) * per_page: page * per_page]


@pytest.mark.parametrize(("first", "most", "limit"), [(3, 4, 1000), (2000, 20000, 60000), (3, 3, 6)])
def test_it_pages_like_a_full_sort(first, most, limit, relations, monkeypatch):
    monkeypatch.setattr(paging, "FIRST_BATCH", first)
    monkeypatch.setattr(paging, "MAX_BATCH", most)
    monkeypatch.setattr(paging, "WALK_LIMIT", limit)
    total = relations.count()
    for number in (1, 2, 3, 4):
        page = paging.grid_page(relations, page_number=number, per_page=5, prepare=lambda qs: qs)
        assert [r.pk for r in page.rows] == _expected(relations, number, 5)
        assert page.has_next == (number * 5 < total)
        assert page.count in (None, total)
    last = paging.grid_page(relations, page_number="x", per_page=100, prepare=lambda qs: qs)
    assert last.number == 1 and last.count == total and not last.has_next


def test_the_walk_reads_only_cards_that_are_not_archived(relations):
    # Archived cards match no selection, and the name index (`relation_name_order`) holds only the
    # others: a walk over every card would make PostgreSQL sort the whole table.
    archived = relations.order_by(*NAME_ORDER).first()
    Relation.objects.filter(pk=archived.pk).update(archived=True)
    batch = paging._name_batch(None, 100, "default")
    assert archived.pk not in [row[0] for row in batch]
    assert len(batch) == Relation.objects.filter(archived=False).count()
