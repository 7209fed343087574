import pytest
from django.db import connection

from relations import paging
from relations.models import Relation
from relations.text import search_words, word_patterns
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
    monkeypatch.setattr(paging, "PROBE", 2)
    client = login(federation.province_sb)
    client.cookies["django_language"] = "en"
    response = client.get("/relations/")
    assert response.context["result"].capped
    assert b"More than 3 relations found" in response.content


# --- the relation list's first try: a small count, then a bounded walk of the name index ---------

NAMES = paging.NAME_ORDER


@pytest.fixture
def walk(monkeypatch):
    """Small limits, and no bound left over from another test."""
    paging._walk_bound.clear()
    yield monkeypatch
    paging._walk_bound.clear()


def probed(matches, number, per_page=2):
    return paging.search_page(matches, ordering=list(NAMES), page_number=number, per_page=per_page,
                              prepare=lambda rows: rows, probe=Relation.objects.all())


def test_the_probe_counts_exactly_up_to_its_limit(five, walk):
    walk.setattr(paging, "PROBE", 5)
    result = probed(Relation.objects.all(), 2)
    assert (result.count, result.capped) == (5, False)
    assert [r.last_name for r in result.page.object_list] == ["C", "D"]
    assert result.page.paginator.num_pages == 3


def test_a_dense_term_walks_the_names_up_to_the_bound(five, walk, django_assert_num_queries):
    walk.setattr(paging, "PROBE", 4)
    walk.setattr(paging, "WALK", 4)  # the bound: the fourth name, "D"
    with django_assert_num_queries(3):  # the probe, the bound, the walk
        result = probed(Relation.objects.all(), 2)
    assert (result.count, result.capped) == (4, True)  # "more than 4"
    assert [r.last_name for r in result.page.object_list] == ["C", "D"]
    assert result.page.has_next()
    with django_assert_num_queries(2):  # the bound is read once
        probed(Relation.objects.all(), 1)


def test_a_page_the_walk_does_not_fill_comes_from_sorting_the_matches(five, walk):
    walk.setattr(paging, "PROBE", 1)
    walk.setattr(paging, "WALK", 2)  # the bound "B": D and E lie past it
    result = probed(Relation.objects.filter(last_name__in=["D", "E"]), 1)
    assert (result.count, result.capped) == (2, False)
    assert [r.last_name for r in result.page.object_list] == ["D", "E"]


def test_the_walk_keeps_the_name_order_across_equal_surnames(federation, walk):
    people = [make_relation(federation.department11, last_name="Smit", first_name=first) for first in "EDCBA"]
    walk.setattr(paging, "PROBE", 2)
    walk.setattr(paging, "WALK", 4)
    result = probed(Relation.objects.filter(pk__in=[p.pk for p in people]), 1)
    assert result.capped
    assert [r.first_name for r in result.page.object_list] == ["A", "B"]


def test_nothing_found_is_one_query(five, walk, django_assert_num_queries):
    with django_assert_num_queries(1):
        result = probed(Relation.objects.filter(last_name="Z"), 1)
    assert (result.count, result.capped, list(result.page.object_list)) == (0, False, [])


# --- a letter or two: the walk first, uncounted ----------------------------------------------------


def uncounted(matches, number, per_page=2):
    return paging.search_page(matches, ordering=list(NAMES), page_number=number, per_page=per_page,
                              prepare=lambda rows: rows, probe=Relation.objects.all(), uncounted=True)


def test_a_search_of_a_letter_or_two_walks_without_counting(five, walk, django_assert_num_queries):
    walk.setattr(paging, "WALK", 5)  # the bound: the fifth name, "E"
    with django_assert_num_queries(2):  # the bound, the walk; no count
        result = uncounted(Relation.objects.all(), 1)
    assert (result.count, result.capped) == (2, True)  # "more than 2": a third match was seen
    assert [r.last_name for r in result.page.object_list] == ["A", "B"]
    assert uncounted(Relation.objects.all(), 2).count == 4
    assert [r.last_name for r in uncounted(Relation.objects.all(), 2).page.object_list] == ["C", "D"]


def test_an_uncounted_page_without_a_match_after_it_is_counted(five, walk):
    walk.setattr(paging, "WALK", 5)
    # A page filled exactly, with nothing after it: "more than" would not be true.
    result = uncounted(Relation.objects.filter(last_name__in=["A", "B"]), 1)
    assert (result.count, result.capped) == (2, False)
    last = uncounted(Relation.objects.all(), 3)
    assert (last.count, last.capped) == (5, False)
    assert [r.last_name for r in last.page.object_list] == ["E"]


def test_the_list_walks_first_for_a_letter_or_two_only(federation, login, monkeypatch):
    seen = []
    original = paging.search_page

    def spy(*args, **kwargs):
        seen.append(kwargs["uncounted"])
        return original(*args, **kwargs)

    monkeypatch.setattr("relations.views.search.search_page", spy)
    client = login(federation.national_sb)
    for query in ({"q": "ja"}, {"q": "ja p"}, {"q": "jan"}, {"q": "ja", "col_city": "Ede"}, {"q": "ja", "col_city": ""}):
        client.get("/relations/", query, HTTP_HX_REQUEST="true")
    assert seen == [True, True, False, False, True]


def test_a_province_with_guests_walks_and_pages(federation, login, walk):
    """The bound's key holds the province's guests (an array on PostgreSQL): a search of a letter
    or two, which walks first, works for an environment with guests."""
    from tests.factories import give_function

    walk.setattr(paging, "WALK", 3)
    cards = [make_relation(federation.department11, last_name=name, first_name="Sam") for name in ("A", "B", "C", "D")]
    guest = make_relation(federation.department21, last_name="AA", first_name="Sam")
    give_function(guest, federation.department11, "department_board_member")
    client = login(federation.province_sb)
    first = client.get("/relations/", {"q": "sa"}, HTTP_HX_REQUEST="true")
    assert first.status_code == 200
    assert [r.pk for r in first.context["page"].object_list][:2] == [cards[0].pk, guest.pk]
    assert client.get("/relations/", {"q": "sa", "page": 2}, HTTP_HX_REQUEST="true").status_code == 200


# --- the search box alone: a sample of the names foresees the walk ---------------------------------


def boxed(matches, number, words, per_page=2):
    return paging.search_page(matches, ordering=list(NAMES), page_number=number, per_page=per_page,
                              prepare=lambda rows: rows, probe=Relation.objects.all(), words=words)


@pytest.fixture
def sampled(walk):
    walk.setattr(paging, "SAMPLE_STEP", 1)  # every name up to the bound in the sample
    return walk


def test_a_common_term_walks_first_and_is_counted_later(federation, sampled, django_assert_num_queries):
    people = [make_relation(federation.department11, last_name=name, first_name="Anna") for name in "ABCDEFGH"]
    sampled.setattr(paging, "WALK", 8)
    sampled.setattr(paging, "PROBE", 3)
    matches = Relation.objects.filter(search_text__contains="anna")
    with django_assert_num_queries(2):  # the sample (with the bound), the walk; no count
        result = boxed(matches, 1, ["anna"])
    assert [r.last_name for r in result.page.object_list] == ["A", "B"]
    assert (result.count, result.capped, result.count_later) == (2, True, True)
    with django_assert_num_queries(1):  # the sample is read once
        second = boxed(matches, 2, ["anna"])
    assert [r.last_name for r in second.page.object_list] == ["C", "D"]
    assert paging.search_count(matches) == (3, True)  # "more than PROBE"
    assert paging.search_count(Relation.objects.filter(pk__in=[p.pk for p in people[:2]])) == (2, False)


def test_a_term_the_sample_does_not_hold_is_counted_at_once(federation, sampled, django_assert_num_queries):
    for name in "ABCDEFGH":
        make_relation(federation.department11, last_name=name, first_name="Anna")
    make_relation(federation.department11, last_name="Zwart", first_name="Bob")
    sampled.setattr(paging, "WALK", 8)
    with django_assert_num_queries(2):  # the sample, the count with the page's ids (the rows come when listed)
        result = boxed(Relation.objects.filter(search_text__contains="bob"), 1, ["bob"])
    assert [r.last_name for r in result.page.object_list] == ["Zwart"]
    assert (result.count, result.capped, result.count_later) == (1, False, False)


def test_a_term_the_walk_cannot_fill_is_sorted_without_probing_or_walking(federation, sampled, django_assert_num_queries):
    for name in "ABCDEFGH":
        make_relation(federation.department11, last_name=name, first_name="Anna")
    for name in ("Xa", "Xb", "Xc", "Xd"):
        make_relation(federation.department11, last_name=name, first_name="Bob")
    sampled.setattr(paging, "WALK", 8)  # the bound: "H"; every Bob lies past it
    sampled.setattr(paging, "PROBE", 2)
    with django_assert_num_queries(2):  # the sample, the sort of all the matches; no probe, no walk
        result = boxed(Relation.objects.filter(search_text__contains="bob"), 1, ["bob"])
    assert [r.last_name for r in result.page.object_list] == ["Xa", "Xb"]
    assert (result.count, result.capped, result.count_later) == (4, False, False)


def test_what_an_environment_holds_is_named_by_a_key_that_narrowing_drops(federation):
    """`visible_to` names its rows (`rows_key`): the same environment, the same key; the sample of
    the names is kept under it. A narrowed queryset has none, and a new guest makes a new key."""
    from tests.factories import give_function

    province = Relation.objects.visible_to(federation.province_sb, federation.province1)
    assert province.rows_key is not None
    assert Relation.objects.visible_to(federation.province_sb, federation.province1).rows_key == province.rows_key
    assert Relation.objects.visible_to(federation.national_sb, federation.national).rows_key is not None
    assert Relation.objects.visible_to(federation.province_sb, federation.province2).rows_key is None  # none()
    assert province.filter(last_name="A").rows_key is None
    assert Relation.objects.filter(last_name="A").visible_to(federation.province_sb, federation.province1).rows_key is None
    guest = make_relation(federation.department21, last_name="Gast")
    give_function(guest, federation.department11, "department_board_member")
    assert Relation.objects.visible_to(federation.province_sb, federation.province1).rows_key != province.rows_key


def test_the_sample_is_kept_per_rows_key_and_a_narrowed_queryset_gets_its_own(federation, sampled, django_assert_num_queries):
    for name in "ABCD":
        make_relation(federation.department11, last_name=name, first_name="Anna")
    make_relation(federation.department12, last_name="E", first_name="Anna")
    sampled.setattr(paging, "WALK", 2)
    province = Relation.objects.visible_to(federation.province_sb, federation.province1)
    with django_assert_num_queries(1):
        first = paging._name_sample(province)
    again = Relation.objects.visible_to(federation.province_sb, federation.province1)
    with django_assert_num_queries(0):  # the same key: kept
        assert paging._name_sample(again) is first
    department = province.filter(tenant=federation.department12)
    with django_assert_num_queries(1):  # narrowed: its own sample, keyed by its SQL
        narrowed = paging._name_sample(department)
    assert first.bound[0] == "B"  # the second name the province may see
    assert narrowed.bound is None  # only one name there
    assert narrowed is not first


@pytest.mark.parametrize(("query", "text", "found"), [
    ("ste", "de steen", True),
    ("ste", "de stoel", False),
    ("ja", "jan de vries", True),
    ("ja", "piet jansen", True),
    ("ja", "kaja", False),
    ("a_b", "x a_b y", True),
    ("a_b", "x axb y", False),
    ("de", "de boer", True),  # the start of a line
    ("sen", "jansen", True),  # the end of a line
    ("2665 ra", "x 2665 ra 2665ra y", True),  # a postcode: also without its space
    ("2665 ra", "x 2665 y", False),
])
def test_the_sample_matches_as_the_database_does(federation, query, text, found):
    """The sample is judged in Python by the same LIKE patterns the search sends to the database."""
    words = search_words(query)
    sample = paging._NameSample(None, ["klaas", text, "zus"])
    assert (sample.expected(words, enough=100) == paging.SAMPLE_STEP) is found
    card = make_relation(federation.department11, last_name="Sample")
    Relation.objects.filter(pk=card.pk).update(search_text=text)
    where, params = [], [card.pk]
    for word in words:
        patterns = word_patterns(word)
        where.append("(" + " OR ".join("search_text LIKE %s ESCAPE '\\'" for _pattern in patterns) + ")")
        params.extend(patterns)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM relations_relation WHERE id = %s AND {' AND '.join(where)}", params)  # noqa: S608
        assert bool(cursor.fetchone()[0]) is found
