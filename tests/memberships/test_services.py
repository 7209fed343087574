"""The rules of functions (SPEC R3–R6): start, end, delete, bulk end, roles granted by a function,
and transferring a member — each rule in the service and, where the database can hold it, in a
constraint."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from memberships import services
from memberships.models import CancellationReason, Function, FunctionType
from relations.models import Relation
from tenants.access import grants_for
from tenants.models import AuditEvent, RoleAssignment, User

from ..factories import UserFactory, give_function, make_relation

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()
YESTERDAY = TODAY - datetime.timedelta(days=1)
TOMORROW = TODAY + datetime.timedelta(days=1)


def function_type(code: str) -> FunctionType:
    return FunctionType.objects.get(code=code)


def membership_of(relation: Relation) -> Function:
    return Function.objects.get(relation=relation, function_type__code="department_member")


def error_fields(excinfo: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return set(excinfo.value.message_dict)


# --- one open function of a type per tenant ----------------------------------------------------


def test_it_refuses_a_second_open_function_of_the_same_type_in_the_same_tenant(federation):
    relation = make_relation(federation.department11)

    with pytest.raises(ValidationError) as excinfo:
        give_function(relation, federation.department11, "department_member", start_date=TODAY)

    assert error_fields(excinfo) == {"function_type"}
    assert Function.objects.filter(relation=relation).count() == 1


def test_it_refuses_a_dated_function_that_overlaps_an_open_one(federation):
    relation = make_relation(federation.department11)

    with pytest.raises(ValidationError) as excinfo:
        give_function(
            relation, federation.department11, "department_member",
            start_date=TOMORROW, end_date=TOMORROW + datetime.timedelta(days=10),
        )

    assert error_fields(excinfo) == {"function_type"}
    assert Function.objects.filter(relation=relation).count() == 1


def test_it_allows_the_same_function_type_in_another_tenant(federation):
    relation = make_relation(federation.department11)

    give_function(relation, federation.department12, "department_member")

    assert Function.objects.filter(relation=relation, end_date__isnull=True).count() == 2


def test_it_allows_the_same_function_again_after_the_earlier_one_ended(federation):
    relation = make_relation(federation.department11)
    services.function_end(actor=federation.national_la, function=membership_of(relation), end_date=TODAY)

    give_function(relation, federation.department11, "department_member", start_date=TOMORROW)

    assert Function.objects.filter(relation=relation, function_type__code="department_member").count() == 2


def test_it_has_the_database_refuse_a_second_open_function_of_the_same_type(federation):
    relation = make_relation(federation.department11)

    with pytest.raises(IntegrityError), transaction.atomic():
        Function.objects.create(
            relation=relation, function_type=function_type("department_member"),
            tenant=federation.department11, start_date=TODAY,
        )

    assert Function.objects.filter(relation=relation).count() == 1


def test_it_refuses_a_function_in_a_tenant_of_the_wrong_kind(federation):
    relation = make_relation(federation.department11)

    with pytest.raises(ValidationError) as excinfo:
        give_function(relation, federation.province1, "department_chair")

    assert error_fields(excinfo) == {"tenant"}
    assert Function.objects.filter(relation=relation).count() == 1


# --- dates -------------------------------------------------------------------------------------


def test_it_refuses_an_end_date_before_the_start_date_when_starting(federation):
    relation = make_relation(federation.department11)

    with pytest.raises(ValidationError) as excinfo:
        give_function(
            relation, federation.department11, "department_chair",
            start_date=TODAY + datetime.timedelta(days=10), end_date=TOMORROW,
        )

    assert error_fields(excinfo) == {"end_date"}
    assert Function.objects.filter(relation=relation).count() == 1


def test_it_refuses_an_end_date_before_the_start_date_when_ending(federation):
    relation = make_relation(federation.department11)
    chair = give_function(relation, federation.department11, "department_chair",
                          start_date=TODAY + datetime.timedelta(days=10))

    with pytest.raises(ValidationError) as excinfo:
        services.function_end(actor=federation.national_la, function=chair, end_date=TOMORROW)

    assert error_fields(excinfo) == {"end_date"}
    chair.refresh_from_db()
    assert chair.end_date is None


def test_it_has_the_database_refuse_an_end_date_before_the_start_date(federation):
    relation = make_relation(federation.department11)
    membership = membership_of(relation)

    with pytest.raises(IntegrityError), transaction.atomic():
        Function.objects.filter(pk=membership.pk).update(end_date=membership.start_date - datetime.timedelta(days=1))

    membership.refresh_from_db()
    assert membership.end_date is None


def test_it_refuses_to_end_a_function_yesterday(federation):
    relation = make_relation(federation.department11)
    membership = membership_of(relation)

    with pytest.raises(ValidationError) as excinfo:
        services.function_end(actor=federation.national_la, function=membership, end_date=YESTERDAY)

    assert error_fields(excinfo) == {"end_date"}
    membership.refresh_from_db()
    assert membership.end_date is None


def test_it_refuses_to_start_a_function_with_an_end_date_in_the_past(federation):
    relation = make_relation(federation.department11)

    with pytest.raises(ValidationError) as excinfo:
        give_function(relation, federation.department11, "department_chair",
                      start_date=TODAY - datetime.timedelta(days=20), end_date=YESTERDAY)

    assert error_fields(excinfo) == {"end_date"}
    assert Function.objects.filter(relation=relation).count() == 1


def test_it_ends_a_function_today(federation):
    relation = make_relation(federation.department11)
    chair = give_function(relation, federation.department11, "department_chair")

    ended = services.function_end(actor=federation.national_la, function=chair, end_date=TODAY)

    assert ended == [chair]
    chair.refresh_from_db()
    assert chair.end_date == TODAY
    # Ending a board function leaves the membership alone.
    assert membership_of(relation).end_date is None


def test_it_refuses_to_end_a_function_that_has_already_ended(federation):
    relation = make_relation(federation.department11)
    membership = membership_of(relation)
    Function.objects.filter(pk=membership.pk).update(end_date=YESTERDAY)

    with pytest.raises(ValidationError) as excinfo:
        services.function_end(actor=federation.national_la, function=membership, end_date=TOMORROW)

    assert error_fields(excinfo) == {"end_date"}
    membership.refresh_from_db()
    assert membership.end_date == YESTERDAY


# --- ending a membership -----------------------------------------------------------------------


def test_it_ends_every_function_of_the_relation_when_the_membership_ends(federation):
    relation = make_relation(federation.department11, email="bestuur@example.org")
    chair = give_function(relation, federation.department11, "department_chair")
    administration = give_function(relation, federation.department11, "department_member_administration")
    sponsor = give_function(relation, federation.province1, "sponsor")
    end_date = TODAY + datetime.timedelta(days=14)

    ended = services.function_end(
        actor=federation.national_la, function=membership_of(relation), end_date=end_date
    )

    assert len(ended) == 4
    assert set(Function.objects.filter(relation=relation).values_list("end_date", flat=True)) == {end_date}
    for function in (chair, administration, sponsor):
        function.refresh_from_db()
        assert function.end_date == end_date
    assignment = RoleAssignment.objects.get(pk=administration.role_assignment_id)
    assert assignment.end_date == end_date


def test_it_leaves_functions_that_end_earlier_alone_when_the_membership_ends(federation):
    relation = make_relation(federation.department11)
    chair = give_function(relation, federation.department11, "department_chair", end_date=TOMORROW)

    services.function_end(
        actor=federation.national_la, function=membership_of(relation),
        end_date=TODAY + datetime.timedelta(days=30),
    )

    chair.refresh_from_db()
    assert chair.end_date == TOMORROW


def test_it_keeps_the_cancellation_reason_and_note(federation):
    relation = make_relation(federation.department11)
    chair = give_function(relation, federation.department11, "department_chair")
    reason = CancellationReason.objects.get(name="Verhuisd")

    services.function_end(
        actor=federation.national_la, function=membership_of(relation), end_date=TODAY,
        reason=reason, note="Naar Groningen voor de studie",
    )

    for function in (membership_of(relation), chair):
        function.refresh_from_db()
        assert function.cancellation_reason == reason
        assert function.cancellation_note == "Naar Groningen voor de studie"


def test_it_records_the_actor_in_the_history_of_an_ended_function(federation):
    relation = make_relation(federation.department11)
    membership = membership_of(relation)

    services.function_end(actor=federation.province_la, function=membership, end_date=TODAY)

    latest = membership.history.latest()
    assert latest.end_date == TODAY
    assert latest.history_user == federation.province_la


def test_it_ends_several_memberships_at_once(federation):
    relations = [make_relation(federation.department11, last_name=f"Lid {n}") for n in range(3)]

    count = services.functions_bulk_end(
        actor=federation.national_la, functions=[membership_of(r) for r in relations], end_date=TODAY,
    )

    assert count == 3
    assert not Function.objects.filter(relation__in=relations, end_date__isnull=True).exists()


def test_it_ends_none_of_the_memberships_when_one_cannot_be_ended(federation):
    relations = [make_relation(federation.department11, last_name=f"Lid {n}") for n in range(3)]
    Function.objects.filter(pk=membership_of(relations[2]).pk).update(end_date=YESTERDAY)

    with pytest.raises(ValidationError):
        services.functions_bulk_end(
            actor=federation.national_la, functions=[membership_of(r) for r in relations], end_date=TODAY,
        )

    assert Function.objects.filter(relation__in=relations[:2], end_date__isnull=True).count() == 2


# --- deleting a row ----------------------------------------------------------------------------


def test_it_refuses_a_province_administrator_to_delete_a_function(federation):
    relation = make_relation(federation.department11)
    membership = membership_of(relation)

    with pytest.raises(PermissionDenied):
        services.function_delete(actor=federation.province_sb, function=membership)

    assert Function.objects.filter(pk=membership.pk).exists()


def test_it_refuses_a_national_member_administrator_to_delete_a_function(federation):
    relation = make_relation(federation.department11)
    membership = membership_of(relation)

    with pytest.raises(PermissionDenied):
        services.function_delete(actor=federation.national_la, function=membership)

    assert Function.objects.filter(pk=membership.pk).exists()


def test_it_lets_the_national_system_administrator_delete_a_function(federation):
    relation = make_relation(federation.department11)
    chair = give_function(relation, federation.department11, "department_chair")

    services.function_delete(actor=federation.national_sb, function=chair)

    assert not Function.objects.filter(pk=chair.pk).exists()
    assert Function.objects.filter(relation=relation).count() == 1


def test_it_deletes_the_role_assignment_of_a_deleted_role_granting_function(federation):
    relation = make_relation(federation.department11, email="secretaris@example.org")
    administration = give_function(relation, federation.department11, "department_member_administration")
    assignment_pk = administration.role_assignment_id

    services.function_delete(actor=federation.national_sb, function=administration)

    assert not Function.objects.filter(pk=administration.pk).exists()
    assert not RoleAssignment.objects.filter(pk=assignment_pk).exists()


# --- functions that grant a role ---------------------------------------------------------------


def test_it_makes_a_login_for_a_role_granting_function(
    federation, mailoutbox, django_capture_on_commit_callbacks
):
    relation = make_relation(federation.department11, first_name="Femke", infix="de", last_name="Vries",
                             email="Femke.deVries@example.org")

    with django_capture_on_commit_callbacks(execute=True):
        function = give_function(relation, federation.department11, "department_member_administration",
                                 actor=federation.province_sb)

    relation.refresh_from_db()
    user = User.objects.get(pk=relation.user_id)
    assert user.email == "Femke.deVries@example.org"
    assert not user.has_usable_password()
    assert user.tenant == federation.department11
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["Femke.deVries@example.org"]
    assignment = function.role_assignment
    assert assignment.user == user
    assert assignment.role.code == "department_member_administrator"
    assert assignment.tenant == federation.department11


def test_it_writes_the_invitation_on_the_card_without_its_link(
    federation, mailoutbox, django_capture_on_commit_callbacks
):
    relation = make_relation(federation.department11, first_name="Femke", email="femke@example.org")

    with django_capture_on_commit_callbacks(execute=True):
        give_function(relation, federation.department11, "department_member_administration",
                      actor=federation.province_sb)

    [mail] = mailoutbox
    link = next(line for line in mail.body.splitlines() if "://" in line).strip()
    [entry] = relation.communication.all()
    assert (entry.channel, entry.subject, entry.tenant) == ("email", mail.subject, federation.department11)
    assert link not in entry.body
    assert entry.body == mail.body.replace(link, "[persoonlijke link, niet bewaard]")


def test_it_sends_no_mail_before_the_transaction_commits(
    federation, mailoutbox, django_capture_on_commit_callbacks
):
    relation = make_relation(federation.department11, email="femke@example.org")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        give_function(relation, federation.department11, "department_member_administration")

    assert mailoutbox == []
    assert len(callbacks) == 1


def test_it_grants_the_role_from_the_start_to_the_end_of_the_function(federation):
    relation = make_relation(federation.department11, email="femke@example.org")
    end_date = TODAY + datetime.timedelta(days=60)

    function = give_function(relation, federation.department11, "department_member_administration",
                             start_date=TODAY, end_date=end_date)

    assignment = function.role_assignment
    assert (assignment.start_date, assignment.end_date) == (TODAY, end_date)
    user = User.objects.get(relation=relation)
    assert user.has_perm("relations.view_relation", federation.department11)
    assert user.has_perm("relations.change_relation", federation.department11)
    assert not user.has_perm("relations.view_relation", federation.department12)


def test_it_grants_nothing_today_for_a_function_starting_tomorrow(federation):
    relation = make_relation(federation.department11, email="femke@example.org")

    function = give_function(relation, federation.department11, "department_member_administration",
                             start_date=TOMORROW)

    assert function.role_assignment.start_date == TOMORROW
    user = User.objects.get(relation=relation)
    assert not user.has_perm("relations.view_relation", federation.department11)


def test_it_refuses_a_role_granting_function_without_an_email_address(federation):
    relation = make_relation(federation.department11, email="")
    users_before = User.objects.count()

    with pytest.raises(ValidationError) as excinfo:
        give_function(relation, federation.department11, "department_member_administration")

    assert error_fields(excinfo) == {"function_type"}
    assert User.objects.count() == users_before
    assert Function.objects.filter(relation=relation).count() == 1
    assert not RoleAssignment.objects.filter(function__relation=relation).exists()


def test_it_refuses_a_role_granting_function_when_another_relation_has_the_login(federation):
    first = make_relation(federation.department11, email="gedeeld@example.org", last_name="Eerste")
    give_function(first, federation.department11, "department_member_administration")
    second = make_relation(federation.department12, email="gedeeld@example.org", last_name="Tweede")

    with pytest.raises(ValidationError) as excinfo:
        give_function(second, federation.department12, "department_member_administration")

    assert error_fields(excinfo) == {"function_type"}
    second.refresh_from_db()
    assert second.user_id is None


def test_it_links_an_existing_login_with_the_cards_email(federation, mailoutbox,
                                                         django_capture_on_commit_callbacks):
    existing = UserFactory(email="bestaand@example.org", tenant=federation.department11)
    relation = make_relation(federation.department11, email="Bestaand@example.org")

    with django_capture_on_commit_callbacks(execute=True):
        give_function(relation, federation.department11, "department_member_administration")

    relation.refresh_from_db()
    assert relation.user_id == existing.pk
    # The login already has a password: no invitation.
    assert mailoutbox == []


def test_it_ends_the_role_assignment_with_the_function(federation):
    relation = make_relation(federation.department11, email="femke@example.org")
    function = give_function(relation, federation.department11, "department_member_administration")
    end_date = TODAY + datetime.timedelta(days=7)

    services.function_end(actor=federation.province_sb, function=function, end_date=end_date)

    assert RoleAssignment.objects.get(pk=function.role_assignment_id).end_date == end_date
    assert membership_of(relation).end_date is None


def test_it_refuses_a_role_granting_function_that_starts_in_the_past(federation):
    relation = make_relation(federation.department11, email="femke@example.org")

    with pytest.raises(ValidationError) as excinfo:
        give_function(relation, federation.department11, "department_member_administration", start_date=YESTERDAY)

    assert error_fields(excinfo) == {"start_date"}
    relation.refresh_from_db()
    assert relation.user_id is None


def test_it_lets_other_functions_start_in_the_past(federation):
    relation = make_relation(federation.department11)

    chair = give_function(relation, federation.department11, "department_chair", start_date=YESTERDAY)

    assert chair.start_date == YESTERDAY


def administration_login(federation, relation: Relation) -> tuple[Function, User]:
    """The function "Ledenadministratie afdeling" and its login, loaded as a request holding it
    would have it: with its grants already asked for."""
    function = give_function(relation, federation.department11, "department_member_administration",
                             actor=federation.province_sb)
    user = User.objects.get(relation=relation)
    assert user.has_perm("tenants.use_ledenmodule", federation.department11)
    return function, user


def test_it_ends_the_access_of_an_ended_administration_function_at_once(federation):
    relation = make_relation(federation.department11, email="femke@example.org")
    function, user = administration_login(federation, relation)

    cached = grants_for(user)

    services.function_end(actor=federation.province_sb, function=function, end_date=TODAY)

    # Nothing stays cached on the user object loaded before the change: its next question is
    # answered from the new end date. The end date is the first day the role no longer holds
    # (docs/definitions.md), so ended today it grants nothing today.
    assert grants_for(user) is not cached
    assert not user.has_perm("tenants.use_ledenmodule", federation.department11)
    assert not RoleAssignment.objects.active_on(TODAY).filter(user=user).exists()
    event = AuditEvent.objects.filter(target_user=user).latest("pk")
    assert (event.action, event.actor, event.tenant) == (
        AuditEvent.Action.ROLE_ENDED, federation.province_sb, federation.department11,
    )


def test_it_takes_access_away_at_once_when_an_administration_function_is_deleted(federation):
    relation = make_relation(federation.department11, email="femke@example.org")
    function, user = administration_login(federation, relation)

    services.function_delete(actor=federation.national_sb, function=function)

    assert not user.has_perm("tenants.use_ledenmodule", federation.department11)
    assert not user.has_perm("relations.view_relation", federation.department11)
    event = AuditEvent.objects.filter(target_user=user).latest("pk")
    assert (event.action, event.actor) == (AuditEvent.Action.ROLE_ENDED, federation.national_sb)


def test_it_removes_the_role_of_a_function_that_would_start_after_the_membership_ends(federation):
    relation = make_relation(federation.department11, email="femke@example.org")
    later = give_function(relation, federation.department11, "department_member_administration",
                          start_date=TODAY + datetime.timedelta(days=10))
    user = User.objects.get(relation=relation)

    services.function_end(actor=federation.province_sb, function=membership_of(relation), end_date=TODAY)

    assert not RoleAssignment.objects.filter(pk=later.role_assignment_id).exists()
    assert AuditEvent.objects.filter(target_user=user, action=AuditEvent.Action.ROLE_ENDED).exists()


def test_it_creates_the_login_through_the_tenants_service(federation):
    relation = make_relation(federation.department11, first_name="Femke", last_name="Vries", email="femke@example.org")
    UserFactory(username="FVRIES")

    give_function(relation, federation.department11, "department_member_administration", actor=federation.province_sb)

    user = User.objects.get(relation=relation)
    assert user.username == "FVRIES2"
    assert list(AuditEvent.objects.filter(target_user=user).order_by("pk").values_list("action", flat=True)) == [
        AuditEvent.Action.USER_CREATED, AuditEvent.Action.ROLE_GIVEN, AuditEvent.Action.INVITATION_SENT,
    ]


# --- transfer ----------------------------------------------------------------------------------


def transfer(actor, relation, to_department, date=TODAY):
    return services.member_transfer(actor=actor, function=membership_of(relation),
                                    to_department=to_department, date=date)


def test_it_lets_a_province_administrator_transfer_within_the_province(federation):
    relation = make_relation(federation.department11)
    old = membership_of(relation)

    new = transfer(federation.province_sb, relation, federation.department12)

    old.refresh_from_db()
    relation.refresh_from_db()
    assert old.end_date == TODAY
    assert (new.tenant, new.start_date, new.end_date) == (federation.department12, TODAY, None)
    assert new.function_type == old.function_type
    assert relation.tenant == federation.department12


def test_it_lets_a_province_member_administrator_transfer_within_the_province(federation):
    relation = make_relation(federation.department11)

    transfer(federation.province_la, relation, federation.department12)

    relation.refresh_from_db()
    assert relation.tenant == federation.department12


def test_it_transfers_on_a_future_date(federation):
    relation = make_relation(federation.department11)
    old = membership_of(relation)
    date = TODAY + datetime.timedelta(days=31)

    new = transfer(federation.province_sb, relation, federation.department12, date=date)

    old.refresh_from_db()
    assert old.end_date == date
    assert new.start_date == date


def test_it_lets_the_national_administrator_transfer_to_another_province(federation):
    relation = make_relation(federation.department11)

    new = transfer(federation.national_sb, relation, federation.department21)

    relation.refresh_from_db()
    assert new.tenant == federation.department21
    assert relation.tenant == federation.department21
    assert Function.objects.get(relation=relation, end_date__isnull=True) == new


def test_it_refuses_a_province_administrator_a_transfer_to_another_province(federation):
    relation = make_relation(federation.department11)

    with pytest.raises(ValidationError) as excinfo:
        transfer(federation.province_sb, relation, federation.department21)

    assert error_fields(excinfo) == {"to_department"}
    relation.refresh_from_db()
    assert relation.tenant == federation.department11
    assert Function.objects.get(relation=relation).end_date is None


def _guest_member_in_province1(federation) -> tuple[Relation, Function]:
    """Homed in department 2.1 (province 2), a board member in department 1.1, and given a
    membership there too by province 1: a guest of province 1."""
    relation = make_relation(federation.department21)
    give_function(relation, federation.department11, "department_board_member")
    guest_membership = services.function_start(
        actor=federation.province_sb, relation=relation, tenant=federation.department11,
        function_type=FunctionType.objects.get(code="department_member"), start_date=TODAY,
    )
    relation.refresh_from_db()
    assert relation.tenant == federation.department21  # adding a membership never moves the home
    return relation, guest_membership


@pytest.mark.parametrize("actor", ["province_sb", "province_la"])
def test_it_refuses_a_province_to_pull_a_guest_homed_elsewhere_into_it(actor, federation):
    relation, guest_membership = _guest_member_in_province1(federation)
    before = list(Function.objects.filter(relation=relation).order_by("pk").values_list("pk", "tenant_id", "end_date"))

    with pytest.raises(ValidationError) as excinfo:
        services.member_transfer(actor=federation.users[actor], function=guest_membership,
                                 to_department=federation.department12, date=TODAY)

    assert error_fields(excinfo) == {"to_department"}
    relation.refresh_from_db()
    assert relation.tenant == federation.department21
    assert list(Function.objects.filter(relation=relation).order_by("pk").values_list("pk", "tenant_id", "end_date")) == before


def test_it_lets_the_federation_move_a_guest_homed_elsewhere(federation):
    relation, guest_membership = _guest_member_in_province1(federation)

    new = services.member_transfer(actor=federation.national_sb, function=guest_membership,
                                   to_department=federation.department12, date=TODAY)

    relation.refresh_from_db()
    assert new.tenant == federation.department12 and relation.tenant == federation.department12


def test_it_refuses_a_department_administrator_a_transfer(federation):
    relation = make_relation(federation.department11)

    with pytest.raises(ValidationError) as excinfo:
        transfer(federation.department_la, relation, federation.department12)

    assert error_fields(excinfo) == {"to_department"}
    assert Function.objects.get(relation=relation).end_date is None


def test_it_refuses_a_transfer_to_the_same_department(federation):
    relation = make_relation(federation.department11)

    with pytest.raises(ValidationError) as excinfo:
        transfer(federation.province_sb, relation, federation.department11)

    assert error_fields(excinfo) == {"to_department"}
    assert Function.objects.get(relation=relation).end_date is None


def test_it_refuses_a_transfer_to_a_province(federation):
    relation = make_relation(federation.department11)

    with pytest.raises(ValidationError) as excinfo:
        transfer(federation.national_sb, relation, federation.province2)

    assert error_fields(excinfo) == {"to_department"}


def test_it_refuses_a_transfer_date_in_the_past(federation):
    relation = make_relation(federation.department11)

    with pytest.raises(ValidationError) as excinfo:
        transfer(federation.province_sb, relation, federation.department12, date=YESTERDAY)

    assert error_fields(excinfo) == {"date"}
    relation.refresh_from_db()
    assert relation.tenant == federation.department11
    assert Function.objects.get(relation=relation).end_date is None


def test_it_refuses_to_transfer_a_board_function(federation):
    relation = make_relation(federation.department11)
    chair = give_function(relation, federation.department11, "department_chair")

    with pytest.raises(ValidationError):
        services.member_transfer(actor=federation.national_sb, function=chair,
                                 to_department=federation.department12, date=TODAY)

    chair.refresh_from_db()
    assert chair.end_date is None


def test_it_refuses_to_transfer_a_membership_that_has_ended(federation):
    relation = make_relation(federation.department11)
    membership = membership_of(relation)
    Function.objects.filter(pk=membership.pk).update(end_date=YESTERDAY)

    with pytest.raises(ValidationError):
        transfer(federation.province_sb, relation, federation.department12)

    membership.refresh_from_db()
    assert membership.end_date == YESTERDAY


def test_it_leaves_no_function_running_after_the_membership_ended(federation):
    relation = make_relation(federation.department11, email="later@example.org")
    later = TODAY + datetime.timedelta(days=30)
    give_function(relation, federation.department11, "department_member_administration", start_date=later)

    services.function_end(actor=federation.national_la, function=membership_of(relation), end_date=TODAY)

    assert not Function.objects.filter(relation=relation).active_on(later).exists()
    assert not RoleAssignment.objects.active_on(later).filter(user__relation=relation).exists()
