"""End dates entered before the one definition of "current" (memberships 0009, tenants 0005):
they move one day on, so a row keeps its meaning, and back again on the way down."""

from __future__ import annotations

import datetime

import pytest

from memberships.models import Function
from tenants.models import RoleAssignment
from tests.factories import make_relation

BEFORE = [("memberships", "0008_h_search_current_guests"), ("tenants", "0004_audit_actions_gdpr")]
AFTER = [("memberships", "0009_end_date_first_day_not_held"), ("tenants", "0005_end_date_first_day_not_held")]
LAST_DAY = datetime.date(2025, 12, 31)


@pytest.mark.django_db(transaction=True)
def test_it_moves_end_dates_one_day_on_and_back(federation, migrate_to):
    relation = make_relation(federation.department11)
    Function.objects.filter(relation=relation).update(start_date=datetime.date(2025, 1, 1), end_date=LAST_DAY)
    open_function = Function.objects.create(
        relation=relation, tenant=federation.department12,
        function_type=Function.objects.filter(relation=relation).first().function_type,
        start_date=datetime.date(2026, 1, 1),
    )
    role = RoleAssignment.objects.filter(user=federation.province_sb).first()
    RoleAssignment.objects.filter(pk=role.pk).update(start_date=datetime.date(2025, 1, 1), end_date=LAST_DAY)
    migrate_to(BEFORE)  # the way down: back to "the last day held"
    assert Function.objects.get(relation=relation, end_date__isnull=False).end_date == LAST_DAY - datetime.timedelta(days=1)
    assert RoleAssignment.objects.get(pk=role.pk).end_date == LAST_DAY - datetime.timedelta(days=1)
    migrate_to(AFTER)  # and up again: "the first day no longer held"
    assert Function.objects.get(relation=relation, end_date__isnull=False).end_date == LAST_DAY
    assert RoleAssignment.objects.get(pk=role.pk).end_date == LAST_DAY
    assert Function.objects.get(pk=open_function.pk).end_date is None
