"""The relation card: "+ Relatie", editing, address completion and the Data, History and
Communication tabs."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from memberships.models import Function, FunctionType
from relations.models import (
    CommunicationEntry,
    CommunicationType,
    CustomField,
    Relation,
    RelationNumberCounter,
)
from tenants.middleware import SESSION_TENANT_KEY
from tenants.models import Role
from tests.factories import UserFactory, give_function, give_role, make_relation

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()
PDOK_ANSWER = {"response": {"docs": [{"straatnaam": "Dorpsstraat", "woonplaatsnaam": "Lunteren"}]}}


def function_type(code: str) -> FunctionType:
    return FunctionType.objects.get(code=code)


def card_data(federation, **overrides) -> dict:
    data = {
        "kind": "person", "initials": "j", "first_name": "Jan", "infix": "de", "last_name": "Vries",
        "organisation_name": "", "gender": "m", "birth_date": "1990-05-01", "email": "jan@example.org",
        "phone": "", "mobile": "", "postcode": "6741ab", "house_number": "12", "house_number_suffix": "",
        "street": "Dorpsstraat", "city": "Lunteren", "country": "NL", "language": "nl",
        "magazine_delivery": "automatic",
        "function_type": function_type("department_member").pk, "tenant": federation.department11.pk,
        "start_date": TODAY.isoformat(),
    }
    data.update(overrides)
    return data


def counter_value() -> int | None:
    counter = RelationNumberCounter.objects.filter(pk=1).first()
    return counter.value if counter else None


def make_reader(tenant, username: str = "reader"):
    """A user who may look at relation cards in `tenant` but change nothing."""
    role = Role.objects.create(code=f"{username}_role", name="Reader", tenant_kind=tenant.kind)
    role.permissions.set(Permission.objects.filter(
        content_type__app_label__in=["relations", "memberships", "tenants"],
        codename__in=["view_relation", "view_function", "view_tenant", "view_communicationentry"],
    ))
    user = UserFactory(username=username, tenant=tenant)
    give_role(user, tenant, role.code)
    return user


def enter(client, tenant):
    session = client.session
    session[SESSION_TENANT_KEY] = tenant.pk
    session.save()


# --- "+ Relatie" -------------------------------------------------------------------------------


def test_it_adds_a_relation_with_its_first_function(federation, login):
    client = login(federation.province_sb)
    response = client.post(reverse("relation_create"), card_data(federation))
    relation = Relation.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("relation_detail", args=[relation.pk])
    assert relation.tenant == federation.department11
    assert relation.postcode == "6741 AB"
    assert relation.initials == "J"
    function = Function.objects.get(relation=relation)
    assert (function.function_type.code, function.tenant, function.start_date) == (
        "department_member", federation.department11, TODAY
    )


def test_it_homes_a_relation_in_the_current_environment_when_the_function_is_not_in_a_department(federation, login):
    client = login(federation.province_sb)
    response = client.post(reverse("relation_create"), card_data(
        federation, kind="organisation", organisation_name="Bakkerij Jansen", last_name="", first_name="",
        initials="", infix="", birth_date="", function_type=function_type("sponsor").pk,
        tenant=federation.province1.pk,
    ))
    assert response.status_code == 302
    relation = Relation.objects.get()
    assert relation.tenant == federation.province1
    assert relation.display_name == "Bakkerij Jansen"


def test_it_offers_todays_date_and_the_environments_below_for_the_first_function(federation, login):
    client = login(federation.province_sb)
    form = client.get(reverse("relation_create")).context["form"]
    assert form["start_date"].value() == TODAY
    assert set(form.fields["tenant"].queryset) == {
        federation.province1, federation.department11, federation.department12
    }


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"postcode": "12345"}, "postcode"),
        ({"postcode": "0123 AB"}, "postcode"),
        ({"postcode": "1000 AB", "country": "BE"}, "postcode"),
        ({"birth_date": (TODAY + datetime.timedelta(days=1)).isoformat()}, "birth_date"),
        ({"email": "jan@@example"}, "email"),
        ({"email": "geen e-mail"}, "email"),
        ({"last_name": ""}, "last_name"),
        ({"kind": "organisation", "organisation_name": ""}, "organisation_name"),
        ({"start_date": "gisteren"}, "start_date"),
    ],
)
def test_it_refuses_bad_card_input_at_the_field_and_saves_nothing(federation, login, overrides, field):
    client = login(federation.province_sb)
    before = counter_value()
    response = client.post(reverse("relation_create"), card_data(federation, **overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Relation.objects.exists()
    assert not Function.objects.exists()
    assert counter_value() == before


def test_it_accepts_a_belgian_postcode(federation, login):
    client = login(federation.province_sb)
    response = client.post(reverse("relation_create"), card_data(federation, postcode="1000", country="BE"))
    assert response.status_code == 302
    assert Relation.objects.get().postcode == "1000"


def test_it_refuses_a_function_tenant_of_the_wrong_kind(federation, login):
    client = login(federation.province_sb)
    response = client.post(reverse("relation_create"), card_data(federation, tenant=federation.province1.pk))
    assert response.status_code == 200
    assert "tenant" in response.context["form"].errors
    assert not Relation.objects.exists()


def test_it_refuses_a_function_tenant_outside_the_environment(federation, login):
    client = login(federation.province_sb)
    response = client.post(reverse("relation_create"), card_data(federation, tenant=federation.department21.pk))
    assert response.status_code == 200
    assert "tenant" in response.context["form"].errors
    assert not Relation.objects.exists()


def test_it_rolls_back_the_card_and_its_number_when_the_first_function_is_refused(federation, login):
    # The form is valid; the service refuses a role-granting function without an e-mail address
    # after the card was written and numbered: all of it is rolled back.
    client = login(federation.province_sb)
    before = counter_value()
    response = client.post(reverse("relation_create"), card_data(
        federation, email="", function_type=function_type("department_member_administration").pk
    ))
    assert response.status_code == 200
    assert "function_type" in response.context["form"].errors
    assert not Relation.objects.exists()
    assert counter_value() == before


# --- custom fields -----------------------------------------------------------------------------


@pytest.fixture
def custom_fields(federation):
    tenant = federation.province1
    return {
        "diploma": CustomField.objects.create(tenant=tenant, code="diploma", label="Diploma", field_type="choice",
                                              choices="A\nB", required=True, order=1),
        "uren": CustomField.objects.create(tenant=tenant, code="uren", label="Uren", field_type="number", order=2),
        "sinds": CustomField.objects.create(tenant=tenant, code="sinds", label="Sinds", field_type="date", order=3),
        "trainer": CustomField.objects.create(tenant=tenant, code="trainer", label="Trainer", field_type="boolean",
                                              order=4),
        "notitie": CustomField.objects.create(tenant=tenant, code="notitie", label="Notitie", field_type="text",
                                              order=5),
    }


def test_it_stores_the_environments_custom_fields_with_the_card(federation, login, custom_fields):
    client = login(federation.province_sb)
    response = client.post(reverse("relation_create"), card_data(
        federation, extra_diploma="B", extra_uren="2,5", extra_sinds="2020-01-31", extra_trainer="true",
        extra_notitie="  goed  ",
    ))
    assert response.status_code == 302
    assert Relation.objects.get().extra == {
        "diploma": "B", "uren": 2.5, "sinds": "2020-01-31", "trainer": True, "notitie": "goed"
    }


def test_it_marks_required_custom_fields(federation, login, custom_fields):
    client = login(federation.province_sb)
    form = client.get(reverse("relation_create")).context["form"]
    assert form.fields["extra_diploma"].required
    assert not form.fields["extra_uren"].required


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"extra_diploma": ""}, "extra_diploma"),
        ({"extra_diploma": "C"}, "extra_diploma"),
        ({"extra_uren": "veel"}, "extra_uren"),
        ({"extra_sinds": "31-31-2020"}, "extra_sinds"),
        ({"extra_trainer": "misschien"}, "extra_trainer"),
    ],
)
def test_it_refuses_bad_custom_values_at_the_field(federation, login, custom_fields, overrides, field):
    client = login(federation.province_sb)
    data = card_data(federation, extra_diploma="A")
    data.update(overrides)
    response = client.post(reverse("relation_create"), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Relation.objects.exists()


def test_it_shows_custom_values_on_the_card(federation, login, custom_fields):
    relation = make_relation(federation.department11, extra={"diploma": "A", "trainer": True})
    client = login(federation.province_sb)
    response = client.get(reverse("relation_detail", args=[relation.pk]))
    values = dict(response.context["custom_values"])
    assert values["Diploma"] == "A"
    assert values["Uren"] is None


# --- address completion ------------------------------------------------------------------------


@pytest.fixture
def pdok(settings):
    settings.ADDRESS_LOOKUP = "ledenbeheer.addresses.PdokLookup"
    with mock.patch("ledenbeheer.addresses.PdokLookup.fetch") as fetch:
        yield fetch


def test_it_fills_in_street_and_city_from_postcode_and_house_number(federation, login, pdok):
    pdok.return_value = PDOK_ANSWER
    client = login(federation.province_sb)
    response = client.get(reverse("address_lookup"), {"postcode": "6741ab", "house_number": "12"},
                          headers={"HX-Request": "true"})
    assert response.status_code == 200
    pdok.assert_called_once_with("6741 AB", 12)
    content = response.content.decode()
    assert 'id="id_street"' in content and 'value="Dorpsstraat"' in content
    assert 'id="id_city"' in content and 'value="Lunteren"' in content
    assert 'hx-swap-oob="true"' in content


def test_it_says_the_address_was_not_checked_when_the_lookup_fails(federation, login, pdok):
    pdok.side_effect = OSError("network unreachable")
    client = login(federation.province_sb)
    response = client.get(reverse("address_lookup"), {"postcode": "6741 AB", "house_number": "12"})
    assert response.status_code == 200
    assert response.context["address"] is None
    content = response.content.decode()
    assert 'data-testid="address-unchecked"' in content
    assert 'data-testid="address-not-found"' not in content
    # What the user typed in street and city is not replaced.
    assert "id_street" not in content


def test_it_leaves_the_address_to_the_user_when_the_lookup_knows_nothing(federation, login, pdok):
    pdok.return_value = {"response": {"docs": []}}
    client = login(federation.province_sb)
    response = client.get(reverse("address_lookup"), {"postcode": "6741 AB", "house_number": "99"})
    assert response.context["address"] is None
    assert 'data-testid="address-not-found"' in response.content.decode()


def test_it_does_not_look_up_an_invalid_postcode(federation, login, pdok):
    client = login(federation.province_sb)
    response = client.get(reverse("address_lookup"), {"postcode": "nonsense", "house_number": "x"})
    assert response.status_code == 200
    pdok.assert_not_called()


def test_it_saves_a_card_typed_by_hand_when_the_lookup_fails(federation, login, pdok):
    pdok.side_effect = OSError
    client = login(federation.province_sb)
    response = client.post(reverse("relation_create"), card_data(federation, street="Handweg", city="Ede"))
    assert response.status_code == 302
    assert (Relation.objects.get().street, Relation.objects.get().city) == ("Handweg", "Ede")


# --- editing -----------------------------------------------------------------------------------


def edit_data(relation, **overrides) -> dict:
    fields = ["kind", "initials", "first_name", "infix", "last_name", "organisation_name", "gender", "email",
              "phone", "mobile", "postcode", "house_number_suffix", "street", "city", "country", "language",
              "magazine_delivery"]
    data = {name: getattr(relation, name) for name in fields}
    data["birth_date"] = relation.birth_date.isoformat() if relation.birth_date else ""
    data["house_number"] = relation.house_number or ""
    data.update(overrides)
    return data


def test_it_saves_changes_to_the_card(federation, login):
    relation = make_relation(federation.department11, last_name="Jansen")
    client = login(federation.province_sb)
    response = client.post(reverse("relation_edit", args=[relation.pk]), edit_data(relation, last_name="Pietersen"))
    assert response.status_code == 302
    relation.refresh_from_db()
    assert relation.last_name == "Pietersen"
    assert "pietersen" in relation.search_text


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"postcode": "ABCD 12"}, "postcode"),
        ({"birth_date": (TODAY + datetime.timedelta(days=3)).isoformat()}, "birth_date"),
        ({"email": "jan@"}, "email"),
    ],
)
def test_it_refuses_bad_changes_at_the_field(federation, login, overrides, field):
    relation = make_relation(federation.department11, last_name="Jansen", postcode="1234 AB")
    client = login(federation.province_sb)
    response = client.post(reverse("relation_edit", args=[relation.pk]), edit_data(relation, last_name="Anders",
                                                                                   **overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    relation.refresh_from_db()
    assert relation.last_name == "Jansen"


def test_it_refuses_editing_to_a_reader(federation, login):
    relation = make_relation(federation.department11)
    client = login(make_reader(federation.province1))
    assert client.get(reverse("relation_detail", args=[relation.pk])).status_code == 200
    assert client.get(reverse("relation_edit", args=[relation.pk])).status_code == 403
    response = client.post(reverse("relation_edit", args=[relation.pk]), edit_data(relation, last_name="X"))
    assert response.status_code == 403
    relation.refresh_from_db()
    assert relation.last_name == "Jansen"


# --- the tabs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "tab"),
    [("relation_detail", "data"), ("function_list", "functions"), ("relation_history", "history"),
     ("relation_communication", "communication")],
)
def test_it_marks_the_current_tab(federation, login, name, tab):
    relation = make_relation(federation.department11)
    client = login(federation.province_sb)
    response = client.get(reverse(name, args=[relation.pk]))
    assert response.status_code == 200
    assert response.context["tab"] == tab
    content = response.content.decode()
    assert content.count('aria-current="page"') == 2  # the breadcrumb and the tab
    assert f'href="{reverse(name, args=[relation.pk])}" aria-current="page"' in content
    assert 'data-testid="relation-number"' in content


CARD_URLS = [
    ("GET", "relation_detail", False), ("GET", "relation_edit", False), ("POST", "relation_edit", False),
    ("GET", "relation_history", False), ("GET", "relation_communication", False),
    ("POST", "relation_communication", False), ("GET", "function_list", False), ("GET", "function_add", False),
    ("POST", "function_add", False), ("GET", "function_end", True), ("POST", "function_end", True),
    ("GET", "function_delete", True), ("POST", "function_delete", True), ("GET", "member_transfer", True),
    ("POST", "member_transfer", True),
]


@pytest.mark.parametrize(("method", "name", "per_function"), CARD_URLS)
@pytest.mark.parametrize("actor", ["province_sb", "province_la", "department_la"])
def test_it_hides_another_provinces_relation_behind_a_404(federation, login, method, name, per_function, actor):
    relation = make_relation(federation.department21, email="p2@example.org")
    function = Function.objects.get(relation=relation)
    args = [relation.pk, function.pk] if per_function else [relation.pk]
    client = login(getattr(federation, actor))
    url = reverse(name, args=args)
    response = client.get(url) if method == "GET" else client.post(url, {
        "last_name": "Geraden", "to_department": federation.department11.pk, "date": TODAY.isoformat(),
        "end_date": TODAY.isoformat(), "subject": "x",
    })
    assert response.status_code == 404
    assert Function.objects.filter(pk=function.pk, end_date__isnull=True).exists()
    relation.refresh_from_db()
    assert relation.last_name == "Jansen"
    assert relation.tenant == federation.department21


def test_it_shows_a_relation_with_a_current_function_here_but_not_one_that_ended(federation, login):
    relation = make_relation(federation.department21)
    board = give_function(relation, federation.department11, "department_chair")
    client = login(federation.province_sb)
    assert client.get(reverse("relation_detail", args=[relation.pk])).status_code == 200
    board.end_date = TODAY - datetime.timedelta(days=1)
    board.save()
    assert client.get(reverse("relation_detail", args=[relation.pk])).status_code == 404


def test_it_sends_someone_without_an_environment_away(federation, login):
    relation = make_relation(federation.department11)
    client = login(federation.outsider)
    assert client.get(reverse("relation_detail", args=[relation.pk])).status_code == 403
    assert client.get(reverse("relation_create")).status_code == 403


@pytest.mark.parametrize("name", ["relation_detail", "function_list", "relation_history", "relation_communication"])
def test_it_opens_card_pages_in_few_queries(federation, login, django_assert_max_num_queries, name):
    relation = make_relation(federation.department11, actor=federation.province_sb, email="a@example.org")
    for n in range(5):
        # Past rows are history: written directly, as the service only accepts end dates from today.
        Function.objects.create(relation=relation, tenant=federation.department12,
                                function_type=function_type("department_chair"),
                                start_date=TODAY - datetime.timedelta(days=400 - n * 50),
                                end_date=TODAY - datetime.timedelta(days=380 - n * 50))
    give_function(relation, federation.province1, "province_board_member")
    kind = CommunicationType.objects.create(tenant=federation.province1, code="tel", name="Telefoon")
    for n in range(5):
        CommunicationEntry.objects.create(relation=relation, tenant=federation.province1, subject=f"Belletje {n}",
                                          communication_type=kind, created_by=federation.province_sb)
    client = login(federation.province_sb)
    client.get(reverse("relation_edit", args=[relation.pk]))  # warm the session
    with django_assert_max_num_queries(12):
        response = client.get(reverse(name, args=[relation.pk]))
    assert response.status_code == 200


# --- history -----------------------------------------------------------------------------------


def history_changes(response) -> list[tuple]:
    return [
        (event.who, str(change.field), change.old, change.new)
        for event in response.context["events"] for change in event.changes
    ]


def test_it_shows_who_changed_which_field_from_what_to_what(federation, login):
    relation = make_relation(federation.department11, actor=federation.national_sb, last_name="Jansen")
    client = login(federation.province_sb)
    client.cookies["django_language"] = "en"
    client.post(reverse("relation_edit", args=[relation.pk]), edit_data(relation, last_name="Pietersen"))
    response = client.get(reverse("relation_history", args=[relation.pk]))
    assert ("province_sb", "Surname", "Jansen", "Pietersen") in history_changes(response)
    newest = response.context["events"][0]
    assert newest.who == "province_sb"
    content = response.content.decode()
    assert "province_sb" in content and "Pietersen" in content and "Jansen" in content


def test_it_records_the_real_person_when_looking_along(federation, login):
    relation = make_relation(federation.department11, last_name="Jansen")
    client = login(federation.national_sb)
    enter(client, federation.department11)
    client.post(reverse("relation_edit", args=[relation.pk]), edit_data(relation, city="Ede"))
    response = client.get(reverse("relation_history", args=[relation.pk]))
    assert any(who == "national_sb" and new == "Ede" for who, _field, _old, new in history_changes(response))


def test_it_shows_function_events_in_the_history_newest_first(federation, login):
    relation = make_relation(federation.department11, actor=federation.province_sb)
    board = give_function(relation, federation.department11, "department_chair", actor=federation.province_sb)
    client = login(federation.national_sb)
    client.post(reverse("function_end", args=[relation.pk, board.pk]), {"end_date": TODAY.isoformat()})
    client.post(reverse("function_delete", args=[relation.pk, board.pk]))
    client.cookies["django_language"] = "en"
    response = client.get(reverse("relation_history", args=[relation.pk]))
    actions = [(str(event.action), event.who) for event in response.context["events"]]
    assert actions[:2] == [("Function deleted", "national_sb"), ("Function ended", "national_sb")]
    assert ("Function added", "province_sb") in actions
    assert ("Relation created", "province_sb") in actions
    ended = response.context["events"][1]
    assert ("End date", None, TODAY) in [(str(c.field), c.old, c.new) for c in ended.changes]


def test_it_shows_the_names_of_changed_related_objects(federation, login):
    relation = make_relation(federation.department11)
    membership = Function.objects.get(relation=relation)
    client = login(federation.province_sb)
    client.post(reverse("member_transfer", args=[relation.pk, membership.pk]),
                {"to_department": federation.department12.pk, "date": TODAY.isoformat()})
    client.cookies["django_language"] = "en"
    response = client.get(reverse("relation_history", args=[relation.pk]))
    assert ("province_sb", "Home environment", federation.department11, federation.department12) in history_changes(
        response
    )


# --- communication log -------------------------------------------------------------------------


@pytest.fixture
def phone_call(federation):
    return CommunicationType.objects.create(tenant=federation.province1, code="tel", name="Telefoongesprek")


def test_it_adds_a_manual_entry_to_the_communication_log(federation, login, phone_call):
    relation = make_relation(federation.department11)
    client = login(federation.province_sb)
    response = client.post(reverse("relation_communication", args=[relation.pk]), {
        "communication_type": phone_call.pk, "date": TODAY.isoformat(), "subject": "Gebeld over contributie",
        "body": "Betaalt volgende week.",
    })
    assert response.status_code == 302
    entry = CommunicationEntry.objects.get()
    assert (entry.relation, entry.communication_type, entry.created_by, entry.tenant) == (
        relation, phone_call, federation.province_sb, federation.province1
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"subject": ""}, "subject"), ({"date": "morgen"}, "date"), ({"communication_type": ""}, "communication_type")],
)
def test_it_refuses_a_bad_entry_at_the_field(federation, login, phone_call, overrides, field):
    relation = make_relation(federation.department11)
    client = login(federation.province_sb)
    data = {"communication_type": phone_call.pk, "date": TODAY.isoformat(), "subject": "Gebeld"}
    data.update(overrides)
    response = client.post(reverse("relation_communication", args=[relation.pk]), data)
    assert response.status_code == 200
    assert field in response.context["entry_form"].errors
    assert not CommunicationEntry.objects.exists()


def test_it_refuses_a_type_of_another_province(federation, login):
    other = CommunicationType.objects.create(tenant=federation.province2, code="tel", name="Telefoon")
    relation = make_relation(federation.department11)
    client = login(federation.province_sb)
    response = client.post(reverse("relation_communication", args=[relation.pk]), {
        "communication_type": other.pk, "date": TODAY.isoformat(), "subject": "Gebeld"
    })
    assert "communication_type" in response.context["entry_form"].errors
    assert not CommunicationEntry.objects.exists()


def test_it_filters_the_communication_log_by_type_and_period(federation, login, phone_call):
    relation = make_relation(federation.department11)
    visit = CommunicationType.objects.create(tenant=federation.national, code="bezoek", name="Bezoek")

    def entry(kind, days_ago, subject, channel="manual"):
        return CommunicationEntry.objects.create(
            relation=relation, tenant=federation.province1, communication_type=kind, channel=channel,
            date=TODAY - datetime.timedelta(days=days_ago), subject=subject,
        )

    old_call, new_call = entry(phone_call, 100, "oud"), entry(phone_call, 5, "nieuw")
    new_visit = entry(visit, 3, "bezoek")
    mail = entry(None, 1, "welkom", channel="email")
    client = login(federation.province_sb)
    url = reverse("relation_communication", args=[relation.pk])

    def shown(params):
        return list(client.get(url, params).context["page"].object_list)

    assert shown({}) == [mail, new_visit, new_call, old_call]
    assert shown({"type": f"t{phone_call.pk}"}) == [new_call, old_call]
    assert shown({"type": "email"}) == [mail]
    period = {"date_from": (TODAY - datetime.timedelta(days=10)).isoformat(),
              "date_to": (TODAY - datetime.timedelta(days=2)).isoformat()}
    assert shown(period) == [new_visit, new_call]
    assert shown({**period, "type": f"t{visit.pk}"}) == [new_visit]


def test_it_renders_only_the_entries_for_an_htmx_filter(federation, login, phone_call):
    relation = make_relation(federation.department11)
    client = login(federation.province_sb)
    response = client.get(reverse("relation_communication", args=[relation.pk]), {"type": "email"},
                          headers={"HX-Request": "true"})
    content = response.content.decode()
    assert 'data-testid="communication-entries"' in content
    assert "<html" not in content


def test_it_keeps_the_communication_log_from_those_without_the_permission(federation, login):
    relation = make_relation(federation.department11)
    client = login(federation.department_la)
    assert client.get(reverse("relation_detail", args=[relation.pk])).status_code == 200
    assert client.get(reverse("relation_communication", args=[relation.pk])).status_code == 403
    response = client.post(reverse("relation_communication", args=[relation.pk]), {"subject": "x"})
    assert response.status_code == 403
    assert not CommunicationEntry.objects.exists()


def test_it_lets_a_reader_see_but_not_add_to_the_communication_log(federation, login):
    relation = make_relation(federation.department11)
    client = login(make_reader(federation.province1))
    response = client.get(reverse("relation_communication", args=[relation.pk]))
    assert response.status_code == 200
    assert response.context["entry_form"] is None
    response = client.post(reverse("relation_communication", args=[relation.pk]),
                           {"subject": "x", "date": TODAY.isoformat()})
    assert response.status_code == 403
    assert not CommunicationEntry.objects.exists()

