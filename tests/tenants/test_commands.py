"""Management commands: the demo federation and the role × permission matrix."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import translation

from tenants.models import Role, RoleAssignment, Tenant, TenantKind, User
from tenants.roles import BUILTIN_ROLES, NATIONAL_ONLY

pytestmark = pytest.mark.django_db


def run(command: str, *args) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {
        "tenants": Tenant.objects.count(),
        "users": User.objects.count(),
        "assignments": RoleAssignment.objects.count(),
    }


# --- seed_demo ---------------------------------------------------------------------------------


def test_it_seeds_a_federation_of_twelve_provinces_with_departments(db):
    run("seed_demo")

    national = Tenant.objects.get(kind=TenantKind.NATIONAL)
    provinces = list(Tenant.objects.filter(kind=TenantKind.PROVINCE))
    assert len(provinces) == 12
    for province in provinces:
        assert province.depth == 2 and province.is_within(national)
        departments = Tenant.objects.children_of(province)
        assert departments.count() >= 5, province.name
        assert {d.kind for d in departments} == {TenantKind.DEPARTMENT}
    assert not Tenant.objects.filter(depth__gt=3).exists()
    # Five administrators, one per role, and one member with a portal login (no role).
    assert User.objects.count() == 6
    assert User.objects.filter(role_assignments__isnull=True).count() == 1
    for user in User.objects.filter(role_assignments__isnull=False):
        # One current role each, in the environment the user is homed in.
        assignment = RoleAssignment.objects.get(user=user)
        assert assignment.tenant == user.tenant
        assert assignment.role.tenant_kind == user.tenant.kind
        assert assignment.end_date is None


def test_it_seeds_the_same_federation_when_run_twice(db):
    run("seed_demo")
    first = counts()
    environments = set(Tenant.objects.values_list("pk", "path", "name"))

    run("seed_demo")

    assert counts() == first
    assert set(Tenant.objects.values_list("pk", "path", "name")) == environments


def test_it_lets_the_demo_users_log_in_with_the_printed_password(db):
    output = run("seed_demo")
    match = re.search(r"(?:Wachtwoord|Password): (\S+)", output)
    assert match, output
    password = match.group(1)

    users = list(User.objects.all())
    assert len(users) == 6  # five administrators and the member with a portal login
    for user in users:
        # Administrators are printed by login name, the portal member by e-mail address.
        name = user.username if user.username in output else user.email
        assert name in output
        client = Client()
        response = client.post("/accounts/login/", {"username": name, "password": password})
        assert response.status_code == 302, user.username
        home = client.get("/")
        assert home.wsgi_request.user == user
        if user.role_assignments.exists():
            assert home.wsgi_request.tenant == user.tenant, user.username
        else:
            assert home.url == "/portal/"  # a member's login goes to the portal


def test_it_seeds_with_a_chosen_password(db):
    output = run("seed_demo", "--password", "een-ander-demo-wachtwoord")

    assert "een-ander-demo-wachtwoord" in output
    assert User.objects.get(username="landelijk.sb").check_password("een-ander-demo-wachtwoord")


# --- role_matrix -------------------------------------------------------------------------------


def matrix_lines(output: str) -> dict[str, str]:
    """The permission rows of the matrix, keyed by the dotted permission name."""
    rows = {}
    for line in output.splitlines():
        match = re.match(r"^(\w+\.\w+)\s", line)
        if match:
            rows[match.group(1)] = line
    return rows


def test_it_names_every_builtin_role_in_the_matrix(db):
    with translation.override("en"):
        output = run("role_matrix")
        labels = [str(definition.label) for definition in BUILTIN_ROLES]

    for label in labels:
        assert label in output
    assert Role.objects.filter(is_builtin=True).count() == len(labels)


def test_it_marks_the_national_only_permissions_in_the_matrix(db):
    with translation.override("en"):
        output = run("role_matrix")
    rows = matrix_lines(output)

    assert rows.keys() >= NATIONAL_ONLY
    for perm, line in rows.items():
        assert ("(national only)" in line) == (perm in NATIONAL_ONLY), line


def test_it_marks_which_role_holds_which_permission(db):
    with translation.override("en"):
        output = run("role_matrix")
    rows = matrix_lines(output)
    roles = list(Role.objects.order_by("tenant_kind", "name"))

    for perm, line in rows.items():
        cells = re.findall(r" (x|\.) ", line[len(perm):])[: len(roles)]
        app_label, codename = perm.split(".")
        expected = [
            "x" if role.permissions.filter(content_type__app_label=app_label, codename=codename).exists()
            else "."
            for role in roles
        ]
        assert cells == expected, line
