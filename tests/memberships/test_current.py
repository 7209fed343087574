"""The one definition of "current" (docs/definitions.md, `tenants.periods`) at its boundary days:
a function holds from its start date up to, not including, its end date. Every reader — the
function queryset, the relation search's "member on", the ledenmodule's member lists, the wizards'
"member on date" and role grants — gives the same answer on the same day."""

from __future__ import annotations

import datetime

import pytest

from ledenmodule.services import department_members
from memberships import services
from memberships.models import Function, FunctionType
from relations.models import Relation
from tenants.models import RoleAssignment
from tenants.periods import has_ended, is_held_on

from ..factories import make_relation

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()
YESTERDAY = TODAY - datetime.timedelta(days=1)
TOMORROW = TODAY + datetime.timedelta(days=1)


def test_it_holds_from_the_start_date_up_to_but_not_on_the_end_date():
    start, end = TODAY, TODAY + datetime.timedelta(days=3)

    assert [is_held_on(start, end, start + datetime.timedelta(days=n)) for n in range(-1, 5)] == [
        False, True, True, True, False, False,
    ]
    assert is_held_on(start, None, TOMORROW)
    assert not has_ended(end, end - datetime.timedelta(days=1))
    assert has_ended(end, end)


def test_it_no_longer_counts_a_membership_that_ends_today(federation):
    relation = make_relation(federation.department11)
    membership = Function.objects.get(relation=relation)
    services.function_end(actor=federation.province_sb, function=membership, end_date=TODAY)

    assert not Function.objects.active_on(TODAY).filter(pk=membership.pk).exists()
    assert Function.objects.active_on(YESTERDAY).filter(pk=membership.pk).exists()
    assert not Function.objects.current().filter(pk=membership.pk).exists()
    assert Function.objects.ended_by(TODAY).filter(pk=membership.pk).exists()
    assert not Relation.objects.members_on(TODAY).filter(pk=relation.pk).exists()
    assert Relation.objects.members_on(YESTERDAY).filter(pk=relation.pk).exists()
    members = department_members(Relation.objects.all(), federation.department11)
    former = department_members(Relation.objects.all(), federation.department11, former=True)
    assert relation not in members
    assert list(former.values_list("pk", "member_until")) == [(relation.pk, TODAY)]


def test_it_counts_a_membership_ending_tomorrow_today(federation):
    relation = make_relation(federation.department11)
    membership = Function.objects.get(relation=relation)
    services.function_end(actor=federation.province_sb, function=membership, end_date=TOMORROW)

    assert Relation.objects.members_on(TODAY).filter(pk=relation.pk).exists()
    assert not Relation.objects.members_on(TOMORROW).filter(pk=relation.pk).exists()
    assert relation in department_members(Relation.objects.all(), federation.department11)


def test_it_counts_a_transferred_member_once_on_the_transfer_day(federation):
    relation = make_relation(federation.department11)
    old = Function.objects.get(relation=relation)
    new = services.member_transfer(
        actor=federation.province_sb, function=old, to_department=federation.department12, date=TOMORROW
    )

    held_tomorrow = Function.objects.memberships().active_on(TOMORROW).filter(relation=relation)
    assert list(held_tomorrow) == [new]
    assert list(Function.objects.memberships().active_on(TODAY).filter(relation=relation)) == [old]
    everyone = Relation.objects.all()
    assert relation in department_members(everyone, federation.department11)
    assert relation not in department_members(everyone, federation.department11, day=TOMORROW)
    assert relation in department_members(everyone, federation.department12, day=TOMORROW)
    assert Relation.objects.members_on(TOMORROW, federation.department11).count() == 0


def test_it_lets_a_new_function_start_on_the_end_date_of_the_previous_one(federation):
    relation = make_relation(federation.department11)
    membership = Function.objects.get(relation=relation)
    services.function_end(actor=federation.province_sb, function=membership, end_date=TOMORROW)

    again = services.function_start(
        actor=federation.province_sb, relation=relation, function_type=membership.function_type,
        tenant=federation.department11, start_date=TOMORROW,
    )

    assert again.start_date == TOMORROW


def test_it_ends_the_role_of_a_function_on_the_same_first_day_without_it(federation):
    relation = make_relation(federation.department11, email="femke@example.org")
    function = services.function_start(
        actor=federation.province_sb, relation=relation,
        function_type=FunctionType.objects.get(code="department_member_administration"),
        tenant=federation.department11, start_date=TODAY,
    )
    services.function_end(actor=federation.province_sb, function=function, end_date=TOMORROW)

    assignment = RoleAssignment.objects.get(pk=function.role_assignment_id)
    assert assignment.end_date == TOMORROW
    assert RoleAssignment.objects.active_on(TODAY).filter(pk=assignment.pk).exists()
    assert not RoleAssignment.objects.active_on(TOMORROW).filter(pk=assignment.pk).exists()
