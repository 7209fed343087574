"""The data-quality screens: the error list and its exports, recipients and their overview, the
national choice of rules."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from quality import services as quality
from quality.models import DataProblem, ErrorReportRecipient, QualityRuleSetting
from relations.models import Relation
from tests.factories import make_relation

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()


@pytest.fixture(autouse=True)
def _offline(settings):
    settings.ADDRESS_LOOKUP = "ledenbeheer.addresses.NoLookup"


COMPLETE = {
    "birth_date": datetime.date(2001, 2, 3), "postcode": "1234 AB", "house_number": 5, "street": "Kerkstraat",
    "city": "Ergens", "gender": "f",
}


@pytest.fixture
def cards(federation):
    cards = {
        "d11": make_relation(federation.department11, last_name="Elf", email="", **COMPLETE),
        "d12": make_relation(federation.department12, last_name="Twaalf", email="", **{**COMPLETE, "birth_date": None}),
        "d21": make_relation(federation.department21, last_name="Eenentwintig", email="", **COMPLETE),
    }
    quality.checks_run(TODAY)
    return cards


def test_it_lists_each_open_problem_once_with_a_link_to_the_card(cards, login, federation):
    response = login(federation.province_la).get(reverse("quality_problem_list"))
    assert response.status_code == 200
    page = response.content.decode()
    problems = DataProblem.objects.filter(closed_on__isnull=True, relation__in=[cards["d11"], cards["d12"]])
    assert response.context["page"].paginator.count == problems.count() == 3
    for relation in (cards["d11"], cards["d12"]):
        assert reverse("relation_detail", kwargs={"pk": relation.pk}) in page
    assert reverse("relation_detail", kwargs={"pk": cards["d21"].pk}) not in page
    assert "E-mailadres ontbreekt" in page


def test_it_filters_the_error_list_by_rule_and_department(cards, login, federation):
    client = login(federation.province_la)
    by_rule = client.get(reverse("quality_problem_list"), {"rule": "missing_birth_date"})
    assert [p.relation_id for p in by_rule.context["page"]] == [cards["d12"].pk]
    by_department = client.get(reverse("quality_problem_list"), {"department": federation.department11.pk})
    assert [p.relation_id for p in by_department.context["page"]] == [cards["d11"].pk]


def test_it_ignores_a_department_outside_the_environment_and_says_so(cards, login, federation):
    response = login(federation.province_la).get(
        reverse("quality_problem_list"), {"department": federation.department21.pk, "rule": "nonsense"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"department", "rule"}
    assert response.context["page"].paginator.count == 3


def test_it_shows_the_error_list_in_few_queries(cards, login, federation, django_assert_max_num_queries):
    for n in range(10):
        make_relation(federation.department11, last_name=f"Extra {n}", email="", **COMPLETE)
    quality.checks_run(TODAY)
    client = login(federation.national_la)
    client.get(reverse("quality_problem_list"))
    with django_assert_max_num_queries(12):
        assert client.get(reverse("quality_problem_list")).status_code == 200


def test_it_exports_the_filtered_error_list(cards, login, federation):
    response = login(federation.province_la).get(
        reverse("quality_problem_export", kwargs={"fmt": "csv"}), {"rule": "missing_email"}
    )
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = text.strip().split("\r\n")
    assert lines[0].startswith("Relatienummer;Naam;")
    assert sorted(line.split(";")[0] for line in lines[1:]) == sorted(
        [str(cards["d11"].number), str(cards["d12"].number)]
    )
    xlsx = login(federation.province_la).get(reverse("quality_problem_export", kwargs={"fmt": "xlsx"}))
    assert xlsx.status_code == 200 and xlsx["Content-Disposition"].startswith("attachment")


def test_it_closes_the_problem_when_the_card_is_fixed_in_the_form(cards, login, federation):
    relation = cards["d11"]
    client = login(federation.province_la)
    form = client.get(reverse("relation_edit", kwargs={"pk": relation.pk})).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update({"email": "elf@example.org", "kind": "person"})
    response = client.post(reverse("relation_edit", kwargs={"pk": relation.pk}), data)
    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    problem = DataProblem.objects.get(relation=relation, rule="missing_email")
    assert (problem.closed_on, problem.closed_by) == (TODAY, DataProblem.ClosedBy.SAVE)
    page = client.get(reverse("quality_problem_list")).content.decode()
    assert reverse("relation_detail", kwargs={"pk": relation.pk}) not in page


# --- recipients ----------------------------------------------------------------------------------


def test_it_adds_an_address_to_the_environments_recipients(login, federation):
    client = login(federation.province_la)
    response = client.post(reverse("quality_recipient_list"), {"email": " Leden@Provincie.example.org ", "active": "on"})
    assert response.status_code == 302
    recipient = ErrorReportRecipient.objects.get()
    assert (recipient.tenant, recipient.email, recipient.active) == (
        federation.province1, "Leden@Provincie.example.org", True
    )


@pytest.mark.parametrize("email", ["leden@", "geen adres", "a@b", "leden@provincie..nl", "x" * 300 + "@example.org"])
def test_it_refuses_a_malformed_address_at_the_field(login, federation, email):
    response = login(federation.province_la).post(reverse("quality_recipient_list"), {"email": email, "active": "on"})
    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    if len(email) < 254:
        assert response.context["form"].errors["email"] == ["Voer een geldig e-mailadres in."]
    assert not ErrorReportRecipient.objects.exists()


def test_it_refuses_an_address_the_environment_already_has(login, federation):
    ErrorReportRecipient.objects.create(tenant=federation.province1, email="leden@example.org")
    response = login(federation.province_la).post(reverse("quality_recipient_list"), {"email": "LEDEN@example.org"})
    assert response.status_code == 200
    assert response.context["form"].errors["email"] == [
        "Deze omgeving stuurt haar foutmeldingen al naar dit adres."
    ]
    assert ErrorReportRecipient.objects.count() == 1


def test_it_switches_a_recipient_off_and_on_and_removes_it(login, federation):
    recipient = ErrorReportRecipient.objects.create(tenant=federation.province1, email="leden@example.org")
    client = login(federation.province_la)
    client.post(reverse("quality_recipient_toggle", kwargs={"pk": recipient.pk}))
    recipient.refresh_from_db()
    assert not recipient.active
    client.post(reverse("quality_recipient_toggle", kwargs={"pk": recipient.pk}))
    recipient.refresh_from_db()
    assert recipient.active
    client.post(reverse("quality_recipient_delete", kwargs={"pk": recipient.pk}))
    assert not ErrorReportRecipient.objects.exists()


def test_it_shows_every_environments_recipients_to_national(login, federation):
    for key in ("province1", "province2", "department21"):
        ErrorReportRecipient.objects.create(tenant=federation.tenants[key], email=f"{key}@example.org")
    national = login(federation.national_la).get(reverse("quality_recipient_overview")).content.decode()
    for key in ("province1", "province2", "department21"):
        assert f"{key}@example.org" in national
    province = login(federation.province_la).get(reverse("quality_recipient_overview")).content.decode()
    assert "province1@example.org" in province
    assert "province2@example.org" not in province and "department21@example.org" not in province


# --- the national choice of rules ----------------------------------------------------------------


def test_it_lets_national_switch_rules_on_and_off(cards, login, federation):
    client = login(federation.national_sb)
    page = client.get(reverse("quality_rule_list"))
    assert page.status_code == 200
    assert len(page.context["field_rules"]) + len(page.context["other_rules"]) == len(quality.RULES)
    keep = [rule.code for rule in quality.active_rules() if rule.code != "missing_email"] + ["missing_phone"]
    response = client.post(reverse("quality_rule_list"), {"active": keep})
    assert response.status_code == 302
    assert dict(QualityRuleSetting.objects.values_list("code", "active"))["missing_email"] is False
    assert not DataProblem.objects.filter(rule="missing_email", closed_on__isnull=True).exists()
    assert {rule.code for rule in quality.active_rules()} == set(keep)
    # Nothing dropped from the cards themselves.
    assert Relation.objects.filter(email="").count() == 3


def test_it_shows_the_recipient_pages_and_the_rules_in_few_queries(cards, login, federation,
                                                                   django_assert_max_num_queries):
    for key in ("national", "province1", "province2", "department11", "department21"):
        ErrorReportRecipient.objects.create(tenant=federation.tenants[key], email=f"{key}@example.org")
    client = login(federation.national_sb)
    for name in ("quality_recipient_overview", "quality_recipient_list", "quality_rule_list"):
        client.get(reverse(name))
        with django_assert_max_num_queries(12):
            assert client.get(reverse(name)).status_code == 200, name


def test_it_shows_the_open_problems_on_the_card(cards, login, federation):
    client = login(federation.province_la)
    page = client.get(reverse("relation_detail", kwargs={"pk": cards["d12"].pk})).content.decode()
    assert 'data-testid="data-problems"' in page
    assert "E-mailadres ontbreekt" in page and "Geboortedatum ontbreekt" in page
    relation = cards["d11"]
    DataProblem.objects.filter(relation=relation).update(closed_on=TODAY, closed_by="check")
    page = client.get(reverse("relation_detail", kwargs={"pk": relation.pk})).content.decode()
    assert 'data-testid="data-problems"' not in page
