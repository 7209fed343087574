"""The ledenmodule's pages: the member list, registering after a search, updating, ending with a
reason, organisation data, the member-list download and the history of a member."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from intake.models import Registration
from memberships.models import CancellationReason, Function, FunctionType, NoticeRule
from relations.models import Relation
from tests.factories import give_function, make_intake_form, make_relation

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()


@pytest.fixture
def department(federation, login):
    """Department 1.1 with two current members, one former member, a member of department 1.2
    and department 1.1's administrator logged in."""
    members = {
        "current": make_relation(federation.department11, first_name="Carla", last_name="Huidig", city="Lochem"),
        "second": make_relation(federation.department11, first_name="Dirk", last_name="Tweede"),
        "former": make_relation(federation.department11, first_name="Fien", last_name="Vroeger"),
        "other": make_relation(federation.department12, first_name="Olaf", last_name="Anders",
                               email="olaf@example.org", birth_date=datetime.date(2000, 5, 17)),
    }
    Function.objects.filter(relation=members["former"]).update(end_date=TODAY - datetime.timedelta(days=2))
    return members, login(federation.department_la)


def names(response) -> list[str]:
    return [r.last_name for r in response.context["page"]]


def test_it_lists_current_members_and_former_members_on_request(department):
    members, client = department

    assert names(client.get(reverse("ledenmodule_member_list"))) == ["Huidig", "Tweede"]
    assert names(client.get(reverse("ledenmodule_member_list") + "?former=1")) == ["Vroeger"]
    assert names(client.get(reverse("ledenmodule_member_list") + "?q=carla")) == ["Huidig"]


def test_it_shows_the_member_list_in_at_most_ten_queries(department, django_assert_max_num_queries, federation):
    _members, client = department
    for n in range(30):
        make_relation(federation.department11, last_name=f"Lid {n}")

    client.get(reverse("ledenmodule_member_list"))  # the first visit stores the environment in the session

    with django_assert_max_num_queries(10):
        response = client.get(reverse("ledenmodule_member_list"))

    assert response.status_code == 200
    assert len(response.context["page"]) == 32


def test_it_paints_the_member_list_without_waiting_for_scripts(department):
    _members, client = department

    html = client.get(reverse("ledenmodule_member_list")).content.decode()

    scripts = [line for line in html.splitlines() if "<script" in line]
    assert scripts and all(" defer" in line for line in scripts)


# --- registering -------------------------------------------------------------------------------


def test_it_finds_a_person_the_federation_knows_by_email_or_by_name_and_birth_date(department):
    members, client = department

    by_email = client.get(reverse("ledenmodule_member_search"), {"email": "OLAF@example.org"})
    by_name = client.get(reverse("ledenmodule_member_search"), {"last_name": "anders", "birth_date": "2000-05-17"})
    by_part = client.get(reverse("ledenmodule_member_search"), {"last_name": "and", "birth_date": "2000-05-17"})

    assert [r.pk for r in by_email.context["found"]] == [members["other"].pk]
    assert [r.pk for r in by_name.context["found"]] == [members["other"].pk]
    assert by_part.context["found"] == []


def test_it_asks_for_name_and_birth_date_or_email_before_searching(department):
    _members, client = department

    response = client.get(reverse("ledenmodule_member_search"), {"last_name": "Anders"})

    assert response.context["form"].non_field_errors()
    assert response.context["found"] is None


def test_it_registers_a_known_person_as_member_without_a_second_card(department, federation):
    members, client = department
    cards_before = Relation.objects.count()
    url = reverse("ledenmodule_member_enrol", args=[members["other"].pk]) + "?email=olaf@example.org"

    response = client.post(url, {"function_type": FunctionType.objects.get(code="department_member").pk,
                                 "start_date": TODAY.isoformat()})

    assert response.status_code == 302
    assert Relation.objects.count() == cards_before
    assert Function.objects.filter(relation=members["other"], tenant=federation.department11).exists()
    assert "Anders" in names(client.get(reverse("ledenmodule_member_list")))


def test_it_registers_a_new_person_with_a_department_membership(department, federation):
    _members, client = department

    response = client.post(reverse("ledenmodule_member_create"), {
        "kind": "person", "first_name": "Nina", "last_name": "Nieuw", "country": "NL", "language": "nl",
        "magazine_delivery": "automatic", "gender": "", "birth_date": "2005-03-02",
        "function_type": FunctionType.objects.get(code="department_member").pk,
        "start_date": TODAY.isoformat(),
        # Whatever is posted, the membership is held in the administrator's department.
        "tenant": federation.department21.pk,
    })

    assert response.status_code == 302
    relation = Relation.objects.get(last_name="Nieuw")
    assert relation.tenant == federation.department11
    function = Function.objects.get(relation=relation)
    assert (function.function_type.code, function.tenant) == ("department_member", federation.department11)


def test_it_registers_through_the_departments_intake_form_when_there_is_one(department, federation):
    _members, client = department
    make_intake_form(federation.province1, name="Afdelingsformulier", kind="department",
                     departments=[federation.department11])
    cards_before = Relation.objects.count()

    page = client.get(reverse("ledenmodule_member_create") + "?last_name=Nieuw&email=nina@example.org")
    response = client.post(reverse("ledenmodule_member_create"), {
        "f_first_name": "Nina", "f_last_name": "Nieuw", "f_birth_date": "02-03-2005", "f_email": "nina@example.org",
        # Whatever is posted, the registration is for the administrator's department.
        "department": federation.department21.pk,
    })

    assert page.status_code == 200
    assert page.context["form"]["f_last_name"].value() == "Nieuw"
    assert response.status_code == 302, response.context["form"].errors
    registration = Registration.objects.get()
    assert (registration.tenant, registration.department, registration.status) == (
        federation.province1, federation.department11, "new",
    )
    assert registration.submitted_by == federation.department_la
    assert Relation.objects.count() == cards_before  # the province accepts it


def test_it_registers_with_the_relation_form_when_the_intake_form_is_for_another_department(department, federation):
    _members, client = department
    make_intake_form(federation.province1, name="Afdelingsformulier", kind="department",
                     departments=[federation.department12])

    response = client.get(reverse("ledenmodule_member_create"))

    assert response.templates[0].name == "ledenmodule/member_form.html"


def test_it_offers_only_memberships_when_registering(department):
    _members, client = department

    form = client.get(reverse("ledenmodule_member_create")).context["form"]

    assert {t.code for t in form.fields["function_type"].queryset} == {"department_member", "aspirant_member"}


def test_it_refuses_an_administrator_function_in_the_registration_form(department):
    _members, client = department
    count = Relation.objects.count()

    response = client.post(reverse("ledenmodule_member_create"), {
        "kind": "person", "first_name": "Nina", "last_name": "Nieuw", "country": "NL", "language": "nl",
        "magazine_delivery": "automatic", "gender": "",
        "function_type": FunctionType.objects.get(code="department_member_administration").pk,
        "start_date": TODAY.isoformat(),
    })

    assert response.status_code == 200
    assert "function_type" in response.context["form"].errors
    assert Relation.objects.count() == count


# --- updating, ending, history ------------------------------------------------------------------


def test_it_updates_member_data_and_shows_the_change_in_the_members_history(department, federation):
    members, client = department
    relation = members["current"]

    response = client.post(reverse("ledenmodule_member_edit", args=[relation.pk]), {
        "kind": "person", "first_name": "Carla", "last_name": "Huidig", "city": "Zutphen", "country": "NL",
        "language": "nl", "magazine_delivery": "automatic", "gender": "",
    })

    assert response.status_code == 302
    detail = client.get(reverse("ledenmodule_member_detail", args=[relation.pk]))
    changes = [(c.field, c.old, c.new) for e in detail.context["events"] for c in e.changes]
    assert ("City", "Lochem", "Zutphen") in changes or ("Plaats", "Lochem", "Zutphen") in changes
    assert detail.context["events"][0].who == federation.department_la.username


def test_it_ends_a_membership_with_a_date_and_a_reason(department):
    members, client = department
    reason = CancellationReason.objects.get(name="Verhuisd")
    relation = members["current"]

    response = client.post(reverse("ledenmodule_member_end", args=[relation.pk]),
                           {"end_date": TODAY.isoformat(), "reason": reason.pk, "note": "Naar Groningen"})

    assert response.status_code == 302
    function = Function.objects.get(relation=relation)
    assert (function.end_date, function.cancellation_reason, function.cancellation_note) == (
        TODAY, reason, "Naar Groningen"
    )


def test_it_requires_a_reason_and_refuses_a_past_end_date(department):
    members, client = department
    relation = members["current"]

    no_reason = client.post(reverse("ledenmodule_member_end", args=[relation.pk]), {"end_date": TODAY.isoformat()})
    past = client.post(reverse("ledenmodule_member_end", args=[relation.pk]), {
        "end_date": (TODAY - datetime.timedelta(days=1)).isoformat(),
        "reason": CancellationReason.objects.first().pk,
    })

    assert "reason" in no_reason.context["form"].errors
    assert "end_date" in past.context["form"].errors
    assert Function.objects.get(relation=relation).end_date is None


def test_it_tells_when_the_notice_rule_moved_the_end_date(department, federation):
    members, client = department
    later = TODAY + datetime.timedelta(days=30)
    NoticeRule.objects.create(
        tenant=federation.national, name="Opzegtermijn", received_from_month=TODAY.month,
        received_from_day=TODAY.day, received_until_month=TODAY.month, received_until_day=TODAY.day,
        ends_on_month=later.month, ends_on_day=later.day,
    )
    relation = members["current"]

    page = client.get(reverse("ledenmodule_member_end", args=[relation.pk]))
    assert page.context["notice_date"] == later
    response = client.post(reverse("ledenmodule_member_end", args=[relation.pk]), {
        "end_date": TODAY.isoformat(), "reason": CancellationReason.objects.first().pk,
    }, follow=True)

    assert Function.objects.get(relation=relation).end_date == later
    assert any(later.strftime("%d-%m-%Y") in str(m) for m in response.context["messages"])


def test_it_shows_the_departments_organisation_data_read_only(department, federation):
    _members, client = department

    response = client.get(reverse("ledenmodule_organisation"))

    assert response.context["tenant"] == federation.department11
    assert reverse("tenant_edit", args=[federation.department11.pk]) not in response.content.decode()


# --- the member-list download ---------------------------------------------------------------------


def csv_names(response) -> list[str]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    column = rows[0].index("Achternaam") if "Achternaam" in rows[0] else rows[0].index("Surname")
    return sorted(row[column] for row in rows[1:])


def test_it_downloads_the_current_members_and_former_ones_only_when_asked(department):
    _members, client = department

    current = client.get(reverse("ledenmodule_member_export", args=["csv"]))
    everyone = client.get(reverse("ledenmodule_member_export", args=["csv"]) + "?former=1")

    assert csv_names(current) == ["Huidig", "Tweede"]
    assert csv_names(everyone) == ["Huidig", "Tweede", "Vroeger"]


def test_it_downloads_the_member_list_as_excel(department):
    _members, client = department

    response = client.get(reverse("ledenmodule_member_export", args=["xlsx"]))

    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 3


def test_it_keeps_a_department_administrators_other_functions_out_of_their_reach(department, federation):
    # A board function held elsewhere does not make that department's members visible.
    members, client = department
    give_function(members["other"], federation.department12, "department_chair")

    assert client.get(reverse("ledenmodule_member_detail", args=[members["other"].pk])).status_code == 404


def test_it_lists_the_ledenmodule_wizards_among_the_reports_and_runs_them(department, federation):
    members, client = department
    from wizards.models import Wizard

    response = client.get(reverse("ledenmodule_reports"))

    listed = {wizard.code for wizard in response.context["wizards"]}
    assert listed == set(Wizard.objects.filter(section="ledenmodule").values_list("code", flat=True))
    assert {"ledenmodule_member_list", "ledenmodule_new_members"} <= listed
    run = client.get(reverse("wizard_run", args=[Wizard.objects.get(code="ledenmodule_member_list").pk]))
    assert run.status_code == 200
    assert "Huidig" in run.content.decode()
    assert "Anders" not in run.content.decode()  # a member of department 1.2
