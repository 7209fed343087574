"""`__in_list` (tenants/lookups.py): the same rows as `__in`, sent as one array on PostgreSQL."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from relations.models import Relation
from tests.factories import make_relation

pytestmark = pytest.mark.django_db


@pytest.fixture
def cards(federation):
    return [make_relation(federation.department11, last_name=name) for name in ("Aarts", "Bos", "Claes")]


@pytest.mark.parametrize("pick", [[0], [0, 2], [], [0, 1, 2]])
def test_it_finds_what_in_finds(cards, pick):
    ids = [cards[i].pk for i in pick]
    expected = set(Relation.objects.filter(pk__in=ids).values_list("pk", flat=True))
    assert set(Relation.objects.filter(pk__in_list=ids).values_list("pk", flat=True)) == expected == set(ids)


def test_it_ignores_none_and_takes_a_subquery_as_in_does(cards):
    assert Relation.objects.filter(pk__in_list=[cards[1].pk, None]).get() == cards[1]
    subquery = Relation.objects.filter(last_name="Claes").values("pk")
    assert Relation.objects.filter(pk__in_list=subquery).get() == cards[2]


def test_it_sends_one_parameter_on_postgresql(cards):
    if connection.vendor != "postgresql":
        pytest.skip("other databases get the plain IN")
    with CaptureQueriesContext(connection) as captured:
        list(Relation.objects.filter(pk__in_list=[c.pk for c in cards]))
    assert "= ANY(" in captured.captured_queries[0]["sql"]
    assert " IN (" not in captured.captured_queries[0]["sql"]
