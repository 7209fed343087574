"""Logging in, lock-out, one-time set-password links, password reset and temporary passwords."""

from __future__ import annotations

import datetime
import re
from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.test import Client
from django.utils import timezone

from tenants import services
from tenants.models import User

from ..conftest import PASSWORD
from ..factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"
NEW_PASSWORD = "lange-zomeravond-op-de-dijk"
LINK_PATTERN = re.compile(r"https?://[^\s]+/accounts/password/reset/[^\s/]+/[^\s/]+/")


def log_in(client: Client, username: str, password: str, ip: str = "10.0.0.1"):
    return client.post(LOGIN_URL, {"username": username, "password": password}, REMOTE_ADDR=ip)


def logged_in_user_id(client: Client) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value is not None else None


def fail_logins(client: Client, username: str, times: int, ip: str = "10.0.0.1") -> None:
    for _ in range(times):
        log_in(client, username, "not-the-password", ip=ip)


def link_in(message) -> str:
    match = LINK_PATTERN.search(message.body)
    assert match, message.body
    return match.group(0)


def choose_password(client: Client, link: str, password: str):
    """Follow a one-time link (it redirects to a URL without the token) and post a password."""
    response = client.get(link)
    assert response.status_code == 302, "the link should be valid"
    return client.post(response.url, {"new_password1": password, "new_password2": password})


def password_error_codes(response) -> set[str]:
    return {error.code for error in response.context["form"].errors.as_data()["new_password2"]}


# --- logging in --------------------------------------------------------------------------------


# A member administrator: the system administrators' roles need a second factor as well
# (tests/tenants/test_two_factor.py).
def test_it_logs_in_with_the_username(federation, client):
    response = log_in(client, "province_la", PASSWORD)

    assert response.status_code == 302
    assert response.url == "/"
    assert logged_in_user_id(client) == federation.province_la.pk


@pytest.mark.parametrize("typed", ["province_la@example.org", "Province_LA@Example.ORG", "PROVINCE_LA"])
def test_it_logs_in_with_the_email_address_or_username_in_any_case(federation, client, typed):
    response = log_in(client, typed, PASSWORD)

    assert response.status_code == 302
    assert logged_in_user_id(client) == federation.province_la.pk


@pytest.mark.parametrize(
    ("username", "password"),
    [("province_sb", "wrong-password-here"), ("nobody-by-this-name", PASSWORD)],
)
def test_it_refuses_wrong_credentials_with_an_error_at_the_form(federation, client, username, password):
    before = User.objects.get(pk=federation.province_sb.pk)

    response = log_in(client, username, password)

    assert response.status_code == 200
    form = response.context["form"]
    assert [e.code for e in form.errors.as_data()["__all__"]] == ["invalid_login"]
    assert form.non_field_errors()
    assert logged_in_user_id(client) is None
    after = User.objects.get(pk=federation.province_sb.pk)
    assert (after.last_login, after.password, after.is_active) == (
        before.last_login, before.password, before.is_active,
    )


def test_it_refuses_a_blocked_user(federation, client):
    User.objects.filter(pk=federation.department_la.pk).update(is_active=False)

    response = log_in(client, "department_la", PASSWORD)

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert logged_in_user_id(client) is None


# --- lock-out (django-axes) --------------------------------------------------------------------


def test_it_locks_the_account_after_five_failures_even_for_the_right_password(federation, client):
    fail_logins(client, "department_la", 5)

    response = log_in(client, "department_la", PASSWORD)

    assert response.status_code == 429
    assert b'data-testid="lockout"' in response.content
    assert logged_in_user_id(client) is None


def test_it_does_not_lock_after_four_failures(federation, client):
    fail_logins(client, "department_la", 4)

    response = log_in(client, "department_la", PASSWORD)

    assert response.status_code == 302
    assert logged_in_user_id(client) == federation.department_la.pk


def test_it_counts_failures_with_the_email_address_or_any_case_against_the_username(federation, client):
    fail_logins(client, "department_la", 2)
    fail_logins(client, "DEPARTMENT_LA", 1)
    fail_logins(client, "department_la@example.org", 1)
    fail_logins(client, "DEPARTMENT_LA@EXAMPLE.ORG", 1)

    by_username = log_in(client, "department_la", PASSWORD)
    by_email = log_in(client, "department_la@example.org", PASSWORD)

    assert by_username.status_code == 429
    assert by_email.status_code == 429
    assert logged_in_user_id(client) is None


def test_it_does_not_lock_the_account_from_another_address(federation, client):
    fail_logins(client, "department_la", 5, ip="10.0.0.1")

    response = log_in(client, "department_la", PASSWORD, ip="10.0.0.2")

    assert response.status_code == 302
    assert logged_in_user_id(client) == federation.department_la.pk


def test_it_lets_an_administrator_above_the_user_unblock_a_lock_out(federation, login):
    visitor = Client()
    fail_logins(visitor, "department_la", 5)
    assert services.user_is_locked_out(federation.department_la)

    response = login(federation.province_sb).post(f"/users/{federation.department_la.pk}/unblock/")

    assert response.status_code == 302
    assert not services.user_is_locked_out(federation.department_la)
    assert log_in(visitor, "department_la", PASSWORD).status_code == 302
    assert logged_in_user_id(visitor) == federation.department_la.pk


def test_it_ends_the_lock_out_by_itself_after_the_cool_off(federation, client):
    fail_logins(client, "department_la", 5)
    assert log_in(client, "department_la", PASSWORD).status_code == 429

    past = timezone.now() - settings.AXES_COOLOFF_TIME - datetime.timedelta(minutes=1)
    AccessAttempt.objects.update(attempt_time=past)

    response = log_in(client, "department_la", PASSWORD)
    assert response.status_code == 302
    assert logged_in_user_id(client) == federation.department_la.pk


def test_it_hides_a_user_of_another_province_from_unblocking(federation, login):
    visitor = Client()
    fail_logins(visitor, "department_la", 5)

    response = login(federation.province2_sb).post(f"/users/{federation.department_la.pk}/unblock/")

    assert response.status_code == 404
    assert services.user_is_locked_out(federation.department_la)
    assert log_in(visitor, "department_la", PASSWORD).status_code == 429


def test_it_forbids_a_member_administrator_to_unblock(federation, login):
    visitor = Client()
    fail_logins(visitor, "department_la", 5)

    response = login(federation.province_la).post(f"/users/{federation.department_la.pk}/unblock/")

    assert response.status_code == 403
    assert services.user_is_locked_out(federation.department_la)


# --- one-time set-password links ---------------------------------------------------------------


def create_user_by_service(federation, **overrides) -> User:
    data = {
        "actor": federation.province_sb, "tenant": federation.department11, "username": "",
        "email": "jan.devries@example.org", "first_name": "Jan", "last_name": "de Vries",
    }
    data.update(overrides)
    return services.user_create(**data)


def test_it_mails_exactly_one_link_when_the_service_creates_a_user(
    federation, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user = create_user_by_service(federation)

    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["jan.devries@example.org"]
    assert LINK_PATTERN.search(mailoutbox[0].body)
    assert not user.has_usable_password()


def test_it_mails_exactly_one_link_when_the_view_creates_a_user(
    federation, login, mailoutbox, django_capture_on_commit_callbacks
):
    client = login(federation.province_sb)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/users/new/",
            {
                "first_name": "Jan", "last_name": "de Vries", "email": "jan.devries@example.org",
                "username": "", "role": "", "start_date": datetime.date.today().isoformat(),
            },
        )

    assert response.status_code == 302
    user = User.objects.get(email="jan.devries@example.org")
    assert not user.has_usable_password()
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [user.email]
    assert LINK_PATTERN.search(mailoutbox[0].body)


def test_it_sends_no_mail_before_the_transaction_commits(
    federation, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        create_user_by_service(federation)

    assert mailoutbox == []
    assert len(callbacks) == 1


def test_it_lets_the_new_user_choose_a_password_with_the_link(
    federation, client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user = create_user_by_service(federation)

    response = choose_password(client, link_in(mailoutbox[0]), NEW_PASSWORD)

    assert response.status_code == 302
    assert response.url == "/accounts/password/reset/complete/"
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    visitor = Client()
    assert log_in(visitor, "JDEVRIES", NEW_PASSWORD).status_code == 302
    assert logged_in_user_id(visitor) == user.pk


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("kort-wachtw", "password_too_short"),  # 11 characters
        ("x" * 129, "password_too_long"),
        ("qwerty123456", "password_too_common"),
    ],
)
def test_it_refuses_a_password_against_the_policy_at_the_field(
    federation, client, mailoutbox, django_capture_on_commit_callbacks, password, code
):
    with django_capture_on_commit_callbacks(execute=True):
        user = create_user_by_service(federation)

    response = choose_password(client, link_in(mailoutbox[0]), password)

    assert response.status_code == 200
    assert code in password_error_codes(response)
    user.refresh_from_db()
    assert not user.has_usable_password()


@pytest.mark.parametrize("password", ["twaalf-tekens", "y" * 128])
def test_it_accepts_passwords_from_12_to_128_characters(
    federation, client, mailoutbox, django_capture_on_commit_callbacks, password
):
    with django_capture_on_commit_callbacks(execute=True):
        user = create_user_by_service(federation)

    response = choose_password(client, link_in(mailoutbox[0]), password)

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(password)


def test_it_refuses_the_same_link_the_second_time(
    federation, client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user = create_user_by_service(federation)
    link = link_in(mailoutbox[0])
    choose_password(client, link, NEW_PASSWORD)

    response = Client().get(link, follow=True)

    assert response.status_code == 200
    assert b'data-testid="invalid-link"' in response.content
    assert response.context["validlink"] is False
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_it_refuses_an_expired_link(federation, client, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        user = create_user_by_service(federation)
    link = link_in(mailoutbox[0])
    later = datetime.datetime.now() + datetime.timedelta(
        seconds=settings.PASSWORD_RESET_TIMEOUT + 3600
    )

    with mock.patch.object(PasswordResetTokenGenerator, "_now", return_value=later):
        response = client.get(link, follow=True)

    assert b'data-testid="invalid-link"' in response.content
    user.refresh_from_db()
    assert not user.has_usable_password()


def test_it_gives_nobody_a_default_password(federation, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        user = create_user_by_service(federation)

    assert not user.has_usable_password()
    guesses = ("", "JDEVRIES", "jdevries", "welkom", "ledenbeheer-demo", PASSWORD)
    for number, guess in enumerate(guesses):
        # A fresh address for every guess, so the lock-out does not answer in our place.
        visitor = Client()
        assert log_in(visitor, "JDEVRIES", guess, ip=f"10.0.1.{number}").status_code == 200
        assert logged_in_user_id(visitor) is None


# --- password reset by e-mail ------------------------------------------------------------------


def test_it_sends_a_reset_link_to_a_user_who_never_set_a_password(
    federation, client, mailoutbox
):
    user = UserFactory(username="nieuw", email="Nieuw.Lid@Example.org", tenant=federation.department11)
    user.set_unusable_password()
    user.save()

    response = client.post("/accounts/password/reset/", {"email": "nieuw.lid@EXAMPLE.org"})

    assert response.status_code == 302
    assert response.url == "/accounts/password/reset/sent/"
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["Nieuw.Lid@Example.org"]
    assert choose_password(Client(), link_in(mailoutbox[0]), NEW_PASSWORD).status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_it_answers_an_unknown_address_the_same_and_sends_nothing(federation, client, mailoutbox):
    known = client.post("/accounts/password/reset/", {"email": "province_sb@example.org"})
    mailoutbox.clear()

    unknown = client.post("/accounts/password/reset/", {"email": "niemand@example.org"})

    assert unknown.status_code == known.status_code == 302
    assert unknown.url == known.url == "/accounts/password/reset/sent/"
    assert mailoutbox == []


# --- temporary passwords -----------------------------------------------------------------------


TEMPORARY_PASSWORD = "tijdelijk-wachtwoord-42"


def test_it_makes_a_user_change_a_temporary_password_before_anything_else(federation, login):
    admin = login(federation.province_sb)
    target = federation.department_la

    response = admin.post(
        f"/users/{target.pk}/temporary-password/",
        {"new_password1": TEMPORARY_PASSWORD, "new_password2": TEMPORARY_PASSWORD},
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.must_change_password

    visitor = Client()
    assert log_in(visitor, "department_la", TEMPORARY_PASSWORD).status_code == 302
    for path in ("/", "/users/", f"/environments/{federation.department11.pk}/", "/environment/"):
        response = visitor.get(path)
        assert response.status_code == 302, path
        assert response.url == "/accounts/password/change/", path
    assert visitor.get("/accounts/password/change/").status_code == 200

    response = visitor.post(
        "/accounts/password/change/",
        {"old_password": TEMPORARY_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    target.refresh_from_db()
    assert not target.must_change_password
    assert target.check_password(NEW_PASSWORD)
    # A department administrator's home is the ledenmodule.
    assert visitor.get("/", follow=True).status_code == 200


def test_it_refuses_a_temporary_password_against_the_policy(federation, login):
    target = federation.department_la
    response = login(federation.province_sb).post(
        f"/users/{target.pk}/temporary-password/",
        {"new_password1": "kort", "new_password2": "kort"},
    )

    assert response.status_code == 200
    assert "new_password2" in response.context["form"].errors
    target.refresh_from_db()
    assert not target.must_change_password
    assert target.check_password(PASSWORD)


def test_it_hides_the_temporary_password_page_of_another_province(federation, login):
    target = federation.department_la
    response = login(federation.province2_sb).post(
        f"/users/{target.pk}/temporary-password/",
        {"new_password1": TEMPORARY_PASSWORD, "new_password2": TEMPORARY_PASSWORD},
    )

    assert response.status_code == 404
    target.refresh_from_db()
    assert not target.must_change_password


def test_it_forbids_a_member_administrator_to_set_a_temporary_password(federation, login):
    target = federation.department_la
    response = login(federation.province_la).post(
        f"/users/{target.pk}/temporary-password/",
        {"new_password1": TEMPORARY_PASSWORD, "new_password2": TEMPORARY_PASSWORD},
    )

    assert response.status_code == 403
    target.refresh_from_db()
    assert not target.must_change_password


def test_it_shows_only_the_lock_out_message_on_the_failure_that_locks(federation, client):
    fail_logins(client, "department_la", 4)

    locking = log_in(client, "department_la", "not-the-password")
    later = log_in(client, "department_la", PASSWORD)

    for response in (locking, later):
        assert response.status_code == 429
        content = response.content.decode()
        assert 'data-testid="lockout"' in content
        main = content.split("<main", 1)[1]
        assert "horen niet bij elkaar" not in content and "do not match" not in content
        assert "<form" not in main
