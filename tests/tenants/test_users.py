"""User management: the list, creating users, blocking, giving and taking away roles."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from tenants import services
from tenants.access import forget_grants
from tenants.models import AuditEvent, Role, RoleAssignment, User

from ..conftest import PASSWORD
from ..factories import UserFactory, give_role

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()
YESTERDAY = TODAY - datetime.timedelta(days=1)
TOMORROW = TODAY + datetime.timedelta(days=1)
LONG_AGO = TODAY - datetime.timedelta(days=60)


def listed_usernames(response) -> set[str]:
    return {user.username for user in response.context["page"].object_list}


def can_log_in(username: str, password: str = PASSWORD) -> bool:
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": password})
    return response.status_code == 302 and "_auth_user_id" in client.session




def new_user_data(**overrides) -> dict:
    data = {
        "first_name": "Jan", "last_name": "de Vries", "email": "jan.devries@example.org",
        "username": "", "role": "", "start_date": TODAY.isoformat(),
    }
    data.update(overrides)
    return data


# --- the list ----------------------------------------------------------------------------------


def test_it_lists_users_of_the_environment_and_below(federation, login):
    response = login(federation.province_sb).get("/users/")

    assert response.status_code == 200
    names = listed_usernames(response)
    assert {"province_sb", "province_la", "department_la"} <= names
    assert not names & {"province2_sb", "department21_la", "national_sb", "national_la", "outsider"}


def test_it_lists_a_user_with_a_current_role_below_though_homed_elsewhere(federation, login):
    give_role(federation.outsider, federation.department12, "department_member_administrator")

    response = login(federation.province_sb).get("/users/")

    assert "outsider" in listed_usernames(response)


def test_it_lists_only_the_department_when_looking_along_there(federation, login):
    client = login(federation.province_sb)
    client.post("/environment/", {"tenant": federation.department12.pk})

    response = client.get("/users/")

    assert response.wsgi_request.tenant == federation.department12
    assert listed_usernames(response) == set()


def test_it_searches_users_by_name(federation, login):
    UserFactory(username="mvisser", first_name="Marieke", last_name="Visser", tenant=federation.department11)
    UserFactory(username="pvisser", first_name="Piet", last_name="Visser", tenant=federation.department21)

    client = login(federation.province_sb)
    by_surname = client.get("/users/", {"q": "visser"})
    by_first_name = client.get("/users/", {"q": "Marieke"})

    assert listed_usernames(by_surname) == {"mvisser"}
    assert listed_usernames(by_first_name) == {"mvisser"}


def test_it_answers_a_search_from_htmx_with_the_results_only(federation, login):
    response = login(federation.province_sb).get("/users/", {"q": "department"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert listed_usernames(response) == {"department_la"}
    assert b"<html" not in response.content


def test_it_forbids_the_list_to_a_member_administrator(federation, login):
    assert login(federation.province_la).get("/users/").status_code == 403


def test_it_forbids_the_list_to_a_user_without_any_role(federation, login):
    assert login(federation.outsider).get("/users/").status_code == 403


def test_it_sends_an_anonymous_visitor_to_the_login_page(federation, client):
    response = client.get("/users/")

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


# --- user details ------------------------------------------------------------------------------


def test_it_shows_a_user_below(federation, login):
    response = login(federation.province_sb).get(f"/users/{federation.department_la.pk}/")

    assert response.status_code == 200
    assert response.context["managed_user"] == federation.department_la


def test_it_hides_a_user_of_another_province(federation, login):
    response = login(federation.province_sb).get(f"/users/{federation.department21_la.pk}/")

    assert response.status_code == 404


def test_it_forbids_user_details_to_a_member_administrator(federation, login):
    response = login(federation.province_la).get(f"/users/{federation.department_la.pk}/")

    assert response.status_code == 403


# --- creating users ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first_name", "last_name", "expected"),
    [("Jan", "de Vries", "JDEVRIES"), ("anna", "Mulder", "AMULDER"), ("Kees", "van 't Hek", "KVANTHEK")],
)
def test_it_suggests_the_username_convention(first_name, last_name, expected):
    assert services.username_suggestion(first_name=first_name, last_name=last_name) == expected


def test_it_creates_a_user_with_the_conventional_username_when_none_is_given(
    federation, login, django_capture_on_commit_callbacks
):
    client = login(federation.province_sb)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/users/new/", new_user_data())

    user = User.objects.get(username="JDEVRIES")
    assert response.status_code == 302
    assert response.url == f"/users/{user.pk}/"
    assert user.tenant == federation.province1
    assert (user.first_name, user.last_name, user.email) == ("Jan", "de Vries", "jan.devries@example.org")
    assert not user.has_usable_password()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.USER_CREATED, target_user=user).exists()


def test_it_creates_a_user_with_the_username_given(federation, login, django_capture_on_commit_callbacks):
    client = login(federation.province_sb)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/users/new/", new_user_data(username="jan.v"))

    assert User.objects.filter(username="jan.v").exists()
    assert not User.objects.filter(username="JDEVRIES").exists()


def test_it_creates_a_user_with_a_role_in_the_current_environment(
    federation, login, django_capture_on_commit_callbacks
):
    role = Role.objects.get(code="province_member_administrator")
    client = login(federation.province_sb)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/users/new/", new_user_data(role=role.pk))

    user = User.objects.get(username="JDEVRIES")
    assignment = RoleAssignment.objects.get(user=user)
    assert (assignment.role, assignment.tenant, assignment.start_date) == (role, federation.province1, TODAY)


@pytest.mark.parametrize("email", ["department_la@example.org", "Department_LA@Example.ORG"])
def test_it_refuses_an_email_address_another_user_has(federation, login, email):
    before = User.objects.count()

    response = login(federation.province_sb).post("/users/new/", new_user_data(email=email))

    assert response.status_code == 200
    assert response.context["form"].errors
    assert User.objects.count() == before


@pytest.mark.parametrize("email", ["department_la@example.org", "Department_LA@Example.ORG"])
def test_it_refuses_an_email_address_another_user_has_at_the_field(federation, login, email):
    before = User.objects.count()

    response = login(federation.province_sb).post("/users/new/", new_user_data(email=email))

    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert User.objects.count() == before


@pytest.mark.parametrize("email", ["department_la@example.org", "Department_LA@Example.ORG"])
def test_it_refuses_a_duplicate_email_address_in_the_service_at_the_field(federation, email):
    with pytest.raises(ValidationError) as raised:
        services.user_create(
            actor=federation.province_sb, tenant=federation.province1, username="",
            email=email, first_name="Jan", last_name="de Vries",
        )

    assert "email" in raised.value.message_dict


def test_it_refuses_a_username_that_is_taken_at_the_field(federation, login):
    UserFactory(username="JDEVRIES", tenant=federation.department21)
    before = User.objects.count()

    response = login(federation.province_sb).post("/users/new/", new_user_data())

    assert response.status_code == 200
    assert "username" in response.context["form"].errors
    assert User.objects.count() == before


def test_it_refuses_an_invalid_email_address_at_the_field(federation, login):
    response = login(federation.province_sb).post("/users/new/", new_user_data(email="geen-adres"))

    assert "email" in response.context["form"].errors
    assert not User.objects.filter(username="JDEVRIES").exists()


def test_it_forbids_creating_users_to_a_member_administrator(federation, login):
    response = login(federation.province_la).post("/users/new/", new_user_data())

    assert response.status_code == 403
    assert not User.objects.filter(username="JDEVRIES").exists()


# --- blocking ----------------------------------------------------------------------------------


def test_it_blocks_a_user_who_then_cannot_log_in(federation, login):
    target = federation.department_la
    assert can_log_in("department_la")

    response = login(federation.province_sb).post(f"/users/{target.pk}/block/")

    assert response.status_code == 302
    target.refresh_from_db()
    assert not target.is_active
    assert not can_log_in("department_la")


def test_it_logs_a_blocked_user_out_of_a_running_session(federation, login):
    target_client = Client()
    target_client.force_login(federation.department_la)

    services.user_block(actor=federation.province_sb, user=federation.department_la)

    response = target_client.get("/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_it_refuses_to_let_administrators_block_themselves(federation, login):
    admin = federation.province_sb

    response = login(admin).post(f"/users/{admin.pk}/block/", follow=True)

    admin.refresh_from_db()
    assert admin.is_active
    assert [message.level_tag for message in response.context["messages"]] == ["error"]
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.USER_BLOCKED).exists()


def test_it_unblocks_a_blocked_user(federation, login):
    target = federation.department_la
    client = login(federation.province_sb)
    client.post(f"/users/{target.pk}/block/")

    response = client.post(f"/users/{target.pk}/unblock/")

    assert response.status_code == 302
    target.refresh_from_db()
    assert target.is_active
    assert can_log_in("department_la")


def test_it_hides_a_user_of_another_province_from_blocking(federation, login):
    target = federation.department_la

    response = login(federation.province2_sb).post(f"/users/{target.pk}/block/")

    assert response.status_code == 404
    target.refresh_from_db()
    assert target.is_active


def test_it_forbids_blocking_to_a_member_administrator(federation, login):
    target = federation.department_la

    response = login(federation.province_la).post(f"/users/{target.pk}/block/")

    assert response.status_code == 403
    target.refresh_from_db()
    assert target.is_active


@pytest.mark.parametrize("action", ["temporary-password", "block"])
def test_it_forbids_acting_on_a_user_who_holds_a_role_above_the_administrator(federation, login, action):
    target = UserFactory(username="dubbelrol", tenant=federation.province1)
    give_role(target, federation.national, "national_system_administrator")
    password = "tijdelijk-wachtwoord-42"

    response = login(federation.province_sb).post(
        f"/users/{target.pk}/{action}/", {"new_password1": password, "new_password2": password}
    )

    assert response.status_code == 403
    target.refresh_from_db()
    assert target.is_active
    assert not target.must_change_password
    assert target.check_password(PASSWORD)


def test_it_refuses_block_by_get(federation, login):
    response = login(federation.province_sb).get(f"/users/{federation.department_la.pk}/block/")

    assert response.status_code == 405


# --- giving a role (view) ----------------------------------------------------------------------


def role_data(federation, *, tenant_key="department11", role_code="department_member_administrator",
              start=TODAY, end=None) -> dict:
    return {
        "tenant": federation.tenants[tenant_key].pk,
        "role": Role.objects.get(code=role_code).pk,
        "start_date": start.isoformat(),
        "end_date": end.isoformat() if end else "",
    }


def test_it_gives_a_role_through_the_view(federation, login):
    target = federation.outsider
    give_role(target, federation.department12, "department_member_administrator")

    response = login(federation.province_sb).post(
        f"/users/{target.pk}/roles/new/", role_data(federation)
    )

    assert response.status_code == 302
    assert RoleAssignment.objects.filter(user=target, tenant=federation.department11).exists()
    forget_grants(target)
    assert target.has_perm("tenants.view_tenant", federation.department11)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"role_code": "province_system_administrator"}, "role"),
        ({"start": TODAY, "end": YESTERDAY}, "end_date"),
        ({"tenant_key": "department21"}, "tenant"),
        ({"tenant_key": "national", "role_code": "national_system_administrator"}, "tenant"),
    ],
    ids=["wrong-kind", "end-before-start", "other-province", "above-own"],
)
def test_it_refuses_bad_role_input_at_the_field_and_saves_nothing(federation, login, overrides, field):
    target = federation.department_la
    before = RoleAssignment.objects.count()

    response = login(federation.province_sb).post(
        f"/users/{target.pk}/roles/new/", role_data(federation, **overrides)
    )

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert RoleAssignment.objects.count() == before


def test_it_refuses_an_overlapping_duplicate_role_through_the_view(federation, login):
    target = federation.department_la
    before = RoleAssignment.objects.count()

    response = login(federation.province_sb).post(
        f"/users/{target.pk}/roles/new/", role_data(federation, start=TOMORROW)
    )

    assert response.status_code == 200
    assert "role" in response.context["form"].errors
    assert RoleAssignment.objects.count() == before


def test_it_hides_role_giving_for_a_user_of_another_province(federation, login):
    response = login(federation.province_sb).post(
        f"/users/{federation.department21_la.pk}/roles/new/", role_data(federation)
    )

    assert response.status_code == 404
    assert not RoleAssignment.objects.filter(user=federation.department21_la, tenant=federation.department11).exists()


def test_it_forbids_role_giving_to_a_member_administrator(federation, login):
    before = RoleAssignment.objects.count()

    response = login(federation.province_la).post(
        f"/users/{federation.outsider.pk}/roles/new/", role_data(federation)
    )

    assert response.status_code == 403
    assert RoleAssignment.objects.count() == before


# --- taking away one role (view) ---------------------------------------------------------------


@pytest.fixture
def two_roles(federation):
    """department_la holds a role in department 1.1 (from the fixture) and one in 1.2."""
    user = federation.department_la
    first = RoleAssignment.objects.get(user=user, tenant=federation.department11)
    second = give_role(user, federation.department12, "department_member_administrator", LONG_AGO)
    return user, first, second


def test_it_shows_the_one_role_to_be_taken_away(federation, login, two_roles):
    user, first, _second = two_roles

    response = login(federation.province_sb).get(f"/users/{user.pk}/roles/{first.pk}/end/")

    assert response.status_code == 200
    assert response.context["assignment"] == first
    first.refresh_from_db()
    assert first.end_date is None


def test_it_takes_away_exactly_one_role(federation, login, two_roles):
    user, first, second = two_roles

    response = login(federation.province_sb).post(f"/users/{user.pk}/roles/{first.pk}/end/")

    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.end_date == TODAY
    assert second.end_date is None
    fresh = User.objects.get(pk=user.pk)
    assert not fresh.has_perm("tenants.view_tenant", federation.department11)
    assert fresh.has_perm("tenants.view_tenant", federation.department12)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.ROLE_ENDED, target_user=user).count() == 1


def test_it_deletes_a_role_that_starts_today_when_taken_away(federation, login, two_roles):
    user, first, _second = two_roles
    RoleAssignment.objects.filter(pk=first.pk).update(end_date=YESTERDAY)
    new = give_role(user, federation.department11, "department_member_administrator", TODAY)

    response = login(federation.province_sb).post(f"/users/{user.pk}/roles/{new.pk}/end/")

    assert response.status_code == 302
    assert not RoleAssignment.objects.filter(pk=new.pk).exists()
    first.refresh_from_db()
    assert first.end_date == YESTERDAY


def test_it_hides_a_role_of_another_province_from_taking_away(federation, login):
    assignment = RoleAssignment.objects.get(user=federation.department21_la)

    response = login(federation.province_sb).post(
        f"/users/{federation.department21_la.pk}/roles/{assignment.pk}/end/"
    )

    assert response.status_code == 404
    assignment.refresh_from_db()
    assert assignment.end_date is None


def test_it_forbids_taking_away_roles_to_a_member_administrator(federation, login, two_roles):
    user, first, _second = two_roles
    response = login(federation.province_la).post(f"/users/{user.pk}/roles/{first.pk}/end/")

    assert response.status_code == 403
    first.refresh_from_db()
    assert first.end_date is None
