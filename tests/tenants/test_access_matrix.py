"""The access matrix (ARCHITECTURE "Safety"): every URL pattern, every kind of user, compared with
an oracle written here by hand — never with the code's own `visible_to` or `has_perm`.

How to read the oracle:

- 200 the page shows; 302 the action succeeded and redirected (not to a login page);
  403 logged in, but the role lacks the power here, or the user holds no role anywhere;
  404 the object lies outside the current environment (or does not exist); 405 wrong method.
- Anonymous visitors are sent to the login page by every URL in the matrix.
- A user works in the environment of their role unless the session says otherwise; the column
  "national_sb@province1" is the national system administrator looking along in province 1.
- Pages whose power belongs to the environment (user list, user detail, giving or ending a role)
  refuse a user without that power before looking at the object: 403 whatever the object, so the
  answer tells nothing. Actions whose power belongs to the object (tenant edit, block, unblock,
  invitation, temporary password) look the object up first: 404 outside, 403 inside.
- Home, the switcher and the password change are open to every logged-in user: a user without a
  role is told so there, instead of meeting an error.

A new URL must be added to MATRIX (or, if it is truly public, to PUBLIC); the completeness test
fails until it is.
"""

from __future__ import annotations

import datetime
import io
import logging

import pytest
from django.contrib.admin import site as admin_site
from django.core.files.base import ContentFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from PIL import Image

from tenants.models import AuditEvent, Role, RoleAssignment, Tenant, User

from ..factories import UserFactory, give_role

pytestmark = pytest.mark.django_db

AUTH_BACKEND = "tenants.backends.TenantRoleBackend"
MISSING_PK = 987654

# The users of the `federation` fixture; "name@tenant" is that user with the session pointing at
# another environment they may enter.
ACTORS = (
    "outsider",
    "national_sb",
    "national_la",
    "province_sb",
    "province_la",
    "department_la",
    "province2_sb",
    "department21_la",
    "national_sb@province1",
)

# Rows the apps' matrices share.
#            out  n_sb  n_la  p_sb  p_la  d_la  p2sb  d21  n_sb@p1
EVERY_ROLE = (403, 200, 200, 200, 200, 200, 200, 200, 200)
MISSING = (403, 404, 404, 404, 404, 404, 404, 404, 404)


def _as(row: tuple, ok: int) -> tuple:
    """The same row with success written as `ok` (302 for a POST that redirects)."""
    return tuple(ok if cell == 200 else cell for cell in row)


# One row per (method, URL name, probed object): the expected answer for each of ACTORS, in order.
# Objects: tenants by their fixture name; u_<tenant> is a user homed there (u_province1_national
# also holds the national system administrator role); a_<tenant> is a role assignment held in
# that tenant; "missing" is a primary key nobody has.
#
#                                                    out  n_sb  n_la  p_sb  p_la  d_la  p2sb  d21  n_sb@p1
MATRIX: dict[tuple[str, str, str], tuple[int, ...]] = {
    # Department administrators have the ledenmodule as their home (issue 7).
    ("GET", "home", "-"):                           (200, 200, 200, 200, 200, 302, 200, 302, 200),
    ("GET", "password_change", "-"):                (200, 200, 200, 200, 200, 200, 200, 200, 200),
    # An empty form only shows its errors: nobody's password changes here.
    ("POST", "password_change", "-"):               (200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "switch_environment", "-"):             (200, 200, 200, 200, 200, 200, 200, 200, 200),
    # Entering an environment: one's own subtree only, whatever the current environment is.
    ("POST", "switch_environment", "national"):     (404, 302, 302, 404, 404, 404, 404, 404, 302),
    ("POST", "switch_environment", "province1"):    (404, 302, 302, 302, 302, 404, 404, 404, 302),
    ("POST", "switch_environment", "province2"):    (404, 302, 302, 404, 404, 404, 302, 404, 302),
    ("POST", "switch_environment", "department11"): (404, 302, 302, 302, 302, 302, 404, 404, 302),
    ("POST", "switch_environment", "department21"): (404, 302, 302, 404, 404, 404, 302, 302, 302),
    ("POST", "switch_environment", "missing"):      (404, 404, 404, 404, 404, 404, 404, 404, 404),
    # Tenant details: every role may view its environment and below.
    ("GET", "tenant_detail", "national"):           (403, 200, 200, 404, 404, 404, 404, 404, 404),
    ("GET", "tenant_detail", "province1"):          (403, 200, 200, 200, 200, 404, 404, 404, 200),
    ("GET", "tenant_detail", "province2"):          (403, 200, 200, 404, 404, 404, 200, 404, 404),
    ("GET", "tenant_detail", "department11"):       (403, 200, 200, 200, 200, 200, 404, 404, 200),
    ("GET", "tenant_detail", "department21"):       (403, 200, 200, 404, 404, 404, 200, 200, 404),
    ("GET", "tenant_detail", "missing"):            (403, 404, 404, 404, 404, 404, 404, 404, 404),
    ("GET", "tenant_logo", "national"):             (403, 200, 200, 404, 404, 404, 404, 404, 404),
    ("GET", "tenant_logo", "province1"):            (403, 200, 200, 200, 200, 404, 404, 404, 200),
    ("GET", "tenant_logo", "province2"):            (403, 200, 200, 404, 404, 404, 200, 404, 404),
    ("GET", "tenant_logo", "department11"):         (403, 200, 200, 200, 200, 200, 404, 404, 200),
    ("GET", "tenant_logo", "department21"):         (403, 200, 200, 404, 404, 404, 200, 200, 404),
    ("GET", "tenant_logo", "missing"):              (403, 404, 404, 404, 404, 404, 404, 404, 404),
    # Editing tenant details: system administrators only.
    ("GET", "tenant_edit", "national"):             (403, 200, 403, 404, 404, 404, 404, 404, 404),
    ("GET", "tenant_edit", "province1"):            (403, 200, 403, 200, 403, 404, 404, 404, 200),
    ("GET", "tenant_edit", "province2"):            (403, 200, 403, 404, 404, 404, 200, 404, 404),
    ("GET", "tenant_edit", "department11"):         (403, 200, 403, 200, 403, 403, 404, 404, 200),
    ("GET", "tenant_edit", "department21"):         (403, 200, 403, 404, 404, 404, 200, 403, 404),
    ("GET", "tenant_edit", "missing"):              (403, 404, 404, 404, 404, 404, 404, 404, 404),
    ("POST", "tenant_edit", "national"):            (403, 302, 403, 404, 404, 404, 404, 404, 404),
    ("POST", "tenant_edit", "province1"):           (403, 302, 403, 302, 403, 404, 404, 404, 302),
    ("POST", "tenant_edit", "province2"):           (403, 302, 403, 404, 404, 404, 302, 404, 404),
    ("POST", "tenant_edit", "department11"):        (403, 302, 403, 302, 403, 403, 404, 404, 302),
    ("POST", "tenant_edit", "department21"):        (403, 302, 403, 404, 404, 404, 302, 403, 404),
    ("POST", "tenant_edit", "missing"):             (403, 404, 404, 404, 404, 404, 404, 404, 404),
    # Users: system administrators only.
    ("GET", "user_list", "-"):                      (403, 200, 403, 200, 403, 403, 200, 403, 200),
    ("GET", "user_create", "-"):                    (403, 200, 403, 200, 403, 403, 200, 403, 200),
    ("POST", "user_create", "-"):                   (403, 302, 403, 302, 403, 403, 302, 403, 302),
    ("GET", "user_detail", "u_national"):           (403, 200, 403, 404, 403, 403, 404, 403, 404),
    ("GET", "user_detail", "u_province1"):          (403, 200, 403, 200, 403, 403, 404, 403, 200),
    ("GET", "user_detail", "u_province2"):          (403, 200, 403, 404, 403, 403, 200, 403, 404),
    ("GET", "user_detail", "u_department11"):       (403, 200, 403, 200, 403, 403, 404, 403, 200),
    ("GET", "user_detail", "u_province1_national"): (403, 200, 403, 200, 403, 403, 404, 403, 200),
    ("GET", "user_detail", "missing"):              (403, 404, 403, 404, 403, 403, 404, 403, 404),
    ("GET", "role_assignment_create", "u_national"):     (403, 200, 403, 404, 403, 403, 404, 403, 404),
    ("GET", "role_assignment_create", "u_province1"):    (403, 200, 403, 200, 403, 403, 404, 403, 200),
    ("GET", "role_assignment_create", "u_province2"):    (403, 200, 403, 404, 403, 403, 200, 403, 404),
    ("GET", "role_assignment_create", "u_department11"): (403, 200, 403, 200, 403, 403, 404, 403, 200),
    ("GET", "role_assignment_create", "missing"):        (403, 404, 403, 404, 403, 403, 404, 403, 404),
    # POST gives the user a role in their home environment.
    ("POST", "role_assignment_create", "u_national"):     (403, 302, 403, 404, 403, 403, 404, 403, 404),
    ("POST", "role_assignment_create", "u_province1"):    (403, 302, 403, 302, 403, 403, 404, 403, 302),
    ("POST", "role_assignment_create", "u_province2"):    (403, 302, 403, 404, 403, 403, 302, 403, 404),
    ("POST", "role_assignment_create", "u_department11"): (403, 302, 403, 302, 403, 403, 404, 403, 302),
    ("POST", "role_assignment_create", "missing"):        (403, 404, 403, 404, 403, 403, 404, 403, 404),
    # A user of department 1.1 given a role in province 2: the form refuses (200) whoever may not
    # give roles there, even though they may see the user.
    ("POST", "role_assignment_create", "u_department11+province2"):
                                                    (403, 302, 403, 200, 403, 403, 404, 403, 200),
    # Ending a role: the user must be visible and the role held in the current environment.
    ("GET", "role_assignment_end", "a_province1"):  (403, 200, 403, 200, 403, 403, 404, 403, 200),
    ("GET", "role_assignment_end", "a_province2"):  (403, 200, 403, 404, 403, 403, 200, 403, 404),
    ("GET", "role_assignment_end", "a_national"):   (403, 200, 403, 404, 403, 403, 404, 403, 404),
    ("GET", "role_assignment_end", "a_province1_of_other_user"):
                                                    (403, 404, 403, 404, 403, 403, 404, 403, 404),
    ("GET", "role_assignment_end", "missing"):      (403, 404, 403, 404, 403, 403, 404, 403, 404),
    ("POST", "role_assignment_end", "a_province1"): (403, 302, 403, 302, 403, 403, 404, 403, 302),
    ("POST", "role_assignment_end", "a_province2"): (403, 302, 403, 404, 403, 403, 302, 403, 404),
    ("POST", "role_assignment_end", "a_national"):  (403, 302, 403, 404, 403, 403, 404, 403, 404),
    ("POST", "role_assignment_end", "a_province1_of_other_user"):
                                                    (403, 404, 403, 404, 403, 403, 404, 403, 404),
    ("POST", "role_assignment_end", "missing"):     (403, 404, 403, 404, 403, 403, 404, 403, 404),
    # Acting on an account: system administrators of its home environment or above — and not of
    # an account that also holds a role above their reach (u_province1_national): setting its
    # password would hand them powers they do not have.
    ("GET", "user_block", "u_department11"):        (403, 405, 405, 405, 405, 405, 405, 405, 405),
    ("POST", "user_block", "u_national"):           (403, 302, 403, 404, 404, 404, 404, 404, 404),
    ("POST", "user_block", "u_province1"):          (403, 302, 403, 302, 403, 404, 404, 404, 302),
    ("POST", "user_block", "u_province2"):          (403, 302, 403, 404, 404, 404, 302, 404, 404),
    ("POST", "user_block", "u_department11"):       (403, 302, 403, 302, 403, 403, 404, 404, 302),
    ("POST", "user_block", "u_province1_national"): (403, 302, 403, 403, 403, 404, 404, 404, 302),
    ("POST", "user_block", "missing"):              (403, 404, 404, 404, 404, 404, 404, 404, 404),
    ("GET", "user_unblock", "u_department11"):      (403, 405, 405, 405, 405, 405, 405, 405, 405),
    ("POST", "user_unblock", "u_national"):         (403, 302, 403, 404, 404, 404, 404, 404, 404),
    ("POST", "user_unblock", "u_province1"):        (403, 302, 403, 302, 403, 404, 404, 404, 302),
    ("POST", "user_unblock", "u_province2"):        (403, 302, 403, 404, 404, 404, 302, 404, 404),
    ("POST", "user_unblock", "u_department11"):     (403, 302, 403, 302, 403, 403, 404, 404, 302),
    ("POST", "user_unblock", "u_province1_national"): (403, 302, 403, 403, 403, 404, 404, 404, 302),
    ("POST", "user_unblock", "missing"):            (403, 404, 404, 404, 404, 404, 404, 404, 404),
    ("GET", "user_send_invitation", "u_department11"):  (403, 405, 405, 405, 405, 405, 405, 405, 405),
    ("POST", "user_send_invitation", "u_national"):     (403, 302, 403, 404, 404, 404, 404, 404, 404),
    ("POST", "user_send_invitation", "u_province1"):    (403, 302, 403, 302, 403, 404, 404, 404, 302),
    ("POST", "user_send_invitation", "u_province2"):    (403, 302, 403, 404, 404, 404, 302, 404, 404),
    ("POST", "user_send_invitation", "u_department11"): (403, 302, 403, 302, 403, 403, 404, 404, 302),
    ("POST", "user_send_invitation", "u_province1_national"): (403, 302, 403, 403, 403, 404, 404, 404, 302),
    ("POST", "user_send_invitation", "missing"):        (403, 404, 404, 404, 404, 404, 404, 404, 404),
    ("GET", "user_temporary_password", "u_national"):      (403, 200, 403, 404, 404, 404, 404, 404, 404),
    ("GET", "user_temporary_password", "u_province1"):     (403, 200, 403, 200, 403, 404, 404, 404, 200),
    ("GET", "user_temporary_password", "u_province2"):     (403, 200, 403, 404, 404, 404, 200, 404, 404),
    ("GET", "user_temporary_password", "u_department11"):  (403, 200, 403, 200, 403, 403, 404, 404, 200),
    ("GET", "user_temporary_password", "u_province1_national"): (403, 200, 403, 403, 403, 404, 404, 404, 200),
    ("GET", "user_temporary_password", "missing"):         (403, 404, 404, 404, 404, 404, 404, 404, 404),
    ("POST", "user_temporary_password", "u_national"):     (403, 302, 403, 404, 404, 404, 404, 404, 404),
    ("POST", "user_temporary_password", "u_province1"):    (403, 302, 403, 302, 403, 404, 404, 404, 302),
    ("POST", "user_temporary_password", "u_province2"):    (403, 302, 403, 404, 404, 404, 302, 404, 404),
    ("POST", "user_temporary_password", "u_department11"): (403, 302, 403, 302, 403, 403, 404, 404, 302),
    ("POST", "user_temporary_password", "u_province1_national"): (403, 302, 403, 403, 403, 404, 404, 404, 302),
    ("POST", "user_temporary_password", "missing"):        (403, 404, 404, 404, 404, 404, 404, 404, 404),
    # Two-factor login (tests/tenants/test_two_factor.py). One's own page: every logged-in user.
    # New recovery codes and turning it off need a session verified by the second factor, which
    # none of these (password-only) sessions is.
    ("GET", "two_factor_settings", "-"):                   (200, 200, 200, 200, 200, 200, 200, 200, 200),
    ("POST", "two_factor_recovery_codes", "-"):            (403, 403, 403, 403, 403, 403, 403, 403, 403),
    ("POST", "two_factor_disable", "-"):                   (403, 403, 403, 403, 403, 403, 403, 403, 403),
    # Which roles need it: national's choice.
    ("GET", "two_factor_policy", "-"):                     (403, 200, 403, 403, 403, 403, 403, 403, 200),
    ("POST", "two_factor_policy", "-"):                    (403, 302, 403, 403, 403, 403, 403, 403, 302),
    # Resetting someone's second factor: national system administrators only; the object first.
    ("POST", "user_two_factor_reset", "u_national"):       (403, 302, 403, 404, 404, 404, 404, 404, 404),
    ("POST", "user_two_factor_reset", "u_province1"):      (403, 302, 403, 403, 403, 404, 404, 404, 302),
    ("POST", "user_two_factor_reset", "u_province2"):      (403, 302, 403, 404, 404, 404, 403, 404, 404),
    ("POST", "user_two_factor_reset", "u_department11"):   (403, 302, 403, 403, 403, 403, 404, 404, 302),
    ("POST", "user_two_factor_reset", "u_province1_national"): (403, 302, 403, 403, 403, 404, 404, 404, 302),
    ("POST", "user_two_factor_reset", "missing"):          (403, 404, 404, 404, 404, 404, 404, 404, 404),
}

# Cells where the code answers differently from the oracle: (method, URL name, object, actor) →
# what is wrong. The matrix test skips them; test_it_answers_known_bug_cells_as_the_oracle_says
# holds each one as a strict xfail, so a fix turns it into a failure that says "remove me".
KNOWN_BUGS: dict[tuple[str, str, str, str], str] = {}

# Patterns outside the matrix, each with the reason it needs no role.
PUBLIC = {
    "login": "the way in",
    "logout": "leaving must always work",
    "password_reset": "forgot password: asks for an e-mail address, tells nothing about accounts",
    "password_reset_done": "static confirmation",
    "password_reset_confirm": "guarded by the one-time token in the URL",
    "password_reset_complete": "static confirmation",
    "set_language": "choosing Dutch or English before logging in",
    "login_two_factor": "the second step of the way in: only for the user who passed the password "
    "step in this session, minutes ago (tests/tenants/test_two_factor.py)",
    "two_factor_enrol": "setting up the app: one's own account, or the user who passed the password "
    "step in this session (tests/tenants/test_two_factor.py)",
    "api-v1:openapi-json": "the API's OpenAPI schema: describes the API, holds no data",
    "api-v1:openapi-view": "the API's documentation page (Swagger UI from our static files)",
    "api-v1:api-root": "django-ninja's root of /api/v1/: answers nothing without a token's endpoint",
    "intake_public": "the public intake form of the website: honeypot, rate limit, unguessable address "
    "(tests/memberships/test_intake.py)",
    "health": "for load balancers: which services answer, naming no host, user or secret "
    "(tests/storage/test_health.py)",
}
EXEMPT = {
    "admin": "Django's admin site: staff only, with its own login and model permissions; none of "
    "our roles makes a user staff (test_it_sends_our_users_from_the_admin_to_its_login)",
}

# What a successful POST sends; the request is rolled back afterwards, so every actor meets the
# same data.
TEMPORARY_PASSWORD = "paarse-olifant-op-de-fiets"
NEW_ROLE = {
    "national": "national_member_administrator",
    "province": "province_system_administrator",
    "department": "department_member_administrator",
}


def _post_data(url_name: str, probe: str, objects: dict) -> dict:
    today = datetime.date.today().isoformat()
    if url_name == "switch_environment":
        return {"tenant": objects[probe].pk if probe != "missing" else MISSING_PK, "next": "/"}
    if url_name == "tenant_edit":
        return {
            "name": "Nieuwe naam", "language": "nl", "postal_country": "NL", "billing_country": "NL",
        }
    if url_name == "user_create":
        return {
            "first_name": "Nieuwe", "last_name": "Gebruiker", "email": "nieuw@example.org",
            "username": "NGEBRUIKER", "role": "", "start_date": today,
        }
    if url_name == "role_assignment_create":
        user_key, _, tenant_key = probe.partition("+")
        if user_key == "missing":
            tenant = objects["department11"]
        else:
            tenant = objects[tenant_key] if tenant_key else objects[user_key].tenant
        # A role none of the probed users holds yet there, so success is not an overlap error.
        role = Role.objects.get(code=NEW_ROLE[tenant.kind])
        return {"tenant": tenant.pk, "role": role.pk, "start_date": today, "end_date": ""}
    if url_name == "user_temporary_password":
        return {"new_password1": TEMPORARY_PASSWORD, "new_password2": TEMPORARY_PASSWORD}
    return {}


def _url(url_name: str, probe: str, objects: dict) -> str:
    if url_name in ("home", "password_change", "switch_environment", "user_list", "user_create",
                    "two_factor_settings", "two_factor_recovery_codes", "two_factor_disable", "two_factor_policy"):
        return reverse(url_name)
    if url_name in ("tenant_detail", "tenant_edit", "tenant_logo"):
        pk = MISSING_PK if probe == "missing" else objects[probe].pk
        return reverse(url_name, kwargs={"pk": pk})
    if url_name == "role_assignment_end":
        if probe == "missing":
            user = objects["u_province1"]
            return reverse(url_name, kwargs={"pk": user.pk, "assignment_pk": MISSING_PK})
        assignment = objects[probe]
        user = objects["u_department11"] if probe.endswith("_of_other_user") else assignment.user
        return reverse(url_name, kwargs={"pk": user.pk, "assignment_pk": assignment.pk})
    if probe == "missing":
        return reverse(url_name, kwargs={"pk": MISSING_PK})
    return reverse(url_name, kwargs={"pk": objects[probe.partition("+")[0]].pk})


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2), "green").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def _quiet_refusals(caplog):
    # Every 403 and 404 below is expected; Django logs each with a traceback, which only costs
    # time here.
    caplog.set_level(logging.ERROR, logger="django.request")


@pytest.fixture
def objects(federation) -> dict:
    """The objects the matrix probes: the tenants (each with a logo), a user homed in four of
    them, a user homed in province 1 who holds a national role, and role assignments held in
    province 1, province 2 and the national tenant."""
    png = _png()
    found = {}
    for key, tenant in federation.tenants.items():
        tenant.logo.save("logo.png", ContentFile(png), save=True)
        found[key] = tenant
    for key in ("national", "province1", "province2", "department11"):
        found[f"u_{key}"] = UserFactory(username=f"u_{key}", tenant=federation.tenants[key])
    found["u_province1_national"] = UserFactory(
        username="u_province1_national", tenant=federation.province1
    )
    found["a_province1"] = give_role(
        found["u_province1"], federation.province1, "province_member_administrator"
    )
    found["a_province2"] = give_role(
        found["u_province2"], federation.province2, "province_member_administrator"
    )
    found["a_national"] = give_role(
        found["u_province1_national"], federation.national, "national_system_administrator"
    )
    found["a_province1_of_other_user"] = found["a_province1"]
    return found


def _client_for(federation, actor: str) -> Client:
    client = Client()
    if actor == "anonymous":
        return client
    username, _, environment = actor.partition("@")
    client.force_login(federation.users[username], backend=AUTH_BACKEND)
    if environment:
        session = client.session
        session["tenant_id"] = federation.tenants[environment].pk
        session.save()
    return client


def _state() -> tuple:
    """Everything a state-changing view in the matrix may write."""
    return (
        AuditEvent.objects.count(),
        list(Tenant.objects.order_by("pk").values_list("pk", "name")),
        list(
            User.objects.order_by("pk")
            .values_list("pk", "is_active", "password", "must_change_password")
        ),
        list(RoleAssignment.objects.order_by("pk").values_list("pk", "end_date")),
    )


def _outcome(response) -> int | str:
    if response.status_code == 302 and response.url.startswith(reverse("login")):
        return "login"
    return response.status_code


def _request(client: Client, method: str, url: str, data: dict, state=None):
    """One request, rolled back afterwards so the next actor meets the same data. Returns the
    answer and whether the request changed anything (as `state()` sees it)."""
    state = state or _state
    with transaction.atomic():
        if method == "GET":
            response, changed = client.get(url), False
        else:
            before = state()
            response = client.post(url, data)
            changed = state() != before
        if response.streaming:
            # Reading a streamed answer (the logo) to the end closes its file the way the test
            # client means to; calling close() ourselves would also close the database
            # connection on PostgreSQL.
            b"".join(response.streaming_content)
        transaction.set_rollback(True)
    return _outcome(response), changed


def matrix_failures(method: str, url_name: str, matrix: dict, federation, *, url, data, request=None, state=None,
                    success_without_change=frozenset(), skip=frozenset(), for_actor=None) -> list[str]:
    """Run the rows of `matrix` for one (method, URL name) for every actor, the way the matrix
    tests of every app do: `url(url_name, probe)` and `data(url_name, probe)` build the request,
    `for_actor(data, actor)` may adapt the posted data to the actor; `request(client, method,
    url, data)` answers (outcome, changed), by default `_request` comparing `state()` before and
    after a POST. Cells in `skip` ((method, url_name, probe, actor)) are left to their own test."""
    if request is None:
        def request(client, method, url, data):
            return _request(client, method, url, data, state=state)

    clients = {actor: _client_for(federation, actor) for actor in ("anonymous", *ACTORS)}
    failures = []
    rows = [(probe, row) for (m, u, probe), row in matrix.items() if (m, u) == (method, url_name)]
    for index, (probe, row) in enumerate(rows):
        target = url(url_name, probe)
        payload = data(url_name, probe) if method == "POST" else {}
        anonymous = (("anonymous", "login"),) if index == 0 else ()
        for actor, expected in (*anonymous, *zip(ACTORS, row, strict=True)):
            if (method, url_name, probe, actor) in skip:
                continue
            posted = for_actor(payload, actor) if for_actor else payload
            got, changed = request(clients[actor], method, target, posted)
            where = f"{actor} {method} {target} ({url_name}, {probe})"
            if got != expected:
                failures.append(f"{where}: expected {expected}, got {got}")
            elif method == "POST" and expected != 302 and changed:
                failures.append(f"{where}: answered {got} but changed data")
            elif method == "POST" and expected == 302 and not changed and url_name not in success_without_change:
                failures.append(f"{where}: answered 302 but changed nothing")
    return failures


def test_it_has_one_answer_per_actor_in_every_row():
    for key, row in MATRIX.items():
        assert len(row) == len(ACTORS), key


@pytest.mark.parametrize(
    ("method", "url_name"),
    sorted({(m, u) for m, u, _probe in MATRIX}, key=lambda mu: (mu[1], mu[0])),
    ids=lambda value: value,
)
def test_it_gives_every_user_the_answer_of_the_matrix(method, url_name, federation, objects):
    failures = matrix_failures(
        method, url_name, MATRIX, federation, request=_request, skip=KNOWN_BUGS,
        url=lambda name, probe: _url(name, probe, objects),
        data=lambda name, probe: _post_data(name, probe, objects),
        success_without_change={"switch_environment"},
    )
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    ("method", "url_name", "probe", "actor"),
    [
        pytest.param(*key, marks=pytest.mark.xfail(reason=f"BUG: {reason}", strict=True))
        for key, reason in KNOWN_BUGS.items()
    ]
    or [pytest.param(None, None, None, None, marks=pytest.mark.skip(reason="no known bugs"))],
)
def test_it_answers_known_bug_cells_as_the_oracle_says(
    method, url_name, probe, actor, federation, objects
):
    expected = MATRIX[(method, url_name, probe)][ACTORS.index(actor)]
    client = _client_for(federation, actor)
    url = _url(url_name, probe, objects)
    data = _post_data(url_name, probe, objects) if method == "POST" else {}
    got, _changed = _request(client, method, url, data)
    assert got == expected


def test_it_lets_a_national_user_see_other_branches_only_from_the_national_environment(
    federation, objects
):
    # The same national system administrator, two environments: what is outside the current one
    # answers 404 even though the user may switch there.
    at_home = _client_for(federation, "national_sb")
    in_province1 = _client_for(federation, "national_sb@province1")
    url = reverse("tenant_detail", kwargs={"pk": federation.province2.pk})
    assert _request(at_home, "GET", url, {})[0] == 200
    assert _request(in_province1, "GET", url, {})[0] == 404


def test_it_falls_back_to_the_own_environment_when_the_session_points_elsewhere(
    federation, objects
):
    # A session naming an environment outside the user's reach (e.g. after a role ended) must not
    # open it: the user is back in their own environment.
    client = _client_for(federation, "province_sb")
    session = client.session
    session["tenant_id"] = federation.province2.pk
    session.save()
    other = reverse("tenant_detail", kwargs={"pk": federation.province2.pk})
    own = reverse("tenant_detail", kwargs={"pk": federation.province1.pk})
    assert _request(client, "GET", other, {})[0] == 404
    assert _request(client, "GET", own, {})[0] == 200


# --- completeness ------------------------------------------------------------------------------


def _pattern_names(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == admin_site.name:
                yield pattern.namespace
                continue
            namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            yield from _pattern_names(pattern.url_patterns, namespace)
        elif isinstance(pattern, URLPattern):
            yield f"{prefix}{pattern.name}" if pattern.name else f"<unnamed {pattern.pattern}>"


def _all_matrices() -> dict:
    """This module's MATRIX and those of the other apps' access-matrix tests."""
    from ..api.test_access_matrix import MATRIX as API_SCREENS_MATRIX
    from ..api.test_access_matrix import TOKEN_MATRIX as API_MATRIX
    from ..billing.test_access_matrix import MATRIX as BILLING_MATRIX
    from ..dashboard.test_access_matrix import MATRIX as DASHBOARD_MATRIX
    from ..imports.test_access_matrix import MATRIX as IMPORTS_MATRIX
    from ..intake.test_access_matrix import MATRIX as INTAKE_MATRIX
    from ..ledenmodule.test_access_matrix import MATRIX as LEDENMODULE_MATRIX
    from ..notifications.test_access_matrix import MATRIX as NOTIFICATIONS_MATRIX
    from ..portal.test_access_matrix import MATRIX as PORTAL_MATRIX
    from ..quality.test_access_matrix import MATRIX as QUALITY_MATRIX
    from ..relations.test_access_matrix import MATRIX as RELATIONS_MATRIX
    from ..wizards.test_access_matrix import MATRIX as WIZARDS_MATRIX

    return {
        **MATRIX, **RELATIONS_MATRIX, **LEDENMODULE_MATRIX, **INTAKE_MATRIX, **NOTIFICATIONS_MATRIX,
        **WIZARDS_MATRIX, **QUALITY_MATRIX, **IMPORTS_MATRIX, **BILLING_MATRIX, **PORTAL_MATRIX,
        **API_SCREENS_MATRIX, **API_MATRIX, **DASHBOARD_MATRIX,
    }


def test_it_knows_every_url_pattern():
    names = set(_pattern_names(get_resolver().url_patterns))
    covered = {url_name for _method, url_name, _probe in _all_matrices()}
    unknown = sorted(names - covered - set(PUBLIC) - set(EXEMPT))
    assert not unknown, (
        "URL patterns in neither an access matrix nor the public allow-list "
        f"(add them to MATRIX in tests/<app>/test_access_matrix.py): {', '.join(unknown)}"
    )
    stale = sorted((covered | set(PUBLIC) | set(EXEMPT)) - names)
    assert not stale, f"Entries for URL patterns that no longer exist: {', '.join(stale)}"
    assert not covered & set(PUBLIC), "A URL is both public and in the matrix"


def test_it_keeps_post_rows_for_every_state_changing_view():
    # Views that change data must be probed with POST, not only GET.
    posted = {url_name for method, url_name, _probe in MATRIX if method == "POST"}
    state_changing = {
        "switch_environment", "tenant_edit", "user_create", "role_assignment_create",
        "role_assignment_end", "user_block", "user_unblock", "user_send_invitation",
        "user_temporary_password",
    }
    assert state_changing <= posted


PUBLIC_CHECKS = [
    # (URL name, kwargs, method, data, expected status, expected redirect target or None)
    ("login", {}, "GET", {}, 200, None),
    ("logout", {}, "GET", {}, 405, None),
    ("logout", {}, "POST", {}, 302, "login"),
    ("password_reset", {}, "GET", {}, 200, None),
    ("password_reset_done", {}, "GET", {}, 200, None),
    # A made-up link shows the "invalid link" page and changes nothing.
    ("password_reset_confirm", {"uidb64": "MQ", "token": "not-a-token"}, "GET", {}, 200, None),
    ("password_reset_complete", {}, "GET", {}, 200, None),
    ("set_language", {}, "POST", {"language": "en", "next": "/"}, 302, "home"),
    # No login asked; an address no form has is simply not found.
    ("intake_public", {"slug": "bestaat-niet"}, "GET", {}, 404, None),
    ("api-v1:openapi-json", {}, "GET", {}, 200, None),
    ("api-v1:openapi-view", {}, "GET", {}, 200, None),
    ("api-v1:api-root", {}, "GET", {}, 404, None),
    # Without the password step in this session: back to the login page, nothing shown.
    ("login_two_factor", {}, "GET", {}, 302, "login"),
    ("login_two_factor", {}, "POST", {"code": "123456"}, 302, "login"),
    ("two_factor_enrol", {}, "GET", {}, 302, "login"),
    ("two_factor_enrol", {}, "POST", {"code": "123456"}, 302, "login"),
    ("health", {}, "GET", {}, 200, None),
]


@pytest.mark.parametrize(
    ("url_name", "kwargs", "method", "data", "status", "target"),
    PUBLIC_CHECKS,
    ids=[f"{c[2]} {c[0]}" for c in PUBLIC_CHECKS],
)
def test_it_serves_public_pages_to_anonymous_visitors(
    client, db, url_name, kwargs, method, data, status, target
):
    url = reverse(url_name, kwargs=kwargs)
    response = client.get(url) if method == "GET" else client.post(url, data)
    assert response.status_code == status
    if target is not None:
        assert response.url == reverse(target)


def test_it_checks_every_public_page():
    assert {check[0] for check in PUBLIC_CHECKS} == set(PUBLIC)


def test_it_sends_our_users_from_the_admin_to_its_login(federation):
    index = reverse("admin:index")
    admin_login = reverse("admin:login")
    for actor in ("anonymous", *ACTORS):
        response = _client_for(federation, actor).get(index)
        assert response.status_code == 302, actor
        assert response.url.startswith(f"{admin_login}?next="), actor


def test_it_answers_no_server_error_to_hostile_parameters_on_any_page(federation, objects):
    # tests/fuzz.py builds on this module's actors and clients, so it is imported here, not above.
    from ..fuzz import hostile_get_failures

    failures = hostile_get_failures(MATRIX, federation, url=lambda name, probe: _url(name, probe, objects))
    assert not failures, "\n".join(failures)
