"""Celery tasks of the notifications app: outbound mail and personalised documents."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task

from .services import document_job_run, outbound_mail_deliver, outbound_mail_failed

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


@shared_task
def document_job_run_task(job_id: int) -> str:
    """Make a documents job's letters and mails; safe to deliver twice (see document_job_run)."""
    return document_job_run(job_id=job_id).status
