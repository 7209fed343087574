"""Access to the ledenmodule comes from the function "Ledenadministratie afdeling" on the
person's own card (SPEC T5): from its start date to its end date, for every department it is
held in, logging in with the card's e-mail address through "forgot password"."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse

from memberships import services
from memberships.models import Function, FunctionType
from relations.models import Relation
from tenants.models import RoleAssignment, User
from tests.factories import UserFactory, give_function, make_relation

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()
YESTERDAY = TODAY - datetime.timedelta(days=1)
TOMORROW = TODAY + datetime.timedelta(days=1)
LINK_PATTERN = re.compile(r"https?://[^\s]+(/accounts/password/reset/[^\s/]+/[^\s/]+/)")
NEW_PASSWORD = "groene-tractor-op-het-erf"
ADMINISTRATION = "department_member_administration"


def administrator(federation, *departments, start_date=TODAY, end_date=None, email="anna@example.org") -> Relation:
    relation = make_relation(departments[0], first_name="Anna", last_name="Bakker", email=email)
    for department in departments:
        give_function(relation, department, ADMINISTRATION, start_date=start_date, end_date=end_date,
                      actor=federation.province_sb)
    relation.refresh_from_db()
    return relation


def ledenmodule_client(relation: Relation) -> Client:
    client = Client()
    client.force_login(User.objects.get(pk=relation.user_id), backend="tenants.backends.TenantRoleBackend")
    return client


def test_it_opens_the_ledenmodule_from_the_functions_start_date(federation):
    relation = administrator(federation, federation.department11, start_date=TODAY)

    response = ledenmodule_client(relation).get(reverse("ledenmodule_member_list"))

    assert response.status_code == 200
    assert response.context["request"].ledenmodule.department == federation.department11


def test_it_keeps_the_ledenmodule_closed_before_the_start_date(federation):
    relation = administrator(federation, federation.department11, start_date=TOMORROW)

    # Before the role starts the login is only a member's (the portal's): administrators' screens
    # answer 404, as they do to every member.
    assert ledenmodule_client(relation).get(reverse("ledenmodule_member_list")).status_code == 404


def test_it_keeps_the_ledenmodule_open_before_the_end_date_and_closes_it_on_it(federation):
    relation = administrator(federation, federation.department11)
    function = Function.objects.get(relation=relation, function_type__code=ADMINISTRATION)
    services.function_end(actor=federation.province_sb, function=function, end_date=TOMORROW)
    client = ledenmodule_client(relation)

    assert client.get(reverse("ledenmodule_member_list")).status_code == 200

    # A day later: the end date is today, the first day the function (and its role) no longer
    # holds (docs/definitions.md).
    Function.objects.filter(pk=function.pk).update(end_date=TODAY, start_date=YESTERDAY)
    RoleAssignment.objects.filter(pk=function.role_assignment_id).update(end_date=TODAY, start_date=YESTERDAY)
    assert client.get(reverse("ledenmodule_member_list")).status_code == 404  # a member's login now


def test_it_lets_a_person_with_two_departments_switch_between_them(federation):
    relation = administrator(federation, federation.department11, federation.department12)
    make_relation(federation.department11, last_name="Elfje")
    make_relation(federation.department12, last_name="Twaalfje")
    client = ledenmodule_client(relation)

    first = client.get(reverse("ledenmodule_member_list"))
    assert [d.name for d in first.context["request"].ledenmodule.departments] == ["Afdeling 1.1", "Afdeling 1.2"]
    assert "Elfje" in first.content.decode() and "Twaalfje" not in first.content.decode()

    switched = client.post(reverse("ledenmodule_department_switch"), {"department": federation.department12.pk})
    assert switched.status_code == 302
    second = client.get(reverse("ledenmodule_member_list"))
    assert second.context["request"].ledenmodule.department == federation.department12
    assert "Twaalfje" in second.content.decode() and "Elfje" not in second.content.decode()
    # The department's name is what the slimmer header shows.
    assert 'data-testid="current-environment">Afdeling 1.2<' in second.content.decode()


def test_it_refuses_switching_to_a_department_the_person_does_not_administer(federation):
    relation = administrator(federation, federation.department11)

    response = ledenmodule_client(relation).post(
        reverse("ledenmodule_department_switch"), {"department": federation.department12.pk}
    )

    assert response.status_code == 404


def test_it_sends_a_department_administrator_home_to_the_ledenmodule(federation):
    relation = administrator(federation, federation.department11)

    response = ledenmodule_client(relation).get(reverse("home"))

    assert response.status_code == 302
    assert response.url == reverse("ledenmodule_dashboard")


def test_it_opens_the_ledenmodule_only_for_department_administrators(federation, login):
    for user in (federation.national_sb, federation.province_sb, federation.province_la, federation.outsider):
        assert login(user).get(reverse("ledenmodule_member_list")).status_code == 403, user


# --- the first login, through "forgot password" -------------------------------------------------


def test_it_lets_the_new_administrator_log_in_the_first_time_through_forgot_password(
    federation, login, mailoutbox, django_capture_on_commit_callbacks
):
    relation = make_relation(federation.department11, first_name="Anna", last_name="Bakker", email="anna@example.org")
    province = login(federation.province_sb)
    with django_capture_on_commit_callbacks(execute=True):
        response = province.post(reverse("function_add", args=[relation.pk]), {
            "function_type": FunctionType.objects.get(code=ADMINISTRATION).pk,
            "tenant": federation.department11.pk, "start_date": TODAY.isoformat(),
        })
    assert response.status_code == 302
    # The invitation is sent when the function is added.
    assert [m.to for m in mailoutbox] == [["anna@example.org"]]

    visitor = Client()
    with django_capture_on_commit_callbacks(execute=True):
        visitor.post(reverse("password_reset"), {"email": "ANNA@example.org"})
    assert len(mailoutbox) == 2
    path = LINK_PATTERN.search(mailoutbox[1].body).group(1)
    form_page = visitor.get(path, follow=True)
    assert form_page.context["validlink"]
    visitor.post(form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    fresh = Client()
    logged_in = fresh.post(reverse("login"), {"username": "anna@example.org", "password": NEW_PASSWORD},
                           REMOTE_ADDR="10.0.0.7", follow=True)
    assert logged_in.redirect_chain[-1][0] == reverse("ledenmodule_dashboard")
    assert logged_in.context["request"].ledenmodule.department == federation.department11


def test_it_refuses_an_expired_or_used_reset_link(federation, client):
    response = client.get(reverse("password_reset_confirm", kwargs={"uidb64": "MQ", "token": "verlopen-token"}))

    assert response.status_code == 200
    assert not response.context["validlink"]
    assert "no longer valid" in response.content.decode() or "niet meer geldig" in response.content.decode()


# --- bad input when the province adds the function ---------------------------------------------


def add_administration(client, relation, start_date=TODAY):
    return client.post(reverse("function_add", args=[relation.pk]), {
        "function_type": FunctionType.objects.get(code=ADMINISTRATION).pk,
        "tenant": relation.tenant.pk, "start_date": start_date.isoformat(),
    })


def test_it_refuses_a_start_date_in_the_past_for_the_administration_function(federation, login, mailoutbox):
    relation = make_relation(federation.department11, email="anna@example.org")
    users_before = User.objects.count()

    response = add_administration(login(federation.province_sb), relation, start_date=YESTERDAY)

    assert response.status_code == 200
    assert "start_date" in response.context["form"].errors
    assert not Function.objects.filter(relation=relation, function_type__code=ADMINISTRATION).exists()
    assert User.objects.count() == users_before
    assert mailoutbox == []


def test_it_refuses_an_email_address_another_persons_login_uses(federation, login, mailoutbox):
    first = make_relation(federation.department11, email="gedeeld@example.org", last_name="Eerste")
    give_function(first, federation.department11, ADMINISTRATION, start_date=TODAY)
    second = make_relation(federation.department11, email="gedeeld@example.org", last_name="Tweede")

    response = add_administration(login(federation.province_sb), second)

    assert response.status_code == 200
    assert "function_type" in response.context["form"].errors
    second.refresh_from_db()
    assert second.user_id is None
    assert not Function.objects.filter(relation=second, function_type__code=ADMINISTRATION).exists()


def test_it_refuses_changing_the_card_to_an_email_address_another_login_uses(federation, login):
    relation = administrator(federation, federation.department11)
    UserFactory(email="bezet@example.org", username="bezet", tenant=federation.department11)
    client = ledenmodule_client(relation)

    response = client.post(reverse("ledenmodule_member_edit", args=[relation.pk]), {
        "kind": "person", "first_name": "Anna", "last_name": "Bakker", "email": "bezet@example.org",
        "country": "NL", "language": "nl", "magazine_delivery": "automatic", "gender": "",
    })

    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    relation.refresh_from_db()
    assert relation.email == "anna@example.org"
    assert User.objects.get(pk=relation.user_id).email == "anna@example.org"


def test_it_refuses_an_end_date_before_the_start_of_the_function(federation, login):
    relation = make_relation(federation.department11, email="anna@example.org")

    response = login(federation.province_sb).post(reverse("function_add", args=[relation.pk]), {
        "function_type": FunctionType.objects.get(code=ADMINISTRATION).pk, "tenant": federation.department11.pk,
        "start_date": (TODAY + datetime.timedelta(days=10)).isoformat(), "end_date": TOMORROW.isoformat(),
    })

    assert response.status_code == 200
    assert "end_date" in response.context["form"].errors
    assert not Function.objects.filter(relation=relation, function_type__code=ADMINISTRATION).exists()
