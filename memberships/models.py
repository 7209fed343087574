"""The function catalogue and the dated functions on relation cards (SPEC R3–R6)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from relations.models import Relation
from tenants.history import OnBehalfOfHistory
from tenants.models import Role, RoleAssignment, Tenant, TenantKind
from tenants.periods import is_held_on

from .querysets import OPEN_END, FunctionQuerySet, FunctionTypeQuerySet


class FunctionCategory(models.TextChoices):
    MEMBERSHIP = "membership", _("Membership")
    ASPIRANT = "aspirant", _("Aspirant membership")
    BOARD = "board", _("Board")
    ADMINISTRATION = "administration", _("Administration")
    SPONSOR = "sponsor", _("Sponsor")
    DONOR = "donor", _("Donor")
    SUPPLIER = "supplier", _("Supplier")
    OTHER = "other", _("Other")


class FunctionType(models.Model):
    """A kind of function: where it is held, whether it counts as membership, which role it
    grants."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=120)
    category = models.CharField(_("category"), max_length=20, choices=FunctionCategory.choices)
    tenant_kind = models.CharField(_("held in environments of kind"), max_length=20, choices=TenantKind.choices)
    counts_as_membership = models.BooleanField(_("counts as membership"), default=False)
    grants_role = models.ForeignKey(
        Role, verbose_name=_("grants role"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="function_types",
    )
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveIntegerField(_("order"), default=0)

    objects = FunctionTypeQuerySet.as_manager()

    class Meta:
        verbose_name = _("function type")
        verbose_name_plural = _("function types")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class CancellationReason(models.Model):
    """A reason for ending a membership, from the federation's list (SPEC R4, wish list 001)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    order = models.PositiveIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("cancellation reason")
        verbose_name_plural = _("cancellation reasons")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class Function(models.Model):
    """A dated row on a relation's "Functies" tab: held in one tenant from start to end date
    (the end date is the first day it no longer holds, `tenants.periods`; no end date means open)."""

    relation = models.ForeignKey(Relation, verbose_name=_("relation"), on_delete=models.CASCADE, related_name="functions")
    function_type = models.ForeignKey(FunctionType, verbose_name=_("function"), on_delete=models.PROTECT, related_name="functions")
    tenant = models.ForeignKey(Tenant, verbose_name=_("environment"), on_delete=models.PROTECT, related_name="functions")
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    cancellation_reason = models.ForeignKey(
        CancellationReason, verbose_name=_("reason for ending"), on_delete=models.PROTECT, null=True, blank=True
    )
    cancellation_note = models.CharField(_("explanation"), max_length=300, blank=True)
    role_assignment = models.OneToOneField(
        RoleAssignment, on_delete=models.SET_NULL, null=True, blank=True, related_name="function", editable=False
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    # Held in an environment that is neither the relation's home nor above it: the row that lets
    # another branch see the card (`Relation.objects.visible_to`). Derived from the two tenants
    # and kept by `save()` and, when the home moves, by `member_transfer`.
    outside_home = models.BooleanField(default=False, editable=False)

    history = HistoricalRecords(bases=[OnBehalfOfHistory], excluded_fields=["outside_home"])
    objects = FunctionQuerySet.as_manager()

    class Meta:
        verbose_name = _("function")
        verbose_name_plural = _("functions")
        ordering = ["-start_date", "pk"]
        permissions = [
            ("transfer_member", _("Can transfer a member to another department")),
            ("transfer_member_across_provinces", _("Can transfer a member to another province")),
        ]
        constraints = [
            # A duplicate open function is impossible (SPEC R3), not merely warned about.
            models.UniqueConstraint(
                fields=["relation", "function_type", "tenant"],
                condition=Q(end_date__isnull=True),
                name="function_one_open_per_type_and_tenant",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="function_end_after_start",
            ),
        ]
        indexes = [
            # Covers "who held a membership here on day X" without reading the table (PostgreSQL).
            models.Index(
                fields=["tenant", "function_type", "start_date"], include=["end_date", "relation"],
                name="function_held_on",
            ),
            models.Index(fields=["relation", "end_date"]),
            # The few rows that open a card to another branch, looked up on every relation list
            # and card: per tenant by the day they end (`guests_on`), so only current ones are
            # read, from the index alone.
            models.Index(
                F("tenant"), OPEN_END, include=["start_date", "end_date", "relation"],
                condition=Q(outside_home=True), name="function_outside_home_until",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.function_type} — {self.tenant}"

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if update_fields is None or {"relation", "tenant"} & set(update_fields):
            self.outside_home = self.is_outside_home(self.relation.tenant, self.tenant)
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "outside_home"}
        super().save(*args, **kwargs)

    @property
    def access_tenant(self) -> Tenant:
        return self.tenant

    @staticmethod
    def is_outside_home(home: Tenant, tenant: Tenant) -> bool:
        """Whether a function held in `tenant` lies outside home `home` and the tenants above
        it: only then can it show the card somewhere the home does not."""
        return not home.is_within(tenant)

    def is_active_on(self, day: datetime.date) -> bool:
        return is_held_on(self.start_date, self.end_date, day)

    @property
    def is_membership(self) -> bool:
        return self.function_type.counts_as_membership


# --- issue 7: end-of-membership notice rules (ledenmodule) --------------------------------------


def _day_of_year_valid(month: int, day: int) -> bool:
    try:
        datetime.date(2000, month, day)  # a leap year, so 29 February is allowed
    except ValueError:
        return False
    return True


class NoticeRule(models.Model):
    """A federation's notice rule for ending memberships, e.g. "cancellations received between
    1 November and 1 January end on 1 January" (wish list 001). A cancellation received on a
    day inside the window (both ends inclusive; a window may run over the new year) ends no
    earlier than the next `ends on` day."""

    tenant = models.ForeignKey(
        Tenant, verbose_name=_("federation"), on_delete=models.CASCADE, related_name="notice_rules",
    )
    name = models.CharField(_("name"), max_length=120)
    received_from_month = models.PositiveSmallIntegerField(_("received from (month)"))
    received_from_day = models.PositiveSmallIntegerField(_("received from (day)"))
    received_until_month = models.PositiveSmallIntegerField(_("received until (month)"))
    received_until_day = models.PositiveSmallIntegerField(_("received until (day)"))
    ends_on_month = models.PositiveSmallIntegerField(_("ends on (month)"))
    ends_on_day = models.PositiveSmallIntegerField(_("ends on (day)"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("notice rule")
        verbose_name_plural = _("notice rules")
        ordering = ["received_from_month", "received_from_day", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def access_tenant(self) -> Tenant:
        return self.tenant

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        errors = {}
        for field, month, day in (
            ("received_from_day", self.received_from_month, self.received_from_day),
            ("received_until_day", self.received_until_month, self.received_until_day),
            ("ends_on_day", self.ends_on_month, self.ends_on_day),
        ):
            if month is not None and day is not None and not _day_of_year_valid(month, day):
                errors[field] = _("This day does not exist in that month.")
        if errors:
            raise ValidationError(errors)

    def covers(self, day: datetime.date) -> bool:
        """Whether a cancellation received on `day` falls inside the window."""
        start = (self.received_from_month, self.received_from_day)
        end = (self.received_until_month, self.received_until_day)
        here = (day.month, day.day)
        if start <= end:
            return start <= here <= end
        return here >= start or here <= end  # the window runs over the new year

    def end_date_for(self, received: datetime.date) -> datetime.date:
        """The first `ends on` day on or after `received` (29 February becomes 1 March in a
        year without it)."""
        for year in (received.year, received.year + 1, received.year + 2):
            try:
                candidate = datetime.date(year, self.ends_on_month, self.ends_on_day)
            except ValueError:
                candidate = datetime.date(year, 3, 1)
            if candidate >= received:
                return candidate
        raise AssertionError("unreachable: a day of the year comes round within two years")
