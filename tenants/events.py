"""Audit rows: who really did what, in which environment, to whom."""

from __future__ import annotations

from .models import AuditEvent, Tenant, User


def audit_record(
    *,
    actor: User | None,
    action: str,
    tenant: Tenant | None = None,
    target_user: User | None = None,
    detail: str = "",
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        tenant=tenant,
        target_user=target_user,
        detail=detail[:300],
    )
