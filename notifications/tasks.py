"""Celery tasks of the notifications app: outbound mail and personalised documents."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task
from django.db.models import Q

from tenants.leases import Reaper

from .models import DocumentJob, OutboundMail
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


# A mail whose claim ran out (its worker died, perhaps mid-send) is sent again with its
# Message-ID; a documents job whose worker died carries on after its last committed relation.
MAIL_REAPER = Reaper(
    name="notifications.mail",
    queryset=OutboundMail.objects.all,
    running=Q(status=OutboundMail.Status.SENDING),
    queued=Q(status=OutboundMail.Status.QUEUED),
    queued_since="created_at",
    requeue=lambda pk: send_outbound_mail.delay(pk),
)
DOCUMENTS_REAPER = Reaper(
    name="notifications.documents",
    queryset=DocumentJob.objects.all,
    running=Q(status=DocumentJob.Status.RUNNING),
    queued=Q(status=DocumentJob.Status.QUEUED),
    queued_since="created_at",
    requeue=lambda pk: document_job_run_task.delay(pk),
)
