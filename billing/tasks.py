"""Celery tasks of billing: the PDFs and e-mails of a finalised run (in steps, with a lease a
reaper renews), and the nightly reminders."""

from __future__ import annotations

import datetime

from celery import shared_task
from django.db.models import F
from django.utils import timezone

LEASE = datetime.timedelta(minutes=10)


@shared_task(name="billing.make_run_documents", acks_late=True)
def make_run_documents(run_id: int) -> int:
    """Make the next step of a run's PDFs; queue itself again until all are made. Each invoice
    is made at most once (the PDF and the e-mail are recorded on it), so a repeat is harmless."""
    from .models import InvoiceRun
    from .services import run_documents_make

    now = timezone.now()
    claimed = InvoiceRun.objects.filter(pk=run_id, status=InvoiceRun.Status.FINALISED).exclude(
        documents_lease_until__gt=now
    ).update(documents_lease_until=now + LEASE)
    if not claimed:
        return 0
    more = run_documents_make(run_id=run_id)
    InvoiceRun.objects.filter(pk=run_id).update(documents_lease_until=None)
    if more:
        make_run_documents.delay(run_id)
    return InvoiceRun.objects.filter(pk=run_id).values_list("documents_done", flat=True).first() or 0


@shared_task(name="billing.resume_run_documents")
def resume_run_documents() -> list[int]:
    """The reaper: runs whose PDFs are unfinished and whose lease expired (a worker died)."""
    from .models import InvoiceRun

    ids = list(
        InvoiceRun.objects.filter(status=InvoiceRun.Status.FINALISED, documents_done__lt=F("invoice_count"))
        .exclude(documents_lease_until__gt=timezone.now()).values_list("pk", flat=True)
    )
    for run_id in ids:
        make_run_documents.delay(run_id)
    return ids


@shared_task(name="billing.send_reminders")
def send_reminders(day: str | None = None) -> int:
    from .services import reminders_send

    return reminders_send(today=datetime.date.fromisoformat(day) if day else timezone.localdate())
