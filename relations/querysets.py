"""Reads of relations, scoped to what a user may see in an environment."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Exists, OuterRef

if TYPE_CHECKING:
    from tenants.models import Tenant, User


class RelationQuerySet(models.QuerySet):
    def visible_to(self, user: User, tenant: Tenant | None) -> RelationQuerySet:
        """The relations environment `tenant` shows to `user`: those whose home is in its subtree,
        and those holding a current function there (ARCHITECTURE "Tenancy and access"). Past
        functions keep their rows where they were held but do not open the card."""
        from memberships.models import Function
        from tenants.access import can_enter
        from tenants.models import Tenant

        if tenant is None or not can_enter(user, tenant):
            return self.none()
        if not user.has_perm("relations.view_relation", tenant):
            return self.none()
        if tenant.is_root():
            return self.all()
        tenant_ids = list(Tenant.objects.subtree(tenant).values_list("pk", flat=True))
        current_here = Function.objects.active_on(datetime.date.today()).filter(
            relation=OuterRef("pk"), tenant_id__in=tenant_ids
        )
        return self.filter(models.Q(tenant_id__in=tenant_ids) | Exists(current_here))

    def members_on(self, day: datetime.date, tenant: Tenant | None = None) -> RelationQuerySet:
        """Relations holding a membership on `day` (in `tenant`'s subtree when given)."""
        from memberships.models import Function

        memberships = Function.objects.memberships().active_on(day).filter(relation=OuterRef("pk"))
        if tenant is not None:
            memberships = memberships.filter(tenant__path__startswith=tenant.path)
        return self.filter(Exists(memberships))
