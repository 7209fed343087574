"""Reads of registrations."""

from __future__ import annotations

from django.db import models

from tenants.access import may_list


class RegistrationQuerySet(models.QuerySet):
    def visible_to(self, user, tenant) -> RegistrationQuerySet:
        """The registrations ("Inschrijvingen") environment `tenant` shows to `user`: those of its
        own forms and the forms below it, and those choosing a department below it (a national
        form per province lands in the federation's list and in the province's)."""
        if not may_list(user, tenant, "intake.view_registration"):
            return self.none()
        if tenant.is_root():
            return self.all()
        return self.filter(tenant.subtree_filter("tenant") | tenant.subtree_filter("department"))
