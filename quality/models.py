"""Data quality and the nightly jobs (SPEC N): the federation's rule settings, the open
problems, the error-report recipients, and the jobs' run and delivery records. The rules live in
quality/services.py, the jobs in quality/jobs.py. The tables keep the names they had in
notifications (migration 0001)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relations.models import Relation
from tenants.leases import Leased
from tenants.models import Tenant


class QualityRuleSetting(models.Model):
    """The federation's choice for one data-quality rule: checked or not. A rule without a row
    uses its default from the registry (quality/services.py)."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    active = models.BooleanField(_("active"), default=True)
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        db_table = "notifications_qualityrulesetting"
        verbose_name = _("data-quality rule setting")
        verbose_name_plural = _("data-quality rule settings")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class DataProblem(models.Model):
    """One open (or closed) problem of one relation against one rule (SPEC N2). While it is
    open there is exactly one such row per (relation, rule); a problem that comes back after it
    was closed gets a new row, so the old row keeps when it was fixed."""

    class ClosedBy(models.TextChoices):
        SAVE = "save", _("Card saved")
        CHECK = "check", _("Nightly check")
        RULE_OFF = "rule_off", _("Rule switched off")

    relation = models.ForeignKey(
        Relation, verbose_name=_("relation"), on_delete=models.CASCADE, related_name="data_problems"
    )
    rule = models.SlugField(_("rule"), max_length=60)
    first_seen = models.DateField(_("first seen"))
    last_seen = models.DateField(_("last seen"))
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    closed_by = models.CharField(_("closed by"), max_length=20, choices=ClosedBy.choices, blank=True)

    class Meta:
        db_table = "notifications_dataproblem"
        verbose_name = _("data problem")
        verbose_name_plural = _("data problems")
        ordering = ["rule", "relation_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["relation", "rule"], condition=Q(closed_on__isnull=True),
                name="data_problem_one_open_per_relation_and_rule",
            ),
        ]
        indexes = [
            models.Index(fields=["rule", "closed_on"]),
            models.Index(fields=["relation", "closed_on"]),
            # The digest's first rows of an environment, by rule and card, without a sort.
            models.Index(fields=["rule", "relation"], condition=Q(closed_on__isnull=True), name="data_problem_open_by_rule"),
            models.Index(fields=["first_seen"], condition=Q(closed_on__isnull=True), name="data_problem_open_by_day"),
        ]

    def __str__(self) -> str:
        return f"{self.rule} — {self.relation_id}"

    @property
    def is_open(self) -> bool:
        return self.closed_on is None


class ErrorReportRecipient(models.Model):
    """An address that receives an environment's error reports ("Automatische uitwisseling",
    SPEC N3). Only active addresses get mail."""

    tenant = models.ForeignKey(
        Tenant, verbose_name=_("environment"), on_delete=models.CASCADE, related_name="error_report_recipients"
    )
    email = models.EmailField(_("e-mail address"))
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        db_table = "notifications_errorreportrecipient"
        verbose_name = _("error-report recipient")
        verbose_name_plural = _("error-report recipients")
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint("tenant", Lower("email"), name="error_report_recipient_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def access_tenant(self) -> Tenant:
        return self.tenant


class JobRun(Leased):
    """The record of one nightly job for one date: running the job again for a date it already
    finished does nothing (ARCHITECTURE "Jobs and mail"). The worker running it holds its lease;
    a run whose lease ran out is stale (its worker died) and is taken over by the next delivery."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        FINISHED = "finished", _("Finished")
        FAILED = "failed", _("Failed")

    name = models.SlugField(_("job"), max_length=60)
    run_date = models.DateField(_("date"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=1)

    class Meta:
        db_table = "notifications_jobrun"
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        ordering = ["-run_date", "name"]
        constraints = [models.UniqueConstraint(fields=["name", "run_date"], name="job_run_one_per_date")]

    def __str__(self) -> str:
        return f"{self.name} {self.run_date}"


class ReportDelivery(models.Model):
    """One report a job mailed to one environment for one date; the unique row is what keeps a
    retried job from mailing an environment twice. It is written (status *sending*, with the
    mail's Message-ID) and committed before the mail goes out, and marked sent right after."""

    class Status(models.TextChoices):
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")

    job = models.SlugField(_("job"), max_length=60)
    tenant = models.ForeignKey(Tenant, verbose_name=_("environment"), on_delete=models.CASCADE, related_name="+")
    run_date = models.DateField(_("date"))
    recipients = models.TextField(_("recipients"))
    items = models.PositiveIntegerField(_("items"), default=0)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.SENT)
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True, editable=False)
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        db_table = "notifications_reportdelivery"
        verbose_name = _("report delivery")
        verbose_name_plural = _("report deliveries")
        ordering = ["-run_date", "job"]
        constraints = [
            models.UniqueConstraint(fields=["job", "tenant", "run_date"], name="report_delivery_one_per_date"),
        ]

    def __str__(self) -> str:
        return f"{self.job} {self.tenant_id} {self.run_date}"


class RetentionSetting(models.Model):
    """The federation's retention period (GDPR): former members are anonymised this many years
    after their last function ended, by the nightly job "retention". One row; empty is off."""

    years = models.PositiveSmallIntegerField(
        _("years after the last function ended"), null=True, blank=True,
        help_text=_("Empty: former members are never anonymised automatically."),
    )
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("changed by"), on_delete=models.SET_NULL, null=True,
        blank=True, related_name="+",
    )

    class Meta:
        verbose_name = _("retention period")
        verbose_name_plural = _("retention periods")

    def __str__(self) -> str:
        return str(self.years or "—")
