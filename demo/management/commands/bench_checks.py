"""Benchmark of the nightly data-quality check and the morning digest (issue 6, "Performance")
on the relations already in the database (load them with `seed_demo --members N`).

Runs the full check twice — cold (every problem is new: inserts) and again for the next day
(steady state: every problem still open) — then the digest for every environment with active
recipients, and a sample of single-card rechecks. Reports wall time and the process's peak
resident memory from the operating system (/proc/self/status VmHWM, reset before each phase;
resource.getrusage as a fallback). Figures go into docs/benchmarks.md by hand."""

from __future__ import annotations

import datetime
import resource
import statistics
import time
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from quality import jobs
from quality import services as quality
from quality.models import DataProblem, ErrorReportRecipient, QualityRuleSetting, ReportDelivery
from relations.models import CustomField, Relation
from tenants.models import Tenant, TenantKind

STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark of this process (Linux: write 5 to clear_refs)."""
    try:
        CLEAR_REFS.write_text("5")
        return True
    except OSError:
        return False


def _peak_mb() -> float:
    try:
        for line in STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Command(BaseCommand):
    help = "Time the nightly data-quality check and the digest on the relations in the database."

    def add_arguments(self, parser):
        parser.add_argument("--keep", action="store_true", help="keep the problems found (default: start empty)")
        parser.add_argument("--recheck-samples", type=int, default=200)
        parser.add_argument(
            "--all-rules", action="store_true",
            help="switch every rule on and make every custom field required for the run (restored afterwards)",
        )

    def _phase(self, label: str, work):
        resettable = _reset_peak()
        started = time.perf_counter()
        result = work()
        seconds = time.perf_counter() - started
        peak = _peak_mb()
        note = "" if resettable else " (peak of the whole process)"
        self.stdout.write(f"{label}: {seconds:.1f} s, peak RSS {peak:.0f} MB{note}")
        return result, seconds, peak

    def handle(self, *args, all_rules: bool = False, **options):
        if not all_rules:
            return self._run(**options)
        saved_rules = quality.rule_states()
        saved_required = dict(CustomField.objects.values_list("pk", "required"))
        QualityRuleSetting.objects.all().delete()
        QualityRuleSetting.objects.bulk_create(QualityRuleSetting(code=rule.code, active=True) for rule in quality.RULES)
        CustomField.objects.update(required=True)
        self.stdout.write("Every rule on, every custom field required, for this run.")
        try:
            self._run(**options)
        finally:
            QualityRuleSetting.objects.all().delete()
            QualityRuleSetting.objects.bulk_create(
                QualityRuleSetting(code=code, active=active) for code, active in saved_rules.items()
            )
            for pk, required in saved_required.items():
                CustomField.objects.filter(pk=pk).update(required=required)

    def _run(self, *, keep: bool = False, recheck_samples: int = 200, **options):
        if connection.vendor != "postgresql":
            self.stderr.write("Note: the targets are for PostgreSQL; this database is " + connection.vendor)
        total = Relation.objects.count()
        self.stdout.write(f"{total:,} relations, {Tenant.objects.count()} environments")
        self.stdout.write(f"Start RSS {_peak_mb():.0f} MB (Django and the models loaded)")
        if not keep:
            DataProblem.objects.all().delete()
        ReportDelivery.objects.all().delete()
        # One active recipient per province and the national environment (made once, marked as
        # benchmark addresses on example.org), so the digest has environments to mail.
        for tenant in Tenant.objects.filter(kind__in=[TenantKind.NATIONAL, TenantKind.PROVINCE]):
            ErrorReportRecipient.objects.get_or_create(
                tenant=tenant, email__iexact=f"bench-{tenant.pk}@example.org",
                defaults={"email": f"bench-{tenant.pk}@example.org"},
            )
        today = timezone.localdate()
        tomorrow = today + datetime.timedelta(days=1)

        cold, cold_s, cold_mb = self._phase("Nightly check, cold (all new)", lambda: quality.checks_run(today))
        self.stdout.write(self._counts(cold))
        warm, warm_s, warm_mb = self._phase("Nightly check, next day (all still open)",
                                            lambda: quality.checks_run(tomorrow))
        self.stdout.write(self._counts(warm))
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            first, first_s, first_mb = self._phase("Digest, all environments, first morning (all new)",
                                                   lambda: jobs.error_digest(today))
            self.stdout.write(f"  {first}")
            digest, digest_s, digest_mb = self._phase("Digest, all environments, next morning (still open)",
                                                      lambda: jobs.error_digest(tomorrow))
            self.stdout.write(f"  {digest}")
        digest_s = max(first_s, digest_s)

        ids = list(Relation.objects.order_by("?").values_list("pk", flat=True)[:recheck_samples])
        timings = []
        for pk in ids:
            started = time.perf_counter()
            quality.relation_recheck(relation_id=pk, day=tomorrow)
            timings.append((time.perf_counter() - started) * 1000)
        if timings:
            timings.sort()
            self.stdout.write(
                f"Recheck of one card on save: median {statistics.median(timings):.1f} ms, "
                f"p95 {timings[max(0, int(len(timings) * 0.95) - 1)]:.1f} ms over {len(timings)} cards"
            )
        open_count = DataProblem.objects.filter(closed_on__isnull=True).count()
        self.stdout.write(f"Open problems at the end: {open_count:,}")
        self.stdout.write(
            f"Targets: check ≤ 120 s / ≤ 500 MB: cold {cold_s:.1f} s / {cold_mb:.0f} MB, "
            f"next day {warm_s:.1f} s / {warm_mb:.0f} MB; digest ≤ 30 s: {digest_s:.1f} s"
        )

    @staticmethod
    def _counts(result: dict) -> str:
        lines = [f"  opened {result['opened']:,}, still open {result['still_open']:,}, closed {result['closed']:,}"]
        for code, counts in result["rules"].items():
            lines.append(f"    {code}: {counts}")
        for error in result["errors"]:
            lines.append(f"    ERROR {error}")
        return "\n".join(lines)
