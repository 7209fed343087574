"""Relation cards (persons and organisations), custom fields, the communication log, saved
searches, column choices and the log of exports of personal data."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from tenants.history import OnBehalfOfHistory
from tenants.models import Language, Tenant

from .querysets import RelationQuerySet, access_tenants


class RelationKind(models.TextChoices):
    PERSON = "person", _("Person")
    ORGANISATION = "organisation", _("Organisation")


class Gender(models.TextChoices):
    FEMALE = "f", _("Female")
    MALE = "m", _("Male")
    OTHER = "x", pgettext_lazy("gender", "Other")
    UNKNOWN = "", _("Unknown")


class MagazineDelivery(models.TextChoices):
    AUTOMATIC = "automatic", _("Automatic")
    BLOCKED = "blocked", _("Blocked")


class RelationNumberCounter(models.Model):
    """One row that hands out relation numbers: an UPDATE … SET value = value + 1 under a row
    lock, so two simultaneous registrations never get the same number."""

    value = models.PositiveBigIntegerField(default=100000)

    def __str__(self) -> str:
        return str(self.value)


class Relation(models.Model):
    """A person or organisation known to the federation: the relation card (SPEC R1)."""

    number = models.PositiveBigIntegerField(_("relation number"), unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=RelationKind.choices, default=RelationKind.PERSON)
    tenant = models.ForeignKey(
        Tenant, verbose_name=_("home environment"), on_delete=models.PROTECT, related_name="relations"
    )
    initials = models.CharField(_("initials"), max_length=20, blank=True)
    first_name = models.CharField(_("first name"), max_length=80, blank=True)
    infix = models.CharField(_("infix"), max_length=20, blank=True, help_text=_("For example “van”, “de” or “van der”."))
    last_name = models.CharField(_("surname"), max_length=120, blank=True)
    organisation_name = models.CharField(_("organisation name"), max_length=200, blank=True)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True, default=Gender.UNKNOWN)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    email = models.EmailField(_("e-mail address"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    mobile = models.CharField(_("mobile phone"), max_length=30, blank=True)
    postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    house_number = models.PositiveIntegerField(_("house number"), null=True, blank=True)
    house_number_suffix = models.CharField(_("suffix"), max_length=10, blank=True)
    street = models.CharField(_("street"), max_length=120, blank=True)
    city = models.CharField(_("city"), max_length=80, blank=True)
    country = models.CharField(_("country"), max_length=2, default="NL")
    language = models.CharField(_("language"), max_length=5, choices=Language.choices, default=Language.DUTCH)
    magazine_delivery = models.CharField(
        _("magazine"), max_length=20, choices=MagazineDelivery.choices, default=MagazineDelivery.AUTOMATIC
    )
    extra = models.JSONField(_("custom fields"), default=dict, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("login"), on_delete=models.SET_NULL, null=True,
        blank=True, related_name="relation", editable=False,
        help_text=_("The login of this person, made when a function grants them a role."),
    )
    # Lower-cased name, number, e-mail, postcode and city, kept by the services for the one search
    # box; PostgreSQL indexes it with trigrams (see the migration).
    search_text = models.TextField(editable=False, default="")
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    # Set when the person's data was erased on request (relations/privacy.py): the card keeps its
    # number, home and functions for the statistics, nothing that names the person.
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True, editable=False)
    # Archived: merged into another card (`merged_into`) or anonymised. An archived card is never
    # listed or found again (`Relation.objects.visible_to` leaves it out); a merged card's
    # address opens the card it was merged into.
    archived = models.BooleanField(_("archived"), default=False, editable=False)
    merged_into = models.ForeignKey(
        "self", verbose_name=_("merged into"), on_delete=models.PROTECT, null=True, blank=True, editable=False,
        related_name="+",
    )

    history = HistoricalRecords(excluded_fields=["search_text", "merged_into"], bases=[OnBehalfOfHistory])
    objects = RelationQuerySet.as_manager()

    class Meta:
        verbose_name = _("relation")
        verbose_name_plural = _("relations")
        ordering = ["last_name", "first_name", "number"]
        permissions = [
            ("export_relation", _("Can export relations")),
            ("export_personal_data", _("Can export everything about a person (GDPR)")),
            ("anonymise_relation", _("Can anonymise a relation on request (GDPR)")),
        ]
        indexes = [
            models.Index(fields=["tenant", "last_name"]),
            models.Index(fields=["postcode", "house_number"]),
            # The list's name order. It carries what a search filters on, so for a search with
            # many matches PostgreSQL finds the first page walking the index alone, without
            # visiting the table row by row (docs/benchmarks.md, run 8).
            # Only cards that are listed (not archived): the lists and the search ask for those.
            models.Index(
                fields=["last_name", "first_name", "number"], include=["search_text", "id", "tenant"],
                name="relation_name_order", condition=models.Q(archived=False),
            ),
            # The bulk import's matching: e-mail address, and surname with birth date.
            models.Index(Lower("email"), name="relation_email_lower"),
            models.Index(Lower("last_name"), "birth_date", name="relation_surname_birth"),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.number})"

    @property
    def access_tenant(self) -> Tenant:
        return self.tenant

    @property
    def access_tenants(self) -> list[Tenant]:
        """The object check: the tenants whose chains answer `user.has_perm(perm, relation)` —
        its home and the tenants where it is a guest today (one query). An environment shows the
        card exactly when one of them lies in its subtree (`querysets.access_tenants`, the same
        definition as `Relation.objects.visible_to`), so a user holds a permission on the card
        when an environment that shows it to them grants it."""
        return access_tenants(self, datetime.date.today())

    @property
    def display_name(self) -> str:
        if self.kind == RelationKind.ORGANISATION:
            return self.organisation_name
        parts = [self.first_name or self.initials, self.infix, self.last_name]
        return " ".join(p for p in parts if p)

    @property
    def sort_name(self) -> str:
        """Surname first, the way member lists are read: "Vries, Jan de"."""
        if self.kind == RelationKind.ORGANISATION:
            return self.organisation_name
        given = " ".join(p for p in [self.first_name or self.initials, self.infix] if p)
        return f"{self.last_name}, {given}" if given else self.last_name

    @property
    def address_line(self) -> str:
        number = f"{self.house_number or ''}{self.house_number_suffix and ' ' + self.house_number_suffix or ''}"
        return " ".join(p for p in [self.street, number] if p)

    def age_on(self, day: datetime.date) -> int | None:
        if self.birth_date is None:
            return None
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - before_birthday


class CustomFieldType(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    CHOICE = "choice", _("Choice")
    BOOLEAN = "boolean", _("Yes/no")


class CustomField(models.Model):
    """An extra field ("extra veld") a tenant defines for the relations in its environment."""

    tenant = models.ForeignKey(Tenant, verbose_name=_("environment"), on_delete=models.CASCADE, related_name="custom_fields")
    code = models.SlugField(_("code"), max_length=40)
    label = models.CharField(_("label"), max_length=100)
    field_type = models.CharField(_("type"), max_length=20, choices=CustomFieldType.choices)
    choices = models.TextField(_("choices"), blank=True, help_text=_("One choice per line (only for the type Choice)."))
    required = models.BooleanField(_("required"), default=False)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering = ["order", "label"]
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="custom_field_code_unique")]

    def __str__(self) -> str:
        return self.label

    @property
    def access_tenant(self) -> Tenant:
        return self.tenant

    @property
    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]


class CommunicationType(models.Model):
    """A kind of communication-log entry a tenant uses (phone call, visit report …)."""

    tenant = models.ForeignKey(Tenant, verbose_name=_("environment"), on_delete=models.CASCADE, related_name="communication_types")
    code = models.SlugField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("communication type")
        verbose_name_plural = _("communication types")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="communication_type_code_unique")]

    def __str__(self) -> str:
        return self.name

    @property
    def access_tenant(self) -> Tenant:
        return self.tenant


class CommunicationEntry(models.Model):
    """One line of a relation's communication log: a mail, letter or invoice the system sent, or
    a manual entry."""

    class Channel(models.TextChoices):
        MANUAL = "manual", _("Manual entry")
        EMAIL = "email", _("E-mail")
        LETTER = "letter", _("Letter")
        INVOICE = "invoice", _("Invoice")

    relation = models.ForeignKey(Relation, verbose_name=_("relation"), on_delete=models.CASCADE, related_name="communication")
    tenant = models.ForeignKey(Tenant, verbose_name=_("environment"), on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, default=Channel.MANUAL)
    communication_type = models.ForeignKey(
        CommunicationType, verbose_name=_("type"), on_delete=models.PROTECT, null=True, blank=True
    )
    date = models.DateField(_("date"), default=datetime.date.today)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    attachment = models.FileField(_("attachment"), upload_to="communication/%Y/%m/", blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("communication-log entry")
        verbose_name_plural = _("communication log")
        ordering = ["-date", "-created_at"]
        indexes = [models.Index(fields=["relation", "date"])]

    def __str__(self) -> str:
        return self.subject


class SavedSearch(models.Model):
    """A search a user saved under a name to run again (SPEC R2)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_searches")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    query_string = models.TextField(_("search"))
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("saved search")
        verbose_name_plural = _("saved searches")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "tenant", "name"], name="saved_search_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class ColumnPreference(models.Model):
    """The columns a user chose for the relation search (kept per user)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="relation_columns")
    columns = models.JSONField(default=list)

    def __str__(self) -> str:
        return ", ".join(self.columns)


class RelationView(models.Model):
    """Who opened which relation card, one row per user, relation and day (GDPR view log)."""

    relation = models.ForeignKey(Relation, verbose_name=_("relation"), on_delete=models.CASCADE, related_name="views")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("date"))

    class Meta:
        verbose_name = _("card view")
        verbose_name_plural = _("card views")
        ordering = ["-day", "user_id"]
        constraints = [models.UniqueConstraint(fields=["relation", "user", "day"], name="relation_view_once_a_day")]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.relation_id} ({self.day})"


class ExportLog(models.Model):
    """One export of personal data: who, what, how many rows, when (SPEC X3). Its table kept the
    name it had in the wizards app (relations 0007)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    what = models.CharField(_("what"), max_length=200)
    format = models.CharField(_("format"), max_length=10)
    rows = models.PositiveIntegerField(_("rows"))
    created_at = models.DateTimeField(_("when"), default=timezone.now, editable=False)

    class Meta:
        db_table = "wizards_exportlog"
        verbose_name = _("export log entry")
        verbose_name_plural = _("export log")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.what} ({self.rows})"


class CommunicationRefusal(models.Model):
    """A person's "no" to one communication type (SPEC L2, consent): personalised documents and
    mailings of that type are not sent to them. No row: the type is allowed. Set by the member in
    the portal (relations.services.communication_preferences_set)."""

    relation = models.ForeignKey(
        Relation, verbose_name=_("relation"), on_delete=models.CASCADE, related_name="communication_refusals"
    )
    communication_type = models.ForeignKey(
        CommunicationType, verbose_name=_("type"), on_delete=models.CASCADE, related_name="refusals"
    )
    created_at = models.DateTimeField(_("since"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("refused communication type")
        verbose_name_plural = _("refused communication types")
        constraints = [
            models.UniqueConstraint(fields=["relation", "communication_type"], name="communication_refusal_once")
        ]

    def __str__(self) -> str:
        return f"{self.relation_id} ✗ {self.communication_type_id}"


class ApprovalSetting(models.Model):
    """Which card fields a member's own correction changes only after the department approved it
    (issue 18): one row per federation, on its national environment. No row: none."""

    tenant = models.OneToOneField(
        Tenant, verbose_name=_("federation"), on_delete=models.CASCADE, related_name="approval_setting"
    )
    fields = models.JSONField(_("fields that need approval"), default=list, blank=True)
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("changed by"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("approval setting")
        verbose_name_plural = _("approval settings")

    def __str__(self) -> str:
        return ", ".join(self.fields)

    @property
    def access_tenant(self) -> Tenant:
        return self.tenant


class ChangeRequest(models.Model):
    """A member's correction of fields that need the department's approval: the new values wait
    here until a department administrator approves (the card is then changed through
    relation_update, by the member) or rejects them."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    relation = models.ForeignKey(
        Relation, verbose_name=_("relation"), on_delete=models.CASCADE, related_name="change_requests"
    )
    tenant = models.ForeignKey(Tenant, verbose_name=_("department"), on_delete=models.PROTECT, related_name="+")
    values = models.JSONField(_("new values"), default=dict)
    previous = models.JSONField(_("old values"), default=dict)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    requested_at = models.DateTimeField(_("asked on"), default=timezone.now, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("asked by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided on"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("change request")
        verbose_name_plural = _("change requests")
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["tenant", "status"])]

    def __str__(self) -> str:
        return f"{self.relation_id} {self.get_status_display()}"

    @property
    def access_tenant(self) -> Tenant:
        return self.tenant
