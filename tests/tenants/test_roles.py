"""Roles and role assignments: national-only powers, permissions along the tenant chain,
assignment dates, and the rules of giving and taking away a role."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tenants import services
from tenants.access import can_enter, forget_grants
from tenants.models import Role, RoleAssignment, TenantKind
from tenants.roles import BUILTIN_ROLES, NATIONAL_ONLY

from ..factories import UserFactory, give_role

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()
YESTERDAY = TODAY - datetime.timedelta(days=1)
TOMORROW = TODAY + datetime.timedelta(days=1)
LONG_AGO = TODAY - datetime.timedelta(days=60)


def perms_of(role: Role) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in role.permissions.all()}


# --- the built-in roles and national-only powers -----------------------------------------------


def test_it_creates_every_builtin_role_on_migrate(db):
    codes = set(Role.objects.filter(is_builtin=True).values_list("code", flat=True))

    assert codes == {definition.code for definition in BUILTIN_ROLES}
    for definition in BUILTIN_ROLES:
        role = Role.objects.get(code=definition.code)
        assert role.tenant_kind == definition.tenant_kind
        assert perms_of(role) == set(definition.permissions)


def test_it_gives_national_only_powers_to_national_roles_alone(db):
    assert NATIONAL_ONLY
    for role in Role.objects.prefetch_related("permissions__content_type"):
        carried = perms_of(role) & NATIONAL_ONLY
        if role.tenant_kind != TenantKind.NATIONAL:
            assert not carried, f"{role.code} ({role.tenant_kind}) carries {sorted(carried)}"
    national_sb = Role.objects.get(code="national_system_administrator")
    assert perms_of(national_sb) >= NATIONAL_ONLY


def test_it_refuses_national_only_powers_to_a_province_administrator(federation):
    for perm in NATIONAL_ONLY:
        assert not federation.province_sb.has_perm(perm, federation.province1), perm
        assert not federation.province_sb.has_perm(perm, federation.department11), perm
    assert federation.national_sb.has_perm("tenants.add_tenant", federation.province1)


# --- has_perm along the tenant chain -----------------------------------------------------------


def test_it_grants_a_role_on_the_tenant_and_everything_below_it(federation):
    province_sb = federation.province_sb

    assert province_sb.has_perm("tenants.change_user", federation.province1)
    assert province_sb.has_perm("tenants.change_user", federation.department11)
    assert province_sb.has_perm("tenants.change_user", federation.department12)
    assert not province_sb.has_perm("tenants.change_user", federation.province2)
    assert not province_sb.has_perm("tenants.change_user", federation.department21)
    assert not province_sb.has_perm("tenants.change_user", federation.national)


def test_it_answers_permissions_about_a_user_through_their_home_environment(federation):
    assert federation.province_sb.has_perm("tenants.change_user", federation.department_la)
    assert not federation.province_sb.has_perm("tenants.change_user", federation.department21_la)
    assert federation.national_sb.has_perm("tenants.change_user", federation.department21_la)


def test_it_grants_a_member_administrator_no_system_administration(federation):
    assert federation.province_la.has_perm("tenants.view_tenant", federation.department11)
    assert not federation.province_la.has_perm("tenants.change_tenant", federation.province1)
    assert not federation.province_la.has_perm("tenants.view_user", federation.province1)


def test_it_grants_nothing_to_a_user_without_a_role(federation):
    outsider = federation.outsider
    for tenant in federation.tenants.values():
        assert not outsider.has_perm("tenants.view_tenant", tenant)
        assert not can_enter(outsider, tenant)


# --- assignment dates --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end"),
    [(TOMORROW, None), (LONG_AGO, YESTERDAY)],
    ids=["starts-tomorrow", "ended-yesterday"],
)
def test_it_grants_nothing_outside_the_assignment_dates(federation, login, start, end):
    user = UserFactory(username="gedateerd", tenant=federation.department11)
    give_role(user, federation.department11, "department_member_administrator", start, end)

    assert not user.has_perm("tenants.view_tenant", federation.department11)
    assert not can_enter(user, federation.department11)
    client = login(user)
    home = client.get("/")
    assert home.status_code == 200
    assert home.wsgi_request.tenant is None
    assert b'data-testid="current-environment"' not in home.content
    assert client.post("/environment/", {"tenant": federation.department11.pk}).status_code == 404
    assert client.get(f"/environments/{federation.department11.pk}/").status_code == 403


def test_it_still_grants_on_the_day_before_the_end_date(federation, login):
    user = UserFactory(username="laatstedag", tenant=federation.department11)
    give_role(user, federation.department11, "department_member_administrator", LONG_AGO, TODAY + datetime.timedelta(days=1))

    assert user.has_perm("tenants.view_tenant", federation.department11)
    assert can_enter(user, federation.department11)
    home = login(user).get("/", follow=True)
    assert home.wsgi_request.tenant == federation.department11
    assert b'data-testid="current-environment">Afdeling 1.1<' in home.content


def test_it_grants_from_the_first_day_of_an_assignment(federation):
    user = UserFactory(username="eerstedag", tenant=federation.department11)
    give_role(user, federation.department11, "department_member_administrator", TODAY)

    assert user.has_perm("tenants.view_tenant", federation.department11)


# --- giving a role (service) -------------------------------------------------------------------


def give(federation, *, tenant_key="department11", role_code="department_member_administrator",
         start=TODAY, end=None, user=None):
    return services.role_assignment_create(
        actor=federation.province_sb,
        user=user or federation.outsider,
        tenant=federation.tenants[tenant_key],
        role=Role.objects.get(code=role_code),
        start_date=start,
        end_date=end,
    )


def test_it_gives_a_role_that_grants_at_once(federation):
    outsider = federation.outsider
    assert not outsider.has_perm("tenants.view_tenant", federation.department11)

    give(federation)

    assert outsider.has_perm("tenants.view_tenant", federation.department11)


def test_it_refuses_a_role_for_another_kind_of_environment(federation):
    with pytest.raises(ValidationError) as raised:
        give(federation, tenant_key="department11", role_code="province_system_administrator")

    assert "role" in raised.value.message_dict
    assert not RoleAssignment.objects.filter(user=federation.outsider).exists()


def test_it_refuses_an_end_date_before_the_start_date(federation):
    with pytest.raises(ValidationError):
        give(federation, start=TODAY, end=YESTERDAY)

    assert not RoleAssignment.objects.filter(user=federation.outsider).exists()


def test_it_keeps_the_end_before_start_rule_in_the_database(federation):
    role = Role.objects.get(code="department_member_administrator")

    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(
            user=federation.outsider, tenant=federation.department11, role=role,
            start_date=TODAY, end_date=YESTERDAY,
        )


@pytest.mark.parametrize(
    ("start", "end"),
    [(TODAY, None), (TOMORROW, TOMORROW), (LONG_AGO, TODAY)],
    ids=["open-ended", "future-inside", "ending-inside"],
)
def test_it_refuses_an_overlapping_duplicate(federation, start, end):
    give(federation, start=LONG_AGO)

    with pytest.raises(ValidationError) as raised:
        give(federation, start=start, end=end)

    assert "role" in raised.value.message_dict
    assert RoleAssignment.objects.filter(user=federation.outsider).count() == 1


def test_it_allows_the_same_role_again_after_the_last_one_ended(federation):
    give(federation, start=LONG_AGO, end=YESTERDAY)

    give(federation, start=TODAY)

    assert RoleAssignment.objects.filter(user=federation.outsider).count() == 2
    assert federation.outsider.has_perm("tenants.view_tenant", federation.department11)


# --- taking a role away (service) --------------------------------------------------------------


def test_it_grants_nothing_on_the_end_date(federation):
    user = UserFactory(username="einddatum", tenant=federation.department11)
    give_role(user, federation.department11, "department_member_administrator", LONG_AGO, TODAY)

    assert not user.has_perm("tenants.view_tenant", federation.department11)
    assert not can_enter(user, federation.department11)


def test_it_ends_a_started_assignment_today_and_keeps_the_other_role(federation):
    user = federation.department_la
    other = give(federation, user=user, tenant_key="department12", start=LONG_AGO)
    assignment = RoleAssignment.objects.get(user=user, tenant=federation.department11)

    services.role_assignment_end(actor=federation.province_sb, assignment=assignment)

    assignment.refresh_from_db()
    assert assignment.end_date == TODAY
    other.refresh_from_db()
    assert other.end_date is None
    forget_grants(user)
    assert not user.has_perm("tenants.view_tenant", federation.department11)
    assert user.has_perm("tenants.view_tenant", federation.department12)


@pytest.mark.parametrize("start", [TODAY, TOMORROW], ids=["starts-today", "starts-tomorrow"])
def test_it_deletes_an_assignment_that_started_today_or_later(federation, start):
    assignment = give(federation, start=start)

    services.role_assignment_end(actor=federation.province_sb, assignment=assignment)

    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()
    forget_grants(federation.outsider)
    assert not federation.outsider.has_perm("tenants.view_tenant", federation.department11)
