"""Benchmark of the duplicate scan (issue 14, "Speed"): a full scan of --members relations,
timed, with the pairs found and the process's peak memory. Results go into docs/benchmarks.md
by hand."""

from __future__ import annotations

import resource
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from demo.relations import populate
from imports import duplicates
from imports.models import DuplicateCandidate
from relations.models import Relation
from tenants.models import User

SQLITE_LIMIT = 50_000


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Command(BaseCommand):
    help = "Time a full duplicate scan of --members relations (PostgreSQL with pg_trgm; --python forces the fallback)."

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=1_000_000)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--python", action="store_true", help="Compare names in Python instead of pg_trgm.")
        parser.add_argument("--keep", action="store_true", help="Keep the pairs found (default: roll back).")
        parser.add_argument("--allow-sqlite", action="store_true", help=f"Run on SQLite (at most {SQLITE_LIMIT:,} members).")

    def handle(self, *args, members: int, seed: int, python: bool, keep: bool, allow_sqlite: bool, **options):
        if connection.vendor != "postgresql":
            if not allow_sqlite:
                raise CommandError("bench_duplicates measures PostgreSQL; set DATABASE_URL=postgres://… "
                                   "(or pass --allow-sqlite for a small trial).")
            if members > SQLITE_LIMIT:
                raise CommandError(f"On SQLite use at most --members {SQLITE_LIMIT:,}.")
        if not User.objects.exists():
            call_command("seed_demo", stdout=self.stdout)
        populate(members, rng_seed=seed, progress=self.stdout.write)
        total = Relation.objects.count()
        method = "Python" if python or not duplicates.pg_trgm_available() else "pg_trgm"
        with transaction.atomic():
            started = time.perf_counter()
            if python:
                pairs = duplicates.find_pairs_python(Relation.objects.all())
            else:
                pairs = duplicates.find_pairs(Relation.objects.all())
            find_s = time.perf_counter() - started
            reasons: dict[str, int] = {}
            for pair in pairs.values():
                for reason in pair.reasons:
                    reasons[reason] = reasons.get(reason, 0) + 1
            self.stdout.write(f"{total:,} relations, {method}: {len(pairs):,} pairs in {find_s:.1f} s {reasons}; "
                              f"peak {peak_mb():.0f} MB")
            started = time.perf_counter()
            stored = duplicates.duplicate_scan(queryset=Relation.objects.all())
            scan_s = time.perf_counter() - started
            self.stdout.write(f"full scan with storing: {scan_s:.1f} s, {stored:,} open pairs "
                              f"({DuplicateCandidate.objects.count():,} rows); peak {peak_mb():.0f} MB")
            if not keep:
                transaction.set_rollback(True)
        self.stdout.write(f"| {total:,} | {method} | {find_s:.1f} s | {scan_s:.1f} s | {len(pairs):,} | {peak_mb():.0f} MB |")
