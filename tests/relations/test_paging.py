import pytest

from relations import paging
from relations.models import Relation
from tests.factories import make_relation

pytestmark = pytest.mark.django_db


@pytest.fixture
def five(federation):
    return [make_relation(federation.department11, last_name=name) for name in ("E", "D", "C", "B", "A")]


def test_it_counts_exactly_and_sorts_below_the_cap(five):
    result = paging.search_page(
        Relation.objects.all(), ordering=["last_name"], page_number=1, per_page=2, prepare=lambda rows: rows
    )
    assert (result.count, result.capped) == (5, False)
    assert [r.last_name for r in result.page.object_list] == ["A", "B"]
    assert result.page.paginator.num_pages == 3


def test_it_says_more_than_the_cap_and_still_pages_in_order(five, monkeypatch):
    monkeypatch.setattr(paging, "CAP", 3)
    result = paging.search_page(
        Relation.objects.all(), ordering=["last_name"], page_number=2, per_page=2, prepare=lambda rows: rows
    )
    assert (result.count, result.capped) == (3, True)
    assert [r.last_name for r in result.page.object_list] == ["C", "D"]


def test_it_shows_more_than_the_cap_on_the_page(federation, login, five, monkeypatch):
    monkeypatch.setattr(paging, "CAP", 3)
    client = login(federation.province_sb)
    client.cookies["django_language"] = "en"
    response = client.get("/relations/")
    assert response.context["result"].capped
    assert b"More than 3 relations found" in response.content
