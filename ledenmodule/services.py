"""Use cases and reads of the ledenmodule (SPEC L1): a department administrator's member list,
finding a person the federation already knows before registering someone new, enrolling them,
and who looked along with a department administrator (SPEC T7)."""

from __future__ import annotations

import datetime
from itertools import chain

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _

from memberships.models import Function, FunctionType
from memberships.services import function_start
from relations.models import Relation, RelationKind
from tenants.models import AuditEvent, Tenant, TenantKind, User
from tenants.periods import has_ended

KNOWN_PERSONS_LIMIT = 10


def ledenmodule_department(departments: list[Tenant], current: Tenant | None) -> Tenant:
    """The department a ledenmodule page works in: the current environment when it is one of
    the person's `departments`, otherwise their first (entering from another environment)."""
    return next((d for d in departments if current is not None and d.pk == current.pk), departments[0])


def membership_types() -> QuerySet[FunctionType]:
    """What a department administrator may register someone as: the department memberships."""
    return FunctionType.objects.filter(
        active=True, counts_as_membership=True, tenant_kind=TenantKind.DEPARTMENT
    ).order_by("order", "name")


def _memberships_here(department: Tenant, day: datetime.date) -> QuerySet[Function]:
    return Function.objects.memberships().active_on(day).filter(relation=OuterRef("pk"), tenant=department)


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
    ended = Function.objects.memberships().ended_by(day).filter(relation=OuterRef("pk"), tenant=department)
    return relations.filter(Exists(ended)).exclude(Exists(current)).annotate(
        member_until=Subquery(ended.order_by("-end_date").values("end_date")[:1])
    )


def department_members_ever(relations: QuerySet[Relation], department: Tenant) -> QuerySet[Relation]:
    """Current and former members of the department (the export "with former members")."""
    started = Function.objects.memberships().filter(
        relation=OuterRef("pk"), tenant=department, start_date__lte=datetime.date.today()
    )
    return relations.filter(Exists(started))


def department_members_to_export(
    relations: QuerySet[Relation], department: Tenant, *, with_former: bool
) -> QuerySet[Relation]:
    """The members a download holds: current ones, and former ones only when asked (wish list
    001: inactive members not in exports)."""
    if with_former:
        return department_members_ever(relations, department)
    return department_members(relations, department)


def department_member_ids(relations: QuerySet[Relation], department: Tenant, *, among: list[int]) -> set[int]:
    """Which of the relations `among` are current members of the department."""
    return set(department_members(relations.filter(pk__in=among), department).values_list("pk", flat=True))


def department_memberships(relation: Relation, department: Tenant) -> list[Function]:
    """The relation's memberships of the department, newest first."""
    return list(
        Function.objects.memberships().filter(relation=relation, tenant=department)
        .select_related("function_type", "cancellation_reason").order_by("-start_date", "pk")
    )


def membership_to_end(relation: Relation, department: Tenant) -> Function | None:
    """The membership of the department that "end the membership" ends: the newest one that
    has not ended; None when the relation is not a member here (any more)."""
    today = datetime.date.today()
    return next(
        (f for f in department_memberships(relation, department) if not has_ended(f.end_date, today)), None
    )


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


def changes_on_behalf_of(person: User, *, limit: int) -> list[tuple[datetime.datetime, User | None, str]]:
    """What others changed while looking along with `person`, newest first: (when, who, what)
    for cards and for functions, at most `limit` in all."""
    relation_records = Relation.history.filter(history_on_behalf_of=person).select_related("history_user")
    function_records = Function.history.filter(history_on_behalf_of=person).select_related(
        "history_user", "function_type", "tenant", "relation"
    )
    return sorted(
        chain(
            ((r.history_date, r.history_user, f"{r.first_name or r.initials} {r.infix} {r.last_name}".replace("  ", " "))
             for r in relation_records.order_by("-history_date")[:limit]),
            ((r.history_date, r.history_user, f"{r.relation.display_name}: {r.function_type} — {r.tenant}")
             for r in function_records.order_by("-history_date")[:limit]),
        ),
        key=lambda change: change[0], reverse=True,
    )[:limit]
