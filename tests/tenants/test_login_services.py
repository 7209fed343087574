"""Every write to logins and role assignments goes through tenants.services: each one is
audited and takes effect at once in the same process (no grants left cached on any user object)."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from tenants import services
from tenants.access import grants_for
from tenants.models import AuditEvent, Role, RoleAssignment, User

from ..factories import UserFactory, give_role

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()
YESTERDAY = TODAY - datetime.timedelta(days=1)
TOMORROW = TODAY + datetime.timedelta(days=1)


def audit_actions(user: User) -> list[str]:
    return list(AuditEvent.objects.filter(target_user=user).order_by("pk").values_list("action", flat=True))


def another_instance(user: User) -> User:
    """The same login loaded again, as a request running beside the change holds it, with its
    grants already cached."""
    other = User.objects.get(pk=user.pk)
    grants_for(other)
    return other


# --- logins ------------------------------------------------------------------------------------


def test_it_offers_a_free_username_after_the_taken_ones(federation):
    UserFactory(username="FVRIES")
    UserFactory(username="fvries2")

    assert services.username_free(base="FVRIES") == "FVRIES3"
    assert services.username_free(base="ABAKKER") == "ABAKKER"


def test_it_creates_a_login_without_a_link_when_the_caller_invites_itself(
    federation, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user = services.user_create(
            actor=federation.province_sb, tenant=federation.department11, username="FVRIES",
            email=" femke@example.org ", first_name="Femke", last_name="de Vries", send_link=False,
        )

    assert (user.email, user.has_usable_password()) == ("femke@example.org", False)
    assert mailoutbox == []
    assert audit_actions(user) == [AuditEvent.Action.USER_CREATED]


def test_it_changes_a_logins_email_address(federation):
    user = federation.department_la

    services.user_email_change(user=user, email=" nieuw@example.org ")

    user.refresh_from_db()
    assert user.email == "nieuw@example.org"


def test_it_refuses_an_email_address_another_login_uses(federation):
    user = federation.department_la

    with pytest.raises(ValidationError) as excinfo:
        services.user_email_change(user=user, email=federation.province_sb.email.upper())

    assert set(excinfo.value.message_dict) == {"email"}
    user.refresh_from_db()
    assert user.email == "department_la@example.org"


def test_it_refuses_an_email_address_that_is_not_one(federation):
    with pytest.raises(ValidationError) as excinfo:
        services.user_email_change(user=federation.department_la, email="geen-adres")

    assert set(excinfo.value.message_dict) == {"email"}


def test_it_renders_the_set_password_mail_with_the_link_it_is_given(federation):
    subject, body = services.set_password_mail(user=federation.department_la, url="[link]")

    assert subject
    assert "[link]" in body and "department_la" in body


# --- role assignments --------------------------------------------------------------------------


def test_it_gives_a_role_at_once_to_every_loaded_instance_of_the_login(federation):
    user = federation.outsider
    elsewhere = another_instance(user)
    assert not elsewhere.has_perm("relations.view_relation", federation.department11)

    services.role_assignment_create(
        actor=federation.province_sb, user=user, tenant=federation.department11,
        role=Role.objects.get(code="department_member_administrator"), start_date=TODAY,
    )

    assert elsewhere.has_perm("relations.view_relation", federation.department11)
    assert audit_actions(user) == [AuditEvent.Action.ROLE_GIVEN]


def test_it_takes_a_role_away_at_once_in_the_same_process(federation):
    user = federation.department_la
    elsewhere = another_instance(user)
    assignment = RoleAssignment.objects.get(user=user)

    services.role_assignment_end(actor=federation.province_sb, assignment=assignment)

    assert not user.has_perm("relations.view_relation", federation.department11)
    assert not elsewhere.has_perm("relations.view_relation", federation.department11)
    assert audit_actions(user) == [AuditEvent.Action.ROLE_ENDED]


def test_it_ends_a_role_on_a_given_date_and_never_before_it_starts(federation):
    user = federation.outsider
    later = give_role(user, federation.department11, "department_member_administrator", start_date=TOMORROW)
    running = RoleAssignment.objects.get(user=federation.department_la)

    services.role_assignment_end(actor=federation.province_sb, assignment=running, end_date=TODAY)
    services.role_assignment_end(actor=federation.province_sb, assignment=later, end_date=TODAY)

    running.refresh_from_db()
    later.refresh_from_db()
    assert running.end_date == TODAY
    assert (later.start_date, later.end_date) == (TOMORROW, TOMORROW)
    # An end date is the first day the role no longer holds (docs/definitions.md): ended today
    # it grants nothing today.
    assert not federation.department_la.has_perm("relations.view_relation", federation.department11)
    assert grants_for(federation.department_la, TODAY - datetime.timedelta(days=1)).grants
    assert not grants_for(federation.department_la, TOMORROW + datetime.timedelta(days=1)).grants
    assert audit_actions(federation.department_la) == [AuditEvent.Action.ROLE_ENDED]


def test_it_deletes_a_role_at_once_and_records_it(federation):
    user = federation.department_la
    elsewhere = another_instance(user)
    assignment = RoleAssignment.objects.get(user=user)

    services.role_assignment_delete(actor=federation.national_sb, assignment=assignment)

    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()
    assert not elsewhere.has_perm("relations.view_relation", federation.department11)
    [event] = AuditEvent.objects.filter(target_user=user)
    assert (event.action, event.actor, event.tenant) == (
        AuditEvent.Action.ROLE_ENDED, federation.national_sb, federation.department11,
    )


# --- looking along -----------------------------------------------------------------------------


def test_it_records_the_start_and_the_stop_of_looking_along(federation):
    target = federation.department_la

    services.look_along_started(actor=federation.national_sb, target=target, department=federation.department11)
    services.look_along_stopped(actor=federation.national_sb, target=target, department=None)

    events = AuditEvent.objects.filter(target_user=target).order_by("pk")
    assert [(e.action, e.tenant, e.detail) for e in events] == [
        (AuditEvent.Action.LOOK_ALONG_STARTED, federation.department11, "Afdeling 1.1"),
        (AuditEvent.Action.LOOK_ALONG_STOPPED, None, ""),
    ]
