"""Benchmark of the selection wizards at federation scale (issue 4, "Performance").

1. The "member list" wizard (`member_list`) run by the demo province system administrator
   (`provincie.sb`) for the whole province, to the first grid page, through Django's test client:
   median, p95 and maximum server time, SQL time and queries.
2. Exporting 100,000 rows to XLSX and to CSV the way a large download runs: an export job done by
   a Celery worker (`celery -A ledenbeheer worker --pool=solo`, started here, on the broker given
   with --broker or CELERY_BROKER_URL). The worker's peak memory is the operating system's own
   figure (VmHWM in /proc/<pid>/status). Without a broker the job runs in a child process
   (`manage.py bench_wizards --run-job`), measured the same way.

The export selection is a copy of the member list with a relation-number range chosen so that it
holds 100,000 relations; the copy and its jobs are removed afterwards. Needs demo data
(seed_demo, then relations loaded by bench_relations or `seed_demo --members`). Results go into
docs/benchmarks.md by hand.
"""

from __future__ import annotations

import datetime
import math
import os
import statistics
import subprocess
import sys
import time
import uuid
import warnings
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ledenbeheer.celery import app
from relations.models import Relation
from tenants.middleware import default_tenant
from tenants.models import User
from wizards.models import ExportJob, Wizard, WizardField
from wizards.runs import RunParameters, WizardRun
from wizards.services import export_job_run, export_storage
from wizards.tasks import export_job_run_task

BASE_DIR = Path(settings.BASE_DIR)
EXPORT_ROWS = 100_000


def _peak_kib(pid: int) -> int | None:
    """The process's peak resident memory (VmHWM) in KiB, as Linux counts it."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class Command(BaseCommand):
    help = "Time the member-list wizard's first grid page and 100,000-row XLSX/CSV exports (PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=50, help="Timed grid requests (after the warm-up).")
        parser.add_argument("--warm-up", type=int, default=3, help="Untimed grid requests first.")
        parser.add_argument("--user", default="provincie.sb", help="The demo user who runs the wizard.")
        parser.add_argument("--export-user", default="landelijk.sb",
                            help="The demo user whose environment holds the export selection.")
        parser.add_argument("--rows", type=int, default=EXPORT_ROWS, help="Rows of the export selection.")
        parser.add_argument("--broker", default=os.environ.get("CELERY_BROKER_URL", ""),
                            help="Redis URL for the export worker; empty: run the job in a child process.")
        parser.add_argument("--formats", default="xlsx,csv", help="Export formats to time.")
        parser.add_argument("--skip-grid", action="store_true")
        parser.add_argument("--skip-export", action="store_true")
        parser.add_argument("--run-job", default="", help="(internal) run one export job in this process.")

    def handle(self, *args, requests: int, warm_up: int, user: str, export_user: str, rows: int, broker: str, formats: str,
               skip_grid: bool, skip_export: bool, run_job: str, **options):
        if run_job:
            job = export_job_run(run_job)
            self.stdout.write(f"{job.status} {job.rows_done}")
            return
        if connection.vendor != "postgresql":
            raise CommandError("bench_wizards measures PostgreSQL; set DATABASE_URL=postgres://…")
        account = User.objects.filter(username=user).first()
        exporter = User.objects.filter(username=export_user).first()
        if account is None or exporter is None:
            raise CommandError(f"Unknown user {user} or {export_user}; run seed_demo first.")
        tenant = default_tenant(account)
        wizard = Wizard.objects.filter(code="member_list").first()
        if wizard is None:
            raise CommandError("The standard wizard member_list is missing; run migrate.")
        self.stdout.write(f"{Relation.objects.count():,} relations; {account.username} in {tenant.name}; "
                          f"{os.cpu_count()} CPU cores.")
        if not skip_grid:
            self._grid(account, wizard, requests, warm_up)
        if not skip_export:
            for fmt in [f.strip() for f in formats.split(",") if f.strip()]:
                self._export(exporter, default_tenant(exporter), wizard, rows, fmt, broker)

    # --- the grid ---

    def _grid(self, account: User, wizard: Wizard, requests: int, warm_up: int) -> None:
        client = Client()
        client.force_login(account, backend="tenants.backends.TenantRoleBackend")
        url = f"{reverse('wizard_run', args=[wizard.pk])}?day={datetime.date.today().isoformat()}"
        plain_static = {**settings.STORAGES,
                        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
        seconds, sql, queries = [], [], []
        with override_settings(ALLOWED_HOSTS=["testserver"], SECURE_SSL_REDIRECT=False, STORAGES=plain_static), \
                warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
            for i in range(warm_up + requests):
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    response = client.get(url)
                    elapsed = time.perf_counter() - started
                if response.status_code != 200:
                    raise CommandError(f"{url} answered {response.status_code}.")
                if i >= warm_up:
                    seconds.append(elapsed)
                    queries.append(len(captured))
                    sql.append(sum(float(q["time"]) for q in captured.captured_queries))

        matches = WizardRun(wizard, user=account, tenant=default_tenant(account), params=RunParameters()).count_up_to(5000)
        ordered = sorted(seconds)
        p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
        self.stdout.write(
            f"Grid, member list, first page ({'more than 5,000' if matches > 5000 else matches} "
            f"relations): median {statistics.median(seconds) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
            f"max {max(seconds) * 1000:.0f} ms; SQL median {statistics.median(sql) * 1000:.0f} ms; "
            f"{min(queries)}–{max(queries)} queries ({requests} requests)."
        )

    # --- the exports ---

    def _selection(self, account: User, tenant, wizard: Wizard, rows: int) -> Wizard:
        """A copy of the member list narrowed to `rows` relations by a relation-number range."""

        copy = Wizard.objects.create(tenant=tenant, name=f"bench {uuid.uuid4().hex[:8]}", section="other")
        WizardField.objects.bulk_create(
            WizardField(wizard=copy, field_key=f.field_key, order=f.order, mode="" if f.ask else f.mode,
                        value="" if f.ask else f.value, shown=f.shown)
            for f in wizard.fields.all()
        )
        run = WizardRun(copy, user=account, tenant=tenant, params=RunParameters())
        found = list(run.matches().order_by("number").values_list("number", flat=True)[rows - 1: rows])
        if not found:
            copy.delete()
            raise CommandError(f"{account.username} sees fewer than {rows:,} members.")
        last = found[0]
        WizardField.objects.create(wizard=copy, field_key="number", order=0, mode="range", value="0",
                                   value_to=str(last), shown=False)
        return copy

    def _export(self, account: User, tenant, wizard: Wizard, rows: int, fmt: str, broker: str) -> None:
        selection = self._selection(account, tenant, wizard, rows)
        job = ExportJob.objects.create(
            user=account, tenant=tenant, wizard=selection, what=selection.name, format=fmt,
            parameters=RunParameters().as_json(),
        )
        try:
            if broker:
                seconds, peak = self._through_worker(job, broker)
                how = "Celery worker (solo pool)"
            else:
                seconds, peak = self._in_child(job)
                how = "child process"
            job.refresh_from_db()
            if job.status != ExportJob.Status.DONE:
                raise CommandError(f"The export failed: {job.status} {job.message}")
            size = export_storage().size(job.file_name)
            self.stdout.write(
                f"Export {fmt.upper()} of {job.rows_done:,} rows in a {how}: {seconds:.1f} s "
                f"(job created → file ready), peak memory of the process {peak / 1024:.0f} MiB (VmHWM), "
                f"file {size / 1024 / 1024:.1f} MiB."
            )
        finally:
            if job.file_name:
                export_storage().delete(job.file_name)
            ExportJob.objects.filter(pk=job.pk).delete()
            selection.delete()

    def _in_child(self, job: ExportJob) -> tuple[float, int]:
        started = time.perf_counter()
        process = subprocess.Popen(  # noqa: S603 (our own manage.py)
            [sys.executable, "manage.py", "bench_wizards", "--run-job", str(job.pk)], cwd=BASE_DIR,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        peak = 0
        while process.poll() is None:
            peak = max(peak, _peak_kib(process.pid) or 0)
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        output = process.stdout.read().decode()
        if process.returncode:
            raise CommandError(f"The export process failed:\n{output}")
        return seconds, peak

    def _through_worker(self, job: ExportJob, broker: str) -> tuple[float, int]:
        queue = f"bench-{uuid.uuid4().hex[:8]}"
        log_path = Path(settings.BASE_DIR) / "var" / f"{queue}.log"
        log_path.parent.mkdir(exist_ok=True)
        env = {**os.environ, "CELERY_BROKER_URL": broker}
        with open(log_path, "w") as log:
            worker = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "celery", "-A", "ledenbeheer", "worker", "--pool=solo", "--loglevel=INFO",
                 "--without-gossip", "--without-mingle", "--without-heartbeat", "-Q", queue, "-n", f"{queue}@%h"],
                cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + 60
            while " ready." not in log_path.read_text():
                if time.monotonic() > deadline or worker.poll() is not None:
                    raise CommandError(f"The worker did not start:\n{log_path.read_text()[-2000:]}")
                time.sleep(0.2)
            app.conf.update(broker_url=broker, task_always_eager=False)
            baseline = _peak_kib(worker.pid) or 0
            started = time.perf_counter()
            export_job_run_task.apply_async(args=[str(job.pk)], queue=queue)
            peak = baseline
            while True:
                peak = max(peak, _peak_kib(worker.pid) or 0)
                status = ExportJob.objects.filter(pk=job.pk).values_list("status", flat=True).first()
                if status in (ExportJob.Status.DONE, ExportJob.Status.FAILED):
                    break
                if worker.poll() is not None:
                    raise CommandError(f"The worker stopped:\n{log_path.read_text()[-2000:]}")
                time.sleep(0.1)
            seconds = time.perf_counter() - started
            peak = max(peak, _peak_kib(worker.pid) or 0)
            self.stdout.write(f"  (worker peak before the job: {baseline / 1024:.0f} MiB)")
            return seconds, peak
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            log_path.unlink(missing_ok=True)
