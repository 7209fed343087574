"""Benchmark of the bulk import (issue 14, "Speed"): with --members relations in the federation,
upload a generated file of --rows rows (half new members, half updates of existing cards, in
the messy forms Dutch lists have), then time the check and the import, and report the process's
peak memory. The import is rolled back afterwards unless --keep is given, so the command can be
repeated. Results go into docs/benchmarks.md by hand."""

from __future__ import annotations

import datetime
import random
import resource
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from demo.relations import populate
from imports import services
from imports.models import ImportBatch
from memberships.models import FunctionType
from relations.models import Relation
from tenants.models import Tenant, TenantKind, User

SQLITE_LIMIT = 50_000
DEMO_USER = "landelijk.sb"
HEADER = "Relatienummer;Voornaam;Achternaam;Geboortedatum;E-mailadres;Mobiel;Postcode;Huisnummer;Woonplaats;Afdeling"
FIRST = ["Jan", "Piet", "Klaas", "Anna", "Sanne", "Femke", "Daan", "Sem", "Lotte", "Zoë", "René", "Noah"]
LAST = ["de Vries", "Jansen", "van den Berg", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "Brontë"]
CITIES = ["Utrecht", "Zwolle", "Groningen", "Arnhem", "Ede", "Delft", "Den Haag", "Tilburg"]


def peak_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def messy_file(rng: random.Random, rows: int, existing: list[int], departments: list[str]) -> bytes:
    lines = [HEADER]
    updates = existing[: rows // 2]
    for number in updates:
        lines.append(f"{number};;;;;;;;{rng.choice(CITIES)};")
    for n in range(rows - len(updates)):
        birth = datetime.date(1950, 1, 1) + datetime.timedelta(days=rng.randrange(20_000))
        date = birth.strftime(rng.choice(["%d-%m-%Y", "%Y-%m-%d"])) if n % 3 else f"{birth.day}-{birth.month}-{birth.year}"
        phone = rng.choice(["06{:08d}", "+31 6 {:08d}", "6{:08d}", "0031 6{:08d}"]).format(rng.randrange(10**8))
        postcode = f"{rng.randrange(1000, 9999)}{rng.choice(['ab', ' AB', 'CD', ' xy'])}"
        lines.append(
            f";{rng.choice(FIRST)};{rng.choice(LAST)};{date};bench{n}@example.nl;{phone};{postcode};"
            f"{rng.randrange(1, 300)}{rng.choice(['', '', 'a', '-2'])};{rng.choice(CITIES)};{rng.choice(departments)}"
        )
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


class Command(BaseCommand):
    help = "Time checking and importing --rows generated rows with --members relations in the federation (PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=1_000_000, help="Relations the federation should hold first.")
        parser.add_argument("--rows", type=int, default=60_000, help="Rows in the generated file.")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--keep", action="store_true", help="Keep what the import wrote (default: roll it back).")
        parser.add_argument("--allow-sqlite", action="store_true", help=f"Run on SQLite (at most {SQLITE_LIMIT:,} members).")

    def handle(self, *args, members: int, rows: int, seed: int, keep: bool, allow_sqlite: bool, **options):
        if connection.vendor != "postgresql":
            if not allow_sqlite:
                raise CommandError("bench_import measures PostgreSQL; set DATABASE_URL=postgres://… "
                                   "(or pass --allow-sqlite for a small trial).")
            if members > SQLITE_LIMIT:
                raise CommandError(f"On SQLite use at most --members {SQLITE_LIMIT:,}.")
        if not User.objects.filter(username=DEMO_USER).exists():
            call_command("seed_demo", stdout=self.stdout)
        added = populate(members, rng_seed=seed, progress=self.stdout.write)
        if added and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        user = User.objects.get(username=DEMO_USER)
        national = Tenant.objects.filter(depth=1, kind=TenantKind.NATIONAL).order_by("path").first()
        rng = random.Random(seed)
        existing = list(Relation.objects.order_by("?").values_list("number", flat=True)[: rows // 2]) \
            if connection.vendor != "postgresql" else self._sample_numbers(rows // 2, seed)
        departments = list(Tenant.objects.filter(kind=TenantKind.DEPARTMENT).values_list("name", flat=True))
        data = messy_file(rng, rows, existing, departments)
        self.stdout.write(f"{Relation.objects.count():,} relations; file of {rows:,} rows, {len(data) / 2**20:.1f} MB.")

        with transaction.atomic():
            started = time.perf_counter()
            batch = services.import_upload(actor=user, tenant=national, name="bench.csv", data=data)
            membership = FunctionType.objects.get(code="department_member")
            batch = services.import_mapping_set(actor=user, batch=batch, mapping=batch.mapping,
                                                options={"function_type": membership.pk})
            upload_s = time.perf_counter() - started
            started = time.perf_counter()
            batch = services.import_check(batch=batch)
            check_s = time.perf_counter() - started
            summary = batch.result.get("summary", {})
            self.stdout.write(f"upload and mapping {upload_s:.1f} s; check {check_s:.1f} s: {summary}; "
                              f"peak {peak_mb():.0f} MB")
            if summary.get("error"):
                first = services.row_errors(batch)[:5]
                raise CommandError(f"The generated file has errors: {first}")
            started = time.perf_counter()
            batch = services.import_run(actor=user, batch_id=batch.pk,
                                        choices={str(r["line"]): "new" for r in services.batch_rows(batch, ("ambiguous",))})
            import_s = time.perf_counter() - started
            import_peak = peak_mb()
            self.stdout.write(f"import {import_s:.1f} s: {batch.created_count:,} created, {batch.updated_count:,} updated; "
                              f"peak {peak_mb():.0f} MB")
            # The data-quality recheck of the imported cards runs after the import's commit, as a
            # background task (imports.services.import_recheck); timed here on its own.
            started = time.perf_counter()
            rechecked = services.import_recheck(batch.pk)
            self.stdout.write(f"recheck after the commit (background task) {time.perf_counter() - started:.1f} s: "
                              f"{rechecked:,} cards; peak {peak_mb():.0f} MB")
            undo_s = None
            if not keep:
                # Taking the import back (within the same transaction, rolled back after).
                started = time.perf_counter()
                services.import_undo(actor=user, batch_id=batch.pk)
                undo_s = time.perf_counter() - started
                self.stdout.write(f"undo {undo_s:.1f} s; peak {peak_mb():.0f} MB")
                transaction.set_rollback(True)
        self.stdout.write(
            f"| {Relation.objects.count():,} | {rows:,} | {check_s:.1f} s | {import_s:.1f} s | {import_peak:.0f} MB |"
            + (f" undo {undo_s:.1f} s, peak after it {peak_mb():.0f} MB |" if undo_s is not None else "")
        )
        if not keep:
            ImportBatch.objects.filter(file_name="bench.csv").delete()

    def _sample_numbers(self, count: int, seed: int) -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT setseed(%s)", [(seed % 1000) / 1000])
            # A sample of pages is fast on a million rows; a small table is simply shuffled.
            sample = "TABLESAMPLE SYSTEM (10)" if Relation.objects.count() > 100_000 else ""
            cursor.execute(f"SELECT number FROM relations_relation {sample} ORDER BY random() LIMIT %s",  # noqa: S608
                           [count])
            return [row[0] for row in cursor.fetchall()]
