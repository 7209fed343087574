"""The words code uses for the tenant tree (`Tenant.subtree_filter` and friends), held to their
meaning in the test federation — compared with the parent links the tree was built from, not
with the materialised path they are computed from — and to the SQL the indexes rely on."""

from __future__ import annotations

import pytest
from django.db import connection

from relations.models import Relation
from tenants.models import RoleAssignment, Tenant

from ..factories import give_role

pytestmark = pytest.mark.django_db


def _above(tenant: Tenant) -> list[Tenant]:
    """The tenant and its ancestors by parent links, root first: the oracle."""
    chain = [tenant]
    while (parent := Tenant.objects.get_parent(chain[0])) is not None:
        chain.insert(0, parent)
    return chain


def test_it_knows_for_every_pair_whether_one_lies_within_the_other(federation):
    tenants = list(Tenant.objects.all())
    for tenant in tenants:
        below = {t.pk for t in tenants if tenant.pk in {a.pk for a in _above(t)}}

        assert set(Tenant.objects.subtree(tenant).values_list("pk", flat=True)) == below, tenant.name
        assert set(Tenant.objects.filter(tenant.subtree_filter()).values_list("pk", flat=True)) == below
        assert set(Tenant.objects.subtree_at(tenant.path).values_list("pk", flat=True)) == below
        assert {t.pk for t in tenants if t.is_within(tenant)} == below
        assert {t.pk for t in Tenant.objects.children_of(tenant)} == {t.pk for t in Tenant.objects.get_children(tenant)}


def test_it_names_the_steps_up_the_tree(federation):
    for tenant in Tenant.objects.all():
        chain = _above(tenant)

        assert tenant.ancestor_paths() == [t.path for t in chain]
        assert tenant.root_path == federation.national.path
        assert tenant.parent_path == (chain[-2].path if len(chain) > 1 else "")
        assert Tenant.depth_of(tenant.path) == tenant.depth == len(chain)
    assert federation.department21.province_path == federation.province2.path
    assert federation.province1.province_path == federation.province1.path
    assert federation.national.province_path == federation.national.path


def test_it_filters_related_rows_on_the_subtree_of_one_or_several_tenants(federation):
    give_role(federation.outsider, federation.department21, "department_member_administrator")
    province2 = federation.province2.subtree_filter("tenant")

    assert set(RoleAssignment.objects.filter(province2).values_list("tenant", flat=True)) == {
        federation.province2.pk, federation.department21.pk,
    }
    both = Tenant.subtrees_filter([federation.department11.path, federation.department21.path], "tenant")
    assert set(RoleAssignment.objects.filter(both).values_list("tenant", flat=True)) == {
        federation.department11.pk, federation.department21.pk,
    }
    assert not RoleAssignment.objects.filter(Tenant.subtrees_filter([], "tenant")).exists()


def test_it_filters_the_subtree_with_an_indexable_prefix_match(federation):
    sql = str(Relation.objects.filter(federation.province1.subtree_filter("tenant")).query)
    tenants = str(Tenant.objects.subtree(federation.province1).query)

    # `LIKE 'prefix%'`, the shape the path index serves (no UPPER(), no match in the middle).
    for text in (sql, tenants):
        assert "LIKE" in text and f"{federation.province1.path}%" in text, text
        assert "UPPER" not in text and f"%{federation.province1.path}" not in text
    if connection.vendor == "postgresql":
        assert '"tenants_tenant"."path"::text LIKE' in tenants
