"""Billing (SPEC B1–B4): an environment's billing details, contribution rates, invoice runs,
invoices and credit notes with gap-free numbers, payments, bank statements (CAMT.053), SEPA
direct-debit mandates and collection batches (pain.008), and reminders."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from memberships.models import FunctionType
from relations.models import Relation
from tenants.leases import Leased
from tenants.models import Tenant

from .querysets import (
    BankStatementQuerySet,
    CollectionBatchQuerySet,
    InvoiceQuerySet,
    InvoiceRunQuerySet,
    MandateQuerySet,
    PaymentQuerySet,
    RateQuerySet,
)
from .references import rf_reference

ZERO = Decimal("0.00")


class BillingEnvironment(models.Model):
    """The billing details of an environment that bills: its season, creditor details for SEPA,
    payment term, lead time of its bank and reminder schedule. An environment without one does
    not bill; a department that bills itself has its own (seed 000 "Facturatie")."""

    tenant = models.OneToOneField(
        Tenant, verbose_name=_("environment"), on_delete=models.CASCADE, related_name="billing_environment"
    )
    season_start_month = models.PositiveSmallIntegerField(
        _("season starts in month"), default=1, help_text=_("1 for the calendar year, 9 for 1 September – 31 August.")
    )
    season_start_day = models.PositiveSmallIntegerField(_("season starts on day"), default=1)
    creditor_name = models.CharField(_("creditor name"), max_length=70)
    creditor_id = models.CharField(
        _("creditor identifier"), max_length=35, blank=True,
        help_text=_("Your SEPA creditor identifier (incassant-ID), e.g. NL98ZZZ999999999999."),
    )
    iban = models.CharField(_("IBAN"), max_length=34)
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    payment_term_days = models.PositiveSmallIntegerField(_("payment term (days)"), default=30)
    collection_lead_days = models.PositiveSmallIntegerField(
        _("bank lead time (days)"), default=5,
        help_text=_("A collection date must lie at least this many days ahead."),
    )
    reminder_days = models.CharField(
        _("reminders (days after the due date)"), max_length=60, blank=True, default="14,28",
        help_text=_("Comma-separated, e.g. 14,28. Empty: no reminders."),
    )
    reminder_template = models.ForeignKey(
        "notifications.MailTemplate", verbose_name=_("reminder mail template"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )
    invoice_template = models.ForeignKey(
        "notifications.MailTemplate", verbose_name=_("invoice mail template"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
        help_text=_("The e-mail that carries the invoice PDF. Without one, a standard text is sent."),
    )
    reversal_flag_count = models.PositiveSmallIntegerField(
        _("flag a mandate after this many reversals"), default=2
    )

    class Meta:
        verbose_name = _("billing environment")
        verbose_name_plural = _("billing environments")

    def __str__(self) -> str:
        return str(self.tenant)

    @property
    def access_tenant(self) -> Tenant:
        return self.tenant

    def season_of(self, day: datetime.date) -> tuple[datetime.date, datetime.date]:
        """The first and last day of the season holding `day`."""
        start = datetime.date(day.year, self.season_start_month, self.season_start_day)
        if start > day:
            start = datetime.date(day.year - 1, self.season_start_month, self.season_start_day)
        return start, season_end(start)

    def reminder_schedule(self) -> list[int]:
        return sorted({int(part) for part in self.reminder_days.replace(" ", "").split(",") if part.isdigit()})


def season_end(start: datetime.date) -> datetime.date:
    return datetime.date(start.year + 1, start.month, start.day) - datetime.timedelta(days=1)


class Rate(models.Model):
    """A contribution rate ("tarief") for one membership type in one season, optionally for an
    age band on the run's reference date. Set by an environment for its whole subtree; the
    nearest environment above a membership that has rates for its type and season decides."""

    tenant = models.ForeignKey(Tenant, verbose_name=_("environment"), on_delete=models.CASCADE, related_name="rates")
    function_type = models.ForeignKey(
        FunctionType, verbose_name=_("membership"), on_delete=models.PROTECT, related_name="rates"
    )
    season_start = models.DateField(_("season from"))
    season_end = models.DateField(_("season until"), editable=False)
    age_from = models.PositiveSmallIntegerField(_("age from"), null=True, blank=True)
    age_to = models.PositiveSmallIntegerField(_("age up to and including"), null=True, blank=True)
    name = models.CharField(_("name"), max_length=80, help_text=_("E.g. “Jeugd” or “Volwassen”."))
    amount = models.DecimalField(_("amount"), max_digits=9, decimal_places=2)
    vat_code = models.CharField(_("VAT code"), max_length=10, default="exempt")
    ledger_account = models.CharField(_("ledger account"), max_length=20, default="8000")

    objects = RateQuerySet.as_manager()

    class Meta:
        verbose_name = _("rate")
        verbose_name_plural = _("rates")
        ordering = ["-season_start", "function_type__order", "age_from", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="rate_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(age_from__isnull=True) | Q(age_to__isnull=True) | Q(age_to__gte=F("age_from")),
                name="rate_age_band_ordered",
            ),
        ]
        indexes = [models.Index(fields=["season_start", "season_end"])]

    def __str__(self) -> str:
        return f"{self.function_type} {self.name} {self.season_start:%Y}"

    @property
    def access_tenant(self) -> Tenant:
        return self.tenant

    @property
    def band_label(self) -> str:
        if self.age_from is None and self.age_to is None:
            return "—"
        return f"{self.age_from if self.age_from is not None else 0}–{self.age_to if self.age_to is not None else '…'}"

    def fits_age(self, age: int | None) -> bool:
        if self.age_from is None and self.age_to is None:
            return True
        if age is None:
            return False
        return (self.age_from is None or age >= self.age_from) and (self.age_to is None or age <= self.age_to)


class RunKind(models.TextChoices):
    MEMBERS = "members", _("Members")
    DEPARTMENTS = "departments", _("Departments (by their count of memberships)")


class InvoiceRun(Leased):
    """An invoice run ("factuurrun") on a reference date: a concept first, then finalised into
    invoices; their PDFs are rendered and mailed in the background, in steps, by a worker holding
    the run's lease (tenants/leases.py)."""

    class Status(models.TextChoices):
        CONCEPT = "concept", _("Concept")
        FINALISED = "finalised", _("Finalised")

    tenant = models.ForeignKey(Tenant, verbose_name=_("environment"), on_delete=models.PROTECT, related_name="invoice_runs")
    kind = models.CharField(_("kind"), max_length=20, choices=RunKind.choices, default=RunKind.MEMBERS)
    name = models.CharField(_("name"), max_length=120)
    reference_date = models.DateField(_("reference date"))
    invoice_date = models.DateField(_("invoice date"), default=datetime.date.today)
    function_types = models.ManyToManyField(FunctionType, verbose_name=_("memberships"), related_name="+")
    pro_rata = models.BooleanField(
        _("pro rata"), default=False,
        help_text=_("Members who joined during the season pay for the months that remain."),
    )
    send_email = models.BooleanField(_("send the invoices by e-mail"), default=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.CONCEPT)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    finalised_at = models.DateTimeField(_("finalised at"), null=True, blank=True)
    finalised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("finalised by"), on_delete=models.SET_NULL, null=True,
        blank=True, related_name="+",
    )
    invoice_count = models.PositiveIntegerField(_("invoices"), default=0)
    total = models.DecimalField(_("total"), max_digits=14, decimal_places=2, default=ZERO)
    documents_done = models.PositiveIntegerField(_("PDFs made"), default=0)

    objects = InvoiceRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("invoice run")
        verbose_name_plural = _("invoice runs")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def access_tenant(self) -> Tenant:
        return self.tenant

    @property
    def documents_percent(self) -> int:
        return 100 if not self.invoice_count else int(100 * self.documents_done / self.invoice_count)


class InvoiceCounter(models.Model):
    """The last invoice number given per billing environment and year. Numbers come from an
    UPDATE under a row lock in the finalising transaction: a rollback returns the number, so
    there are no gaps, and two finalising runs wait for each other, so no duplicates."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "year"], name="invoice_counter_unique")]

    def __str__(self) -> str:
        return f"{self.year}: {self.value}"


class InvoiceStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PARTLY_PAID = "partly_paid", _("Partly paid")
    PAID = "paid", _("Paid")
    CREDITED = "credited", _("Credited")
    WRITTEN_OFF = "written_off", _("Written off")


class Invoice(models.Model):
    """An invoice or credit note. Once made it is never deleted or changed: a credit note (with
    its own number) takes it back. The debtor is a relation (members) or an environment
    (a department billed by its count of memberships, SPEC B4)."""

    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Invoice")
        CREDIT_NOTE = "credit_note", _("Credit note")

    tenant = models.ForeignKey(Tenant, verbose_name=_("environment"), on_delete=models.PROTECT, related_name="invoices")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.INVOICE)
    number = models.CharField(_("number"), max_length=20)
    run = models.ForeignKey(
        InvoiceRun, verbose_name=_("invoice run"), on_delete=models.PROTECT, null=True, blank=True, related_name="invoices"
    )
    credits = models.ForeignKey(
        "self", verbose_name=_("credits invoice"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="credit_notes",
    )
    relation = models.ForeignKey(
        Relation, verbose_name=_("relation"), on_delete=models.PROTECT, null=True, blank=True, related_name="invoices"
    )
    debtor_tenant = models.ForeignKey(
        Tenant, verbose_name=_("department"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="invoices_received",
    )
    debtor_name = models.CharField(_("debtor"), max_length=200)
    debtor_email = models.EmailField(_("e-mail address"), blank=True)
    debtor_address = models.TextField(_("address"), blank=True)
    date = models.DateField(_("date"))
    due_date = models.DateField(_("due date"))
    season_start = models.DateField(_("season"), null=True, blank=True)
    total = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    credited = models.DecimalField(_("credited"), max_digits=12, decimal_places=2, default=ZERO)
    paid = models.DecimalField(_("paid"), max_digits=12, decimal_places=2, default=ZERO)
    status = models.CharField(_("status"), max_length=20, choices=InvoiceStatus.choices, default=InvoiceStatus.OPEN)
    reversal_reason = models.CharField(_("reason of the last reversal"), max_length=10, blank=True)
    pdf = models.FileField(_("PDF"), upload_to="invoices/%Y/", blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(_("reminders sent"), default=0)
    last_reminder_on = models.DateField(_("last reminder"), null=True, blank=True)
    note = models.CharField(_("reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-date", "-number"]
        permissions = [
            ("view_department_invoices", _("Can see the department's own invoices in the ledenmodule")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="invoice_number_unique"),
            models.CheckConstraint(
                condition=Q(relation__isnull=False) | Q(debtor_tenant__isnull=False), name="invoice_has_debtor"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "status", "due_date"]),
            models.Index(fields=["tenant", "date"]),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def access_tenant(self) -> Tenant:
        return self.tenant

    @property
    def balance(self) -> Decimal:
        """What is still to be paid."""
        if self.kind == self.Kind.CREDIT_NOTE or self.status in (InvoiceStatus.CREDITED, InvoiceStatus.WRITTEN_OFF):
            return ZERO
        return max(self.total - self.credited - self.paid, ZERO)

    @property
    def creditable(self) -> Decimal:
        return ZERO if self.kind == self.Kind.CREDIT_NOTE else self.total - self.credited

    @property
    def payment_reference(self) -> str:
        """The structured creditor reference (ISO 11649, "RF…") that a payer types in the
        "betalingskenmerk" field: its check digits let the bank refuse a typing error, and the
        bank statement import finds the invoice by it (`references.invoice_numbers_in`)."""
        return rf_reference(self.number)


class InvoiceLine(models.Model):
    """One line of an invoice. `billed` marks a membership invoiced for a season: at most one
    such line per relation, type, season and billing environment (a second run skips it; a
    credit note frees it again)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    description = models.CharField(_("description"), max_length=200)
    relation = models.ForeignKey(Relation, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    function_type = models.ForeignKey(FunctionType, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    rate = models.ForeignKey(Rate, on_delete=models.PROTECT, null=True, blank=True, related_name="lines")
    season_start = models.DateField(null=True, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    unit_amount = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    vat_code = models.CharField(_("VAT code"), max_length=10, default="exempt")
    ledger_account = models.CharField(_("ledger account"), max_length=20, default="8000")
    billed = models.BooleanField(default=False)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "relation", "function_type", "season_start"], condition=Q(billed=True),
                name="invoice_line_billed_once",
            ),
        ]

    def __str__(self) -> str:
        return self.description


class Mandate(models.Model):
    """A SEPA direct-debit mandate ("machtiging") of a relation to a billing environment."""

    tenant = models.ForeignKey(Tenant, verbose_name=_("environment"), on_delete=models.PROTECT, related_name="mandates")
    relation = models.ForeignKey(Relation, verbose_name=_("relation"), on_delete=models.PROTECT, related_name="mandates")
    reference = models.CharField(_("mandate reference"), max_length=35)
    signed_on = models.DateField(_("date signed"))
    iban = models.CharField(_("IBAN"), max_length=34)
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    account_holder = models.CharField(_("account holder"), max_length=70)
    first_collected_on = models.DateField(
        _("first collected on"), null=True, blank=True,
        help_text=_("Empty: the next collection is a first one (FRST); afterwards recurring (RCUR)."),
    )
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    reversals = models.PositiveSmallIntegerField(_("reversals"), default=0)
    flagged = models.BooleanField(_("flagged"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The mandate this one replaced (ended when this one was recorded), and the import that
    # recorded it ("import:<id>"; empty when entered by hand): undoing the import deletes it and
    # makes the replaced one active again.
    replaces = models.ForeignKey(
        "self", verbose_name=_("replaces"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source = models.CharField(_("source"), max_length=60, blank=True, db_index=True)

    objects = MandateQuerySet.as_manager()

    class Meta:
        verbose_name = _("mandate")
        verbose_name_plural = _("mandates")
        ordering = ["-signed_on", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "reference"], name="mandate_reference_unique"),
            models.UniqueConstraint(
                fields=["tenant", "relation"], condition=Q(ended_on__isnull=True), name="mandate_one_active"
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def access_tenant(self) -> Tenant:
        return self.tenant

    @property
    def sequence_type(self) -> str:
        return "RCUR" if self.first_collected_on else "FRST"


class InvoiceMember(models.Model):
    """A membership a department invoice counted (SPEC B4): the invoice's member list, kept as
    it was on the run's reference date so the list always adds up to the invoice."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="counted_members")
    relation = models.ForeignKey(Relation, on_delete=models.CASCADE, related_name="+")
    function_type = models.ForeignKey(FunctionType, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.invoice_id}: {self.relation_id}"


class CollectionBatch(models.Model):
    """A direct-debit collection ("incassobatch") on one collection date: a pain.008 file."""

    tenant = models.ForeignKey(Tenant, verbose_name=_("environment"), on_delete=models.PROTECT, related_name="+")
    collection_date = models.DateField(_("collection date"))
    message_id = models.CharField(_("message id"), max_length=35, unique=True)
    schema = models.CharField(_("format"), max_length=20, default="pain.008.001.02")
    file = models.FileField(_("file"), upload_to="sepa/%Y/", blank=True)
    transactions = models.PositiveIntegerField(_("transactions"), default=0)
    control_sum = models.DecimalField(_("control sum"), max_digits=14, decimal_places=2, default=ZERO)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )

    objects = CollectionBatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("collection batch")
        verbose_name_plural = _("collection batches")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.message_id

    @property
    def access_tenant(self) -> Tenant:
        return self.tenant


class CollectionItem(models.Model):
    batch = models.ForeignKey(CollectionBatch, on_delete=models.CASCADE, related_name="items")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="collections")
    mandate = models.ForeignKey(Mandate, on_delete=models.PROTECT, related_name="collections")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    sequence_type = models.CharField(max_length=4)
    end_to_end_id = models.CharField(max_length=35)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.end_to_end_id


class BankStatement(models.Model):
    """An imported bank statement (CAMT.053)."""

    tenant = models.ForeignKey(Tenant, verbose_name=_("environment"), on_delete=models.PROTECT, related_name="+")
    statement_id = models.CharField(_("statement"), max_length=35)
    iban = models.CharField(_("account"), max_length=34)
    file_name = models.CharField(_("file"), max_length=200)
    entries = models.PositiveIntegerField(_("entries"), default=0)
    matched = models.PositiveIntegerField(_("matched"), default=0)
    imported_at = models.DateTimeField(_("imported at"), default=timezone.now, editable=False)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )

    objects = BankStatementQuerySet.as_manager()

    class Meta:
        verbose_name = _("bank statement")
        verbose_name_plural = _("bank statements")
        ordering = ["-imported_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["tenant", "statement_id"], name="bank_statement_once")]

    def __str__(self) -> str:
        return self.statement_id

    @property
    def access_tenant(self) -> Tenant:
        return self.tenant


class BankEntry(models.Model):
    """One transaction of a statement: matched to an invoice, a reversal of a collection, or
    left to be matched by hand."""

    class Match(models.TextChoices):
        UNMATCHED = "unmatched", _("Not matched")
        REFERENCE = "reference", _("By reference")
        IBAN_AMOUNT = "iban_amount", _("By IBAN and amount")
        MANUAL = "manual", _("By hand")
        REVERSAL = "reversal", _("Reversal")

    statement = models.ForeignKey(BankStatement, on_delete=models.CASCADE, related_name="lines")
    booking_date = models.DateField(_("date"))
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    counterparty_name = models.CharField(_("name"), max_length=140, blank=True)
    counterparty_iban = models.CharField(_("IBAN"), max_length=34, blank=True)
    reference = models.CharField(_("reference"), max_length=140, blank=True)
    description = models.CharField(_("description"), max_length=280, blank=True)
    reason_code = models.CharField(_("reason code"), max_length=10, blank=True)
    is_reversal = models.BooleanField(_("reversal"), default=False)
    match = models.CharField(_("match"), max_length=20, choices=Match.choices, default=Match.UNMATCHED)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="bank_entries")

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.booking_date} {self.amount}"


class Payment(models.Model):
    """Money received for an invoice (negative: a reversal)."""

    class Method(models.TextChoices):
        MANUAL = "manual", _("By hand")
        BANK = "bank", _("Bank statement")
        DIRECT_DEBIT = "direct_debit", _("Direct debit")
        REVERSAL = "reversal", _("Reversal")

    tenant = models.ForeignKey(Tenant, verbose_name=_("environment"), on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(Invoice, verbose_name=_("invoice"), on_delete=models.PROTECT, related_name="payments")
    date = models.DateField(_("date"))
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    method = models.CharField(_("method"), max_length=20, choices=Method.choices, default=Method.MANUAL)
    bank_entry = models.ForeignKey(BankEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="payments")
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )

    objects = PaymentQuerySet.as_manager()

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-date", "-pk"]
        indexes = [models.Index(fields=["tenant", "date"])]

    def __str__(self) -> str:
        return f"{self.date} {self.amount}"

    @property
    def access_tenant(self) -> Tenant:
        return self.tenant
