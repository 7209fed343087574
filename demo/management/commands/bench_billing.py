"""Benchmark of billing at federation scale (issue 15, "Speed"): finalising an invoice run of
about --invoices invoices, making the pain.008 file that collects them, and importing and
matching the CAMT.053 statement the bank would send back; plus PDFs per second of one worker.

It bills from the national environment on a reference date chosen so that about --invoices
memberships were active then (the demo federation grows over the years), so the run reads only
what it invoices. Results go into docs/benchmarks.md by hand."""

from __future__ import annotations

import datetime
import os
import resource
import time
from decimal import Decimal
from unittest import mock

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from schwifty import IBAN

from billing import services
from billing.camt import camt053_from_batch
from billing.documents import invoice_pdf
from billing.models import (
    BankEntry,
    BankStatement,
    BillingEnvironment,
    CollectionBatch,
    CollectionItem,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    InvoiceRun,
    Mandate,
    Payment,
    Rate,
)
from demo.relations import populate
from memberships.models import Function, FunctionType
from relations.models import Relation
from tenants.models import Tenant, TenantKind

CREDITOR_ID = "NL69ZZZ123456780000"
OWN_IBAN = "NL91ABNA0417164300"
BILLING_TABLES = [model._meta.db_table for model in (
    Payment, BankEntry, BankStatement, CollectionItem, CollectionBatch, InvoiceLine, Invoice, InvoiceRun,
    InvoiceCounter, Mandate, Rate, BillingEnvironment,
)] + [InvoiceRun.function_types.through._meta.db_table]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _load() -> str:
    return "load average " + " ".join(f"{value:.1f}" for value in os.getloadavg())


class Command(BaseCommand):
    help = (
        "Time finalising an invoice run of about --invoices invoices, the pain.008 file collecting "
        "them and the CAMT.053 import matching them, on a federation of --members relations. "
        "PostgreSQL; SQLite only with --allow-sqlite and small numbers. --fresh empties the billing "
        "tables first (a benchmark database only)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=1_000_000)
        parser.add_argument("--invoices", type=int, default=100_000)
        parser.add_argument("--pdfs", type=int, default=100, help="Invoices to render as PDF for the PDF rate.")
        parser.add_argument("--fresh", action="store_true", help="Empty every billing table first.")
        parser.add_argument("--allow-sqlite", action="store_true")
        parser.add_argument(
            "--step", choices=("all", "pain008", "camt"), default="all",
            help="all: load, finalise, PDFs, pain.008 and CAMT.053. pain008 or camt: only that step, in a "
                 "fresh process on the run a previous `all` left (its collection or payments are undone "
                 "first), so the process's peak memory is that step's own.",
        )

    def say(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    def handle(self, *args, members: int, invoices: int, pdfs: int, fresh: bool, allow_sqlite: bool, step: str,
               **options):
        if connection.vendor != "postgresql" and not (allow_sqlite and members <= 50_000):
            raise CommandError("Run this on PostgreSQL (or SQLite with --allow-sqlite and --members ≤ 50000).")
        if step != "all":
            self._one_step(step)
            return
        national = Tenant.objects.filter(depth=1, kind=TenantKind.NATIONAL).order_by("path").first()
        if national is None:
            call_command("seed_demo", stdout=self.stdout)
            national = Tenant.objects.filter(depth=1, kind=TenantKind.NATIONAL).order_by("path").first()
        added = populate(members, national=national, progress=self.say)
        if added:
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        if fresh:
            self._empty()
        elif Invoice.objects.exists():
            raise CommandError("There are invoices already; run with --fresh on a benchmark database.")
        self.say(f"Relations: {Relation.objects.count():,}; functions: {Function.objects.count():,}")

        member_type = FunctionType.objects.get(code="department_member")
        day = self._reference_date(national, member_type, invoices)
        environment = services.billing_environment_save(environment=BillingEnvironment(
            tenant=national, creditor_name=national.name[:70], creditor_id=CREDITOR_ID, iban=OWN_IBAN,
            collection_lead_days=2, reminder_days="",
        ))
        season = environment.season_of(day)[0]
        services.rate_save(rate=Rate(tenant=national, function_type=member_type, season_start=season, name="Jeugd",
                                     amount=Decimal("17.50"), age_to=17))
        services.rate_save(rate=Rate(tenant=national, function_type=member_type, season_start=season,
                                     name="Volwassen", amount=Decimal("35.00"), age_from=18))
        self._mandates(national, member_type, day)

        run = services.invoice_run_create(
            tenant=national, actor=None, name="Bench", kind="members", reference_date=day,
            invoice_date=datetime.date.today(), function_types=[member_type], pro_rata=False, send_email=False,
        )
        started = time.perf_counter()
        # The PDFs are made by the workers afterwards; here only the finalising is timed.
        with mock.patch("billing.services._enqueue_documents"):
            run = services.invoice_run_finalise(run_id=run.pk, actor=None)
        finalise_s = time.perf_counter() - started
        self.say(f"Finalise: {run.invoice_count:,} invoices, € {run.total:,} in {finalise_s:.1f} s "
                 f"(target ≤ 60 s for 100,000; {_load()})")

        sample = list(run.invoices.select_related("tenant", "relation").order_by("pk")[:pdfs])
        started = time.perf_counter()
        for invoice in sample:
            invoice_pdf(invoice)
        pdf_s = time.perf_counter() - started
        self.say(f"PDFs: {len(sample)} in {pdf_s:.1f} s = {len(sample) / pdf_s:.1f} per second per worker ({_load()})")
        self._pain008(national)
        self._camt(national)
        unpaid = run.invoices.exclude(status="paid").count()
        self.say(f"Invoices of the run not paid after the import: {unpaid}")

    def _one_step(self, step: str) -> None:
        """Only the pain.008 file or only the CAMT.053 import, on what a previous full run left."""
        batch = CollectionBatch.objects.order_by("-pk").first()
        if batch is None:
            raise CommandError("Run the benchmark with --step all first: there is no collection to repeat.")
        national = batch.tenant
        # Undo the statement (payments, entries) so every invoice of the batch is open again; in
        # SQL, so that this process does not load the rows (its peak memory is the step's own).
        undo = [Payment, BankEntry, BankStatement] + ([CollectionItem, CollectionBatch] if step == "pain008" else [])
        with transaction.atomic(), connection.cursor() as cursor:
            for model in undo:
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608 — our table names
            Invoice.objects.filter(tenant=national).update(status="open", paid=Decimal("0"))
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        if step == "pain008":
            self._pain008(national)
        else:
            self._camt(national, batch)

    def _pain008(self, national: Tenant) -> CollectionBatch:
        rss_before = _rss_mb()
        started, cpu = time.perf_counter(), time.process_time()
        batch = services.collection_batch_create(
            tenant=national, collection_date=datetime.date.today() + datetime.timedelta(days=5), actor=None
        )
        batch_s, batch_cpu = time.perf_counter() - started, time.process_time() - cpu
        size_mb = batch.file.size / 1024 / 1024
        # The process's peak resident memory so far (ru_maxrss): an upper bound of what making
        # the file needed, since it includes everything the command did before.
        self.say(f"pain.008: {batch.transactions:,} transactions, {size_mb:.1f} MB file, in {batch_s:.1f} s "
                 f"({batch_cpu:.1f} s CPU of this process); "
                 f"process peak memory {_rss_mb():.0f} MB (before the file {rss_before:.0f} MB) "
                 f"(targets ≤ 30 s, ≤ 300 MB; {_load()})")
        return batch

    def _camt(self, national: Tenant, batch: CollectionBatch | None = None) -> None:
        batch = batch or CollectionBatch.objects.filter(tenant=national).latest("pk")
        content = camt053_from_batch(batch)
        started, cpu = time.perf_counter(), time.process_time()
        statement = services.bank_statement_import(tenant=national, file_name="bench.xml", content=content, actor=None)
        camt_s, camt_cpu = time.perf_counter() - started, time.process_time() - cpu
        self.say(f"CAMT.053: {statement.entries:,} entries, {statement.matched:,} matched, "
                 f"{len(content) / 1024 / 1024:.1f} MB, in {camt_s:.1f} s ({camt_cpu:.1f} s CPU of this process; "
                 f"target ≤ 60 s; {_load()})")
        unpaid = batch.items.exclude(invoice__status="paid").count()
        self.say(f"Invoices of the batch not paid after the import: {unpaid}")

    def _empty(self) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("TRUNCATE " + ", ".join(BILLING_TABLES))
            else:
                for table in BILLING_TABLES:
                    cursor.execute(f"DELETE FROM {table}")  # noqa: S608 — our own table names

    def _reference_date(self, national: Tenant, member_type: FunctionType, target: int) -> datetime.date:
        """The latest 1 January on which at most `target` memberships were active (they grow over
        the years), refined by month."""

        def count(day: datetime.date) -> int:
            return Function.objects.active_on(day).filter(function_type=member_type).count()

        day = datetime.date(datetime.date.today().year, 1, 1)
        while day.year > 1990 and count(day) > target:
            day = datetime.date(day.year - 1, 1, 1)
        best = day
        for month in range(2, 13):
            candidate = datetime.date(day.year, month, 1)
            if candidate > datetime.date.today() or count(candidate) > target:
                break
            best = candidate
        self.say(f"Reference date {best:%d-%m-%Y}: {count(best):,} active memberships")
        return best

    def _mandates(self, national: Tenant, member_type: FunctionType, day: datetime.date) -> None:
        """A mandate for every member invoiced, half of them collected before (RCUR)."""
        relation_ids = list(
            Function.objects.active_on(day).filter(function_type=member_type)
            .values_list("relation_id", flat=True).distinct()
        )
        signed = day - datetime.timedelta(days=30)
        rows = []
        for index, relation_id in enumerate(relation_ids):
            iban = IBAN.generate("NL", bank_code="ABNA", account_code=f"{relation_id % 10**10:010d}")
            rows.append(Mandate(
                tenant=national, relation_id=relation_id, reference=f"BENCH-{relation_id}", signed_on=signed,
                iban=iban.compact, bic="ABNANL2A", account_holder=f"Lid {relation_id}",
                first_collected_on=signed if index % 2 else None,
            ))
        Mandate.objects.bulk_create(rows, batch_size=5000)
        self.say(f"Mandates: {len(rows):,}")
