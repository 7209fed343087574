"""Reads of functions and function types.

`guests_on` and `memberships_held_on` are what this app tells relations about functions (the
relations app lies below and cannot ask): memberships/apps.py registers them as the guest and
membership sources of `relations.querysets`."""

from __future__ import annotations

import datetime

from django.db import models
from django.db.models import DateField, Value
from django.db.models.functions import Coalesce

from tenants.periods import ended_q, held_on_q, not_ended_q

# The end of a function that has none, for an index ordered by the day functions end.
OPEN_END = Coalesce("end_date", Value(datetime.date.max, output_field=DateField()))


class FunctionQuerySet(models.QuerySet):
    def active_on(self, day: datetime.date) -> FunctionQuerySet:
        """Functions held on `day`: started on or before it, and ending after it (the end date
        is the first day a function no longer holds; `tenants.periods`, docs/definitions.md)."""
        return self.filter(held_on_q(day))

    def current(self) -> FunctionQuerySet:
        """Functions held today."""
        return self.active_on(datetime.date.today())

    def not_ended(self, day: datetime.date) -> FunctionQuerySet:
        """Current and future functions."""
        return self.filter(not_ended_q(day))

    def ended_by(self, day: datetime.date) -> FunctionQuerySet:
        """Functions that no longer hold on `day`."""
        return self.filter(ended_q(day))

    def memberships(self) -> FunctionQuerySet:
        return self.filter(function_type__counts_as_membership=True)

    def memberships_held_on(self, day: datetime.date, kinds: list[int] | None = None) -> FunctionQuerySet:
        """Memberships held on `day`: of the function types `kinds` (ids read beforehand, see
        `relations.querysets.EnvironmentScope`) when given, else of every type that counts."""
        held = self.active_on(day)
        return held.filter(function_type_id__in=kinds) if kinds is not None else held.memberships()

    def guests_on(self, day: datetime.date) -> FunctionQuerySet:
        """Functions running on `day` held outside the relation's home and the tenants above it:
        the ones that show a card where its home does not (a guest). Few, in a partial index
        (`function_outside_home_until`) ordered by the day each ends, so that only the ones not
        ended yet are read, not every one that ever ran in the environment."""
        # Held on `day` by the one definition (tenants.periods): the end date is the first day
        # it no longer holds.
        return self.alias(until=OPEN_END).filter(outside_home=True, start_date__lte=day, until__gt=day)

    def in_subtree(self, tenant) -> FunctionQuerySet:
        return self.filter(tenant.subtree_filter("tenant"))


class FunctionTypeQuerySet(models.QuerySet):
    def memberships(self) -> FunctionTypeQuerySet:
        """The function types that count as a membership."""
        return self.filter(counts_as_membership=True)
