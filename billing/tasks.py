"""Celery tasks of billing: the PDFs and e-mails of a finalised run (in steps, each under the
run's lease; the reaper queues a step again when its worker died), and the nightly reminders."""

from __future__ import annotations

import datetime

from celery import shared_task
from django.db.models import F, Q
from django.utils import timezone

from tenants.leases import Reaper, heartbeat, lease_pass_on, lease_release, lease_take

from .models import InvoiceRun
from .services import reminders_send, run_documents_make

UNFINISHED = Q(status=InvoiceRun.Status.FINALISED, documents_done__lt=F("invoice_count"))


@shared_task(name="billing.make_run_documents", acks_late=True)
def make_run_documents(run_id: int) -> int:
    """Make the next step of a run's PDFs; queue itself again until all are made. Each invoice
    is made at most once (the PDF and the e-mail are recorded on it), so a repeat is harmless."""
    token = lease_take(InvoiceRun, run_id, where=UNFINISHED)
    if token is None:  # finished, or another worker is making this step
        return 0
    with heartbeat(InvoiceRun, run_id, token):
        more = run_documents_make(run_id=run_id)
    if more:
        lease_pass_on(InvoiceRun, run_id, token)
        make_run_documents.delay(run_id)
    else:
        lease_release(InvoiceRun, run_id, token)
    return InvoiceRun.objects.filter(pk=run_id).values_list("documents_done", flat=True).first() or 0


@shared_task(name="billing.send_reminders")
def send_reminders(day: str | None = None) -> int:
    return reminders_send(today=datetime.date.fromisoformat(day) if day else timezone.localdate())


# A run whose PDFs are unfinished and whose step's worker died (its lease ran out).
RUN_DOCUMENTS_REAPER = Reaper(
    name="billing.run_documents",
    queryset=InvoiceRun.objects.all,
    running=UNFINISHED,
    queued=None,
    queued_since="finalised_at",
    requeue=lambda pk: make_run_documents.delay(pk),
)
