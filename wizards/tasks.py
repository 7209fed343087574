"""Background work of the wizards: large exports, and clearing expired export files."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="wizards.export_job_run")
def export_job_run_task(job_id: str) -> str:
    return services.export_job_run(job_id).status


@shared_task(name="wizards.export_files_remove_expired")
def export_files_remove_expired_task() -> int:
    return services.export_files_remove_expired()
