"""Run a nightly job by hand: `manage.py run_job quality_checks [--date 2026-11-23]`, or
`manage.py run_job catch_up` to make up whatever the schedule missed (docs/jobs.md). It says
whether a run is already finished, live (a worker is on it now) or stale (left running by a
worker that died), and carries on with a stale one."""

from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from quality.jobs import RunState, all_jobs, catch_up, job_run, run_state

# The numbers a job reports, as the command prints them (per-rule detail is in the run record).
COUNT_LABELS = {
    "opened": gettext_lazy("opened"), "still_open": gettext_lazy("still open"), "closed": gettext_lazy("closed"),
    "sent": gettext_lazy("sent"), "already_sent": gettext_lazy("sent before"),
    "nothing_open": gettext_lazy("nothing open"), "anonymised": gettext_lazy("anonymised"),
    "skipped": gettext_lazy("skipped"),
}


def counts_text(counts: dict) -> str:
    return ", ".join(f"{COUNT_LABELS[key]} {value}" for key, value in counts.items() if key in COUNT_LABELS)


class Command(BaseCommand):
    help = _("Run a nightly job (or catch_up) for a date; a job that already ran for that date does nothing.")

    def add_arguments(self, parser):
        parser.add_argument("name", choices=[*all_jobs(), "catch_up"])
        parser.add_argument("--date", help=_("YYYY-MM-DD (default: today in Europe/Amsterdam)"))

    def handle(self, *args, name: str, date: str | None = None, **options):
        if name == "catch_up":
            if date:
                raise CommandError(_("catch_up works out the dates itself; leave --date out."))
            ran = catch_up()
            self.stdout.write(
                _("Caught up: %(jobs)s.") % {"jobs": ", ".join(ran)} if ran else _("Caught up: nothing was missed.")
            )
            return
        try:
            day = datetime.date.fromisoformat(date) if date else timezone.localdate()
        except ValueError:
            raise CommandError(_("--date must look like 2026-11-23, not “%(date)s”.") % {"date": date}) from None
        run, state = run_state(name, day)
        what = {"job": name, "date": day.isoformat()}
        if state == RunState.FINISHED:
            self.stdout.write(_("%(job)s %(date)s: already finished; nothing done.") % what)
            return
        if state == RunState.LIVE:
            self.stdout.write(
                _("%(job)s %(date)s: is running now (started %(started)s, the worker is still alive); nothing done.")
                % {**what, "started": timezone.localtime(run.started_at).strftime("%H:%M:%S")}
            )
            return
        if state == RunState.STALE:
            self.stdout.write(
                _("%(job)s %(date)s: was left running by a worker that stopped (started %(started)s); carrying on.")
                % {**what, "started": timezone.localtime(run.started_at).strftime("%H:%M:%S")}
            )
        elif state == RunState.FAILED:
            self.stdout.write(_("%(job)s %(date)s: failed last time; running it again.") % what)
        run, did = job_run(name, day)
        if not did:
            self.stdout.write(_("%(job)s %(date)s: another worker took it up just now; nothing done.") % what)
            return
        self.stdout.write(_("%(job)s %(date)s: %(status)s — %(counts)s") % {
            **what, "status": run.get_status_display().lower(), "counts": counts_text(run.counts),
        })
        for error in run.errors:
            self.stderr.write(_("  error: %(error)s") % {"error": error})
