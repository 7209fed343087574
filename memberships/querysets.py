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
        return self.filter(tenant.subtree_filter("tenant"))
