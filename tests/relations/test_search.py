"""The relation list ("Relaties beheren"): search box, filters, columns, saved searches, paging.

Results are compared with expectations written out here (the oracle), never with the code's own
`visible_to`.
"""

import dataclasses
import datetime

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.urls import reverse

from memberships.models import Function, FunctionType
from relations import filters, paging
from relations.models import (
    ColumnPreference,
    CustomField,
    Relation,
    RelationNumberCounter,
    SavedSearch,
)
from relations.services import relation_number_next, search_text_for
from tenants.models import Role
from tests.factories import UserFactory, give_function, give_role, make_relation

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()
LIST = reverse("relation_list")


@pytest.fixture
def world(federation):
    """Relations spread over the federation, each named for what the tests look for."""
    CustomField.objects.create(
        tenant=federation.province1, code="diploma", label="Diploma", field_type="choice", choices="A\nB\nC"
    )
    CustomField.objects.create(tenant=federation.province1, code="years", label="Years", field_type="number")
    CustomField.objects.create(tenant=federation.province1, code="work", label="Work", field_type="text")
    r = {}
    r["jansen"] = make_relation(
        federation.department11, first_name="Piet", last_name="Jansen", city="Utrecht", postcode="1234ab",
        email="piet@example.org", birth_date=datetime.date(1990, 5, 1),
        extra={"diploma": "A", "years": 7, "work": "Melkveehouder"},
    )
    r["hansje"] = make_relation(
        federation.department12, first_name="Hansje", last_name="Pietersen", city="Zwolle", postcode="8000 AA",
        birth_date=datetime.date(2001, 2, 3), extra={"diploma": "B", "years": 2, "work": "Student"},
    )
    r["devries"] = make_relation(
        federation.department21, first_name="Klaas", infix="de", last_name="Vries", city="Amsterdam",
        birth_date=datetime.date(1985, 1, 1),
    )
    # A province 2 member who is on department 1.1's board: province 1 sees them.
    give_function(r["devries"], federation.department11, "department_board_member")
    r["bakker"] = make_relation(federation.department22, first_name="Kees", last_name="Bakker", city="Assen")
    # A function in department 1.2 that has ended: province 1 no longer sees them.
    ended = give_function(
        r["bakker"], federation.department12, "department_board_member", start_date=TODAY - datetime.timedelta(days=300)
    )
    Function.objects.filter(pk=ended.pk).update(end_date=TODAY - datetime.timedelta(days=20))
    r["mulder"] = make_relation(federation.department21, first_name="Mia", last_name="Mulder", city="Utrecht")
    r["boerderij"] = make_relation(
        federation.province1, kind="organisation", organisation_name="Boerderij De Hoeve", last_name="",
        first_name="", function_code="sponsor", city="Deventer",
    )
    # A former member of department 1.1: membership from 400 to 50 days ago.
    r["oudlid"] = make_relation(
        federation.department11, first_name="Otto", last_name="Oud", city="Houten",
        start_date=TODAY - datetime.timedelta(days=400),
    )
    Function.objects.filter(relation=r["oudlid"]).update(end_date=TODAY - datetime.timedelta(days=50))
    return r


def many_members(tenant, count: int, **data) -> list[Relation]:
    """`count` members of `tenant` in two bulk inserts: the paging and query-count tests need
    many rows, not the services' checks on each one."""
    department_member = FunctionType.objects.get(code="department_member")
    first = relation_number_next()
    relations = Relation.objects.bulk_create(
        [Relation(number=first + 1 + i, tenant=tenant, last_name=f"Lid{i:02d}", **data) for i in range(count)]
    )
    RelationNumberCounter.objects.filter(pk=1).update(value=first + count + 1)
    for relation in relations:
        relation.search_text = search_text_for(relation)
    Relation.objects.bulk_update(relations, ["search_text"])
    Function.objects.bulk_create(
        [Function(relation=r, function_type=department_member, tenant=tenant, start_date=TODAY) for r in relations]
    )
    return relations


def found(response) -> set[int]:
    assert response.status_code == 200
    return {relation.pk for relation in response.context["page"].object_list}


def names(world, *keys) -> set[int]:
    return {world[k].pk for k in keys}


# --- who sees what ------------------------------------------------------------------------------

# The oracle: who each role's environment shows, from the rules in ARCHITECTURE "Tenancy and
# access" — home in the subtree, or a current function held there.
EXPECTED = {
    "national_sb": {"jansen", "hansje", "devries", "bakker", "mulder", "boerderij", "oudlid"},
    "national_la": {"jansen", "hansje", "devries", "bakker", "mulder", "boerderij", "oudlid"},
    "province_sb": {"jansen", "hansje", "devries", "boerderij", "oudlid"},
    "province_la": {"jansen", "hansje", "devries", "boerderij", "oudlid"},
    "department_la": {"jansen", "devries", "oudlid"},
    "province2_sb": {"devries", "bakker", "mulder"},
    "department21_la": {"devries", "mulder"},
}


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_it_lists_what_each_role_may_see(federation, world, login, role):
    response = login(federation.users[role]).get(LIST)
    assert found(response) == names(world, *EXPECTED[role])
    assert response.context["page"].paginator.count == len(EXPECTED[role])


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("national_sb", {"jansen", "hansje"}),
        ("province_sb", {"jansen", "hansje"}),
        ("department_la", {"jansen"}),
        ("province2_sb", set()),
    ],
)
def test_it_searches_within_what_each_role_may_see(federation, world, login, role, expected):
    response = login(federation.users[role]).get(LIST, {"q": "ans"})
    assert found(response) == names(world, *expected)


def test_it_refuses_the_list_to_an_outsider(federation, world, login):
    assert login(federation.outsider).get(LIST).status_code == 403


def test_it_refuses_the_list_to_a_user_without_the_view_permission(federation, world, login):
    role = Role.objects.create(code="nothing", name="Nothing", tenant_kind="province")
    role.permissions.set([Permission.objects.get(codename="view_tenant")])
    user = UserFactory(tenant=federation.province1)
    give_role(user, federation.province1, "nothing")
    assert login(user).get(LIST).status_code == 403


def test_it_sends_an_anonymous_visitor_to_the_login_page(client):
    response = client.get(LIST)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


# --- the search box -----------------------------------------------------------------------------


def test_it_finds_part_of_a_first_name_or_surname(federation, world, login):
    response = login(federation.national_sb).get(LIST, {"q": "ans"})
    assert found(response) == names(world, "jansen", "hansje")


def test_it_matches_every_word_typed(federation, world, login):
    response = login(federation.national_sb).get(LIST, {"q": "piet JANS"})
    assert found(response) == names(world, "jansen")


@pytest.mark.parametrize("q", ["1234 AB", "1234ab", "1234"])
def test_it_finds_a_postcode(federation, world, login, q):
    response = login(federation.national_sb).get(LIST, {"q": q})
    assert found(response) == names(world, "jansen")


def test_it_finds_a_city_and_an_email(federation, world, login):
    client = login(federation.national_sb)
    assert found(client.get(LIST, {"q": "utrecht"})) == names(world, "jansen", "mulder")
    assert found(client.get(LIST, {"q": "piet@exa"})) == names(world, "jansen")


def test_it_finds_a_relation_number(federation, world, login):
    number = str(world["hansje"].number)
    response = login(federation.national_sb).get(LIST, {"q": number})
    assert found(response) == names(world, "hansje")


def test_it_finds_an_organisation_by_name(federation, world, login):
    response = login(federation.province_sb).get(LIST, {"q": "hoeve"})
    assert found(response) == names(world, "boerderij")


@pytest.mark.parametrize(("q", "expected"), [
    # One or two characters: the start of a word (the first letters typed in the box).
    ("pi", {"jansen", "hansje"}), ("PI", {"jansen", "hansje"}), ("de", {"devries", "boerderij"}),
    ("ie", set()), ("k", {"devries", "bakker"}), ("ho", {"boerderij", "oudlid"}), ("vr kl", {"devries"}),
    # Three or more: anywhere, as before.
    ("iet", {"jansen", "hansje"}),
])
def test_a_short_word_finds_the_start_of_a_word(federation, world, login, q, expected):
    response = login(federation.national_sb).get(LIST, {"q": q})
    assert found(response) == names(world, *expected)


def test_a_short_word_is_not_a_pattern(federation, world, login):
    assert found(login(federation.national_sb).get(LIST, {"q": "_"})) == set()
    assert found(login(federation.national_sb).get(LIST, {"q": "%a"})) == set()


def test_it_treats_wildcards_as_plain_text(federation, world, login):
    response = login(federation.national_sb).get(LIST, {"q": "%"})
    assert found(response) == set()


@pytest.fixture
def typed(federation):
    """Cards whose names are written the way people do not type them."""
    d = federation.department11
    return {
        "aarts": make_relation(d, first_name="Teun", last_name="Aarts", postcode="2665 RA", city="Bleiswijk"),
        "dijk": make_relation(d, first_name="Jan", infix="van", last_name="Dijk", postcode="2665 XY", city="Rotterdam"),
        # Holds "2665" and "ra" in other places than its postcode: not the postcode 2665 RA.
        "maria": make_relation(d, first_name="Maria", last_name="Smit", postcode="2665 XY", city="Delft"),
        "zoe": make_relation(d, first_name="Zoë", last_name="Ĳzerman", city="Sneek"),
        "ijzer": make_relation(d, first_name="Eva", last_name="IJzerman", city="Emmen"),
    }


@pytest.mark.parametrize("q", ["Aarts, Teun", "Teun Aarts", "aarts teun", "AARTS,TEUN", "Aarts,  Teun"])
def test_it_finds_a_name_in_either_order_with_or_without_a_comma(federation, typed, login, q):
    response = login(federation.national_sb).get(LIST, {"q": q})
    assert found(response) == {typed["aarts"].pk}


@pytest.mark.parametrize("q", ["van Dijk", "Dijk, van", "Dijk van", "Jan van Dijk", "Dijk, Jan van"])
def test_it_finds_a_surname_with_its_infix_in_either_place(federation, typed, login, q):
    response = login(federation.national_sb).get(LIST, {"q": q})
    assert found(response) == {typed["dijk"].pk}


@pytest.mark.parametrize("q", ["2665RA", "2665 RA", "2665ra", "2665 ra", " 2665  Ra "])
def test_it_finds_a_postcode_with_or_without_its_space_in_any_case(federation, typed, login, q):
    response = login(federation.national_sb).get(LIST, {"q": q})
    assert found(response) == {typed["aarts"].pk}


@pytest.mark.parametrize(("q", "expected"), [
    ("Zoe", {"zoe"}), ("zoë", {"zoe"}), ("ZOË ĲZERMAN", {"zoe"}),
    ("IJzerman", {"zoe", "ijzer"}), ("Ĳzerman", {"zoe", "ijzer"}), ("ijzer", {"zoe", "ijzer"}),
])
def test_it_ignores_accents_and_ligatures(federation, typed, login, q, expected):
    response = login(federation.national_sb).get(LIST, {"q": q})
    assert found(response) == {typed[k].pk for k in expected}


def test_it_shows_an_exact_relation_number_first(federation, login):
    wanted = make_relation(federation.department11, first_name="Zeger", last_name="Zwart")
    # Sorts before it by name and holds its number in the e-mail address.
    other = make_relation(
        federation.department11, first_name="Anna", last_name="Aalders", email=f"{wanted.number}@example.org"
    )
    response = login(federation.national_sb).get(LIST, {"q": str(wanted.number)})
    assert [r.pk for r in response.context["page"].object_list] == [wanted.pk, other.pk]
    # Any other search keeps the name order.
    response = login(federation.national_sb).get(LIST, {"q": f"{wanted.number}@"})
    assert [r.pk for r in response.context["page"].object_list] == [other.pk]


def test_it_shows_an_exact_e_mail_address_first(federation, login):
    wanted = make_relation(federation.department11, first_name="Jan", last_name="Zwart", email="jan@example.org")
    other = make_relation(federation.department11, first_name="Marijan", last_name="Aalders", email="marijan@example.org")
    client = login(federation.national_sb)
    response = client.get(LIST, {"q": "JAN@example.org"})
    assert [r.pk for r in response.context["page"].object_list] == [wanted.pk, other.pk]
    response = client.get(LIST, {"q": "jan@example"})
    assert [r.pk for r in response.context["page"].object_list] == [other.pk, wanted.pk]


def test_the_migration_folds_the_stored_search_text(federation, typed):
    import importlib

    from django.apps import apps
    from django.db import connection

    Relation.objects.filter(pk=typed["zoe"].pk).update(search_text="zoë ĳzerman")
    migration = importlib.import_module("relations.migrations.0010_h_search_folded_search_text")
    migration.fold_search_text(apps, connection.schema_editor())
    assert Relation.objects.get(pk=typed["zoe"].pk).search_text == search_text_for(typed["zoe"])
    assert "zoe" in search_text_for(typed["zoe"]) and "ijzerman" in search_text_for(typed["zoe"])


# --- column filters and extended filters --------------------------------------------------------


def test_it_filters_on_a_column(federation, world, login):
    client = login(federation.national_sb)
    assert found(client.get(LIST, {"col_city": "zwol"})) == names(world, "hansje")
    assert found(client.get(LIST, {"col_name": "de vr"})) == names(world, "devries")
    assert found(client.get(LIST, {"col_departments": "1.1"})) == names(world, "jansen")
    assert found(client.get(LIST, {"col_number": str(world["mulder"].number)})) == names(world, "mulder")
    assert found(client.get(LIST, {"col_birth_date": "03-02-2001"})) == names(world, "hansje")


def test_the_name_and_postcode_boxes_take_what_the_list_shows_and_a_postcode_either_way(federation, world, login):
    """The name box separates words by commas too ("Jansen, Piet", as the list writes a name); the
    postcode box and the extended filter find a postcode with or without its space, in any case."""
    client = login(federation.national_sb)
    assert found(client.get(LIST, {"col_name": "Jansen, Piet"})) == names(world, "jansen")
    assert found(client.get(LIST, {"col_name": "vries, klaas"})) == names(world, "devries")
    for typed in ("8000AA", "8000 aa", "8000aa", " 8000  AA "):
        assert found(client.get(LIST, {"col_postcode": typed})) == names(world, "hansje"), typed
    for typed in ("1234 AB", "1234ab", "1234"):
        assert found(client.get(LIST, {"col_postcode": typed})) == names(world, "jansen"), typed
    assert found(client.get(LIST, {"postcode__contains": "1234 ab"})) == names(world, "jansen")
    assert found(client.get(LIST, {"col_postcode": "9999 ZZ"})) == set()


def test_it_combines_a_column_filter_with_the_search_box(federation, world, login):
    response = login(federation.national_sb).get(LIST, {"q": "utrecht", "col_name": "mul"})
    assert found(response) == names(world, "mulder")


def test_it_ors_several_values_of_one_field(federation, world, login):
    response = login(federation.national_sb).get(LIST, {"city__equals": ["Utrecht", "zwolle"]})
    assert found(response) == names(world, "jansen", "hansje", "mulder")


def test_it_ands_different_fields(federation, world, login):
    response = login(federation.national_sb).get(
        LIST, {"city__equals": ["Utrecht", "Zwolle"], "last_name__contains": ["jan", "piet"]}
    )
    assert found(response) == names(world, "jansen", "hansje")


def test_it_ors_operators_within_one_field(federation, world, login):
    response = login(federation.national_sb).get(LIST, {"city__equals": "Assen", "city__contains": "trecht"})
    assert found(response) == names(world, "bakker", "jansen", "mulder")


@pytest.mark.parametrize(("low", "high"), [("01-01-2000", "31-12-2005"), ("2000-01-01", "2005-12-31")])
def test_it_filters_a_date_from_to(federation, world, login, low, high):
    response = login(federation.national_sb).get(LIST, {"birth_date__from": low, "birth_date__to": high})
    assert found(response) == names(world, "hansje")


def test_it_ors_two_ranges_of_one_field(federation, world, login):
    response = login(federation.national_sb).get(
        LIST, {"birth_date__from": ["01-01-1980", "01-01-2000"], "birth_date__to": ["31-12-1989", "31-12-2005"]}
    )
    assert found(response) == names(world, "devries", "hansje")


def test_it_filters_with_only_one_end_of_a_range(federation, world, login):
    response = login(federation.national_sb).get(LIST, {"birth_date__to": "31-12-1989"})
    assert found(response) == names(world, "devries")


def test_it_shows_a_bad_date_at_its_field_and_finds_nothing(federation, world, login):
    client = login(federation.national_sb)
    response = client.get(LIST, {"birth_date__from": "31-02-2000"})
    assert found(response) == set()
    assert "birth_date__from" in response.context["search"].errors
    assert b'data-testid="search-errors"' in response.content
    panel = client.get(LIST, {"birth_date__from": "31-02-2000", "panel": "1"})
    assert panel.status_code == 200
    assert b'value="31-02-2000"' in panel.content


def test_it_still_shows_what_it_understood_of_a_search_with_an_error(federation, world, login):
    response = login(federation.national_sb).get(
        LIST, {"birth_date__from": ["01-01-1980", "nonsense"], "city__equals": "Zwolle", "department": ["x"],
               "function_type": "department_member"}
    )
    search = response.context["search"]
    assert found(response) == set()
    assert set(search.errors) == {"birth_date__from", "department"}
    assert set(search.field_filters) == {"birth_date", "city"}
    assert search.function_types == ["department_member"]
    assert search.extended_count == 3


def test_it_refuses_a_range_that_ends_before_it_starts(federation, world, login):
    response = login(federation.national_sb).get(
        LIST, {"birth_date__from": "01-01-2005", "birth_date__to": "01-01-2000"}
    )
    assert found(response) == set()
    assert "birth_date__to" in response.context["search"].errors


def test_it_ignores_unknown_parameters(federation, world, login):
    response = login(federation.province_sb).get(LIST, {"nonsense__equals": "x", "city__bogus": "y", "page": "abc"})
    assert found(response) == names(world, *EXPECTED["province_sb"])


def test_it_finds_current_members(federation, world, login):
    response = login(federation.province_sb).get(LIST, {"current_member": "1"})
    # Not the sponsor (no membership), not de Vries (member in province 2), not the former member.
    assert found(response) == names(world, "jansen", "hansje")


def test_it_finds_who_was_a_member_on_a_date(federation, world, login):
    client = login(federation.department_la)
    sixty_days_ago = (TODAY - datetime.timedelta(days=60)).strftime("%d-%m-%Y")
    ten_days_ago = (TODAY - datetime.timedelta(days=10)).isoformat()
    assert found(client.get(LIST, {"member_on": sixty_days_ago})) == names(world, "jansen", "oudlid")
    assert found(client.get(LIST, {"member_on": ten_days_ago})) == names(world, "jansen")
    assert found(client.get(LIST, {"member_on": [sixty_days_ago, ten_days_ago]})) == names(world, "jansen", "oudlid")


def test_it_filters_on_department_and_function_type(federation, world, login):
    client = login(federation.province_sb)
    assert found(client.get(LIST, {"department": federation.department12.pk})) == names(world, "hansje")
    assert found(client.get(LIST, {"department": federation.department11.pk})) == names(world, "jansen", "devries")
    assert found(client.get(LIST, {"department": [federation.department11.pk, federation.department12.pk]})) == names(
        world, "jansen", "devries", "hansje"
    )
    # A province stands for itself and everything below it.
    assert found(client.get(LIST, {"department": federation.province1.pk})) == names(
        world, "jansen", "hansje", "devries", "boerderij"
    )
    assert found(client.get(LIST, {"function_type": "department_board_member"})) == names(world, "devries")
    assert found(client.get(LIST, {"function_type": "department_board_member", "department": federation.department12.pk})) == set()


def test_it_does_not_let_a_department_filter_reach_outside_the_environment(federation, world, login):
    response = login(federation.province_sb).get(LIST, {"department": federation.department21.pk})
    assert found(response) == set()


def test_it_filters_on_custom_fields(federation, world, login):
    client = login(federation.province_sb)
    assert found(client.get(LIST, {"extra_diploma__equals": "A"})) == names(world, "jansen")
    assert found(client.get(LIST, {"extra_diploma__equals": ["A", "B"]})) == names(world, "jansen", "hansje")
    assert found(client.get(LIST, {"extra_years__from": "5"})) == names(world, "jansen")
    assert found(client.get(LIST, {"extra_years__from": "1", "extra_years__to": "3"})) == names(world, "hansje")
    assert found(client.get(LIST, {"extra_work__contains": "melkvee"})) == names(world, "jansen")
    assert found(client.get(LIST, {"col_extra_work": "stud"})) == names(world, "hansje")


def test_it_refuses_a_choice_that_does_not_exist(federation, world, login):
    response = login(federation.province_sb).get(LIST, {"extra_diploma__equals": "Z"})
    assert found(response) == set()
    assert "extra_diploma__equals" in response.context["search"].errors


# --- the page -----------------------------------------------------------------------------------


def test_it_answers_htmx_with_only_the_results(federation, world, login):
    client = login(federation.province_sb)
    partial = client.get(LIST, {"q": "ans"}, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    assert b"<html" not in partial.content
    assert partial.content.count(b'data-testid="relation-row"') == 2
    assert "HX-Request" in partial["Vary"]
    full = client.get(LIST, {"q": "ans"})
    assert b"<html" in full.content
    assert b'hx-get="/relations/"' in full.content
    assert b'hx-push-url="true"' in full.content


def test_it_drops_the_empty_boxes_of_a_form_sent_without_javascript(federation, world, login):
    response = login(federation.province_sb).get(
        f"{LIST}?q=ans&city__equals=&city__equals=Zwolle&member_on=&col_name=&sort=city"
    )
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?q=ans&city__equals=Zwolle&sort=city"


def test_it_pushes_the_search_without_empty_boxes_to_the_address_bar(federation, world, login):
    response = login(federation.province_sb).get(
        f"{LIST}?q=ans&city__equals=&col_name=&page=1", HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response["HX-Push-Url"] == f"{LIST}?q=ans&page=1"


def test_it_loads_the_extended_search_as_a_partial_or_a_page(federation, world, login):
    client = login(federation.province_sb)
    partial = client.get(LIST, {"panel": "1"}, HTTP_HX_REQUEST="true")
    assert b"<html" not in partial.content
    assert b'data-testid="extended-search"' in partial.content
    assert b'name="extra_diploma__equals"' in partial.content
    page = client.get(LIST, {"panel": "1", "city__equals": "Utrecht"})
    assert b"<html" in page.content
    assert b'data-testid="extended-search"' in page.content
    assert b'value="Utrecht"' in page.content


def test_it_keeps_extended_filters_in_the_form_while_the_panel_is_closed(federation, world, login):
    response = login(federation.province_sb).get(LIST, {"city__equals": ["Utrecht", "Zwolle"], "current_member": "1"})
    content = response.content.decode()
    assert '<input type="hidden" name="city__equals" value="Utrecht" form="relation-search">' in content
    assert '<input type="hidden" name="city__equals" value="Zwolle" form="relation-search">' in content
    assert '<input type="hidden" name="current_member" value="1" form="relation-search">' in content


def test_it_links_every_row_to_the_relation_card(federation, world, login):
    response = login(federation.department_la).get(LIST)
    content = response.content.decode()
    for key in EXPECTED["department_la"]:
        assert f'href="{reverse("relation_detail", args=[world[key].pk])}"' in content
        assert f'name="relation" value="{world[key].pk}"' in content


def test_it_shows_the_departments_of_current_memberships(federation, world, login):
    response = login(federation.province_sb).get(LIST, {"q": "jansen"})
    (jansen,) = response.context["page"].object_list
    assert dict(jansen.cells)["departments"] == "Afdeling 1.1"


def test_it_sorts_on_a_column(federation, world, login):
    client = login(federation.national_sb)
    ascending = [r.pk for r in client.get(LIST, {"sort": "birth_date", "birth_date__from": "01-01-1900"}).context["page"].object_list]
    assert ascending == [world["devries"].pk, world["jansen"].pk, world["hansje"].pk]
    descending = [r.pk for r in client.get(LIST, {"sort": "-birth_date", "birth_date__from": "01-01-1900"}).context["page"].object_list]
    assert descending == list(reversed(ascending))


def test_it_pages_by_fifty_with_a_total(federation, login):
    many_members(federation.department11, 55)
    client = login(federation.department_la)
    first = client.get(LIST)
    assert len(first.context["page"].object_list) == 50
    assert first.context["page"].paginator.count == 55
    second = client.get(LIST, {"page": 2})
    assert len(second.context["page"].object_list) == 5
    assert found(first).isdisjoint(found(second))


@pytest.mark.parametrize("count", [5, 60])
def test_it_needs_at_most_ten_queries_whatever_the_page_size(
    federation, login, django_assert_max_num_queries, count
):
    relations = many_members(federation.department11, count, city="Utrecht")
    aspirant = FunctionType.objects.get(code="aspirant_member")
    Function.objects.bulk_create(
        [Function(relation=r, function_type=aspirant, tenant=federation.department12, start_date=TODAY) for r in relations[::3]]
    )
    client = login(federation.province_sb)
    client.get(LIST)  # the session's first request stores the environment in it
    ColumnPreference.objects.create(user=federation.province_sb, columns=["number", "name", "home", "departments", "city"])
    # Session, user, environment, roles with their permissions, custom fields, columns, what the
    # environment holds, the matching ids with their count, the rows with their departments; the
    # full page also lists the environments to switch to. A database that cannot order inside an
    # aggregate (SQLite before 3.44) reads the departments in a query of their own.
    departments = 0 if connection.features.supports_aggregate_order_by_clause else 1
    with django_assert_max_num_queries(10 + departments):
        response = client.get(LIST, {"q": "lid", "city__equals": "Utrecht"})
    assert response.context["page"].paginator.count == count
    # A search of the box alone reads a sample of the environment's names once per ten minutes
    # (relations/paging.py): one query more the first time.
    with django_assert_max_num_queries(10 + departments):
        client.get(LIST, {"q": "lid"}, HTTP_HX_REQUEST="true")
    with django_assert_max_num_queries(9 + departments):
        client.get(LIST, {"q": "lid"}, HTTP_HX_REQUEST="true")


# --- columns ------------------------------------------------------------------------------------


def test_it_shows_the_standard_columns_by_default(federation, world, login):
    response = login(federation.province_sb).get(LIST)
    keys = [h["column"].key for h in response.context["headers"]]
    assert keys == ["number", "name", "birth_date", "postcode", "city", "departments"]


def test_it_remembers_the_chosen_columns(federation, world, login):
    client = login(federation.province_sb)
    response = client.post(
        reverse("relation_columns"), {"columns": ["email", "number", "extra_diploma", "bogus"], "next": "q=ans&page=3"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?q=ans"
    assert ColumnPreference.objects.get(user=federation.province_sb).columns == ["number", "email", "extra_diploma"]
    response = client.get(LIST, {"q": "jansen"})
    assert [h["column"].key for h in response.context["headers"]] == ["number", "email", "extra_diploma"]
    (jansen,) = response.context["page"].object_list
    assert jansen.cells == [("number", str(world["jansen"].number)), ("email", "piet@example.org"), ("extra_diploma", "A")]
    client.post(reverse("relation_columns"), {"reset": "1"})
    assert not ColumnPreference.objects.filter(user=federation.province_sb).exists()
    # The choice is read on every request (only its query's SQL is kept): the standard ones again.
    response = client.get(LIST, {"q": "jansen"})
    assert [h["column"].key for h in response.context["headers"]] == [
        "number", "name", "birth_date", "postcode", "city", "departments",
    ]


def test_it_refuses_an_empty_column_choice(federation, world, login):
    client = login(federation.province_sb)
    client.post(reverse("relation_columns"), {"columns": ["bogus"]})
    assert not ColumnPreference.objects.exists()


def test_it_falls_back_to_the_standard_columns_when_chosen_ones_do_not_exist_here(federation, world, login):
    ColumnPreference.objects.create(user=federation.national_sb, columns=["extra_diploma"])
    response = login(federation.national_sb).get(LIST)  # province 1's custom field is not national
    assert [h["column"].key for h in response.context["headers"]][0] == "number"


def test_it_accepts_only_post_for_columns(federation, login):
    assert login(federation.province_sb).get(reverse("relation_columns")).status_code == 405


# --- saved searches -----------------------------------------------------------------------------


def test_it_saves_a_search_and_reruns_it(federation, world, login):
    client = login(federation.province_sb)
    response = client.post(
        reverse("saved_search_create"), {"name": "Utrecht of Zwolle", "query_string": "city__equals=Utrecht&city__equals=Zwolle&page=2"}
    )
    assert response.status_code == 302
    saved = SavedSearch.objects.get(user=federation.province_sb, tenant=federation.province1)
    assert saved.name == "Utrecht of Zwolle"
    assert saved.query_string == "city__equals=Utrecht&city__equals=Zwolle"

    panel = client.get(LIST, {"panel": "1"}, HTTP_HX_REQUEST="true")
    link = f'href="{LIST}?city__equals=Utrecht&amp;city__equals=Zwolle"'
    assert link in panel.content.decode()
    rerun = client.get(f"{LIST}?{saved.query_string}")
    assert found(rerun) == names(world, "jansen", "hansje")


def test_it_replaces_a_saved_search_of_the_same_name(federation, login):
    client = login(federation.province_sb)
    client.post(reverse("saved_search_create"), {"name": "Mijn", "query_string": "q=a"})
    client.post(reverse("saved_search_create"), {"name": "Mijn", "query_string": "q=b"})
    assert list(SavedSearch.objects.values_list("query_string", flat=True)) == ["q=b"]


def test_it_refuses_a_saved_search_without_a_name(federation, login):
    response = login(federation.province_sb).post(reverse("saved_search_create"), {"name": "  ", "query_string": "q=a"})
    assert response.status_code == 302
    assert not SavedSearch.objects.exists()


def test_it_keeps_saved_searches_per_user_and_environment(federation, login):
    SavedSearch.objects.create(user=federation.province_la, tenant=federation.province1, name="Van een ander", query_string="q=x")
    panel = login(federation.province_sb).get(LIST, {"panel": "1"}, HTTP_HX_REQUEST="true")
    assert b"Van een ander" not in panel.content


def test_it_deletes_only_your_own_saved_search(federation, login):
    own = SavedSearch.objects.create(user=federation.province_sb, tenant=federation.province1, name="Eigen", query_string="q=x")
    other = SavedSearch.objects.create(user=federation.province_la, tenant=federation.province1, name="Ander", query_string="q=x")
    client = login(federation.province_sb)
    assert client.post(reverse("saved_search_delete", args=[other.pk])).status_code == 404
    assert client.post(reverse("saved_search_delete", args=[own.pk])).status_code == 302
    assert list(SavedSearch.objects.all()) == [other]


def test_it_refuses_saved_searches_to_an_outsider(federation, login):
    client = login(federation.outsider)
    assert client.post(reverse("saved_search_create"), {"name": "x", "query_string": ""}).status_code == 403
    assert not SavedSearch.objects.exists()


def test_it_asks_the_registered_function_selectors_about_functions(federation, world, login, monkeypatch):
    """Relations may not import memberships: the search's function filters are memberships'
    selectors, registered from its AppConfig.ready()."""
    registered = filters.function_search()
    assert registered.held.__module__ == "memberships.selectors"
    asked = []

    def held(**kwargs):
        asked.append(sorted(kwargs))
        return registered.held(**kwargs)

    monkeypatch.setattr(filters, "_registered", {"functions": dataclasses.replace(registered, held=held)})
    response = login(federation.province_sb).get(LIST, {"function_type": "department_board_member"})
    assert found(response) == names(world, "devries")
    assert asked == [["day", "departments", "function_types", "tenant"]]


def test_the_rows_escape_what_they_show_and_link_the_card(federation, login):
    relation = make_relation(federation.department11, first_name="<b>Bold</b>", last_name="O'Neil & Zn")
    client = login(federation.province_sb)
    client.cookies["django_language"] = "en"
    content = client.get(LIST, {"q": "bold"}).content.decode()
    card = reverse("relation_detail", args=[relation.pk])
    assert f'<a href="{card}">' in content
    assert "&lt;b&gt;Bold&lt;/b&gt;" in content and "<b>Bold</b>" not in content
    assert "O&#x27;Neil &amp; Zn" in content
    # The checkbox's label names the card, escaped too (a quote cannot end the attribute).
    assert 'aria-label="Select &lt;b&gt;Bold&lt;/b&gt; O&#x27;Neil &amp; Zn"' in content
    assert f'data-relation-id="{relation.pk}"' in content and f'value="{relation.pk}"' in content


# --- a common term: the page first, its count after it -------------------------------------------


def test_a_common_term_shows_its_page_first_and_loads_its_count(federation, login, monkeypatch):
    """A term the sample of names finds often is walked without counting; the count line then
    asks for the count itself, and gets the same answer the list gives when it counts."""
    many_members(federation.department11, 120, city="Utrecht")
    monkeypatch.setattr(paging, "WALK", 100)  # 100 "Lid" names: enough to walk for a page of 50
    monkeypatch.setattr(paging, "SAMPLE_STEP", 1)
    monkeypatch.setattr(paging, "PROBE", 110)
    paging._walk_bound.clear()
    client = login(federation.province_sb)
    client.cookies["django_language"] = "en"
    response = client.get(LIST, {"q": "lid"}, HTTP_HX_REQUEST="true")
    paging._walk_bound.clear()
    result = response.context["result"]
    assert (result.count_later, len(response.context["page"].object_list)) == (True, 50)
    count_url = reverse("relation_count") + "?q=lid"
    assert f'hx-get="{count_url}"'.encode() in response.content
    assert b"More than 50 relations found" in response.content
    counted = client.get(count_url, HTTP_HX_REQUEST="true")
    assert counted.status_code == 200
    assert b"More than 110 relations found" in counted.content
    assert b"Lid119" not in counted.content
    assert b"11 relations found" in client.get(reverse("relation_count") + "?q=lid11").content
    # Another environment's count holds only what it may see.
    other = login(federation.province2_sb)
    other.cookies["django_language"] = "en"
    assert b"0 relations found" in other.get(count_url).content


def test_the_count_of_a_search_with_a_mistake_finds_nothing(federation, login):
    client = login(federation.province_sb)
    client.cookies["django_language"] = "en"
    response = client.get(reverse("relation_count"), {"birth_date__from": "31-02-2020"})
    assert response.status_code == 200
    assert b"0 relations found" in response.content
