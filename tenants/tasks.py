"""Background jobs of the tenants app."""

from celery import shared_task

from .leases import reap
from .models import User
from .services import set_password_mail_send


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_set_password_link(user_id: int) -> None:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return
    set_password_mail_send(user=user)


@shared_task(name="tenants.reap_expired_leases")
def reap_expired_leases() -> dict[str, int]:
    """Beat sends this every minute: work whose lease ran out (its worker died) is queued again
    (tenants/leases.py, docs/jobs.md)."""
    return reap()
