"""Filter semantics of the wizard field catalogue: every mode, ranges inclusive at both ends,
"member on date X" across start and end dates, AND between fields and OR within one."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from memberships.models import Function, FunctionType
from tests.factories import give_function, make_relation, make_wizard
from wizards.catalogue import Filter
from wizards.runs import RunParameters, WizardRun

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 6, 15)


def _numbers(wizard, user, tenant, **params) -> set[int]:
    run = WizardRun(wizard, user=user, tenant=tenant, params=RunParameters(day=params.pop("day", DAY), **params))
    return set(run.matches().values_list("number", flat=True))


def _wizard(*filters):
    return make_wizard(None, {"field_key": "number"}, *filters)


@pytest.fixture
def people(federation):
    since = {"start_date": datetime.date(2020, 1, 1)}
    found = {
        "anna": make_relation(federation.department11, first_name="Anna", last_name="Bakker", city="Zwolle",
                              birth_date=datetime.date(2000, 6, 15), email="anna@example.org", house_number=3, **since),
        "bert": make_relation(federation.department11, first_name="Bert", last_name="de Vries", city="Deventer",
                              birth_date=datetime.date(2000, 6, 16), email="", house_number=10, **since),
        "carla": make_relation(federation.department12, first_name="Carla", last_name="Smit", city="Zwolle",
                               birth_date=datetime.date(1990, 1, 1), email="c@example.org", house_number=11, **since),
    }
    return found


def test_it_filters_a_single_value_case_insensitively(federation, people):
    wizard = _wizard({"field_key": "city", "mode": "single", "value": "zwolle"})
    assert _numbers(wizard, federation.national_sb, federation.national) == {people["anna"].number, people["carla"].number}


def test_it_filters_contains(federation, people):
    wizard = _wizard({"field_key": "last_name", "mode": "contains", "value": "VRIES"})
    assert _numbers(wizard, federation.national_sb, federation.national) == {people["bert"].number}


def test_it_ors_the_values_within_one_field_and_ands_between_fields(federation, people):
    one_of = {"field_key": "city", "mode": "one_of", "value": "Zwolle\nDeventer"}
    assert _numbers(_wizard(one_of), federation.national_sb, federation.national) == {
        p.number for p in people.values()
    }
    both = _wizard(one_of, {"field_key": "first_name", "mode": "single", "value": "Carla"})
    assert _numbers(both, federation.national_sb, federation.national) == {people["carla"].number}


def test_it_includes_both_ends_of_a_range(federation, people):
    wizard = _wizard({"field_key": "house_number", "mode": "range", "value": "3", "value_to": "10"})
    assert _numbers(wizard, federation.national_sb, federation.national) == {people["anna"].number, people["bert"].number}
    open_end = _wizard({"field_key": "house_number", "mode": "range", "value": "10", "value_to": ""})
    assert _numbers(open_end, federation.national_sb, federation.national) == {people["bert"].number, people["carla"].number}
    dates = _wizard({"field_key": "birth_date", "mode": "range", "value": "1990-01-01", "value_to": "2000-06-15"})
    assert _numbers(dates, federation.national_sb, federation.national) == {people["anna"].number, people["carla"].number}


def test_it_reckons_age_on_the_reference_date(federation, people):
    # On 15 June 2026 Anna turns 26 that very day; Bert is 25 until tomorrow.
    wizard = _wizard({"field_key": "age", "mode": "single", "value": "26"})
    assert _numbers(wizard, federation.national_sb, federation.national) == {people["anna"].number}
    ranged = _wizard({"field_key": "age", "mode": "range", "value": "25", "value_to": "26"})
    assert _numbers(ranged, federation.national_sb, federation.national) == {people["anna"].number, people["bert"].number}


def test_it_filters_yes_no_fields(federation, people):
    without = _wizard({"field_key": "has_email", "mode": "single", "value": "no"})
    assert _numbers(without, federation.national_sb, federation.national) == {people["bert"].number}
    with_email = _wizard({"field_key": "has_email", "mode": "single", "value": "yes"})
    assert _numbers(with_email, federation.national_sb, federation.national) == {
        people["anna"].number, people["carla"].number
    }


def test_it_finds_members_on_a_date_across_start_and_end_dates(federation):
    member = FunctionType.objects.get(code="department_member")
    relation = make_relation(federation.department11, last_name="Datum", start_date=datetime.date(2026, 3, 1))
    Function.objects.filter(relation=relation).update(end_date=datetime.date(2026, 3, 31))
    assert Function.objects.filter(relation=relation, function_type=member).count() == 1

    def member_on(day: str) -> bool:
        wizard = make_wizard(None, {"field_key": "number"}, {"field_key": "member_on", "mode": "single", "value": day},
                             include_inactive=True)
        return relation.number in _numbers(wizard, federation.national_sb, federation.national, include_inactive=True)

    assert not member_on("2026-02-28")
    assert member_on("2026-03-01")  # the start date counts
    assert member_on("2026-03-30")
    # The end date is the first day it no longer holds (docs/definitions.md).
    assert not member_on("2026-03-31")
    assert not member_on("2026-04-01")


def test_it_takes_the_reference_date_for_an_empty_member_on_date(federation):
    relation = make_relation(federation.department11, last_name="Peil", start_date=datetime.date(2026, 1, 1))
    wizard = make_wizard(None, {"field_key": "number"}, {"field_key": "member_on", "mode": "single"})
    user, tenant = federation.national_sb, federation.national
    assert relation.number in _numbers(wizard, user, tenant, day=datetime.date(2026, 1, 1), include_inactive=True)
    assert relation.number not in _numbers(wizard, user, tenant, day=datetime.date(2025, 12, 31), include_inactive=True)


def test_it_finds_membership_at_some_time_within_a_range(federation):
    relation = make_relation(federation.department11, last_name="Periode", start_date=datetime.date(2026, 3, 1))
    Function.objects.filter(relation=relation).update(end_date=datetime.date(2026, 3, 31))
    user, tenant = federation.national_sb, federation.national

    def held(low: str, high: str) -> bool:
        wizard = make_wizard(None, {"field_key": "number"},
                             {"field_key": "member_on", "mode": "range", "value": low, "value_to": high})
        return relation.number in _numbers(wizard, user, tenant, include_inactive=True)

    assert held("2026-03-30", "2026-05-01")
    assert not held("2026-03-31", "2026-05-01")  # the end date itself is not held
    assert held("2026-01-01", "2026-03-01")
    assert not held("2026-04-01", "2026-05-01")
    assert not held("2026-01-01", "2026-02-28")


def test_it_applies_all_function_filters_to_the_same_function(federation):
    # A board function in 1.1 that started in 2025 and a membership in 1.1 that started in 2026:
    # "board function starting in 2026" must not match by combining the two.
    relation = make_relation(federation.department11, last_name="Bestuur", start_date=datetime.date(2026, 2, 1))
    give_function(relation, federation.department11, "department_chair", start_date=datetime.date(2025, 2, 1))
    user, tenant = federation.national_sb, federation.national
    wizard = make_wizard(
        None, {"field_key": "number"},
        {"field_key": "function_category", "mode": "single", "value": "board"},
        {"field_key": "function_start", "mode": "range", "value": "2026-01-01", "value_to": "2026-12-31"},
    )
    assert _numbers(wizard, user, tenant) == set()
    wizard.fields.filter(field_key="function_start").update(value="2025-01-01", value_to="2025-12-31")
    assert _numbers(wizard, user, tenant) == {relation.number}


def test_it_finds_members_of_the_chosen_departments_only(federation, people):
    wizard = _wizard({"field_key": "department", "mode": "one_of", "value": str(federation.department12.pk)})
    assert _numbers(wizard, federation.national_sb, federation.national) == {people["carla"].number}


def test_it_leaves_inactive_relations_out_unless_asked(federation, people):
    Function.objects.filter(relation=people["bert"]).update(end_date=DAY - datetime.timedelta(days=1))
    wizard = _wizard()
    user, tenant = federation.national_sb, federation.national
    assert people["bert"].number not in _numbers(wizard, user, tenant)
    assert people["bert"].number in _numbers(wizard, user, tenant, include_inactive=True)


def test_it_refuses_values_a_field_cannot_hold(federation):
    from wizards.catalogue import catalogue_for

    catalogue = catalogue_for(federation.national, [])
    with pytest.raises(ValidationError):
        catalogue["birth_date"].parse("31-02-2026")
    with pytest.raises(ValidationError):
        catalogue["house_number"].parse("tien")
    with pytest.raises(ValidationError):
        catalogue["gender"].parse("giraffe")
    assert catalogue["birth_date"].parse("15-06-2026") == datetime.date(2026, 6, 15)
    assert Filter("single").is_empty


def test_it_runs_the_mutation_checks(federation):
    user, tenant = federation.national_sb, federation.national
    complete = make_relation(federation.department11, last_name="Compleet", birth_date=datetime.date(1999, 1, 1),
                             postcode="1234 AB", house_number=1)
    incomplete = make_relation(federation.department11, last_name="Onvolledig")
    board_only = make_relation(federation.department12, last_name="Alleen bestuur", function_code="department_chair")
    misplaced = make_relation(federation.department21, last_name="Verkeerd", birth_date=datetime.date(1999, 1, 1),
                              postcode="1234 AB", house_number=2)
    Function.objects.create(relation=misplaced, tenant=federation.province2, start_date=DAY,
                            function_type=FunctionType.objects.get(code="department_chair"))

    def check(code: str) -> set[int]:
        from wizards.models import Wizard

        return _numbers(Wizard.objects.get(code=code), user, tenant, day=datetime.date.today())

    assert check("check_incomplete_card") >= {incomplete.number, board_only.number}
    assert complete.number not in check("check_incomplete_card")
    assert check("check_no_department_membership") == {board_only.number}
    assert check("check_function_wrong_kind") == {misplaced.number}


def test_it_shows_the_checks_as_yes_no_columns(federation):
    user, tenant = federation.national_sb, federation.national
    board_only = make_relation(federation.department12, last_name="Alleen bestuur", function_code="department_chair")
    member = make_relation(federation.department11, last_name="Lid")
    wizard = make_wizard(None, {"field_key": "number"}, {"field_key": "has_department_membership"},
                         {"field_key": "function_in_wrong_kind"}, {"field_key": "magazine_shared"})
    run = WizardRun(wizard, user=user, tenant=tenant, params=RunParameters())
    cells = {r.number: [c.value(r) for c in run.columns] for r in run.rows()}
    assert cells[board_only.number][1:] == ["Nee", "Nee", "Nee"]
    assert cells[member.number][1] == "Ja"
