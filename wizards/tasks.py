"""Background work of the wizards: large exports, and clearing expired export files."""

from __future__ import annotations

from celery import shared_task
from django.db.models import Q

from tenants.leases import Reaper

from . import services
from .models import ExportJob


@shared_task(name="wizards.export_job_run")
def export_job_run_task(job_id: str) -> str:
    return services.export_job_run(job_id).status


@shared_task(name="wizards.export_files_remove_expired")
def export_files_remove_expired_task() -> int:
    return services.export_files_remove_expired()


# An export whose worker died is made again; one whose message was lost is queued again.
EXPORTS_REAPER = Reaper(
    name="wizards.exports",
    queryset=ExportJob.objects.all,
    running=Q(status=ExportJob.Status.RUNNING),
    queued=Q(status=ExportJob.Status.PENDING),
    queued_since="created_at",
    requeue=lambda pk: export_job_run_task.delay(str(pk)),
)
