"""Reads of billing data, scoped to what a user may see in an environment: the records of the
environment and of the billing environments below it (a province never sees another's)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db import models

from tenants.access import may_list

if TYPE_CHECKING:
    from tenants.models import Tenant, User


def _scoped(queryset: models.QuerySet, user: User, tenant: Tenant | None, perm: str) -> models.QuerySet:
    if not may_list(user, tenant, perm):
        return queryset.none()
    if tenant.is_root():
        return queryset.all()
    return queryset.filter(tenant.subtree_filter("tenant"))


class RateQuerySet(models.QuerySet):
    def visible_to(self, user: User, tenant: Tenant | None) -> RateQuerySet:
        """The rates that apply in `tenant`: its own, those of the environments above it (they are
        inherited down) and those set below it."""
        if not may_list(user, tenant, "billing.view_rate"):
            return self.none()
        return self.filter(
            models.Q(tenant__path__in=tenant.ancestor_paths()) | tenant.subtree_filter("tenant")
        )

    def in_season(self, day: datetime.date) -> RateQuerySet:
        return self.filter(season_start__lte=day, season_end__gte=day)


class InvoiceRunQuerySet(models.QuerySet):
    def visible_to(self, user: User, tenant: Tenant | None) -> InvoiceRunQuerySet:
        return _scoped(self, user, tenant, "billing.view_invoice")


class InvoiceQuerySet(models.QuerySet):
    def visible_to(self, user: User, tenant: Tenant | None) -> InvoiceQuerySet:
        return _scoped(self, user, tenant, "billing.view_invoice")

    def of_department(self, user: User, department: Tenant | None) -> InvoiceQuerySet:
        """The invoices a department received (SPEC B4), for its administrators' ledenmodule."""

        if not may_list(user, department, "billing.view_department_invoices"):
            return self.none()
        return self.filter(debtor_tenant=department)


class PaymentQuerySet(models.QuerySet):
    def visible_to(self, user: User, tenant: Tenant | None) -> PaymentQuerySet:
        return _scoped(self, user, tenant, "billing.view_invoice")


class MandateQuerySet(models.QuerySet):
    def visible_to(self, user: User, tenant: Tenant | None) -> MandateQuerySet:
        return _scoped(self, user, tenant, "billing.view_mandate")

    def active(self) -> MandateQuerySet:
        return self.filter(ended_on__isnull=True)


class CollectionBatchQuerySet(models.QuerySet):
    def visible_to(self, user: User, tenant: Tenant | None) -> CollectionBatchQuerySet:
        return _scoped(self, user, tenant, "billing.view_invoice")


class BankStatementQuerySet(models.QuerySet):
    def visible_to(self, user: User, tenant: Tenant | None) -> BankStatementQuerySet:
        return _scoped(self, user, tenant, "billing.view_invoice")
