"""Background work of imports: checking and importing large files, the duplicate scans."""

from __future__ import annotations

from celery import shared_task
from django.db.models import Q

from relations.models import Relation
from tenants.leases import Reaper
from tenants.models import Tenant, User

from . import services
from .duplicates import duplicate_scan
from .models import BUSY_STATUSES, ImportLease
from .querysets import DUPLICATES_PERM

_BUSY = Q(batch__status__in=BUSY_STATUSES)
# A batch being checked, imported or undone whose worker died (its lease ran out), or whose
# message was lost (queued long ago, never taken): its step is queued again.
IMPORT_REAPER = Reaper(
    name="imports.batches",
    queryset=ImportLease.objects.all,
    running=_BUSY & ~Q(lease_token=""),
    queued=_BUSY & Q(lease_token=""),
    queued_since="queued_at",
    requeue=services.import_requeue,
)


@shared_task(name="imports.import_batch_run")
def import_batch_run_task(batch_id: str, step: str) -> str:
    return services.import_batch_run(batch_id, step).status


@shared_task(name="imports.import_recheck")
def import_recheck_task(batch_id: str) -> int:
    return services.import_recheck(batch_id)


@shared_task(name="imports.duplicate_scan_nightly")
def duplicate_scan_nightly_task() -> int:
    """Every card against every other: a repeat the same night only refreshes the same pairs."""
    return duplicate_scan(queryset=Relation.objects.all())


@shared_task(name="imports.duplicate_scan_environment")
def duplicate_scan_environment_task(user_id: int, tenant_id: int) -> int:
    """A scan asked for on the "Mogelijke dubbelen" page: the cards the user sees there, with
    the permission checked again when it runs."""
    user, tenant = User.objects.get(pk=user_id), Tenant.objects.get(pk=tenant_id)
    if not user.is_active or not user.has_perm(DUPLICATES_PERM, tenant):
        return 0
    return duplicate_scan(queryset=Relation.objects.visible_to(user, tenant))
