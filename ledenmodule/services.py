"""Use cases and reads of the ledenmodule (SPEC L1): a department administrator's member list,
finding a person the federation already knows before registering someone new, enrolling them,
and who looked along with a department administrator (SPEC T7)."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _

from memberships.models import Function, FunctionType
from memberships.services import function_start
from relations.models import Relation, RelationKind
from tenants.models import AuditEvent, Tenant, TenantKind, User

KNOWN_PERSONS_LIMIT = 10


def membership_types() -> QuerySet[FunctionType]:
    """What a department administrator may register someone as: the department memberships."""
    return FunctionType.objects.filter(
        active=True, counts_as_membership=True, tenant_kind=TenantKind.DEPARTMENT
    ).order_by("order", "name")


def _memberships_here(department: Tenant, day: datetime.date) -> QuerySet[Function]:
    return Function.objects.memberships().filter(relation=OuterRef("pk"), tenant=department).not_ended(day).filter(
        start_date__lte=day
    )


def department_members(
    relations: QuerySet[Relation], department: Tenant, *, former: bool = False, day: datetime.date | None = None
) -> QuerySet[Relation]:
    """`relations` (already limited by `visible_to`) narrowed to the department's current members,
    or to its former members (a membership there that ended, none now), each annotated with the
    start (`member_since`) or end (`member_until`) of that membership."""
    day = day or datetime.date.today()
    current = _memberships_here(department, day)
    if not former:
        return relations.filter(Exists(current)).annotate(
            member_since=Subquery(current.order_by("start_date").values("start_date")[:1])
        )
    ended = Function.objects.memberships().filter(relation=OuterRef("pk"), tenant=department, end_date__lt=day)
    return relations.filter(Exists(ended)).exclude(Exists(current)).annotate(
        member_until=Subquery(ended.order_by("-end_date").values("end_date")[:1])
    )


def department_members_ever(relations: QuerySet[Relation], department: Tenant) -> QuerySet[Relation]:
    """Current and former members of the department (the export "with former members")."""
    started = Function.objects.memberships().filter(
        relation=OuterRef("pk"), tenant=department, start_date__lte=datetime.date.today()
    )
    return relations.filter(Exists(started))


def known_persons(*, last_name: str = "", birth_date: datetime.date | None = None, email: str = "") -> QuerySet[Relation]:
    """Persons anywhere in the federation matching a surname with a birth date, or an e-mail
    address, exactly (SPEC R10, wish list 001 "search for persons already known").

    This is the one read of relations outside `visible_to`: a department administrator must
    find a person before registering them a second time. It only answers to identifying details
    typed in full (never a partial name), shows only name, place and number, and opens no card.
    """
    if email.strip():
        matches = Relation.objects.filter(email__iexact=email.strip())
    elif last_name.strip() and birth_date is not None:
        matches = Relation.objects.filter(last_name__iexact=last_name.strip(), birth_date=birth_date)
    else:
        return Relation.objects.none()
    return matches.filter(kind=RelationKind.PERSON).order_by("last_name", "first_name", "number")


@transaction.atomic
def member_enrol(
    *, actor: User, relation: Relation, department: Tenant, function_type: FunctionType, start_date: datetime.date
) -> Function:
    """Register a person the federation already knows as a member of the department."""
    if not membership_types().filter(pk=function_type.pk).exists():
        raise ValidationError({"function_type": _("Choose a membership.")})
    return function_start(
        actor=actor, relation=relation, function_type=function_type, tenant=department, start_date=start_date
    )


# --- looking along ---------------------------------------------------------------------------


def look_along_events(user: User) -> QuerySet[AuditEvent]:
    """Who looked along with `user`, newest first: shown in their own history."""
    return AuditEvent.objects.filter(
        target_user=user,
        action__in=[AuditEvent.Action.LOOK_ALONG_STARTED, AuditEvent.Action.LOOK_ALONG_STOPPED],
    ).select_related("actor", "tenant")
