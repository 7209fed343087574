"""Reads of imports and duplicate candidates, scoped to what a user may see in an environment."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

from relations.models import Relation
from tenants.access import may_list

if TYPE_CHECKING:
    from tenants.models import Tenant, User

IMPORT_PERM = "imports.add_importbatch"
DUPLICATES_PERM = "imports.view_duplicatecandidate"


class ImportBatchQuerySet(models.QuerySet):
    def visible_to(self, user: User, tenant: Tenant | None) -> ImportBatchQuerySet:
        """The imports made in `tenant` or below, for a user who may import there."""
        if not may_list(user, tenant, IMPORT_PERM):
            return self.none()
        return self.filter(tenant.subtree_filter("tenant"))


class DuplicateCandidateQuerySet(models.QuerySet):
    def visible_to(self, user: User, tenant: Tenant | None) -> DuplicateCandidateQuerySet:
        """Pairs whose both cards `tenant` shows to `user`."""
        if not may_list(user, tenant, DUPLICATES_PERM):
            return self.none()
        visible = Relation.objects.visible_to(user, tenant).values("pk")
        return self.filter(relation_a__in=visible, relation_b__in=visible)

    def open(self) -> DuplicateCandidateQuerySet:
        return self.filter(dismissed_at__isnull=True)
