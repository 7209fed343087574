"""Correcting the dates of a function (issue 16, point 10): the rules of starting and ending it,
the role it gives follows, and the card's history shows old → new."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from memberships import services
from memberships.models import Function
from relations.views.card import relation_history_events
from tenants.models import RoleAssignment

from ..factories import give_function, make_relation

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()
YESTERDAY = TODAY - datetime.timedelta(days=1)
TOMORROW = TODAY + datetime.timedelta(days=1)
LONG_AGO = TODAY - datetime.timedelta(days=300)


def membership(relation) -> Function:
    return Function.objects.get(relation=relation, function_type__code="department_member")


def test_it_corrects_a_wrong_start_date_and_keeps_it_in_the_history(federation):
    relation = make_relation(federation.department11)
    function = membership(relation)
    old_start = function.start_date

    services.function_dates_correct(actor=federation.province_sb, function=function, start_date=LONG_AGO, end_date=None)

    function.refresh_from_db()
    assert function.start_date == LONG_AGO
    changes = [
        (change.old, change.new)
        for event in relation_history_events(relation) for change in event.changes
        if str(change.field) in ("Startdatum", "Start date")
    ]
    assert (old_start, LONG_AGO) in changes


def test_it_refuses_an_end_date_in_the_past(federation):
    function = membership(make_relation(federation.department11))

    with pytest.raises(ValidationError) as excinfo:
        services.function_dates_correct(
            actor=federation.province_sb, function=function, start_date=function.start_date, end_date=YESTERDAY,
        )

    assert set(excinfo.value.message_dict) == {"end_date"}
    function.refresh_from_db()
    assert function.end_date is None


def test_it_refuses_an_end_date_before_the_start_date(federation):
    function = membership(make_relation(federation.department11))

    with pytest.raises(ValidationError):
        services.function_dates_correct(
            actor=federation.province_sb, function=function, start_date=TOMORROW + datetime.timedelta(days=5),
            end_date=TOMORROW,
        )


def test_it_refuses_dates_that_overlap_the_same_function_in_the_same_environment(federation):
    relation = make_relation(federation.department11)
    first = membership(relation)
    services.function_end(actor=federation.province_sb, function=first, end_date=TOMORROW)
    later = give_function(relation, federation.department11, "department_member", start_date=TOMORROW)

    with pytest.raises(ValidationError) as excinfo:
        services.function_dates_correct(
            actor=federation.province_sb, function=later, start_date=TODAY, end_date=None,
        )

    assert set(excinfo.value.message_dict) == {"start_date"}


def test_it_keeps_a_function_that_gives_access_from_starting_in_the_past(federation):
    relation = make_relation(federation.department11, email="femke@example.org")
    board = give_function(relation, federation.department11, "department_member_administration", start_date=TOMORROW)

    with pytest.raises(ValidationError) as excinfo:
        services.function_dates_correct(actor=federation.province_sb, function=board, start_date=YESTERDAY, end_date=None)
    assert set(excinfo.value.message_dict) == {"start_date"}

    services.function_dates_correct(
        actor=federation.province_sb, function=board, start_date=TODAY, end_date=TOMORROW + datetime.timedelta(days=30),
    )
    assignment = RoleAssignment.objects.get(pk=board.role_assignment_id)
    assert (assignment.start_date, assignment.end_date) == (TODAY, TOMORROW + datetime.timedelta(days=30))


def test_it_ends_the_other_functions_when_a_membership_gets_an_end_date(federation):
    relation = make_relation(federation.department11)
    chair = give_function(relation, federation.department11, "department_chair")
    function = membership(relation)
    end = TODAY + datetime.timedelta(days=10)

    services.function_dates_correct(actor=federation.province_sb, function=function, start_date=function.start_date, end_date=end)

    function.refresh_from_db()
    chair.refresh_from_db()
    assert (function.end_date, chair.end_date) == (end, end)


def test_it_corrects_the_dates_through_the_functions_tab(federation, login):
    relation = make_relation(federation.department11)
    function = membership(relation)
    client = login(federation.province_sb)
    url = reverse("function_dates", kwargs={"pk": relation.pk, "function_pk": function.pk})

    page = client.get(url)
    assert page.status_code == 200
    assert function.start_date.strftime("%d-%m-%Y") in page.content.decode()

    wrong = client.post(url, {"start_date": "31-02-2020", "end_date": ""})
    assert wrong.status_code == 200
    assert wrong.context["form"].errors["start_date"]

    done = client.post(url, {"start_date": LONG_AGO.strftime("%d-%m-%Y"), "end_date": ""})
    assert done.status_code == 302
    function.refresh_from_db()
    assert function.start_date == LONG_AGO
