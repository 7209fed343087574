"""Reads of wizards, scoped to what a user may run in an environment."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q

from tenants.access import may_list

if TYPE_CHECKING:
    from tenants.models import Tenant, User


class WizardQuerySet(models.QuerySet):
    def applying_to(self, tenant: Tenant) -> WizardQuerySet:
        """Wizards of `tenant` and of every tenant above it, and the shipped ones."""
        return self.filter(Q(tenant__isnull=True) | Q(tenant__path__in=tenant.ancestor_paths()))

    def visible_to(self, user: User, tenant: Tenant | None) -> WizardQuerySet:
        """The wizards `user` may run in environment `tenant`: every wizard applying there with
        the power to run wizards, only the ledenmodule ones with the ledenmodule power."""

        from .models import Section

        if not may_list(user, tenant):
            return self.none()
        if user.has_perm("wizards.view_wizard", tenant):
            return self.applying_to(tenant)
        if user.has_perm("wizards.run_ledenmodule_wizard", tenant):
            return self.applying_to(tenant).filter(section=Section.LEDENMODULE)
        return self.none()
