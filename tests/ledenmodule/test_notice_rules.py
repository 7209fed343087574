"""End-of-membership notice rules (wish list 001): configured by the federation, applied by the
service that ends memberships."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from memberships import services
from memberships.models import Function, NoticeRule
from tests.factories import give_function, make_relation

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()


def winter_rule(federation, **overrides) -> NoticeRule:
    """Cancellations received between 1 November and 1 January end on 1 January."""
    data = {
        "tenant": federation.national, "name": "Opzegtermijn", "received_from_month": 11, "received_from_day": 1,
        "received_until_month": 1, "received_until_day": 1, "ends_on_month": 1, "ends_on_day": 1,
    }
    data.update(overrides)
    return NoticeRule.objects.create(**data)


@pytest.mark.parametrize(
    ("received", "requested", "expected"),
    [
        # Received in November or December: 1 January of the next year.
        (datetime.date(2026, 11, 1), datetime.date(2026, 11, 1), datetime.date(2027, 1, 1)),
        (datetime.date(2026, 12, 31), datetime.date(2026, 12, 31), datetime.date(2027, 1, 1)),
        # On 1 January itself: that day.
        (datetime.date(2027, 1, 1), datetime.date(2027, 1, 1), datetime.date(2027, 1, 1)),
        # Outside the window: the date asked for.
        (datetime.date(2026, 10, 31), datetime.date(2026, 10, 31), datetime.date(2026, 10, 31)),
        (datetime.date(2027, 1, 2), datetime.date(2027, 1, 2), datetime.date(2027, 1, 2)),
        # A later date than the rule's stays.
        (datetime.date(2026, 11, 15), datetime.date(2027, 3, 1), datetime.date(2027, 3, 1)),
    ],
)
def test_it_moves_the_end_date_by_the_rule(federation, received, requested, expected):
    winter_rule(federation)

    got = services.notice_end_date(tenant=federation.department11, received=received, requested=requested)

    assert got == expected


def test_it_ignores_an_inactive_rule_and_one_of_another_federation(federation):
    winter_rule(federation, active=False)
    november = datetime.date(2026, 11, 10)

    assert services.notice_end_date(tenant=federation.department11, received=november, requested=november) == november


def test_it_handles_a_window_within_one_year(federation):
    winter_rule(federation, received_from_month=6, received_from_day=1, received_until_month=6,
                received_until_day=30, ends_on_month=9, ends_on_day=1)

    june = datetime.date(2026, 6, 15)
    assert services.notice_end_date(tenant=federation.department11, received=june, requested=june) == datetime.date(2026, 9, 1)
    july = datetime.date(2026, 7, 1)
    assert services.notice_end_date(tenant=federation.department11, received=july, requested=july) == july


def test_it_applies_the_rule_when_a_membership_ends(federation):
    # A window around today, so the service's "received today" falls inside it.
    later = TODAY + datetime.timedelta(days=40)
    winter_rule(federation, received_from_month=TODAY.month, received_from_day=TODAY.day,
                received_until_month=TODAY.month, received_until_day=TODAY.day,
                ends_on_month=later.month, ends_on_day=later.day)
    relation = make_relation(federation.department11)
    chair = give_function(relation, federation.department11, "department_chair")
    membership = Function.objects.get(relation=relation, function_type__code="department_member")

    ended = services.function_end(actor=federation.department_la, function=membership, end_date=TODAY)

    assert {f.pk for f in ended} == {membership.pk, chair.pk}
    membership.refresh_from_db()
    chair.refresh_from_db()
    assert membership.end_date == later
    assert chair.end_date == later


def test_it_leaves_other_functions_than_memberships_alone(federation):
    later = TODAY + datetime.timedelta(days=40)
    winter_rule(federation, received_from_month=TODAY.month, received_from_day=TODAY.day,
                received_until_month=TODAY.month, received_until_day=TODAY.day,
                ends_on_month=later.month, ends_on_day=later.day)
    relation = make_relation(federation.department11)
    chair = give_function(relation, federation.department11, "department_chair")

    services.function_end(actor=federation.province_la, function=chair, end_date=TODAY)

    chair.refresh_from_db()
    assert chair.end_date == TODAY


# --- the national configuration screen ---------------------------------------------------------


def rule_data(**overrides) -> dict:
    data = {
        "name": "Opzegtermijn", "received_from_day": 1, "received_from_month": 11, "received_until_day": 1,
        "received_until_month": 1, "ends_on_day": 1, "ends_on_month": 1, "active": "on",
    }
    data.update(overrides)
    return data


def test_it_lets_the_federation_configure_a_rule(federation, login):
    client = login(federation.national_sb)

    response = client.post(reverse("notice_rule_create"), rule_data())

    assert response.status_code == 302
    rule = NoticeRule.objects.get()
    assert rule.tenant == federation.national
    assert rule.covers(datetime.date(2026, 12, 5))
    assert "Opzegtermijn" in client.get(reverse("notice_rule_list")).content.decode()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"received_from_day": 31, "received_from_month": 11}, "received_from_day"),
        ({"ends_on_month": 13}, "ends_on_month"),
        ({"received_until_day": 0}, "received_until_day"),
        ({"ends_on_day": "x"}, "ends_on_day"),
        ({"name": ""}, "name"),
    ],
)
def test_it_refuses_a_day_that_does_not_exist_at_the_field(federation, login, overrides, field):
    response = login(federation.national_sb).post(reverse("notice_rule_create"), rule_data(**overrides))

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not NoticeRule.objects.exists()
