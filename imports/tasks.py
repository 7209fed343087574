"""Background work of imports: checking and importing large files, the nightly duplicate scan."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="imports.import_batch_run")
def import_batch_run_task(batch_id: str, step: str) -> str:
    return services.import_batch_run(batch_id, step).status
