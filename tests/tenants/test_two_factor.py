"""Two-factor login (SPEC T9), the life of a session, proxies and the counters in the shared
cache (issue 12, points 4–6)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import redis
from axes.models import AccessAttempt
from django.core.cache import caches
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from intake.services import intake_rate_limited
from tenants import two_factor
from tenants.models import AuditEvent, LoginSession, RecoveryCode, Role, TwoFactorPolicy
from tenants.proxies import client_address, rate_limit_hit
from tenants.sessions import SESSION_LOGIN_AT_KEY, SESSION_SEEN_AT_KEY

from ..conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"


def log_in(client: Client, username: str, password: str = PASSWORD, ip: str = "10.0.0.1"):
    return client.post(LOGIN_URL, {"username": username, "password": password}, REMOTE_ADDR=ip)


def logged_in_user_id(client: Client) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value is not None else None


def enrolled(user) -> tuple[TOTPDevice, list[str]]:
    """The user with a confirmed app and ten recovery codes, set up through the services."""
    device = two_factor.totp_enrolment_device(user)
    codes = two_factor.totp_enrolment_confirm(user=user, device=device, token=current_code(device))
    device.refresh_from_db()
    # A used code is refused (replay); as if the enrolment were half a minute ago, so the test
    # may log in with the code the app shows now.
    device.last_t -= 1
    device.save(update_fields=["last_t"])
    return device, codes


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def send_code(client: Client, code: str, ip: str = "10.0.0.1"):
    return client.post(reverse("login_two_factor"), {"code": code}, REMOTE_ADDR=ip)


# --- who must, who may ------------------------------------------------------------------------------


def test_it_requires_a_second_factor_of_system_administrators_by_default(federation):
    assert two_factor.two_factor_required(federation.national_sb)
    assert two_factor.two_factor_required(federation.province_sb)
    assert not two_factor.two_factor_required(federation.province_la)
    assert not two_factor.two_factor_required(federation.department_la)


def test_it_follows_the_roles_national_chooses(federation, login):
    client = login(federation.national_sb)
    role = Role.objects.get(code="province_member_administrator")

    response = client.post(reverse("two_factor_policy"), {"roles": [role.pk]})

    assert response.status_code == 302
    assert two_factor.two_factor_required(federation.province_la)
    assert not two_factor.two_factor_required(federation.province_sb)
    assert list(TwoFactorPolicy.objects.get().required_roles.all()) == [role]
    assert AuditEvent.objects.filter(action=AuditEvent.Action.TWO_FACTOR_POLICY_CHANGED).count() == 1


def test_it_logs_in_someone_without_a_second_factor_with_the_password_alone(federation, client):
    response = log_in(client, "province_la")

    assert response.status_code == 302
    assert logged_in_user_id(client) == federation.province_la.pk
    assert LoginSession.objects.filter(user=federation.province_la).count() == 1


# --- enrolment ------------------------------------------------------------------------------------


def test_it_sends_a_system_administrator_without_an_app_to_enrolment(federation, client):
    response = log_in(client, "province_sb")

    assert response.status_code == 302
    assert response.url == reverse("two_factor_enrol")
    # Not logged in yet: the password alone opens nothing.
    assert logged_in_user_id(client) is None
    assert client.get("/").status_code == 302

    page = client.get(reverse("two_factor_enrol"))
    assert page.status_code == 200
    assert b"<svg" in page.content
    assert page.headers["Cache-Control"].count("no-store") == 1

    device = TOTPDevice.objects.get(user=federation.province_sb, confirmed=False)
    done = client.post(reverse("two_factor_enrol"), {"code": current_code(device)})

    assert done.status_code == 200
    assert len(done.context["codes"]) == 10
    assert logged_in_user_id(client) == federation.province_sb.pk
    assert client.get("/").wsgi_request.user.is_verified()
    # Stored hashed: no code appears in the table.
    stored = set(RecoveryCode.objects.values_list("code_hash", flat=True))
    assert not {code.replace("-", "") for code in done.context["codes"]} & stored


def test_it_refuses_a_wrong_enrolment_code(federation, client):
    log_in(client, "province_sb")
    client.get(reverse("two_factor_enrol"))

    response = client.post(reverse("two_factor_enrol"), {"code": "000000"})

    assert response.status_code == 200
    assert response.context["form"].errors["code"]
    assert logged_in_user_id(client) is None
    assert not TOTPDevice.objects.filter(user=federation.province_sb, confirmed=True).exists()


def test_it_lets_anyone_turn_it_on_from_their_own_page(federation, login):
    client = login(federation.province_la)
    assert b'data-testid="two-factor-status"' in client.get(reverse("two_factor_settings")).content
    client.get(reverse("two_factor_enrol"))
    device = TOTPDevice.objects.get(user=federation.province_la)

    response = client.post(reverse("two_factor_enrol"), {"code": current_code(device)})

    assert response.status_code == 200
    assert two_factor.has_second_factor(federation.province_la)


# --- logging in with the second factor ------------------------------------------------------------


def test_it_logs_in_with_the_app_code(federation, client):
    device, _codes = enrolled(federation.province_sb)

    first = log_in(client, "province_sb")
    assert first.url == reverse("login_two_factor")
    assert logged_in_user_id(client) is None

    response = send_code(client, current_code(device))

    assert response.status_code == 302
    assert response.url == "/"
    assert logged_in_user_id(client) == federation.province_sb.pk


def test_it_refuses_a_code_used_before(federation, client):
    device, _codes = enrolled(federation.province_sb)
    code = current_code(device)
    log_in(client, "province_sb")
    send_code(client, code)
    client.post(reverse("logout"))

    log_in(client, "province_sb")
    response = send_code(client, code)

    assert response.status_code == 200
    assert response.context["form"].errors["code"]
    assert logged_in_user_id(client) is None


def test_it_takes_a_recovery_code_once_and_only_once(federation, client):
    _device, codes = enrolled(federation.province_sb)

    log_in(client, "province_sb")
    assert send_code(client, codes[3]).status_code == 302
    assert logged_in_user_id(client) == federation.province_sb.pk
    client.post(reverse("logout"))

    log_in(client, "province_sb")
    again = send_code(client, codes[3])

    assert again.status_code == 200
    assert logged_in_user_id(client) is None
    assert two_factor.recovery_codes_left(federation.province_sb) == 9


def test_it_counts_wrong_codes_toward_the_lock_out(federation, client, settings):
    enrolled(federation.province_sb)
    log_in(client, "province_sb")

    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert send_code(client, "123456").status_code == 200
    locked = send_code(client, "123456")

    assert locked.status_code == 429
    assert b'data-testid="lockout"' in locked.content
    # The lock-out page says only that: no form, no hint about the password.
    assert b"<form" not in locked.content.split(b"<main", 1)[1]
    assert AccessAttempt.objects.get(username="province_sb").failures_since_start >= settings.AXES_FAILURE_LIMIT
    # Even the right password no longer gets to the second step from this address.
    assert log_in(client, "province_sb").status_code == 429


def test_it_forgets_the_password_step_after_a_few_minutes(federation, client, settings):
    device, _codes = enrolled(federation.province_sb)
    log_in(client, "province_sb")
    session = client.session
    session["two_factor_pending"]["at"] -= settings.TWO_FACTOR_PENDING_SECONDS + 1
    session.save()

    response = send_code(client, current_code(device))

    assert response.status_code == 302
    assert response.url == LOGIN_URL
    assert logged_in_user_id(client) is None


# --- reset by national ------------------------------------------------------------------------------


def test_it_lets_a_national_system_administrator_reset_the_second_factor(federation, login):
    enrolled(federation.province_sb)
    other = Client()
    other.force_login(federation.province_sb, backend="tenants.backends.TenantRoleBackend")
    LoginSession.objects.create(user=federation.province_sb, session_key=other.session.session_key)
    client = login(federation.national_sb)

    response = client.post(reverse("user_two_factor_reset", kwargs={"pk": federation.province_sb.pk}))

    assert response.status_code == 302
    assert not two_factor.has_second_factor(federation.province_sb)
    assert not RecoveryCode.objects.filter(device__user=federation.province_sb).exists()
    event = AuditEvent.objects.get(action=AuditEvent.Action.TWO_FACTOR_RESET)
    assert (event.actor, event.target_user) == (federation.national_sb, federation.province_sb)
    # The user's sessions ended.
    assert other.get("/").status_code == 302


def test_it_refuses_the_reset_to_a_province_system_administrator(federation, login):
    enrolled(federation.department_la)
    client = login(federation.province_sb)

    response = client.post(reverse("user_two_factor_reset", kwargs={"pk": federation.department_la.pk}))

    assert response.status_code == 403
    assert two_factor.has_second_factor(federation.department_la)


# --- sessions ---------------------------------------------------------------------------------------


def test_it_logs_out_after_the_idle_timeout(federation, login, settings):
    client = login(federation.province_la)
    assert client.get("/").status_code == 200
    session = client.session
    session[SESSION_SEEN_AT_KEY] = int(time.time()) - int(settings.SESSION_IDLE_TIMEOUT.total_seconds()) - 1
    session.save()

    response = client.get("/relations/")

    assert response.status_code == 302
    assert response.url.startswith(LOGIN_URL)
    assert logged_in_user_id(client) is None


def test_it_logs_out_after_the_absolute_lifetime_even_when_active(federation, login, settings):
    client = login(federation.province_la)
    client.get("/")
    session = client.session
    session[SESSION_LOGIN_AT_KEY] = int(time.time()) - int(settings.SESSION_ABSOLUTE_LIFETIME.total_seconds()) - 1
    session.save()

    response = client.get("/")

    assert response.status_code == 302
    assert logged_in_user_id(client) is None


def test_it_ends_the_other_sessions_when_the_password_changes(federation, client):
    other = Client()
    log_in(other, "province_la")
    log_in(client, "province_la")
    new_password = "een-heel-nieuw-wachtwoord"

    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )

    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert other.get("/").status_code == 302
    assert LoginSession.objects.filter(user=federation.province_la).count() == 1


# --- proxies and shared counters ------------------------------------------------------------------


def test_it_ignores_x_forwarded_for_from_an_untrusted_peer(settings):
    settings.TRUSTED_PROXIES = ["10.1.0.0/16"]
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="198.51.100.1")

    assert client_address(request) == "203.0.113.9"


def test_it_reads_the_visitor_from_a_trusted_proxy(settings):
    settings.TRUSTED_PROXIES = ["10.1.0.0/16"]
    # The visitor typed a false first hop; our proxies appended the real one and their own.
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.1.0.5", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7, 10.1.0.4"
    )

    assert client_address(request) == "198.51.100.7"


def test_it_ignores_x_forwarded_for_without_trusted_proxies(settings):
    settings.TRUSTED_PROXIES = []
    request = RequestFactory().get("/", REMOTE_ADDR="10.1.0.5", HTTP_X_FORWARDED_FOR="198.51.100.7")

    assert client_address(request) == "10.1.0.5"


def test_it_locks_out_the_forwarded_address_not_the_proxy(federation, client, settings):
    settings.TRUSTED_PROXIES = ["10.1.0.5"]
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            LOGIN_URL, {"username": "province_la", "password": "wrong-password-here"},
            REMOTE_ADDR="10.1.0.5", HTTP_X_FORWARDED_FOR="198.51.100.7",
        )

    assert AccessAttempt.objects.get(username="province_la").ip_address == "198.51.100.7"
    # Another visitor behind the same proxy is not locked out.
    response = client.post(
        LOGIN_URL, {"username": "province_la", "password": PASSWORD},
        REMOTE_ADDR="10.1.0.5", HTTP_X_FORWARDED_FOR="198.51.100.8",
    )
    assert response.status_code == 302


def test_it_throttles_password_reset_requests_per_account(federation, client, settings, mailoutbox):
    settings.PASSWORD_RESET_RATE_LIMIT = 2
    for number in range(2):
        response = client.post(
            reverse("password_reset"), {"email": "province_la@example.org"}, REMOTE_ADDR=f"10.0.0.{number + 1}"
        )
        assert response.status_code == 302

    response = client.post(reverse("password_reset"), {"email": "province_la@example.org"}, REMOTE_ADDR="10.0.0.9")

    assert response.status_code == 429
    assert "Te veel" in response.content.decode()
    assert len(mailoutbox) == 2


def test_it_throttles_password_reset_requests_per_address(federation, client, settings, mailoutbox):
    settings.PASSWORD_RESET_RATE_LIMIT = 2
    for email in ("province_la@example.org", "province_sb@example.org"):
        client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR="10.0.0.1")

    response = client.post(reverse("password_reset"), {"email": "national_la@example.org"}, REMOTE_ADDR="10.0.0.1")

    assert response.status_code == 429
    assert len(mailoutbox) == 2


REDIS_TEST_URL = "redis://127.0.0.1:6379/7"


@pytest.fixture
def redis_cache():
    """The shared cache production uses (CACHE_URL), on the Redis database of this test run."""
    try:
        redis.Redis.from_url(REDIS_TEST_URL).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not running at 127.0.0.1:6379")
    config = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_TEST_URL,
                          "KEY_PREFIX": "lb-test-security"}}
    with override_settings(CACHES=config):
        caches["default"].clear()
        yield caches["default"]
        caches["default"].clear()


def test_it_counts_in_the_configured_shared_cache(redis_cache):
    assert not rate_limit_hit("test-scope", "198.51.100.7", limit=2, window=60)
    assert not rate_limit_hit("test-scope", "198.51.100.7", limit=2, window=60)

    # Another process sees the same counter: read it straight from Redis, not through Django.
    keys = redis.Redis.from_url(REDIS_TEST_URL).keys("lb-test-security:*rate:test-scope:198.51.100.7")
    assert len(keys) == 1
    assert rate_limit_hit("test-scope", "198.51.100.7", limit=2, window=60)


def test_it_keeps_the_intake_rate_limit_in_the_shared_cache(redis_cache, settings):
    settings.INTAKE_RATE_LIMIT = 1
    assert not intake_rate_limited("198.51.100.7")
    assert redis_cache.get("rate:intake:198.51.100.7") == 1
    assert intake_rate_limited("198.51.100.7")


def test_it_configures_redis_from_cache_url():
    code = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'], settings.CACHES['default']['LOCATION'])"
    env = {"CACHE_URL": REDIS_TEST_URL, "DJANGO_SETTINGS_MODULE": "ledenbeheer.settings", "PATH": "/usr/bin:/bin"}
    output = subprocess.run(  # noqa: S603 (our own interpreter and a fixed program)
        [sys.executable, "-c", f"import django; django.setup(); {code}"], env=env, capture_output=True, text=True,
        check=True,
    ).stdout

    assert output.split() == ["django.core.cache.backends.redis.RedisCache", REDIS_TEST_URL]


# --- the admin site ---------------------------------------------------------------------------------


def test_it_keeps_the_admin_behind_the_second_factor(federation, client):
    staff = federation.national_sb
    staff.is_staff = staff.is_superuser = True
    staff.save(update_fields=["is_staff", "is_superuser"])

    # Anonymous: the admin's login sends to ours.
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response.url.startswith(LOGIN_URL)

    # A session without a verified second factor: the admin sends to setting one up.
    client.force_login(staff, backend="tenants.backends.TenantRoleBackend")
    response = client.get(reverse("admin:index"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("two_factor_settings")

    # After logging in with both factors: the admin opens.
    client.post(reverse("logout"))
    device, _codes = enrolled(staff)
    log_in(client, "national_sb")
    send_code(client, current_code(device))
    assert client.get(reverse("admin:index")).status_code == 200


def test_it_refuses_to_replace_the_app_in_a_session_without_the_second_factor(federation, login):
    device, _codes = enrolled(federation.province_la)
    client = login(federation.province_la)

    assert client.get(reverse("two_factor_enrol")).status_code == 403
    assert client.post(reverse("two_factor_enrol"), {"code": current_code(device)}).status_code == 403
    assert TOTPDevice.objects.filter(user=federation.province_la).count() == 1
