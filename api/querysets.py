"""Reads of API tokens, scoped to what a user may see in an environment."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

from tenants.access import may_list

if TYPE_CHECKING:
    from tenants.models import Tenant, User


class ApiTokenQuerySet(models.QuerySet):
    def visible_to(self, user: User, tenant: Tenant | None) -> ApiTokenQuerySet:
        """The tokens of environment `tenant` and below, for a user who may manage them there."""
        if not may_list(user, tenant, "api.view_apitoken"):
            return self.none()
        return self.filter(tenant.subtree_filter("tenant"))
