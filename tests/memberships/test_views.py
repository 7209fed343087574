"""The card's "Functies" tab: list, add, end, delete and transfer through the screens."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from memberships.models import CancellationReason, Function, FunctionType
from relations.models import Relation
from tenants.models import Role, RoleAssignment, User
from tests.factories import UserFactory, give_function, give_role, make_relation

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()
YESTERDAY = TODAY - datetime.timedelta(days=1)


def function_type(code: str) -> FunctionType:
    return FunctionType.objects.get(code=code)


def membership_of(relation: Relation) -> Function:
    return Function.objects.get(relation=relation, function_type__counts_as_membership=True, end_date__isnull=True)


def make_reader(tenant):
    role = Role.objects.create(code="reader", name="Reader", tenant_kind=tenant.kind)
    role.permissions.set(Permission.objects.filter(
        codename__in=["view_relation", "view_function", "view_tenant"],
        content_type__app_label__in=["relations", "memberships", "tenants"],
    ))
    user = UserFactory(username="reader", tenant=tenant)
    give_role(user, tenant, "reader")
    return user


# --- the list ----------------------------------------------------------------------------------


def test_it_lists_current_functions_first_and_greys_out_past_ones(federation, login):
    relation = make_relation(federation.department11)
    past = Function.objects.create(
        relation=relation, function_type=function_type("department_chair"), tenant=federation.department11,
        start_date=TODAY - datetime.timedelta(days=50), end_date=TODAY - datetime.timedelta(days=10),
    )
    board = give_function(relation, federation.department11, "department_secretary")
    client = login(federation.province_sb)
    response = client.get(reverse("function_list", args=[relation.pk]))
    functions = response.context["functions"]
    assert functions == [board, membership_of(relation), past]
    assert [f.is_past for f in functions] == [False, False, True]
    content = response.content.decode()
    assert f'data-function="{past.pk}" class="function-past" data-past="true"' in content


def test_it_shows_end_and_transfer_but_not_delete_to_a_province_administrator(federation, login):
    relation = make_relation(federation.department11)
    client = login(federation.province_sb)
    content = client.get(reverse("function_list", args=[relation.pk])).content.decode()
    assert 'data-testid="function-end"' in content
    assert 'data-testid="function-transfer"' in content
    assert 'data-testid="function-delete"' not in content


def test_it_shows_delete_to_the_national_administrator(federation, login):
    relation = make_relation(federation.department11)
    client = login(federation.national_sb)
    content = client.get(reverse("function_list", args=[relation.pk])).content.decode()
    assert 'data-testid="function-delete"' in content


def test_it_shows_no_actions_to_a_reader(federation, login):
    relation = make_relation(federation.department11)
    client = login(make_reader(federation.province1))
    response = client.get(reverse("function_list", args=[relation.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    for testid in ("function-add", "function-end", "function-transfer", "function-delete"):
        assert f'data-testid="{testid}"' not in content


def test_it_refuses_every_function_action_to_a_reader(federation, login):
    relation = make_relation(federation.department11)
    membership = membership_of(relation)
    client = login(make_reader(federation.province1))
    for name, args in [("function_add", [relation.pk]), ("function_end", [relation.pk, membership.pk]),
                       ("member_transfer", [relation.pk, membership.pk]),
                       ("function_delete", [relation.pk, membership.pk])]:
        assert client.get(reverse(name, args=args)).status_code == 403
        assert client.post(reverse(name, args=args), {"end_date": TODAY.isoformat()}).status_code == 403
    membership.refresh_from_db()
    assert membership.end_date is None


def test_it_answers_404_for_a_function_of_another_relation(federation, login):
    relation = make_relation(federation.department11)
    other = make_relation(federation.department11, last_name="Ander")
    client = login(federation.province_sb)
    url = reverse("function_end", args=[relation.pk, membership_of(other).pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"end_date": TODAY.isoformat()}).status_code == 404
    assert membership_of(other).end_date is None


# --- adding ------------------------------------------------------------------------------------


def add(client, relation, code, tenant, **extra):
    data = {"function_type": function_type(code).pk, "tenant": tenant.pk, "start_date": TODAY.isoformat()}
    data.update(extra)
    return client.post(reverse("function_add", args=[relation.pk]), data)


def test_it_adds_a_function(federation, login):
    relation = make_relation(federation.department11)
    client = login(federation.province_sb)
    response = add(client, relation, "department_chair", federation.department11)
    assert response.status_code == 302
    chair = Function.objects.get(relation=relation, function_type__code="department_chair")
    assert (chair.tenant, chair.start_date, chair.end_date, chair.created_by) == (
        federation.department11, TODAY, None, federation.province_sb
    )


def test_it_refuses_a_second_open_function_of_the_same_type_in_the_same_tenant(federation, login):
    relation = make_relation(federation.department11)
    client = login(federation.province_sb)
    response = add(client, relation, "department_member", federation.department11)
    assert response.status_code == 200
    assert "function_type" in response.context["form"].errors
    assert Function.objects.filter(relation=relation).count() == 1


@pytest.mark.parametrize(
    ("code", "tenant_key", "extra", "field"),
    [
        ("department_chair", "province1", {}, "tenant"),
        ("department_chair", "department21", {}, "tenant"),
        ("department_chair", "department11", {"end_date": YESTERDAY.isoformat()}, "end_date"),
        ("department_chair", "department11", {"start_date": TODAY.isoformat(),
                                              "end_date": (TODAY + datetime.timedelta(days=1)).isoformat(),
                                              }, None),
        ("department_chair", "department11", {"start_date": (TODAY + datetime.timedelta(days=9)).isoformat(),
                                              "end_date": (TODAY + datetime.timedelta(days=2)).isoformat()},
         "end_date"),
        ("department_chair", "department11", {"start_date": ""}, "start_date"),
        # The rule lives in function_start; the form shows its refusal at the field.
        ("department_member_administration", "department11", {"start_date": YESTERDAY.isoformat()}, "start_date"),
    ],
)
def test_it_refuses_bad_function_input_at_the_field(federation, login, code, tenant_key, extra, field):
    relation = make_relation(federation.department11)
    client = login(federation.province_sb)
    response = add(client, relation, code, getattr(federation, tenant_key), **extra)
    if field is None:  # the control case: valid input is saved
        assert response.status_code == 302
        return
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Function.objects.filter(relation=relation).count() == 1


def test_it_makes_a_login_and_sends_an_invitation_for_a_role_granting_function(
    federation, login, django_capture_on_commit_callbacks, mailoutbox
):
    relation = make_relation(federation.department11, first_name="Anna", last_name="Bakker", email="anna@example.org")
    client = login(federation.province_sb)
    with django_capture_on_commit_callbacks(execute=True):
        response = add(client, relation, "department_member_administration", federation.department11)
    assert response.status_code == 302
    relation.refresh_from_db()
    user = User.objects.get(pk=relation.user_id)
    assert user.email == "anna@example.org"
    assert not user.has_usable_password()
    assignment = RoleAssignment.objects.get(user=user)
    assert (assignment.role.code, assignment.tenant, assignment.start_date) == (
        "department_member_administrator", federation.department11, TODAY
    )
    assert [m.to for m in mailoutbox] == [["anna@example.org"]]


def test_it_refuses_a_role_granting_function_without_an_email_address_at_the_field(federation, login, mailoutbox):
    relation = make_relation(federation.department11, email="")
    users_before = User.objects.count()
    client = login(federation.province_sb)
    response = add(client, relation, "department_member_administration", federation.department11)
    assert "function_type" in response.context["form"].errors
    assert User.objects.count() == users_before
    assert Function.objects.filter(relation=relation).count() == 1
    assert mailoutbox == []


# --- ending ------------------------------------------------------------------------------------


def test_it_offers_today_as_the_end_date_and_warns_that_a_membership_ends_everything(federation, login):
    relation = make_relation(federation.department11)
    give_function(relation, federation.department11, "department_chair")
    client = login(federation.province_sb)
    response = client.get(reverse("function_end", args=[relation.pk, membership_of(relation).pk]))
    assert response.context["form"]["end_date"].value() == TODAY
    assert len(response.context["others"]) == 1
    assert 'data-testid="membership-end-warning"' in response.content.decode()


def test_it_ends_a_membership_with_a_reason_and_ends_the_board_function_too(federation, login):
    relation = make_relation(federation.department11)
    chair = give_function(relation, federation.department11, "department_chair")
    membership = membership_of(relation)
    reason = CancellationReason.objects.get(name="Verhuisd")
    client = login(federation.province_sb)
    response = client.post(reverse("function_end", args=[relation.pk, membership.pk]), {
        "end_date": TODAY.isoformat(), "reason": reason.pk, "note": "Naar Groningen",
    })
    assert response.status_code == 302
    membership.refresh_from_db()
    chair.refresh_from_db()
    assert (membership.end_date, membership.cancellation_reason, membership.cancellation_note) == (
        TODAY, reason, "Naar Groningen"
    )
    assert (chair.end_date, chair.cancellation_reason) == (TODAY, reason)


def test_it_ends_a_board_function_alone(federation, login):
    relation = make_relation(federation.department11)
    chair = give_function(relation, federation.department11, "department_chair")
    client = login(federation.province_sb)
    response = client.post(reverse("function_end", args=[relation.pk, chair.pk]),
                           {"end_date": (TODAY + datetime.timedelta(days=5)).isoformat()})
    assert response.status_code == 302
    chair.refresh_from_db()
    assert chair.end_date == TODAY + datetime.timedelta(days=5)
    assert membership_of(relation).end_date is None


@pytest.mark.parametrize(("end_date", "field"), [(YESTERDAY.isoformat(), "end_date"), ("", "end_date"),
                                                 ("31-02-2025", "end_date")])
def test_it_refuses_a_bad_end_date_at_the_field(federation, login, end_date, field):
    relation = make_relation(federation.department11)
    membership = membership_of(relation)
    client = login(federation.province_sb)
    response = client.post(reverse("function_end", args=[relation.pk, membership.pk]), {"end_date": end_date})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    membership.refresh_from_db()
    assert membership.end_date is None


def test_it_refuses_to_end_before_the_function_started(federation, login):
    relation = make_relation(federation.department11)
    later = give_function(relation, federation.department11, "department_chair",
                          start_date=TODAY + datetime.timedelta(days=10))
    client = login(federation.province_sb)
    response = client.post(reverse("function_end", args=[relation.pk, later.pk]), {"end_date": TODAY.isoformat()})
    assert "end_date" in response.context["form"].errors
    later.refresh_from_db()
    assert later.end_date is None


# --- deleting ----------------------------------------------------------------------------------


def test_it_refuses_a_province_administrator_to_delete_a_function(federation, login):
    relation = make_relation(federation.department11)
    membership = membership_of(relation)
    client = login(federation.province_sb)
    url = reverse("function_delete", args=[relation.pk, membership.pk])
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    assert Function.objects.filter(pk=membership.pk).exists()


def test_it_lets_the_national_administrator_delete_a_function_after_confirming(federation, login):
    relation = make_relation(federation.department11)
    chair = give_function(relation, federation.department11, "department_chair")
    client = login(federation.national_sb)
    url = reverse("function_delete", args=[relation.pk, chair.pk])
    assert client.get(url).status_code == 200
    assert Function.objects.filter(pk=chair.pk).exists()
    response = client.post(url)
    assert response.status_code == 302
    assert not Function.objects.filter(pk=chair.pk).exists()


def test_it_refuses_a_national_member_administrator_to_delete(federation, login):
    relation = make_relation(federation.department11)
    membership = membership_of(relation)
    client = login(federation.national_la)
    assert client.post(reverse("function_delete", args=[relation.pk, membership.pk])).status_code == 403
    assert Function.objects.filter(pk=membership.pk).exists()


# --- transferring ------------------------------------------------------------------------------


def transfer(client, relation, to_department, date=TODAY):
    membership = membership_of(relation)
    return client.post(reverse("member_transfer", args=[relation.pk, membership.pk]),
                       {"to_department": to_department.pk, "date": date.isoformat()})


def test_it_offers_a_province_administrator_the_departments_of_the_province(federation, login):
    relation = make_relation(federation.department11)
    client = login(federation.province_sb)
    response = client.get(reverse("member_transfer", args=[relation.pk, membership_of(relation).pk]))
    assert set(response.context["form"].fields["to_department"].queryset) == {
        federation.department11, federation.department12
    }
    assert response.context["form"]["date"].value() == TODAY


def test_it_offers_the_national_administrator_every_department(federation, login):
    relation = make_relation(federation.department11)
    client = login(federation.national_sb)
    response = client.get(reverse("member_transfer", args=[relation.pk, membership_of(relation).pk]))
    assert set(response.context["form"].fields["to_department"].queryset) == {
        federation.department11, federation.department12, federation.department21, federation.department22
    }


def test_it_transfers_a_member_within_the_province(federation, login):
    relation = make_relation(federation.department11)
    old = membership_of(relation)
    client = login(federation.province_sb)
    response = transfer(client, relation, federation.department12)
    assert response.status_code == 302
    old.refresh_from_db()
    relation.refresh_from_db()
    new = Function.objects.get(relation=relation, tenant=federation.department12)
    assert old.end_date == TODAY
    assert (new.function_type, new.start_date, new.end_date) == (old.function_type, TODAY, None)
    assert relation.tenant == federation.department12


def test_it_refuses_a_province_administrator_a_transfer_to_another_province(federation, login):
    relation = make_relation(federation.department11)
    old = membership_of(relation)
    client = login(federation.province_sb)
    response = transfer(client, relation, federation.department21)
    assert response.status_code == 200
    assert "to_department" in response.context["form"].errors
    old.refresh_from_db()
    relation.refresh_from_db()
    assert old.end_date is None
    assert relation.tenant == federation.department11
    assert Function.objects.filter(relation=relation).count() == 1


def test_it_lets_the_national_administrator_transfer_to_another_province(federation, login):
    relation = make_relation(federation.department11)
    old = membership_of(relation)
    client = login(federation.national_sb)
    response = transfer(client, relation, federation.department21)
    assert response.status_code == 302
    old.refresh_from_db()
    relation.refresh_from_db()
    assert old.end_date == TODAY
    assert relation.tenant == federation.department21
    assert Function.objects.get(relation=relation, tenant=federation.department21).start_date == TODAY


def test_it_refuses_a_transfer_to_the_same_department_at_the_field(federation, login):
    relation = make_relation(federation.department11)
    client = login(federation.province_sb)
    response = transfer(client, relation, federation.department11)
    assert response.status_code == 200
    assert "to_department" in response.context["form"].errors
    assert membership_of(relation).end_date is None
    assert Function.objects.filter(relation=relation).count() == 1


def test_it_refuses_a_transfer_date_in_the_past_at_the_field(federation, login):
    relation = make_relation(federation.department11)
    client = login(federation.province_sb)
    response = transfer(client, relation, federation.department12, date=YESTERDAY)
    assert "date" in response.context["form"].errors
    relation.refresh_from_db()
    assert relation.tenant == federation.department11


def test_it_refuses_to_transfer_a_board_function(federation, login):
    relation = make_relation(federation.department11)
    chair = give_function(relation, federation.department11, "department_chair")
    client = login(federation.province_sb)
    response = client.post(reverse("member_transfer", args=[relation.pk, chair.pk]),
                           {"to_department": federation.department12.pk, "date": TODAY.isoformat()})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    chair.refresh_from_db()
    assert chair.end_date is None


def test_it_refuses_a_department_administrator_to_transfer(federation, login):
    relation = make_relation(federation.department11)
    client = login(federation.department_la)
    response = transfer(client, relation, federation.department12)
    assert response.status_code == 403
    assert membership_of(relation).tenant == federation.department11
