"""Models of the notifications app: mail templates and print documents ("Afdrukformulieren",
SPEC I4) and the outbound mails sent from them (SPEC I3, I5)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relations.models import CommunicationEntry, Relation
from tenants.leases import Leased
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
    communication_type = models.ForeignKey(
        "relations.CommunicationType", verbose_name=_("communication type"), on_delete=models.SET_NULL, null=True,
        blank=True, related_name="+",
        help_text=_("Relations who said no to this type in the member portal get no documents of this template."),
    )
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


class OutboundMail(Leased):
    """One e-mail as it was rendered and handed to the mail task: the exact subject, text and
    attachment, and whether it went out. The relation's communication log points at it. The task
    claims it (status *sending*, a lease) and commits that before it talks to the mail server, so
    after a crash only a mail whose claim ran out is sent again — with the same Message-ID."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
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
    # Fixed when the mail is recorded, so a mail sent again after a crash is recognisably the same.
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True, editable=False)
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


class OutboundAttachment(models.Model):
    """A further file of an outbound e-mail, after its PDF (`OutboundMail.attachment`), sent with
    it every time it is sent: e.g. a department invoice's member list (SPEC B4)."""

    mail = models.ForeignKey(OutboundMail, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("attachment"), upload_to="outbound/%Y/%m/")
    name = models.CharField(_("attachment name"), max_length=120)
    content_type = models.CharField(_("content type"), max_length=100)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.name


class DocumentJob(Leased):
    """Personalised documents for a selection of relations (SPEC I5), made in the background with
    progress: each relation's letter or mail is made, logged on its card and counted in one
    transaction, so a job that is run again (after a crash) carries on where it stopped. The
    worker making it holds its lease; the reaper queues it again when that worker died."""

    class Action(models.TextChoices):
        SEND = "send", _("Make and send")
        DOWNLOAD = "download", _("Make and download one PDF")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        RUNNING = "running", _("Being made")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    tenant = models.ForeignKey(Tenant, verbose_name=_("environment"), on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.CASCADE, related_name="+"
    )
    template = models.ForeignKey(MailTemplate, verbose_name=_("template"), on_delete=models.PROTECT, related_name="+")
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    by_email = models.BooleanField(_("by e-mail where possible"), default=False)
    # The selection, in the order the documents are made (the list's order).
    relation_ids = models.JSONField(_("relations"), default=list)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.QUEUED)
    done = models.PositiveIntegerField(_("made"), default=0)
    mailed = models.PositiveIntegerField(_("e-mailed"), default=0)
    letters = models.PositiveIntegerField(_("letters"), default=0)
    # Relations who said no to the template's communication type in the member portal.
    refused = models.PositiveIntegerField(_("not wanted"), default=0)
    pdf = models.FileField(_("PDF"), upload_to="documents/%Y/%m/", blank=True)
    message = models.TextField(_("message"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("documents job")
        verbose_name_plural = _("documents jobs")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.template_id} × {len(self.relation_ids)} ({self.status})"

    @property
    def total(self) -> int:
        return len(self.relation_ids)

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, round(100 * self.done / self.total))

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
