"""Selection wizards (saved, named selections of relations, SPEC W1–W3), their fields and the
background exports of large results (W6). The log of every export is relations.ExportLog."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants.leases import Leased
from tenants.models import Tenant

from .querysets import WizardQuerySet


class Section(models.TextChoices):
    STANDARD = "standard", _("Standard selections")
    LEDENMODULE = "ledenmodule", _("Ledenmodule")
    MUTATION_CHECKS = "mutation_checks", _("Mutation checks")
    OTHER = "other", _("Other selections")


class FilterMode(models.TextChoices):
    NONE = "", _("No filter")
    SINGLE = "single", _("Single value")
    RANGE = "range", _("From – to")
    CONTAINS = "contains", _("Contains")
    ONE_OF = "one_of", _("One of")


class Wizard(models.Model):
    """A saved selection of relations with its fields (columns and filters).

    `tenant` owns the wizard: it applies there and in every environment below it. Wizards shipped
    with the system (`code` set) belong to no tenant and apply everywhere; changing them is a
    power on the federation (the root tenant)."""

    tenant = models.ForeignKey(
        Tenant, verbose_name=_("environment"), on_delete=models.CASCADE, null=True, blank=True,
        related_name="wizards",
    )
    code = models.SlugField(_("code"), max_length=60, unique=True, null=True, blank=True, editable=False)
    name = models.CharField(_("name"), max_length=120)
    section = models.CharField(_("section"), max_length=20, choices=Section.choices, default=Section.OTHER)
    description = models.TextField(_("description"), blank=True)
    include_inactive = models.BooleanField(
        _("include inactive relations"), default=False,
        help_text=_("Relations without a current function are left out unless this is on (it can be changed when running)."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.SET_NULL, null=True,
        blank=True, related_name="+", editable=False,
    )

    objects = WizardQuerySet.as_manager()

    class Meta:
        verbose_name = _("selection wizard")
        verbose_name_plural = _("selection wizards")
        ordering = ["name", "pk"]
        permissions = [
            ("run_ledenmodule_wizard", _("Can run ledenmodule wizards")),
            ("change_ledenmodule_wizard", _("Can change ledenmodule wizards")),
            ("view_mutation_list", _("Can view the mutation list")),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def access_tenant(self) -> Tenant | None:
        if self.tenant_id is not None:
            return self.tenant
        # A list of wizards sets `root_tenant` once instead of asking for it per wizard.
        if "root_tenant" not in self.__dict__:
            self.root_tenant = Tenant.objects.get_first_root_node()
        return self.root_tenant

    @property
    def is_ledenmodule(self) -> bool:
        return self.section == Section.LEDENMODULE


class WizardField(models.Model):
    """One field of a wizard: a column of its result and, optionally, a filter on it."""

    wizard = models.ForeignKey(Wizard, on_delete=models.CASCADE, related_name="fields")
    field_key = models.CharField(_("field"), max_length=80)
    order = models.PositiveIntegerField(_("order"), default=0)
    label = models.CharField(_("own label"), max_length=100, blank=True)
    mode = models.CharField(_("filter"), max_length=20, choices=FilterMode.choices, blank=True, default="")
    # Filter values as typed (normalised: dates ISO), one per line for "one of".
    value = models.TextField(_("value"), blank=True)
    value_to = models.CharField(_("to"), max_length=100, blank=True)
    ask = models.BooleanField(_("ask when run"), default=False)
    shown = models.BooleanField(_("show as column"), default=True)

    class Meta:
        verbose_name = _("wizard field")
        verbose_name_plural = _("wizard fields")
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.label or self.field_key

    @property
    def values(self) -> list[str]:
        return [line.strip() for line in self.value.splitlines() if line.strip()]


class ExportJob(Leased):
    """A large wizard export made by a Celery task; only its requester can download the file. The
    worker making it holds its lease (tenants/leases.py), so a killed worker's export is made
    again by the next one, into the same file."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Busy")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    wizard = models.ForeignKey(Wizard, on_delete=models.SET_NULL, null=True, related_name="+")
    what = models.CharField(max_length=200)
    parameters = models.JSONField(default=dict)
    format = models.CharField(max_length=10)
    language = models.CharField(max_length=10, default="nl")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    rows_done = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(null=True)
    file_name = models.CharField(max_length=200, blank=True)
    message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    finished_at = models.DateTimeField(null=True)
    expires_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.what} ({self.format})"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(99, self.rows_done * 100 // self.rows_total)
