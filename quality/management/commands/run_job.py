"""Run a nightly job by hand: `manage.py run_job quality_checks [--date 2026-11-23]`, or
`manage.py run_job catch_up` to make up whatever the schedule missed (docs/jobs.md)."""

from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from quality.jobs import all_jobs, catch_up, job_run


class Command(BaseCommand):
    help = "Run a nightly job (or catch_up) for a date; a job that already ran for that date does nothing."

    def add_arguments(self, parser):
        parser.add_argument("name", choices=[*all_jobs(), "catch_up"])
        parser.add_argument("--date", help="YYYY-MM-DD (default: today in Europe/Amsterdam)")

    def handle(self, *args, name: str, date: str | None = None, **options):
        if name == "catch_up":
            if date:
                raise CommandError("catch_up works out the dates itself; leave --date out.")
            ran = catch_up()
            self.stdout.write("Caught up: " + (", ".join(ran) if ran else "nothing was missed."))
            return
        try:
            day = datetime.date.fromisoformat(date) if date else timezone.localdate()
        except ValueError:
            raise CommandError(f"--date must look like 2026-11-23, not {date!r}") from None
        run, did = job_run(name, day)
        if not did:
            self.stdout.write(f"{name} {day}: already {run.get_status_display().lower() if run else 'done'}; nothing done.")
            return
        self.stdout.write(f"{name} {day}: {run.get_status_display().lower()} — {run.counts}")
        for error in run.errors:
            self.stderr.write(f"  error: {error}")
