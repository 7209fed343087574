"""Use cases of billing: every write with a rule. Rates (B1), invoice runs from concept to
finalised invoices with gap-free numbers (B2, B4), credit notes, payments and write-offs,
SEPA mandates and collection batches (B3), bank-statement import with matching and reversals,
and reminders. Views call these; they never read `request`."""

from __future__ import annotations

import datetime
import re
import tempfile
import uuid
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from types import SimpleNamespace

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.db import connection, transaction
from django.db.models import BooleanField, Count, F, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from schwifty import BIC, IBAN
from schwifty import exceptions as iban_errors
from stdnum.eu import at_02

from memberships.models import Function, FunctionCategory, FunctionType
from notifications.services import MailAttachment, mail_send
from relations.models import Relation, RelationKind
from relations.services import RowRefused, export_log_record
from tenants.models import Tenant, TenantKind, User

from .camt import CamtError, parse_camt053
from .documents import (
    invoice_email_text,
    invoice_mail,
    invoice_member_files,
    invoice_member_list,
    invoice_pdf,
    reminder_email_text,
)
from .models import (
    ZERO,
    BankEntry,
    BankStatement,
    BillingEnvironment,
    CollectionBatch,
    CollectionItem,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    InvoiceMember,
    InvoiceRun,
    InvoiceStatus,
    Mandate,
    Payment,
    Rate,
    RunKind,
    season_end,
)
from .references import INVOICE_NUMBER_RE, invoice_numbers_in
from .sepa import CHUNK_SIZE as SEPA_CHUNK_SIZE
from .sepa import Pain008Writer

CENT = Decimal("0.01")


def _money(value: Decimal) -> str:
    """An amount as the user reads it (50,00 in Dutch)."""
    return number_format(value, 2, use_l10n=True)


def _bulk_set(model, columns: list[tuple[str, str]], rows: list[tuple], *, chunk: int = 5000) -> None:
    """UPDATE many rows of `model` by primary key: `columns` are (column, SQL type) of the values
    after the key in each row. Django's bulk_update builds a CASE per row and field, which takes
    minutes for 100,000 rows; here PostgreSQL gets the rows by COPY into a temporary table and
    one UPDATE … FROM it, other databases one UPDATE … FROM (VALUES …) per chunk."""
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    if connection.vendor == "postgresql":
        # COPY into a temporary table, then one UPDATE … FROM it.
        assignments = ", ".join(f"{quote(name)} = v.{quote(name)}" for name, _type in columns)
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS billing_bulk_set")
            cursor.execute(
                "CREATE TEMPORARY TABLE billing_bulk_set (id bigint, "
                + ", ".join(f"{quote(name)} {sql_type}" for name, sql_type in columns) + ") ON COMMIT DROP"
            )
            with cursor.copy("COPY billing_bulk_set FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(f"UPDATE {table} SET {assignments} FROM billing_bulk_set v WHERE {table}.id = v.id")  # noqa: S608
            cursor.execute("DROP TABLE billing_bulk_set")
        return
    assignments = ", ".join(
        f"{quote(name)} = CAST(v.column{index + 2} AS {sql_type})" for index, (name, sql_type) in enumerate(columns)
    )
    width = len(columns) + 1
    with connection.cursor() as cursor:
        for start in range(0, len(rows), chunk):
            part = rows[start:start + chunk]
            values = ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * len(part))
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM (VALUES {values}) AS v "  # noqa: S608 — our own names
                f"WHERE {table}.id = CAST(v.column1 AS bigint)",
                [value for row in part for value in row],
            )


def _insert(model, rows: list[dict]) -> list[int]:
    """INSERT many rows (dicts by attname; missing fields take their defaults) and return their
    primary keys in order. On PostgreSQL the keys are taken from the table's sequence and the
    rows sent with COPY, ten times faster than bulk_create for a run of 100,000 invoices;
    elsewhere bulk_create. Like bulk_create it skips model validation: callers build valid rows."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        created = model.objects.bulk_create([model(**row) for row in rows], batch_size=2000)
        return [obj.pk for obj in created]
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    defaults = {f.attname: f.get_default() for f in fields}
    table = model._meta.db_table
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in ["id", *(f.column for f in fields)])
    names = [f.attname for f in fields]
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, len(rows)])
        ids = [row[0] for row in cursor.fetchall()]
        with cursor.copy(f"COPY {quote(table)} ({columns}) FROM STDIN") as copy:
            for pk, row in zip(ids, rows, strict=True):
                values = {**defaults, **row}
                copy.write_row([pk, *(values[name] for name in names)])
    return ids


def _among(model, field: str, values) -> Q:
    """`field IN values` for a long list. On PostgreSQL one array parameter compared with
    `= ANY(…)`, which it checks with a hash: psycopg takes seconds to splice 100,000 separate
    parameters into a query, and `IN (SELECT unnest(…))` on a table just filled (no statistics
    yet) can make a nested loop of hours."""
    values = list(values)
    if connection.vendor == "postgresql":
        column = model._meta.pk.column if field == "pk" else model._meta.get_field(field).column
        array = "bigint[]" if field == "pk" or field.endswith("_id") else "text[]"
        quote = connection.ops.quote_name
        # The values travel as one parameter; table, column and type names are our own.
        condition = RawSQL(  # noqa: S611
            f"{quote(model._meta.db_table)}.{quote(column)} = ANY(%s::{array})", (values,),
            output_field=BooleanField(),
        )
        return Q(condition)
    return Q(**{f"{field}__in": values})


def _insert_objects(model, objects: list) -> list:
    """`_insert` for unsaved model instances; sets their primary keys."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    ids = _insert(model, [{f.attname: getattr(obj, f.attname) for f in fields} for obj in objects])
    for obj, pk in zip(objects, ids, strict=True):
        obj.pk = pk
    return objects


# --- bank details ------------------------------------------------------------------------------


def iban_clean(value: str, *, field_name: str = "iban") -> tuple[str, str]:
    """The IBAN in its compact form and the BIC derived from it (empty when unknown); a clear
    message on a wrong check digit or length."""
    try:
        iban = IBAN(value or "")
    except iban_errors.InvalidChecksumDigits:
        raise ValidationError({field_name: _("This IBAN has a wrong check digit; check the number.")}) from None
    except iban_errors.SchwiftyException:
        raise ValidationError({field_name: _("This is not a valid IBAN.")}) from None
    try:
        bic = str(iban.bic) if iban.bic else ""
    except iban_errors.SchwiftyException:
        bic = ""
    return iban.compact, bic


def billing_environment_for(tenant: Tenant) -> BillingEnvironment | None:
    return BillingEnvironment.objects.filter(tenant=tenant).first()


def billing_environment_covering(tenant: Tenant) -> BillingEnvironment | None:
    """The environment that bills `tenant`'s members: the nearest one at or above it that bills
    (a department that bills itself, else its province, else national)."""
    return (
        BillingEnvironment.objects.filter(tenant__path__in=tenant.ancestor_paths())
        .select_related("tenant").order_by("-tenant__depth").first()
    )


def billing_environment_require(tenant: Tenant) -> BillingEnvironment:
    environment = billing_environment_for(tenant)
    if environment is None:
        raise ValidationError(_("This environment does not bill yet: fill in its billing details first."))
    return environment


@transaction.atomic
def billing_environment_save(*, environment: BillingEnvironment) -> BillingEnvironment:
    errors: dict[str, list[str]] = {}
    try:
        datetime.date(2001, environment.season_start_month, environment.season_start_day)
    except (ValueError, TypeError):
        errors["season_start_day"] = [_("This day does not exist in that month.")]
    if environment.season_start_month == 2 and environment.season_start_day == 29:
        errors["season_start_day"] = [_("A season cannot start on 29 February.")]
    try:
        environment.iban, derived_bic = iban_clean(environment.iban)
        environment.bic = (environment.bic or derived_bic).replace(" ", "").upper()
    except ValidationError as error:
        errors.update(error.message_dict)
    if environment.creditor_id:
        try:
            environment.creditor_id = at_02.validate(environment.creditor_id)
        except Exception:  # noqa: BLE001 — stdnum raises several ValidationError kinds
            errors["creditor_id"] = [_("This is not a valid SEPA creditor identifier.")]
    try:
        environment.reminder_schedule()
    except ValueError:
        errors["reminder_days"] = [_("Write the days as numbers separated by commas, e.g. 14,28.")]
    if errors:
        raise ValidationError(errors)
    environment.full_clean()
    environment.save()
    return environment


# --- rates (B1) --------------------------------------------------------------------------------


@transaction.atomic
def rate_save(*, rate: Rate) -> Rate:
    """Save a rate. The season runs a year from its first day; no two rates of one environment
    for the same membership and season may cover the same age; aspirants are free."""
    # One rate change per environment at a time, so two overlapping rates cannot both pass.
    Tenant.objects.select_for_update().filter(pk=rate.tenant_id).first()
    if rate.function_type_id and rate.function_type.category == FunctionCategory.ASPIRANT:
        raise ValidationError({"function_type": _("Aspirant members are free: they have no rate.")})
    if rate.function_type_id and not rate.function_type.counts_as_membership:
        raise ValidationError({"function_type": _("Only memberships have a contribution rate.")})
    if rate.season_start is None:
        raise ValidationError({"season_start": _("Enter the first day of the season.")})
    rate.season_end = season_end(rate.season_start)
    environment = BillingEnvironment.objects.filter(tenant=rate.tenant).first()
    if environment is not None and (rate.season_start.month, rate.season_start.day) != (
        environment.season_start_month, environment.season_start_day
    ):
        raise ValidationError({"season_start": _(
            "The season of this environment starts on %(day)d-%(month)d."
        ) % {"day": environment.season_start_day, "month": environment.season_start_month}})
    low = rate.age_from if rate.age_from is not None else 0
    high = rate.age_to if rate.age_to is not None else 999
    if low > high:
        raise ValidationError({"age_to": _("The age band ends before it begins.")})
    others = Rate.objects.filter(
        tenant=rate.tenant, function_type=rate.function_type,
        season_start__lte=rate.season_end, season_end__gte=rate.season_start,
    ).exclude(pk=rate.pk)
    for other in others:
        other_low = other.age_from if other.age_from is not None else 0
        other_high = other.age_to if other.age_to is not None else 999
        if low <= other_high and other_low <= high:
            raise ValidationError(_(
                "This rate overlaps the rate “%(name)s” (ages %(band)s) for the same membership and season."
            ) % {"name": other.name, "band": other.band_label})
    rate.full_clean()
    rate.save()
    return rate


def rate_delete(*, rate: Rate) -> None:
    if rate.lines.exists():
        raise ValidationError(_("This rate has been invoiced and cannot be deleted."))
    rate.delete()


class RateBook:
    """The rates in force on a day for memberships held anywhere below a billing environment:
    for a membership held in tenant T, the nearest tenant at or above T with rates for its type
    decides, and of those the rate whose age band fits."""

    def __init__(self, tenant: Tenant, day: datetime.date):
        rates = Rate.objects.in_season(day).filter(
            Q(tenant__path__in=tenant.ancestor_paths()) | tenant.subtree_filter("tenant")
        ).select_related("tenant")
        self.by_owner: dict[tuple[str, int], list[Rate]] = defaultdict(list)
        for rate in rates:
            self.by_owner[(rate.tenant.path, rate.function_type_id)].append(rate)

    def find(self, tenant_path: str, function_type_id: int, age: int | None) -> tuple[Rate | None, bool]:
        """(the rate, whether any rate exists for the type there)."""
        for owner_path in reversed(Tenant.ancestor_paths_of(tenant_path)):
            rates = self.by_owner.get((owner_path, function_type_id))
            if rates:
                for rate in rates:
                    if rate.fits_age(age):
                        return rate, True
                return None, True
        return None, False


def pro_rata_amount(amount: Decimal, *, season_start: datetime.date, joined: datetime.date) -> Decimal:
    """The part of a year's contribution for a member who joined during the season: the months
    that remain, counting the month of joining in full."""
    if joined <= season_start:
        return amount
    months_passed = (joined.year - season_start.year) * 12 + joined.month - season_start.month
    remaining = max(12 - months_passed, 0)
    return (amount * remaining / 12).quantize(CENT, rounding=ROUND_HALF_UP)


def age_on(birth_date: datetime.date | None, day: datetime.date) -> int | None:
    if birth_date is None:
        return None
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


# --- invoice runs (B2, B4) ---------------------------------------------------------------------


@dataclass
class ConceptLine:
    """One membership in a concept: who, which rate, how much, and why."""

    relation_id: int
    relation_number: int
    name: str
    email: str
    address: str
    function_type_id: int
    function_type: str
    tenant_id: int
    tenant_path: str
    tenant_name: str
    start_date: datetime.date
    age: int | None
    rate: Rate | None = None
    amount: Decimal = ZERO
    reason: str = ""

    @property
    def billable(self) -> bool:
        return self.rate is not None and self.amount > 0


@dataclass
class Concept:
    run: InvoiceRun
    season: tuple[datetime.date, datetime.date]
    lines: list[ConceptLine] = field(default_factory=list)

    @property
    def billable(self) -> list[ConceptLine]:
        return [line for line in self.lines if line.billable]

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.billable), ZERO)

    @property
    def debtors(self) -> int:
        if self.run.kind == RunKind.DEPARTMENTS:
            return len({line.tenant_id for line in self.billable})
        return len({line.relation_id for line in self.billable})


def _name(row: dict) -> str:
    if row["relation__kind"] == RelationKind.ORGANISATION:
        return row["relation__organisation_name"]
    parts = [row["relation__first_name"] or row["relation__initials"], row["relation__infix"], row["relation__last_name"]]
    return " ".join(p for p in parts if p)


def _address(row: dict) -> str:
    number = f"{row['relation__house_number'] or ''}{row['relation__house_number_suffix'] or ''}"
    street = " ".join(p for p in [row["relation__street"], number] if p)
    town = " ".join(p for p in [row["relation__postcode"], row["relation__city"]] if p)
    return "\n".join(p for p in [street, town] if p)


def _self_billing_paths(tenant: Tenant) -> list[str]:
    """Environments below `tenant` that bill their own members: their subtrees are theirs."""
    return list(
        BillingEnvironment.objects.filter(tenant.subtree_filter("tenant"))
        .exclude(tenant=tenant).values_list("tenant__path", flat=True)
    )


def run_concept(*, run: InvoiceRun) -> Concept:
    """What finalising `run` now would invoice, line by line, with the reason for every line
    that is not invoiced. Nothing is written."""

    environment = billing_environment_require(run.tenant)
    season = environment.season_of(run.reference_date)
    concept = Concept(run=run, season=season)
    type_ids = list(run.function_types.values_list("pk", flat=True))
    functions = (
        Function.objects.memberships().active_on(run.reference_date)
        .filter(run.tenant.subtree_filter("tenant"), function_type_id__in=type_ids)
    )
    if run.kind == RunKind.MEMBERS:
        for path in _self_billing_paths(run.tenant):
            functions = functions.exclude(Tenant.subtree_filter_at(path, "tenant"))
    rows = functions.order_by("relation__last_name", "relation__number", "function_type__order", "start_date").values(
        "relation_id", "relation__number", "relation__kind", "relation__first_name", "relation__initials",
        "relation__infix", "relation__last_name", "relation__organisation_name", "relation__email",
        "relation__street", "relation__house_number", "relation__house_number_suffix", "relation__postcode",
        "relation__city", "relation__birth_date", "function_type_id", "function_type__name",
        "function_type__category", "tenant_id", "tenant__path", "tenant__name", "start_date",
    )
    billed = set()
    if run.kind == RunKind.MEMBERS:
        billed = set(
            InvoiceLine.objects.filter(tenant=run.tenant, season_start=season[0], billed=True)
            .values_list("relation_id", "function_type_id")
        )
    book = RateBook(run.tenant, run.reference_date)
    seen: set[tuple[int, int]] = set()
    for row in rows.iterator(chunk_size=5000):
        key = (row["relation_id"], row["function_type_id"])
        if run.kind == RunKind.MEMBERS and key in seen:
            continue
        seen.add(key)
        line = ConceptLine(
            relation_id=row["relation_id"], relation_number=row["relation__number"], name=_name(row),
            email=row["relation__email"], address=_address(row), function_type_id=row["function_type_id"],
            function_type=row["function_type__name"], tenant_id=row["tenant_id"], tenant_path=row["tenant__path"],
            tenant_name=row["tenant__name"], start_date=row["start_date"],
            age=age_on(row["relation__birth_date"], run.reference_date),
        )
        concept.lines.append(line)
        if row["function_type__category"] == FunctionCategory.ASPIRANT:
            line.reason = _("Aspirant member: free")
            continue
        if key in billed:
            line.reason = _("Already invoiced this season")
            continue
        rate, has_rates = book.find(row["tenant__path"], row["function_type_id"], line.age)
        if rate is None:
            if not has_rates:
                line.reason = _("No rate for this membership and season")
            elif line.age is None:
                line.reason = _("No birth date, and the rates depend on age")
            else:
                line.reason = _("No rate for age %(age)d") % {"age": line.age}
            continue
        line.rate = rate
        line.amount = rate.amount
        if run.pro_rata and line.start_date > season[0]:
            line.amount = pro_rata_amount(rate.amount, season_start=season[0], joined=line.start_date)
            line.reason = _("Pro rata from %(date)s") % {"date": line.start_date.strftime("%d-%m-%Y")}
        else:
            line.reason = _("Rate “%(name)s”") % {"name": rate.name}
        if line.amount <= 0:
            line.reason = _("Nothing to pay")
    return concept


@transaction.atomic
def invoice_run_create(*, tenant: Tenant, actor: User, name: str, kind: str, reference_date: datetime.date,
                       invoice_date: datetime.date, function_types: Iterable[FunctionType], pro_rata: bool,
                       send_email: bool) -> InvoiceRun:
    billing_environment_require(tenant)
    types = list(function_types)
    if not types:
        raise ValidationError({"function_types": _("Choose at least one membership.")})
    if kind == RunKind.DEPARTMENTS and tenant.kind == TenantKind.DEPARTMENT:
        raise ValidationError({"kind": _("A department has no departments below it to invoice.")})
    run = InvoiceRun(
        tenant=tenant, created_by=actor, name=name, kind=kind, reference_date=reference_date,
        invoice_date=invoice_date, pro_rata=pro_rata, send_email=send_email,
    )
    run.full_clean()
    run.save()
    run.function_types.set(types)
    return run


def invoice_run_delete(*, run: InvoiceRun) -> None:
    if run.status != InvoiceRun.Status.CONCEPT:
        raise ValidationError(_("A finalised run is never deleted; credit its invoices instead."))
    run.delete()


def _counter_lock(tenant: Tenant, year: int) -> InvoiceCounter:
    counter, _created = InvoiceCounter.objects.select_for_update().get_or_create(tenant=tenant, year=year)
    return counter


def _number(year: int, value: int) -> str:
    return f"{year}-{value:06d}"


def _tenant_address(tenant: Tenant) -> str:
    street = " ".join(p for p in [tenant.billing_street or tenant.postal_street,
                                   tenant.billing_house_number or tenant.postal_house_number] if p)
    town = " ".join(p for p in [tenant.billing_postcode or tenant.postal_postcode,
                                 tenant.billing_city or tenant.postal_city] if p)
    return "\n".join(p for p in [street, town] if p)


def _department_of(path: str, departments: dict[str, Tenant]) -> Tenant | None:
    for ancestor in reversed(Tenant.ancestor_paths_of(path)):
        found = departments.get(ancestor)
        if found is not None:
            return found
    return None


def invoice_run_finalise(*, run_id: int, actor: User) -> InvoiceRun:
    """Turn the concept into invoices, numbered without gaps per billing environment and year.
    A second click (or a second request at the same moment) finds the run finalised and is
    refused; nothing is half-written."""
    with transaction.atomic():
        run = InvoiceRun.objects.select_for_update().select_related("tenant").get(pk=run_id)
        if run.status != InvoiceRun.Status.CONCEPT:
            raise ValidationError(_("This run has already been finalised."))
        environment = billing_environment_require(run.tenant)
        # The counter first: runs of one environment finalise one after the other, and each then
        # sees the invoices of the one before ("already invoiced this season").
        counter = _counter_lock(run.tenant, run.invoice_date.year)
        concept = run_concept(run=run)
        due = run.invoice_date + datetime.timedelta(days=environment.payment_term_days)
        groups: dict[int, list[ConceptLine]] = defaultdict(list)
        debtors: dict[int, Tenant] = {}
        if run.kind == RunKind.MEMBERS:
            for line in concept.billable:
                groups[line.relation_id].append(line)
        else:
            departments = {
                t.path: t for t in Tenant.objects.subtree(run.tenant).filter(kind=TenantKind.DEPARTMENT)
            }
            for line in concept.billable:
                department = _department_of(line.tenant_path, departments)
                if department is not None:
                    groups[department.pk].append(line)
                    debtors[department.pk] = department
        if not groups:
            raise ValidationError(_("There is nothing to invoice in this run."))
        now = timezone.now()
        invoice_rows: list[dict] = []
        line_rows: list[list[dict]] = []
        value = counter.value
        for debtor_id, lines in groups.items():
            value += 1
            invoice = {
                "tenant_id": run.tenant_id, "number": _number(run.invoice_date.year, value), "run_id": run.pk,
                "date": run.invoice_date, "due_date": due, "season_start": concept.season[0],
                "created_by_id": actor.pk if actor else None, "created_at": now,
            }
            if run.kind == RunKind.MEMBERS:
                first = lines[0]
                invoice.update(relation_id=debtor_id, debtor_name=first.name[:200], debtor_email=first.email,
                               debtor_address=first.address)
                built = [
                    {
                        "tenant_id": run.tenant_id, "relation_id": debtor_id, "function_type_id": line.function_type_id,
                        "rate_id": line.rate.pk, "season_start": concept.season[0], "quantity": 1,
                        "unit_amount": line.amount, "amount": line.amount, "vat_code": line.rate.vat_code,
                        "ledger_account": line.rate.ledger_account, "billed": True,
                        "description": f"{line.function_type} {line.rate.name} {concept.season[0]:%Y}"[:200],
                    }
                    for line in lines
                ]
            else:
                department = debtors[debtor_id]
                invoice.update(debtor_tenant_id=department.pk, debtor_name=department.name,
                               debtor_email=department.email, debtor_address=_tenant_address(department))
                counts: dict[tuple[int, Decimal], list[ConceptLine]] = defaultdict(list)
                for line in lines:
                    counts[(line.rate.pk, line.amount)].append(line)
                built = [
                    {
                        "tenant_id": run.tenant_id, "function_type_id": same[0].function_type_id,
                        "rate_id": same[0].rate.pk, "season_start": concept.season[0], "quantity": len(same),
                        "unit_amount": amount, "amount": amount * len(same), "vat_code": same[0].rate.vat_code,
                        "ledger_account": same[0].rate.ledger_account, "billed": False,
                        "description": f"{len(same)} × {same[0].function_type} {same[0].rate.name}"[:200],
                    }
                    for (_rate_id, amount), same in counts.items()
                ]
            invoice["total"] = sum((line["amount"] for line in built), ZERO)
            invoice_rows.append(invoice)
            line_rows.append(built)
        invoice_ids = _insert(Invoice, invoice_rows)
        _insert(InvoiceLine, [
            {**line, "invoice_id": invoice_id}
            for invoice_id, built in zip(invoice_ids, line_rows, strict=True) for line in built
        ])
        if run.kind == RunKind.DEPARTMENTS:
            # The member list of each department invoice: exactly the memberships it counted.
            _insert(InvoiceMember, [
                {"invoice_id": invoice_id, "relation_id": line.relation_id,
                 "function_type_id": line.function_type_id, "amount": line.amount}
                for invoice_id, lines in zip(invoice_ids, groups.values(), strict=True) for line in lines
            ])
        counter.value = value
        counter.save(update_fields=["value"])
        run.status = InvoiceRun.Status.FINALISED
        run.finalised_at = now
        run.finalised_by = actor
        run.invoice_count = len(invoice_rows)
        run.total = sum((invoice["total"] for invoice in invoice_rows), ZERO)
        run.save(update_fields=["status", "finalised_at", "finalised_by", "invoice_count", "total"])
        transaction.on_commit(lambda: _enqueue_documents(run.pk))
    return run


def _enqueue_documents(run_id: int) -> None:
    from .tasks import make_run_documents

    make_run_documents.delay(run_id)


# --- statuses, credit notes, payments ----------------------------------------------------------


def _status(invoice: Invoice) -> str:
    if invoice.kind == Invoice.Kind.CREDIT_NOTE:
        return InvoiceStatus.CREDITED
    if invoice.status == InvoiceStatus.WRITTEN_OFF:
        return InvoiceStatus.WRITTEN_OFF
    if invoice.credited >= invoice.total:
        return InvoiceStatus.CREDITED
    if invoice.paid >= invoice.total - invoice.credited:
        return InvoiceStatus.PAID
    if invoice.paid > 0:
        return InvoiceStatus.PARTLY_PAID
    return InvoiceStatus.OPEN


def _locked(invoice: Invoice) -> Invoice:
    return Invoice.objects.select_for_update().get(pk=invoice.pk)


@transaction.atomic
def credit_note_create(*, invoice: Invoice, amount: Decimal, reason: str, actor: User,
                       date: datetime.date | None = None) -> Invoice:
    """Take (part of) an invoice back with a credit note of its own number."""
    invoice = _locked(invoice)
    if invoice.kind != Invoice.Kind.INVOICE:
        raise ValidationError(_("A credit note cannot be credited."))
    if amount is None or amount <= 0:
        raise ValidationError({"amount": _("Enter an amount above zero.")})
    if amount > invoice.creditable:
        raise ValidationError({"amount": _(
            "You can credit at most € %(max)s of this invoice."
        ) % {"max": _money(invoice.creditable)}})
    date = date or datetime.date.today()
    counter = _counter_lock(invoice.tenant, date.year)
    counter.value = F("value") + 1
    counter.save(update_fields=["value"])
    counter.refresh_from_db()
    note = Invoice.objects.create(
        tenant=invoice.tenant, kind=Invoice.Kind.CREDIT_NOTE, number=_number(date.year, counter.value),
        credits=invoice, relation=invoice.relation, debtor_tenant=invoice.debtor_tenant,
        debtor_name=invoice.debtor_name, debtor_email=invoice.debtor_email, debtor_address=invoice.debtor_address,
        date=date, due_date=date, season_start=invoice.season_start, total=-amount,
        status=InvoiceStatus.CREDITED, note=reason[:200], created_by=actor,
    )
    first = invoice.lines.first()
    InvoiceLine.objects.create(
        invoice=note, tenant=invoice.tenant, description=(_("Credit of invoice %(number)s") % {"number": invoice.number})[:200],
        unit_amount=-amount, amount=-amount, vat_code=first.vat_code if first else "exempt",
        ledger_account=first.ledger_account if first else "8000",
    )
    invoice.credited += amount
    if invoice.credited >= invoice.total:
        # Fully taken back: the memberships may be invoiced again this season.
        invoice.lines.update(billed=False)
    invoice.status = _status(invoice)
    invoice.save(update_fields=["credited", "status"])
    return note


def _apply_payment(invoice: Invoice, amount: Decimal) -> None:
    invoice.paid += amount
    invoice.status = _status(invoice)


@transaction.atomic
def payment_register(*, invoice: Invoice, amount: Decimal, date: datetime.date, actor: User | None,
                     note: str = "") -> Payment:
    """A payment received by hand (cash, a transfer seen elsewhere)."""
    invoice = _locked(invoice)
    if invoice.kind != Invoice.Kind.INVOICE or invoice.status in (InvoiceStatus.CREDITED, InvoiceStatus.WRITTEN_OFF):
        raise ValidationError(_("Only an open invoice can be paid."))
    if amount is None or amount <= 0:
        raise ValidationError({"amount": _("Enter an amount above zero.")})
    if amount > invoice.balance:
        raise ValidationError({"amount": _("The open amount is € %(balance)s; you cannot register more.")
                               % {"balance": _money(invoice.balance)}})
    if date > datetime.date.today():
        raise ValidationError({"date": _("A payment cannot lie in the future.")})
    payment = Payment.objects.create(
        tenant=invoice.tenant, invoice=invoice, date=date, amount=amount, method=Payment.Method.MANUAL,
        note=note[:200], created_by=actor,
    )
    _apply_payment(invoice, amount)
    invoice.save(update_fields=["paid", "status"])
    return payment


@transaction.atomic
def invoice_write_off(*, invoice: Invoice, actor: User, reason: str) -> Invoice:
    invoice = _locked(invoice)
    if invoice.kind != Invoice.Kind.INVOICE or invoice.status not in (InvoiceStatus.OPEN, InvoiceStatus.PARTLY_PAID):
        raise ValidationError(_("Only an open invoice can be written off."))
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason for writing off.")})
    invoice.status = InvoiceStatus.WRITTEN_OFF
    invoice.note = reason[:200]
    invoice.save(update_fields=["status", "note"])
    return invoice


# --- mandates (B3) -----------------------------------------------------------------------------


MANDATE_REFERENCE_RE = re.compile(r"[A-Za-z0-9+?/:().,' -]{1,35}")


@dataclass
class MandateFields:
    """A mandate's details as checked by `mandate_fields_check`: the IBAN compact, the BIC given
    or derived from the IBAN, the reference stripped (empty: one is made when it is recorded)."""

    iban: str
    bic: str
    reference: str
    signed_on: datetime.date | None


def mandate_fields_check(*, iban: str, signed_on: datetime.date | None, reference: str = "",
                         bic: str = "") -> tuple[MandateFields, dict[str, list[str]]]:
    """The rules of a mandate's own details, the same on the card, in the import and on the
    intake form: a valid IBAN, a BIC that exists (else the one the IBAN's bank has), signed and
    not in the future, a reference SEPA accepts. Returns the clean details and the errors by
    field; reads nothing from the database."""
    errors: dict[str, list[str]] = {}
    try:
        iban, derived = iban_clean(iban)
    except ValidationError as error:
        errors.update(error.message_dict)
        derived = ""
    bic = re.sub(r"\s", "", bic or "").upper()
    if bic:
        try:
            bic = BIC(bic).compact
        except iban_errors.SchwiftyException:
            errors["bic"] = [_("%(value)s is not a valid BIC.") % {"value": bic}]
    else:
        bic = derived
    if signed_on is None:
        errors["signed_on"] = [_("Enter the date the mandate was signed.")]
    elif signed_on > datetime.date.today():
        errors["signed_on"] = [_("A mandate cannot be signed in the future.")]
    reference = (reference or "").strip()
    if reference and not MANDATE_REFERENCE_RE.fullmatch(reference):
        errors["reference"] = [_("A mandate reference has at most 35 letters, digits or simple signs.")]
    return MandateFields(iban=iban, bic=bic, reference=reference, signed_on=signed_on), errors


def _mandate_reference_new(relation_number: int) -> str:
    return f"LB{relation_number}-{uuid.uuid4().hex[:6].upper()}"


@transaction.atomic
def mandate_create(*, tenant: Tenant, relation: Relation, reference: str, signed_on: datetime.date, iban: str,
                   account_holder: str, actor: User | None, first_collected_on: datetime.date | None = None,
                   bic: str = "") -> Mandate:
    """Record a signed mandate. A newer mandate replaces the relation's active one."""
    billing_environment_require(tenant)
    fields, errors = mandate_fields_check(iban=iban, signed_on=signed_on, reference=reference, bic=bic)
    reference = fields.reference or _mandate_reference_new(relation.number)
    if "reference" not in errors and Mandate.objects.filter(tenant=tenant, reference=reference).exists():
        errors["reference"] = [_("This mandate reference is already in use.")]
    if errors:
        raise ValidationError(errors)
    replaced = Mandate.objects.active().filter(tenant=tenant, relation=relation).first()
    if replaced is not None:
        Mandate.objects.filter(pk=replaced.pk).update(ended_on=datetime.date.today())
    mandate = Mandate(
        tenant=tenant, relation=relation, reference=reference, signed_on=signed_on, iban=fields.iban, bic=fields.bic,
        account_holder=(account_holder or relation.display_name)[:70], created_by=actor,
        first_collected_on=first_collected_on, replaces=replaced,
    )
    mandate.full_clean()
    mandate.save()
    return mandate


@dataclass
class MandateRow:
    """One mandate of a bulk call: for relation `relation_id`, with details already checked by
    `mandate_fields_check` (`reference` empty: one is made)."""

    relation_id: int
    fields: MandateFields
    account_holder: str = ""
    recurring: bool = False


def mandates_create_bulk(*, tenant: Tenant, actor: User | None, rows: list[MandateRow], source: str) -> list[Mandate]:
    """Record many signed mandates at once under `source` (e.g. "import:<id>"), with the same
    rules as `mandate_create`: each replaces its relation's active mandate here; a reference
    already in use (here or twice among `rows`) is refused as RowRefused(index). Runs in the
    caller's transaction. `recurring`: collected before, so the next collection is RCUR."""
    billing_environment_require(tenant)
    for index, row in enumerate(rows):
        _fields, errors = mandate_fields_check(iban=row.fields.iban, signed_on=row.fields.signed_on,
                                               reference=row.fields.reference, bic=row.fields.bic)
        if errors:
            raise RowRefused(index, ValidationError(errors))
    relations = dict(
        Relation.objects.filter(pk__in={row.relation_id for row in rows}).values_list("pk", "number")
    )
    names = {r.pk: r.display_name for r in Relation.objects.filter(pk__in=[row.relation_id for row in rows
                                                                            if not row.account_holder])}
    references = [row.fields.reference or _mandate_reference_new(relations[row.relation_id]) for row in rows]
    in_use = set(Mandate.objects.filter(tenant=tenant, reference__in=references).values_list("reference", flat=True))
    seen: set[str] = set()
    for index, reference in enumerate(references):
        if reference in in_use or reference in seen:
            raise RowRefused(index, ValidationError({"reference": [_("This mandate reference is already in use.")]}))
        seen.add(reference)
    relation_ids = [row.relation_id for row in rows]
    given: set[int] = set()
    for index, pk in enumerate(relation_ids):
        if pk in given:
            raise RowRefused(index, ValidationError(_("This relation already gets a mandate from another row.")))
        given.add(pk)
    today = datetime.date.today()
    replaced = dict(
        Mandate.objects.active().filter(tenant=tenant, relation_id__in=relation_ids).values_list("relation_id", "pk")
    )
    Mandate.objects.filter(pk__in=replaced.values()).update(ended_on=today)
    mandates = [
        Mandate(
            tenant=tenant, relation_id=row.relation_id, reference=reference, signed_on=row.fields.signed_on,
            iban=row.fields.iban, bic=row.fields.bic, created_by=actor, source=source[:60],
            account_holder=(row.account_holder or names.get(row.relation_id, ""))[:70],
            first_collected_on=row.fields.signed_on if row.recurring else None,
            replaces_id=replaced.get(row.relation_id),
        )
        for row, reference in zip(rows, references, strict=True)
    ]
    return Mandate.objects.bulk_create(mandates, batch_size=2000)


def mandates_undo_refusal(*, source: str) -> str | None:
    """Why the mandates recorded under `source` can no longer be taken back, or None: one has
    been collected (a collection batch holds it) or reversed since."""
    used = list(
        Mandate.objects.filter(source=source).filter(Q(collections__isnull=False) | Q(reversals__gt=0))
        .values_list("reference", flat=True).distinct()[:21]
    )
    if not used:
        return None
    return _("These mandates have been collected since, so they can no longer be taken back: %(references)s.") % {
        "references": ", ".join(used[:20]) + (" …" if len(used) > 20 else "")}


def mandates_undo(*, source: str) -> int:
    """Take back the mandates recorded under `source`: delete them and make the mandates they
    replaced active again (unless the relation has another active one by now). Runs in the
    caller's transaction; refused (ValidationError) when `mandates_undo_refusal` says so."""
    refusal = mandates_undo_refusal(source=source)
    if refusal:
        raise ValidationError(refusal)
    made = list(Mandate.objects.filter(source=source).values_list("pk", "replaces_id", "tenant_id", "relation_id"))
    Mandate.objects.filter(source=source).delete()
    replaced = {(tenant_id, relation_id): pk for _made, pk, tenant_id, relation_id in made if pk}
    still_active = set(
        Mandate.objects.active().filter(relation_id__in={relation for _tenant, relation in replaced})
        .values_list("tenant_id", "relation_id")
    )
    Mandate.objects.filter(pk__in=[pk for key, pk in replaced.items() if key not in still_active]).update(ended_on=None)
    return len(made)


@transaction.atomic
def mandate_end(*, mandate: Mandate) -> Mandate:
    if mandate.ended_on is None:
        mandate.ended_on = datetime.date.today()
        mandate.save(update_fields=["ended_on"])
    return mandate


# --- collection batches (pain.008) -------------------------------------------------------------

SEPA_SCHEMAS = ("pain.008.001.02", "pain.008.001.08")


def _cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def _collectable_rows(tenant: Tenant) -> Iterator[tuple]:
    """Open invoices of relations with an active, unflagged mandate that are not waiting on a
    collection already (collected as often as reversed: a reversal makes one collectable again,
    until its mandate is flagged), as (pk, number, total, credited, paid, relation_id) by pk.

    Three plain reads joined here: the same question as one SQL statement with correlated
    subqueries took PostgreSQL seconds per thousand invoices."""
    collected = dict(
        CollectionItem.objects.filter(batch__tenant=tenant).order_by().values("invoice_id")
        .annotate(n=Count("pk")).values_list("invoice_id", "n")
    )
    reversed_ = dict(
        Payment.objects.filter(tenant=tenant, method=Payment.Method.REVERSAL).order_by().values("invoice_id")
        .annotate(n=Count("pk")).values_list("invoice_id", "n")
    )
    with_mandate = set(
        Mandate.objects.active().filter(tenant=tenant, flagged=False).values_list("relation_id", flat=True)
    )
    rows = (
        Invoice.objects.filter(tenant=tenant, kind=Invoice.Kind.INVOICE, status=InvoiceStatus.OPEN,
                               relation__isnull=False)
        .order_by("pk").values_list("pk", "number", "total", "credited", "paid", "relation_id")
    )
    for row in rows.iterator(chunk_size=10000):
        if row[5] in with_mandate and collected.get(row[0], 0) <= reversed_.get(row[0], 0):
            yield row


def collectable_invoices(tenant: Tenant) -> list[tuple]:
    """`_collectable_rows` as a list."""
    return list(_collectable_rows(tenant))


def collection_batch_create(*, tenant: Tenant, collection_date: datetime.date, actor: User,
                            schema: str = "pain.008.001.02", today: datetime.date | None = None) -> CollectionBatch:
    """A pain.008 file collecting every collectable invoice on `collection_date`, built with
    sepaxml (in chunks, `billing.sepa`): FRST for a mandate's first collection, RCUR afterwards.

    Memory stays flat whatever the number of invoices: a first pass keeps only each collected
    invoice's id, open amount in cents and relation id (three integer arrays, for the file's count
    and control sum, which its header needs first); the second pass reads the invoice numbers and
    the mandates one chunk at a time."""
    environment = billing_environment_require(tenant)
    today = today or datetime.date.today()
    if schema not in SEPA_SCHEMAS:
        raise ValidationError({"schema": _("Unknown file format.")})
    if collection_date is None or collection_date < today + datetime.timedelta(days=environment.collection_lead_days):
        raise ValidationError({"collection_date": _(
            "Your bank needs %(days)d days: choose a collection date on or after %(date)s."
        ) % {"days": environment.collection_lead_days,
             "date": (today + datetime.timedelta(days=environment.collection_lead_days)).strftime("%d-%m-%Y")}})
    if not environment.creditor_id:
        raise ValidationError(_("Fill in the creditor identifier in the billing details first."))
    if schema == "pain.008.001.02" and not environment.bic:
        raise ValidationError(_("Fill in the BIC of the environment's account in the billing details first."))
    with transaction.atomic():
        Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
        invoice_ids, open_cents, relation_ids = array("q"), array("q"), array("q")
        for invoice_id, _number, total, credited, paid, relation_id in _collectable_rows(tenant):
            cents = _cents(total - credited - paid)
            if cents > 0:
                invoice_ids.append(invoice_id)
                open_cents.append(cents)
                relation_ids.append(relation_id)
        if not invoice_ids:
            raise ValidationError(_("There are no open invoices with a mandate to collect."))
        message_id = f"LB{tenant.pk}-{timezone.now():%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6]}"[:35]
        config = {
            "name": environment.creditor_name, "IBAN": environment.iban, "batch": True,
            "creditor_id": environment.creditor_id, "currency": "EUR",
        }
        if environment.bic:
            config["BIC"] = environment.bic
        control_sum_cents = sum(open_cents)
        batch = CollectionBatch.objects.create(
            tenant=tenant, collection_date=collection_date, message_id=message_id, schema=schema, created_by=actor,
            transactions=len(invoice_ids), control_sum=Decimal(control_sum_cents).scaleb(-2),
        )
        first_ids = []
        with tempfile.TemporaryFile() as handle:
            writer = Pain008Writer(handle, config=config, schema=schema, message_id=message_id,
                                   count=len(invoice_ids), control_sum_cents=control_sum_cents)
            for offset in range(0, len(invoice_ids), SEPA_CHUNK_SIZE):
                chunk = range(offset, min(offset + SEPA_CHUNK_SIZE, len(invoice_ids)))
                numbers = dict(
                    Invoice.objects.filter(_among(Invoice, "pk", invoice_ids[offset:chunk.stop]))
                    .values_list("pk", "number")
                )
                mandates = {
                    row[0]: row for row in Mandate.objects.active().filter(
                        _among(Mandate, "relation_id", relation_ids[offset:chunk.stop]), tenant=tenant, flagged=False,
                    ).values_list(
                        "relation_id", "pk", "account_holder", "iban", "bic", "reference", "signed_on",
                        "first_collected_on",
                    )
                }
                payments, items = [], []
                for index in chunk:
                    invoice_id, cents, number = invoice_ids[index], open_cents[index], numbers[invoice_ids[index]]
                    _relation, mandate_id, holder, iban, bic, reference, signed_on, first_collected_on = (
                        mandates[relation_ids[index]]
                    )
                    sequence = "RCUR" if first_collected_on else "FRST"
                    payment = {
                        "name": holder, "IBAN": iban, "amount": cents, "type": sequence,
                        "collection_date": collection_date, "mandate_id": reference, "mandate_date": signed_on,
                        "description": (_("Invoice %(number)s") % {"number": number})[:140], "endtoend_id": number,
                    }
                    if bic:
                        payment["BIC"] = bic
                    payments.append(payment)
                    items.append(CollectionItem(batch=batch, invoice_id=invoice_id, mandate_id=mandate_id,
                                                amount=Decimal(cents).scaleb(-2), sequence_type=sequence,
                                                end_to_end_id=number))
                    if sequence == "FRST":
                        first_ids.append(mandate_id)
                writer.add(payments)
                _insert_objects(CollectionItem, items)
            writer.close()
            handle.seek(0)
            batch.file.save(f"{message_id}.xml", File(handle), save=True)
        if first_ids:
            Mandate.objects.filter(_among(Mandate, "pk", first_ids)).update(first_collected_on=collection_date)
    return batch


# --- bank statements (CAMT.053) ----------------------------------------------------------------


@transaction.atomic
def bank_statement_import(*, tenant: Tenant, file_name: str, content: bytes, actor: User) -> BankStatement:
    """Import a CAMT.053 statement of the environment's account: match credits to invoices by
    reference (invoice number), else by IBAN (a mandate's) and amount; book reversals of direct
    debits back onto their invoices. All or nothing."""
    environment = billing_environment_require(tenant)
    try:
        parsed = parse_camt053(content)
    except CamtError as error:
        raise ValidationError({"file": str(error)}) from None
    if parsed.iban.replace(" ", "").upper() != environment.iban:
        raise ValidationError({"file": _(
            "This statement is of account %(account)s, not of this environment's account %(own)s."
        ) % {"account": parsed.iban, "own": environment.iban}})
    if BankStatement.objects.filter(tenant=tenant, statement_id=parsed.statement_id).exists():
        raise ValidationError({"file": _("This statement (%(id)s) has already been imported.") % {"id": parsed.statement_id}})
    statement = BankStatement.objects.create(
        tenant=tenant, statement_id=parsed.statement_id[:35], iban=parsed.iban, file_name=file_name[:200],
        imported_by=actor, entries=len(parsed.entries),
    )
    rows = [
        {
            "statement_id": statement.pk, "booking_date": e.booking_date, "amount": e.amount,
            "counterparty_name": e.name[:140], "counterparty_iban": e.iban[:34], "reference": e.end_to_end_id[:140],
            "description": e.remittance[:280], "reason_code": e.reason_code[:10], "is_reversal": e.is_reversal,
        }
        for e in parsed.entries
    ]
    entries = [
        SimpleNamespace(pk=pk, match=BankEntry.Match.UNMATCHED, invoice_id=None, **row)
        for pk, row in zip(_insert(BankEntry, rows), rows, strict=True)
    ]
    numbers = set()
    for entry in entries:
        numbers.update(invoice_numbers_in(f"{entry.reference} {entry.description}"))
    by_number = dict(
        Invoice.objects.filter(_among(Invoice, "number", numbers), tenant=tenant, kind=Invoice.Kind.INVOICE)
        .values_list("number", "pk")
    ) if numbers else {}
    # IBAN and amount: open invoices of relations with an active mandate on that IBAN.
    ibans = {e.counterparty_iban for e in entries if e.counterparty_iban and e.amount > 0}
    by_iban_amount: dict[tuple[str, Decimal], list[int]] = defaultdict(list)
    if ibans:
        relation_ibans = dict(
            Mandate.objects.filter(_among(Mandate, "iban", ibans), tenant=tenant).values_list("relation_id", "iban")
        )
        for pk, relation_id, total, credited, paid in Invoice.objects.filter(
            _among(Invoice, "relation_id", relation_ibans), tenant=tenant, kind=Invoice.Kind.INVOICE,
            status__in=[InvoiceStatus.OPEN, InvoiceStatus.PARTLY_PAID],
        ).values_list("pk", "relation_id", "total", "credited", "paid"):
            by_iban_amount[(relation_ibans[relation_id], total - credited - paid)].append(pk)
    matches: list[tuple] = []
    reversals: list[tuple] = []
    for entry in entries:
        found = [by_number[n] for n in invoice_numbers_in(f"{entry.reference} {entry.description}")
                 if n in by_number]
        if entry.is_reversal or entry.amount < 0:
            if found:
                entry.match, entry.invoice_id = BankEntry.Match.REVERSAL, found[0]
                reversals.append((entry, found[0]))
            continue
        if found:
            entry.match, entry.invoice_id = BankEntry.Match.REFERENCE, found[0]
        else:
            candidates = by_iban_amount.get((entry.counterparty_iban, entry.amount), [])
            if len(candidates) == 1:
                entry.match, entry.invoice_id = BankEntry.Match.IBAN_AMOUNT, candidates[0]
                candidates.clear()
        if entry.invoice_id:
            # Our collections carry the invoice number as end-to-end id.
            collected = bool(INVOICE_NUMBER_RE.fullmatch(entry.reference))
            matches.append((entry, Payment.Method.DIRECT_DEBIT if collected else Payment.Method.BANK))
    invoice_ids = sorted({e.invoice_id for e, _method in matches} | {pk for _e, pk in reversals})
    fields = ("pk", "kind", "total", "credited", "paid", "status", "reversal_reason")
    invoices = {
        row[0]: SimpleNamespace(**dict(zip(fields, row, strict=True)))
        for row in Invoice.objects.select_for_update().filter(_among(Invoice, "pk", invoice_ids)).order_by("pk")
        .values_list(*fields)
    }
    actor_id = actor.pk if actor else None
    now = timezone.now()
    payments = []
    for entry, method in matches:
        invoice = invoices[entry.invoice_id]
        _apply_payment(invoice, entry.amount)
        if invoice.reversal_reason and invoice.status == InvoiceStatus.PAID:
            invoice.reversal_reason = ""
        payments.append({"tenant_id": tenant.pk, "invoice_id": invoice.pk, "date": entry.booking_date,
                         "amount": entry.amount, "method": method, "bank_entry_id": entry.pk,
                         "created_by_id": actor_id, "created_at": now})
    flag_after = environment.reversal_flag_count
    reversed_mandates: dict[int, int] = defaultdict(int)
    for entry, invoice_id in reversals:
        invoice = invoices[invoice_id]
        amount = -abs(entry.amount)
        _apply_payment(invoice, amount)
        invoice.reversal_reason = entry.reason_code or "?"
        payments.append({"tenant_id": tenant.pk, "invoice_id": invoice_id, "date": entry.booking_date,
                         "amount": amount, "method": Payment.Method.REVERSAL, "bank_entry_id": entry.pk,
                         "created_by_id": actor_id, "created_at": now, "note": entry.reason_code})
        item = CollectionItem.objects.filter(invoice_id=invoice_id).order_by("-pk").first()
        if item is not None:
            reversed_mandates[item.mandate_id] += 1
    _insert(Payment, payments)
    _bulk_set(Invoice, [("paid", "numeric"), ("status", "varchar"), ("reversal_reason", "varchar")],
              [(i.pk, i.paid, i.status, i.reversal_reason) for i in invoices.values()])
    _bulk_set(BankEntry, [("match", "varchar"), ("invoice_id", "bigint")],
              [(e.pk, e.match, e.invoice_id) for e in entries if e.invoice_id])
    for mandate in Mandate.objects.select_for_update().filter(pk__in=list(reversed_mandates)):
        mandate.reversals += reversed_mandates[mandate.pk]
        mandate.flagged = mandate.reversals >= flag_after
        mandate.save(update_fields=["reversals", "flagged"])
    statement.matched = sum(1 for e in entries if e.invoice_id)
    statement.save(update_fields=["matched"])
    return statement


@transaction.atomic
def bank_entry_match(*, entry: BankEntry, invoice: Invoice, actor: User) -> Payment:
    """Match an entry the import could not place to an invoice, by hand."""
    entry = BankEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.invoice_id is not None:
        raise ValidationError(_("This entry has already been matched."))
    if entry.amount <= 0:
        raise ValidationError(_("Only money received can be matched to an invoice."))
    invoice = _locked(invoice)
    if invoice.tenant_id != entry.statement.tenant_id:
        raise ValidationError({"invoice": _("This invoice belongs to another environment.")})
    if invoice.kind != Invoice.Kind.INVOICE or invoice.status in (InvoiceStatus.CREDITED, InvoiceStatus.WRITTEN_OFF):
        raise ValidationError({"invoice": _("Only an open invoice can be paid.")})
    if entry.amount > invoice.balance:
        raise ValidationError({"invoice": _("The open amount of this invoice is € %(balance)s, less than this entry.")
                               % {"balance": _money(invoice.balance)}})
    payment = Payment.objects.create(
        tenant=invoice.tenant, invoice=invoice, date=entry.booking_date, amount=entry.amount,
        method=Payment.Method.BANK, bank_entry=entry, created_by=actor,
    )
    _apply_payment(invoice, entry.amount)
    invoice.save(update_fields=["paid", "status"])
    entry.invoice, entry.match = invoice, BankEntry.Match.MANUAL
    entry.save(update_fields=["invoice", "match"])
    BankStatement.objects.filter(pk=entry.statement_id).update(matched=F("matched") + 1)
    return payment


# --- documents and mail ------------------------------------------------------------------------


def invoice_document_make(*, invoice_id: int, send: bool) -> bool:
    """Render the invoice's PDF, keep it, and (once) e-mail it through the mail service, which
    notes it in the communication log. Safe to run twice. Returns whether anything was done."""

    with transaction.atomic():
        invoice = (
            Invoice.objects.select_for_update(of=("self",)).select_related("tenant", "relation")
            .filter(pk=invoice_id).first()
        )
        if invoice is None or (invoice.pdf and (invoice.emailed_at or not send or not invoice.debtor_email)):
            return False
        if not invoice.pdf:
            invoice.pdf.save(f"{invoice.number}.pdf", ContentFile(invoice_pdf(invoice)), save=False)
            invoice.save(update_fields=["pdf"])
        if send and invoice.debtor_email and invoice.emailed_at is None:
            environment = BillingEnvironment.objects.filter(tenant=invoice.tenant).select_related(
                "invoice_template").first()
            rendered = invoice_mail(invoice, environment.invoice_template if environment else None,
                                    invoice_email_text(invoice))
            invoice.pdf.open("rb")
            try:
                pdf = invoice.pdf.read()
            finally:
                invoice.pdf.close()
            mail_send(
                actor=None, tenant=invoice.tenant, to_email=invoice.debtor_email,
                rendered=rendered, relation=invoice.relation, template=environment.invoice_template if environment
                else None, pdf=pdf, pdf_name=f"{invoice.number}.pdf", reference=f"invoice:{invoice.pk}",
                attachments=_member_list_attachments(invoice),
            )
            invoice.emailed_at = timezone.now()
            invoice.save(update_fields=["emailed_at"])
    return True


def _member_list_attachments(invoice: Invoice) -> list[MailAttachment]:
    """A department invoice's member list as the mail's further attachments (CSV and XLSX),
    each written in the export log in the name of whoever finalised the run (SPEC X3)."""
    if invoice.debtor_tenant_id is None or invoice.kind != Invoice.Kind.INVOICE:
        return []
    members = invoice_member_list(invoice)
    files = invoice_member_files(invoice, members)
    run = invoice.run
    user = (run.finalised_by or run.created_by) if run is not None else None
    if user is not None:
        what = _("Member list of invoice %(number)s, e-mailed to %(email)s") % {
            "number": invoice.number, "email": invoice.debtor_email}
        for name, _content, _type in files:
            export_log_record(user=user, tenant=invoice.tenant, what=what, fmt=name.rsplit(".", 1)[-1],
                              rows=len(members))
    return [MailAttachment(name=name, content=content, content_type=content_type)
            for name, content, content_type in files]


def run_documents_make(*, run_id: int, limit: int = 200) -> bool:
    """Make the next `limit` PDFs of a finalised run and count them. Returns whether more remain."""
    run = InvoiceRun.objects.get(pk=run_id)
    pending = list(run.invoices.filter(pdf="").order_by("pk").values_list("pk", flat=True)[:limit])
    for invoice_id in pending:
        invoice_document_make(invoice_id=invoice_id, send=run.send_email)
    done = run.invoices.exclude(pdf="").count()
    InvoiceRun.objects.filter(pk=run_id).update(documents_done=done)
    return done < run.invoice_count


def reminders_send(*, today: datetime.date | None = None) -> int:
    """Send the reminders that are due by each environment's schedule. Every reminder is
    counted on its invoice, so a second run on the same day sends nothing again."""

    today = today or datetime.date.today()
    sent = 0
    for environment in BillingEnvironment.objects.select_related("tenant", "reminder_template"):
        schedule = environment.reminder_schedule()
        if not schedule:
            continue
        candidates = Invoice.objects.filter(
            tenant=environment.tenant, kind=Invoice.Kind.INVOICE,
            status__in=[InvoiceStatus.OPEN, InvoiceStatus.PARTLY_PAID], reminders_sent__lt=len(schedule),
        ).exclude(debtor_email="").exclude(last_reminder_on=today).select_related("relation")
        for invoice in candidates.iterator(chunk_size=500):
            if invoice.due_date + datetime.timedelta(days=schedule[invoice.reminders_sent]) > today:
                continue
            with transaction.atomic():
                locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
                if locked.reminders_sent != invoice.reminders_sent or locked.last_reminder_on == today:
                    continue
                rendered = invoice_mail(locked, environment.reminder_template, reminder_email_text(locked))
                mail_send(
                    actor=None, tenant=environment.tenant, to_email=locked.debtor_email,
                    rendered=rendered, relation=locked.relation,
                    template=environment.reminder_template, reference=f"reminder:{locked.pk}",
                )
                locked.reminders_sent += 1
                locked.last_reminder_on = today
                locked.save(update_fields=["reminders_sent", "last_reminder_on"])
                sent += 1
    return sent
