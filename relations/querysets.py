"""Reads of relations, scoped to what a user may see in an environment."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Exists, OuterRef

if TYPE_CHECKING:
    from tenants.models import Tenant, User


# Above this many guests (see `_subtree_and_guests`) they are looked up in a subquery instead of
# being sent as a list.
GUEST_LIST_LIMIT = 10_000
HOME, GUEST, MEMBERSHIP = 1, 2, 3


def _subtree_and_guests(tenant: Tenant) -> tuple[list[int], list[int]]:
    """In one query: the ids of `tenant`'s subtree, and of the relations homed elsewhere that
    hold a current function in it ("guests"). A function held in the relation's home or above
    it shows nothing the home does not, so only rows marked `outside_home` are read: few, and
    served by their own partial index.

    The same query reads the membership function types, and the subtree and those types are
    kept on the instance (the request's environment) for `members_on` below."""
    from memberships.models import Function, FunctionType
    from tenants.models import Tenant

    def tagged(queryset, field, tag):
        return queryset.order_by().annotate(tag=models.Value(tag)).values_list(field, "tag")

    rows = tagged(Tenant.objects.subtree(tenant), "pk", HOME).union(
        tagged(Function.objects.active_on(datetime.date.today()).filter(
            outside_home=True, tenant__path__startswith=tenant.path), "relation_id", GUEST),
        tagged(FunctionType.objects.filter(counts_as_membership=True), "pk", MEMBERSHIP),
        all=True,
    )
    found = {HOME: [], GUEST: set(), MEMBERSHIP: []}
    for pk, tag in rows:
        if tag == GUEST:
            found[GUEST].add(pk)
        else:
            found[tag].append(pk)
    tenant._members_on_hint = (found[HOME], found[MEMBERSHIP])
    return found[HOME], sorted(found[GUEST])


class RelationQuerySet(models.QuerySet):
    def visible_to(self, user: User, tenant: Tenant | None) -> RelationQuerySet:
        """The relations environment `tenant` shows to `user`: those whose home is in its subtree,
        and those holding a current function there (ARCHITECTURE "Tenancy and access"). Past
        functions keep their rows where they were held but do not open the card."""
        from memberships.models import Function
        from tenants.access import can_enter

        if tenant is None or not can_enter(user, tenant):
            return self.none()
        if not user.has_perm("relations.view_relation", tenant):
            return self.none()
        if tenant.is_root():
            return self.all()
        tenant_ids, guest_ids = _subtree_and_guests(tenant)
        # Both as literal lists: PostgreSQL then estimates the rows well and combines the tenant
        # index (or the primary key, for the few guests) with the search and function indexes.
        if len(guest_ids) > GUEST_LIST_LIMIT:
            guests = Function.objects.active_on(datetime.date.today()).filter(
                outside_home=True, tenant_id__in=tenant_ids
            ).values("relation_id")
            return self.filter(models.Q(tenant_id__in=tenant_ids) | models.Q(pk__in=guests))
        if guest_ids:
            return self.filter(models.Q(tenant_id__in=tenant_ids) | models.Q(pk__in=guest_ids))
        return self.filter(tenant_id__in=tenant_ids)

    def members_on(self, day: datetime.date, tenant: Tenant | None = None) -> RelationQuerySet:
        """Relations holding a membership on `day` (in `tenant`'s subtree when given)."""
        from memberships.models import Function

        memberships = Function.objects.active_on(day).filter(relation=OuterRef("pk"))
        hint = getattr(tenant, "_members_on_hint", None)
        if hint is not None:
            # `visible_to` has just read the subtree and the membership types for this tenant.
            # As literal lists PostgreSQL uses its per-value statistics and, for a common date,
            # walks the name index instead of fetching every member of the province
            # (docs/benchmarks.md, run 7).
            subtree, membership_types = hint
            return self.filter(Exists(memberships.filter(tenant_id__in=subtree, function_type_id__in=membership_types)))
        memberships = memberships.memberships()
        if tenant is not None:
            memberships = memberships.in_subtree(tenant)
        return self.filter(Exists(memberships))
