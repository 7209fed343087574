"""Models of the notifications app: mail templates and print documents ("Afdrukformulieren",
SPEC I4) and the outbound mails sent from them (SPEC I3, I5); data-quality problems, their
recipients and the nightly jobs' records (SPEC N)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relations.models import CommunicationEntry, Relation
from tenants.models import Tenant

# --- mail templates and outbound mail (issue 5) ------------------------------------------------


def template_logo_upload_to(template: MailTemplate, filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "png"
    return f"logos/template-{template.tenant_id}-{timezone.now():%Y%m%d%H%M%S}.{extension}"


class MailTemplate(models.Model):
    """A letter and its e-mail: header (logo), body parts, footer, the e-mail's subject and text,
    and whether the letter goes along as a PDF. The texts hold `[token]`s from
    `notifications.tokens`, never template-language code. A template is usable in its own
    environment and every environment below it; it is changed only where it was made."""

    tenant = models.ForeignKey(
        Tenant, verbose_name=_("environment"), on_delete=models.CASCADE, related_name="mail_templates"
    )
    name = models.CharField(_("name"), max_length=120)
    logo = models.ImageField(
        _("logo"), upload_to=template_logo_upload_to, blank=True,
        help_text=_("Shown in the header. Without one, the logo of the environment is used."),
    )
    header = models.TextField(_("header text"), blank=True)
    body_1 = models.TextField(_("body 1"), blank=True)
    body_2 = models.TextField(_("body 2"), blank=True)
    body_3 = models.TextField(_("body 3"), blank=True)
    body_4 = models.TextField(_("body 4"), blank=True)
    body_5 = models.TextField(_("body 5"), blank=True)
    footer = models.TextField(_("footer"), blank=True, help_text=_("Contact details at the bottom of the page."))
    email_subject = models.CharField(_("e-mail subject"), max_length=200)
    email_text = models.TextField(_("e-mail text"))
    attach_pdf = models.BooleanField(
        _("attach the letter as PDF"), default=False,
        help_text=_("Header, bodies and footer go along with the e-mail as a PDF attachment."),
    )
    pdf_filename = models.CharField(_("name of the PDF"), max_length=80, default="document")
    copied_from = models.ForeignKey(
        "self", verbose_name=_("copied from"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="copies", editable=False,
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    TEXT_FIELDS = ("header", "body_1", "body_2", "body_3", "body_4", "body_5", "footer", "email_subject", "email_text")
    LETTER_FIELDS = ("header", "body_1", "body_2", "body_3", "body_4", "body_5", "footer")

    class Meta:
        verbose_name = _("mail template")
        verbose_name_plural = _("mail templates")
        ordering = ["name", "pk"]
        permissions = [("send_document", _("Can send personalised documents"))]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="mail_template_name_unique")]

    def __str__(self) -> str:
        return self.name

    @property
    def access_tenant(self) -> Tenant:
        return self.tenant


class OutboundMail(models.Model):
    """One e-mail as it was rendered and handed to the mail task: the exact subject, text and
    attachment, and whether it went out. The relation's communication log points at it."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    tenant = models.ForeignKey(Tenant, verbose_name=_("environment"), on_delete=models.PROTECT, related_name="+")
    relation = models.ForeignKey(
        Relation, verbose_name=_("relation"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="outbound_mails",
    )
    template = models.ForeignKey(
        MailTemplate, verbose_name=_("template"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # What the mail belongs to besides a relation, e.g. "registration:12" (an applicant who has no
    # card yet).
    reference = models.CharField(_("reference"), max_length=60, blank=True, db_index=True)
    to_email = models.EmailField(_("to"))
    subject = models.CharField(_("subject"), max_length=200)
    body_text = models.TextField(_("text"))
    body_html = models.TextField(_("HTML text"), blank=True)
    attachment = models.FileField(_("attachment"), upload_to="outbound/%Y/%m/", blank=True)
    attachment_name = models.CharField(_("attachment name"), max_length=120, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    error = models.TextField(_("last error"), blank=True)
    communication_entry = models.OneToOneField(
        CommunicationEntry, on_delete=models.SET_NULL, null=True, blank=True, related_name="outbound_mail"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbound e-mail")
        verbose_name_plural = _("outbound e-mails")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to_email}"


# ==============================================================================================
# Data quality and nightly jobs (SPEC N). The rules themselves live in notifications/quality.py,
# the jobs in notifications/jobs.py.
# ==============================================================================================


class QualityRuleSetting(models.Model):
    """The federation's choice for one data-quality rule: checked or not. A rule without a row
    uses its default from the registry (notifications/quality.py)."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    active = models.BooleanField(_("active"), default=True)
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
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


class JobRun(models.Model):
    """The record of one nightly job for one date: running the job again for a date it already
    finished does nothing (ARCHITECTURE "Jobs and mail")."""

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
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        ordering = ["-run_date", "name"]
        constraints = [models.UniqueConstraint(fields=["name", "run_date"], name="job_run_one_per_date")]

    def __str__(self) -> str:
        return f"{self.name} {self.run_date}"


class ReportDelivery(models.Model):
    """One report a job mailed to one environment for one date; the unique row is what keeps a
    retried job from mailing an environment twice."""

    job = models.SlugField(_("job"), max_length=60)
    tenant = models.ForeignKey(Tenant, verbose_name=_("environment"), on_delete=models.CASCADE, related_name="+")
    run_date = models.DateField(_("date"))
    recipients = models.TextField(_("recipients"))
    items = models.PositiveIntegerField(_("items"), default=0)
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        verbose_name = _("report delivery")
        verbose_name_plural = _("report deliveries")
        ordering = ["-run_date", "job"]
        constraints = [
            models.UniqueConstraint(fields=["job", "tenant", "run_date"], name="report_delivery_one_per_date"),
        ]

    def __str__(self) -> str:
        return f"{self.job} {self.tenant_id} {self.run_date}"
