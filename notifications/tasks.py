"""Celery tasks of the notifications app: outbound mail, and the nightly and yearly jobs."""

from __future__ import annotations

import datetime
from smtplib import SMTPException

from celery import shared_task
from django.utils import timezone

from .services import outbound_mail_deliver, outbound_mail_failed

MAX_RETRIES = 5


@shared_task(bind=True, autoretry_for=(OSError, SMTPException), retry_backoff=True, max_retries=MAX_RETRIES)
def send_outbound_mail(self, mail_id: int) -> None:
    """Send one recorded mail; a mail already sent is not sent again (the task may run twice)."""
    try:
        outbound_mail_deliver(mail_id=mail_id)
    except (OSError, SMTPException) as error:
        if self.request.retries >= MAX_RETRIES:
            outbound_mail_failed(mail_id=mail_id, error=str(error))
        raise


# --- data quality and nightly jobs (issue 6) ---------------------------------------------------


@shared_task(name="notifications.tasks.run_job")
def run_job(name: str, day: str | None = None) -> dict:
    """Run a nightly job for a date (ISO; default today in Europe/Amsterdam). Safe to deliver
    twice: the job's run record makes the second delivery a no-op."""
    from .jobs import job_run

    run_date = datetime.date.fromisoformat(day) if day else timezone.localdate()
    run, did = job_run(name, run_date)
    return {"job": name, "date": run_date.isoformat(), "ran": did, "status": run.status if run else None}


@shared_task(name="notifications.tasks.catch_up")
def catch_up() -> list[str]:
    """Run the jobs whose last scheduled time passed without a finished run (after a night the
    installation was down). Beat sends it every hour and once when it starts."""
    from .jobs import catch_up as jobs_catch_up

    return jobs_catch_up()
