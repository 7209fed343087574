"""Intake forms ("Inschrijfformulieren"), their rows, and the registrations they receive
(SPEC I1–I3). The tables keep the names they had in memberships (migration 0001)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from memberships.models import FunctionType
from relations.models import Relation
from tenants.models import Tenant

from .querysets import RegistrationQuerySet


class IntakeFormKind(models.TextChoices):
    PUBLIC = "public", _("Public website form")
    DEPARTMENT = "department", _("Form of the department administrators")


class IntakeForm(models.Model):
    """An intake form ("Inschrijfformulier") of an environment: its rows, the membership a new
    member gets, the departments an applicant may choose, and what happens on each status."""

    tenant = models.ForeignKey(Tenant, verbose_name=_("environment"), on_delete=models.CASCADE, related_name="intake_forms")
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=IntakeFormKind.choices, default=IntakeFormKind.PUBLIC)
    # The public address: unguessable, so closed or test forms are not found by counting.
    slug = models.SlugField(_("address"), max_length=40, unique=True, editable=False)
    active = models.BooleanField(_("open for registrations"), default=True)
    introduction = models.TextField(_("introduction"), blank=True)
    privacy_statement = models.TextField(
        _("privacy statement"),
        help_text=_("Shown above the send button; the applicant agrees to it before sending."),
    )
    function_type = models.ForeignKey(
        FunctionType, verbose_name=_("membership"), on_delete=models.PROTECT, related_name="+",
        help_text=_("The membership a new member gets in the chosen department."),
    )
    departments = models.ManyToManyField(
        Tenant, verbose_name=_("departments to choose from"), related_name="+", blank=True,
        help_text=_("None chosen: every department below the environment."),
    )
    new_template = models.ForeignKey(
        "notifications.MailTemplate", verbose_name=_("on “new”: send the applicant"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )
    new_notify_function = models.ForeignKey(
        FunctionType, verbose_name=_("on “new”: inform the holders of"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )
    accepted_template = models.ForeignKey(
        "notifications.MailTemplate", verbose_name=_("on “accepted”: send the new member"),
        on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        db_table = "memberships_intakeform"
        verbose_name = _("intake form")
        verbose_name_plural = _("intake forms")
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="intake_form_name_unique")]

    def __str__(self) -> str:
        return self.name

    @property
    def access_tenant(self) -> Tenant:
        return self.tenant


class IntakeFormRow(models.Model):
    """One row of an intake form: its place ("Rij"), the text shown ("Waarde"), the card field it
    fills and whether it is required."""

    form = models.ForeignKey(IntakeForm, on_delete=models.CASCADE, related_name="rows")
    order = models.PositiveIntegerField(_("row"))
    label = models.CharField(_("text"), max_length=200)
    # A relation field ("first_name") or a custom field ("custom:<code>"); see intake/services.py.
    target = models.CharField(_("field"), max_length=60)
    required = models.BooleanField(_("required"), default=False)

    class Meta:
        db_table = "memberships_intakeformrow"
        verbose_name = _("intake form row")
        verbose_name_plural = _("intake form rows")
        ordering = ["order", "pk"]
        constraints = [models.UniqueConstraint(fields=["form", "target"], name="intake_form_row_target_unique")]

    def __str__(self) -> str:
        return self.label


class RegistrationStatus(models.TextChoices):
    NEW = "new", _("New")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")


class Registration(models.Model):
    """A submitted intake form ("Inschrijving"). `data` keeps the submission exactly as sent,
    whatever happens to it later."""

    form = models.ForeignKey(IntakeForm, verbose_name=_("intake form"), on_delete=models.PROTECT, related_name="registrations")
    tenant = models.ForeignKey(Tenant, verbose_name=_("environment"), on_delete=models.PROTECT, related_name="registrations")
    department = models.ForeignKey(Tenant, verbose_name=_("department"), on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=20, choices=RegistrationStatus.choices, default=RegistrationStatus.NEW)
    data = models.JSONField(_("submitted data"), default=dict)
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now, editable=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("entered by"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    relation = models.ForeignKey(
        Relation, verbose_name=_("relation"), on_delete=models.SET_NULL, null=True, blank=True, related_name="registrations"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    rejection_reason = models.CharField(_("reason for rejecting"), max_length=300, blank=True)

    objects = RegistrationQuerySet.as_manager()

    class Meta:
        db_table = "memberships_registration"
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        ordering = ["-submitted_at", "-pk"]
        indexes = [models.Index(fields=["tenant", "status", "submitted_at"])]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.get_status_display()})"

    @property
    def access_tenant(self) -> Tenant:
        return self.tenant

    @property
    def values(self) -> dict:
        return self.data.get("values", {})

    @property
    def display_name(self) -> str:
        values = self.values
        parts = [values.get("first_name") or values.get("initials"), values.get("infix"), values.get("last_name")]
        return " ".join(str(p) for p in parts if p) or "—"
