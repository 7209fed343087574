"""The dashboard's own data: the pre-aggregated membership counts, the mismatches the nightly
check found in them, and which widgets a user hid (docs/dashboard.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tenants.models import Tenant


class CountPair(models.Model):
    """A (day, partner) pair the count table holds: the first day of a season with the first day
    of the next one, the running season's first day with today, and a year ago with itself.
    Rewritten by the nightly rebuild; the services add to the rows of these pairs."""

    day = models.DateField()
    partner = models.DateField()
    built_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "partner"], name="dashboard_countpair_unique")]
        ordering = ["day", "partner"]

    def __str__(self) -> str:
        return f"{self.day} → {self.partner}"


class Dimension(models.TextChoices):
    TOTAL = "total", _("Total")
    GENDER = "gender", _("Gender")
    AGE = "age", _("Age band")
    TYPE = "type", _("Membership type")


class MembershipCount(models.Model):
    """Memberships held in `tenant`, by one dimension's value (the gender, age band on `day`,
    membership type; or the total): `current` on `day`, `partner_current` on `partner`,
    `stayed` on both. Sums over tenants give any environment's figures."""

    day = models.DateField()
    partner = models.DateField()
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    dimension = models.CharField(max_length=10, choices=Dimension.choices)
    value = models.CharField(max_length=20, blank=True)
    current = models.IntegerField(default=0)
    partner_current = models.IntegerField(default=0)
    stayed = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "partner", "tenant", "dimension", "value"], name="dashboard_membershipcount_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.tenant_id} {self.dimension}={self.value}: {self.current}"


class CountMismatch(models.Model):
    """A count the services kept up to date that differed from a count of the raw rows at the
    nightly check: a data problem (something changed the memberships around the services). The
    rebuild has corrected it; the row says what, so it can be looked into."""

    found_on = models.DateField(_("found on"))
    day = models.DateField(_("day"))
    partner = models.DateField(_("compared with"))
    tenant = models.ForeignKey(Tenant, verbose_name=_("environment"), on_delete=models.CASCADE, related_name="+")
    dimension = models.CharField(_("breakdown"), max_length=10, choices=Dimension.choices)
    value = models.CharField(_("value"), max_length=20, blank=True)
    kept = models.JSONField(_("kept up to date"))
    counted = models.JSONField(_("counted from the rows"))

    class Meta:
        verbose_name = _("count mismatch")
        verbose_name_plural = _("count mismatches")
        ordering = ["-found_on", "day", "tenant_id"]

    def __str__(self) -> str:
        return f"{self.found_on}: {self.tenant_id} {self.day} {self.dimension}={self.value}"


class WidgetPreference(models.Model):
    """The widgets a user hid from their dashboard (keys of `tenants.widgets`)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="widget_preference")
    hidden = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"{self.user_id}: {', '.join(self.hidden)}"
