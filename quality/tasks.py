"""Celery tasks of the quality app: the nightly and yearly jobs."""

from __future__ import annotations

import datetime

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from tenants.leases import Reaper

from .jobs import catch_up as jobs_catch_up
from .jobs import job_run
from .models import JobRun


@shared_task(name="quality.tasks.run_job")
def run_job(name: str, day: str | None = None) -> dict:
    """Run a nightly job for a date (ISO; default today in Europe/Amsterdam). Safe to deliver
    twice: the job's run record makes the second delivery a no-op."""
    run_date = datetime.date.fromisoformat(day) if day else timezone.localdate()
    run, did = job_run(name, run_date)
    return {"job": name, "date": run_date.isoformat(), "ran": did, "status": run.status if run else None}


@shared_task(name="quality.tasks.catch_up")
def catch_up() -> list[str]:
    """Run the jobs whose last scheduled time passed without a finished run (after a night the
    installation was down). Beat sends it every hour and once when it starts."""
    return jobs_catch_up()


def _run_requeue(pk: int) -> None:
    run = JobRun.objects.get(pk=pk)
    run_job.delay(run.name, run.run_date.isoformat())


# A run left "running" by a worker that died is queued again; the next delivery takes it over.
RUNS_REAPER = Reaper(
    name="quality.runs",
    queryset=JobRun.objects.all,
    running=Q(status=JobRun.Status.RUNNING),
    queued=None,
    queued_since="started_at",
    requeue=_run_requeue,
)
