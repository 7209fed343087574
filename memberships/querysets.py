"""Reads of functions."""

from __future__ import annotations

import datetime

from django.db import models
from django.db.models import Q


class FunctionQuerySet(models.QuerySet):
    def active_on(self, day: datetime.date) -> FunctionQuerySet:
        return self.filter(Q(end_date__isnull=True) | Q(end_date__gte=day), start_date__lte=day)

    def not_ended(self, day: datetime.date) -> FunctionQuerySet:
        """Current and future functions."""
        return self.filter(Q(end_date__isnull=True) | Q(end_date__gte=day))

    def memberships(self) -> FunctionQuerySet:
        return self.filter(function_type__counts_as_membership=True)

    def in_subtree(self, tenant) -> FunctionQuerySet:
        return self.filter(tenant__path__startswith=tenant.path)


class RegistrationQuerySet(models.QuerySet):
    def visible_to(self, user, tenant) -> RegistrationQuerySet:
        """The registrations ("Inschrijvingen") environment `tenant` shows to `user`: those of its
        own forms and the forms below it, and those choosing a department below it (a national
        form per province lands in the federation's list and in the province's)."""
        from tenants.access import can_enter

        if tenant is None or not can_enter(user, tenant) or not user.has_perm("memberships.view_registration", tenant):
            return self.none()
        if tenant.is_root():
            return self.all()
        return self.filter(Q(tenant__path__startswith=tenant.path) | Q(department__path__startswith=tenant.path))
