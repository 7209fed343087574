"""Which relations an environment shows (ARCHITECTURE "Tenancy and access"): relations homed in
its subtree and "guests" — relations homed elsewhere with a current function in it. Guests are
found through `Function.outside_home`, a flag derived from the function's and the home's tenant;
these tests hold the flag to its definition wherever it is written, and the lists to an oracle
computed from the functions themselves."""

from __future__ import annotations

import datetime
import importlib

import pytest
from django.db import connection

from demo import relations as demo
from memberships.models import Function, FunctionType
from memberships.services import function_end, member_transfer
from relations import querysets
from relations.access import relation_opens
from relations.models import Relation
from relations.querysets import EnvironmentScope
from tenants.models import Tenant

from ..factories import give_function, make_relation
from ..tenants.test_access_matrix import ACTORS

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()
MARK_OUTSIDE_HOME = importlib.import_module("memberships.migrations.0003_function_outside_home").MARK_OUTSIDE_HOME


def flags() -> dict[int, bool]:
    return dict(Function.objects.values_list("pk", "outside_home"))


def oracle_flags() -> dict[int, bool]:
    """The definition: held outside the home and every tenant above it."""
    return {
        f.pk: not f.relation.tenant.path.startswith(f.tenant.path)
        for f in Function.objects.select_related("relation__tenant", "tenant")
    }


def oracle_visible(environment) -> set[int]:
    """Relations homed in the environment's subtree or with a function there running today."""
    def inside(tenant) -> bool:
        return tenant.path.startswith(environment.path)

    shown = set()
    for relation in Relation.objects.select_related("tenant").prefetch_related("functions__tenant"):
        if inside(relation.tenant) or any(inside(f.tenant) and f.is_active_on(TODAY) for f in relation.functions.all()):
            shown.add(relation.pk)
    return shown


@pytest.fixture
def world(federation):
    """Members in every department; guests across a department, across provinces, and one whose
    function in another branch has ended; a province board member (held above the home)."""
    f = federation
    found = {key: make_relation(f.tenants[key]) for key in ("department11", "department12", "department21")}
    found["guest_d12"] = make_relation(f.department11, last_name="Buurman")
    give_function(found["guest_d12"], f.department12, "department_board_member")
    found["guest_p2"] = make_relation(f.department11, last_name="Verre")
    give_function(found["guest_p2"], f.department21, "department_secretary")
    found["former"] = make_relation(f.department21, last_name="Vroeger")
    Function.objects.create(
        relation=found["former"], tenant=f.department11, function_type=FunctionType.objects.get(code="department_chair"),
        start_date=TODAY - datetime.timedelta(days=300), end_date=TODAY - datetime.timedelta(days=1),
    )
    found["province_board"] = make_relation(f.department12, last_name="Bestuur")
    give_function(found["province_board"], f.province1, "province_board_member")
    return found


def test_it_marks_only_functions_held_outside_the_home_and_above_it(federation, world):
    assert flags() == oracle_flags()
    marked = Function.objects.filter(outside_home=True)
    assert set(marked.values_list("relation__last_name", flat=True)) == {"Buurman", "Verre", "Vroeger"}


def test_it_marks_functions_again_when_the_home_moves(federation, world):
    guest = world["guest_d12"]
    membership = guest.functions.get(function_type__code="department_member")

    member_transfer(actor=federation.national_sb, function=membership, to_department=federation.department12, date=TODAY)

    assert flags() == oracle_flags()
    board = guest.functions.get(function_type__code="department_board_member")
    old = guest.functions.get(pk=membership.pk)
    assert (board.outside_home, old.outside_home) == (False, True)


def test_it_keeps_the_mark_when_a_function_is_ended_or_saved_with_some_fields(federation, world):
    board = Function.objects.get(relation=world["guest_p2"], function_type__code="department_secretary")
    function_end(actor=federation.national_sb, function=board, end_date=TODAY)
    board.refresh_from_db()
    board.cancellation_note = "Verhuisd"
    board.save(update_fields=["cancellation_note"])

    assert flags() == oracle_flags()


def test_its_migration_marks_existing_rows_as_the_definition_says(federation, world):
    Function.objects.update(outside_home=False)

    with connection.cursor() as cursor:
        cursor.execute(MARK_OUTSIDE_HOME)

    assert flags() == oracle_flags()


def test_the_demo_loader_marks_its_rows_as_the_definition_says(federation):
    demo.populate(300, rng_seed=11, national=federation.national)

    assert flags() == oracle_flags()
    assert Function.objects.filter(outside_home=True, end_date__isnull=True).exists()  # current guests


@pytest.mark.parametrize("environment", ["province1", "province2", "department11", "department12", "department21"])
def test_it_shows_an_environment_the_relations_of_the_oracle(federation, world, environment):
    tenant = federation.tenants[environment]
    user = federation.national_sb

    shown = set(Relation.objects.visible_to(user, tenant).values_list("pk", flat=True))

    assert shown == oracle_visible(tenant)


def test_it_shows_guests_in_the_branch_where_they_hold_the_function(federation, world):
    department12 = set(Relation.objects.visible_to(federation.national_sb, federation.department12))
    province2 = set(Relation.objects.visible_to(federation.province2_sb, federation.province2))

    assert world["guest_d12"] in department12
    assert world["guest_p2"] in province2
    assert world["former"] not in set(Relation.objects.visible_to(federation.province_sb, federation.province1))
    assert world["province_board"] not in province2


def test_it_finds_the_same_members_on_a_date_with_and_without_the_environment_just_read(federation, world):
    tenant = federation.province1
    day = TODAY - datetime.timedelta(days=10)
    cold = set(Relation.objects.members_on(day, tenant).values_list("pk", flat=True))
    visible = Relation.objects.visible_to(federation.province_sb, tenant)  # reads the subtree
    scope = visible.environment_scope
    warm = set((visible & Relation.objects.members_on(day, tenant, scope=scope)).values_list("pk", flat=True))
    chained = set(visible.members_on(day, scope=scope).values_list("pk", flat=True))

    expected = {
        f.relation_id for f in Function.objects.select_related("tenant", "function_type")
        if f.function_type.counts_as_membership and f.is_active_on(day) and f.tenant.path.startswith(tenant.path)
    }
    assert cold == expected
    assert warm == chained == expected & set(visible.values_list("pk", flat=True))
    assert tenant.__dict__.keys() == Tenant.objects.get(pk=tenant.pk).__dict__.keys()  # nothing stuck on it


def test_it_refuses_a_scope_read_for_another_environment(federation, world):
    scope = Relation.objects.visible_to(federation.national_sb, federation.province2).environment_scope

    with pytest.raises(ValueError):
        Relation.objects.members_on(TODAY, federation.province1, scope=scope)


@pytest.mark.parametrize("environment", ["province1", "department12", "department21"])
def test_it_shows_the_same_relations_when_guests_are_too_many_to_list(federation, world, environment, monkeypatch):
    monkeypatch.setattr(querysets, "GUEST_LIST_LIMIT", 0)  # look guests up in a subquery instead
    tenant = federation.tenants[environment]

    shown = set(Relation.objects.visible_to(federation.national_sb, tenant).values_list("pk", flat=True))

    assert shown == oracle_visible(tenant)


# --- one definition of who may open a relation: the object check and the lists agree ------------


def _actor(federation, actor: str):
    """A user of the access matrix and the environment they work in: "name@tenant" works in
    that tenant, anyone else in the highest tenant of their roles (None: they hold none)."""
    name, _sep, environment = actor.partition("@")
    user = federation.users[name]
    if environment:
        return user, federation.tenants[environment]
    assignment = user.role_assignments.select_related("tenant").order_by("tenant__path").first()
    return user, assignment.tenant if assignment else None


@pytest.mark.parametrize("actor", ACTORS)
def test_the_object_check_agrees_with_visible_to_for_every_relation_and_environment(federation, world, actor):
    user, own = _actor(federation, actor)
    relations = list(Relation.objects.select_related("tenant"))
    assert len(relations) == len(world)

    for environment in [None, *Tenant.objects.all()]:
        shown = set(Relation.objects.visible_to(user, environment).values_list("pk", flat=True))
        opens = {r.pk for r in relations if relation_opens(user, environment, r)}
        assert opens == shown, (actor, environment)
    # In their own environment both match the oracle (or show nothing to one without the power).
    if own is not None and user.has_perm("relations.view_relation", own):
        assert {r.pk for r in relations if relation_opens(user, own, r)} == oracle_visible(own)
    else:
        assert not any(relation_opens(user, own, r) for r in relations)


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("perm", ["relations.view_relation", "relations.change_relation"])
def test_has_perm_on_a_relation_is_granted_where_an_environment_that_shows_it_grants_it(
    federation, world, actor, perm
):
    user, _own = _actor(federation, actor)
    environments = list(Tenant.objects.all())

    for relation in Relation.objects.select_related("tenant"):
        expected = any(
            user.has_perm(perm, environment)
            and Relation.objects.visible_to(user, environment).filter(pk=relation.pk).exists()
            for environment in environments
        )
        assert user.has_perm(perm, relation) is expected, (actor, relation.last_name)


def test_a_guest_opens_for_the_administrators_of_the_branch_where_it_holds_its_function(federation, world):
    guest = world["guest_p2"]  # homed in department 11, secretary in department 21

    assert relation_opens(federation.department21_la, federation.department21, guest)
    assert federation.department21_la.has_perm("relations.view_relation", guest)
    assert not relation_opens(federation.department21_la, federation.department21, world["department11"])
    # The former chairman of department 11 (homed in department 21) no longer opens there.
    assert not relation_opens(federation.department_la, federation.department11, world["former"])
    assert not federation.department_la.has_perm("relations.view_relation", world["former"])


def test_visible_to_reads_the_environment_in_one_query_and_sends_literal_lists(
    federation, world, django_assert_num_queries
):
    user = federation.province_sb
    assert user.has_perm("relations.view_relation", federation.province1)  # the grants, loaded once

    with django_assert_num_queries(1) as captured:
        visible = Relation.objects.visible_to(user, federation.province1)
    assert "UNION ALL" in captured.captured_queries[0]["sql"]
    scope = visible.environment_scope
    assert scope == EnvironmentScope.read(federation.province1, TODAY)
    assert scope.guest_ids == [world["guest_d12"].pk]  # held outside its home, inside the province
    assert set(scope.tenant_ids) == set(Tenant.objects.subtree(federation.province1).values_list("pk", flat=True))
    assert set(scope.membership_kind_ids) == set(FunctionType.objects.memberships().values_list("pk", flat=True))
    where = str(visible.query).split("WHERE", 1)[1]
    assert "IN (" in where and "SELECT" not in where


def test_visible_to_and_the_object_check_use_every_registered_guest_source(federation, world, monkeypatch):
    # A second source, as another app could register one: a chairman stays a guest after the end.
    chairs = lambda day: Function.objects.filter(function_type__code="department_chair")  # noqa: E731
    monkeypatch.setattr(querysets, "_guest_sources", [*querysets._guest_sources, chairs])
    former = world["former"]

    assert former in Relation.objects.visible_to(federation.national_sb, federation.department11)
    assert relation_opens(federation.department_la, federation.department11, former)
    assert federation.department_la.has_perm("relations.view_relation", former)
    monkeypatch.setattr(querysets, "GUEST_LIST_LIMIT", 0)
    assert former in Relation.objects.visible_to(federation.national_sb, federation.department11)


def test_the_environment_is_read_anew_with_a_query_compiled_once(federation, monkeypatch):
    """`EnvironmentScope.read` keeps the SQL it compiled for an environment and day, not what the
    query found: a guest who arrives between two reads is in the second."""
    compiled = []
    original = querysets._guests
    monkeypatch.setattr(querysets, "_guests", lambda *args: compiled.append(args) or original(*args))
    querysets._scope_queries.clear()
    guest = make_relation(federation.department21, last_name="Gast")
    first = EnvironmentScope.read(federation.province1, TODAY)
    give_function(guest, federation.department11, "department_board_member")
    second = EnvironmentScope.read(federation.province1, TODAY)
    assert guest.pk not in first.guest_ids and guest.pk in second.guest_ids
    assert len(compiled) == 1
    assert EnvironmentScope.read(federation.province2, TODAY).tenant_ids != second.tenant_ids
    assert len(compiled) == 2  # another environment: compiled for it
