"""Use cases of functions: start, end (membership ends everything), delete (national only),
bulk end, and transferring a member to another department (SPEC R3–R6)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from relations.card import relations_changing
from relations.models import CommunicationEntry, Relation
from relations.services import RowRefused, communication_entry_add, relation_login_link
from tenants.bulk import bulk_insert
from tenants.history import history_baseline, history_baselines_insert, history_rows_insert
from tenants.models import RoleAssignment, Tenant, TenantKind, User
from tenants.periods import has_ended, overlapping_q
from tenants.services import (
    role_assignment_create,
    role_assignment_dates_change,
    role_assignment_delete,
    role_assignment_end,
    set_password_mail,
    user_create,
    user_send_set_password_link,
    username_free,
    username_suggestion,
)

from .models import CancellationReason, Function, FunctionType, NoticeRule


def _lock_relation(relation: Relation) -> Relation:
    """Serialise writes to one relation's functions (check-then-act stays correct)."""
    return Relation.objects.select_for_update().get(pk=relation.pk)


def _check_dates(start_date: datetime.date, end_date: datetime.date | None) -> None:
    if end_date is not None and end_date < start_date:
        raise ValidationError({"end_date": _("The end date cannot be before the start date.")})


def _check_end_date(end_date: datetime.date | None, *, field: str | None = "end_date") -> None:
    """A function is ended today or later: ending it in the past would rewrite history."""
    if end_date is not None and end_date < datetime.date.today():
        message = _("An end date is today or later, never in the past.")
        raise ValidationError({field: message} if field else message)


def _overlapping(relation: Relation, function_type: FunctionType, tenant: Tenant,
                 start_date: datetime.date, end_date: datetime.date | None, exclude_pk=None):
    rows = Function.objects.filter(relation=relation, function_type=function_type, tenant=tenant).filter(
        overlapping_q(start_date, end_date)
    )
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    return rows


def function_start_check(
    *, function_type: FunctionType, tenant: Tenant, start_date: datetime.date, end_date: datetime.date | None = None
) -> None:
    """The rules of a new function that do not depend on the relation (the kind of environment,
    no backdated access, the dates): `function_start` applies them, and the import checks its
    rows with them before anything is written."""
    if tenant.kind != function_type.tenant_kind:
        raise ValidationError(
            {"tenant": _("“%(function)s” is held in a %(kind)s; “%(tenant)s” is a %(tenant_kind)s.")
             % {"function": function_type.name, "kind": TenantKind(function_type.tenant_kind).label.lower(),
                "tenant": tenant.name, "tenant_kind": TenantKind(tenant.kind).label.lower()}}
        )
    if function_type.grants_role_id and start_date < datetime.date.today():
        # Access is never granted backdated ([000] "Kies geen datum in het verleden").
        raise ValidationError(
            {"start_date": _("This function gives access to Ledenbeheer: its start date is today or later, never in the past.")}
        )
    _check_dates(start_date, end_date)
    _check_end_date(end_date)


@transaction.atomic
def function_start(
    *,
    actor: User,
    relation: Relation,
    function_type: FunctionType,
    tenant: Tenant,
    start_date: datetime.date,
    end_date: datetime.date | None = None,
) -> Function:
    """Give a relation a function in a tenant. A function that grants a role also gives the
    relation's login (made from the card's e-mail when needed) that role for the same dates."""
    relation = _lock_relation(relation)
    with relations_changing([relation.pk]):
        return _function_start(actor=actor, relation=relation, function_type=function_type, tenant=tenant,
                               start_date=start_date, end_date=end_date)


def _function_start(*, actor: User, relation: Relation, function_type: FunctionType, tenant: Tenant,
                    start_date: datetime.date, end_date: datetime.date | None) -> Function:
    function_start_check(function_type=function_type, tenant=tenant, start_date=start_date, end_date=end_date)
    if _overlapping(relation, function_type, tenant, start_date, end_date).exists():
        raise ValidationError(
            {"function_type": _("%(relation)s already has the function “%(function)s” in %(tenant)s for these dates.")
             % {"relation": relation.display_name, "function": function_type.name, "tenant": tenant.name}}
        )
    function = Function(
        relation=relation, function_type=function_type, tenant=tenant, start_date=start_date,
        end_date=end_date, created_by=actor,
    )
    function.full_clean(validate_constraints=False)
    if function_type.grants_role_id:
        function.role_assignment = _grant_role(actor=actor, relation=relation, function=function)
    function._history_user = actor
    try:
        with transaction.atomic():
            function.save()
    except IntegrityError:
        # Two simultaneous requests: the database's constraint had the last word.
        raise ValidationError(
            {"function_type": _("This relation already has this open function in this environment.")}
        ) from None
    return function


@dataclass(frozen=True)
class FunctionStart:
    relation: Relation
    function_type: FunctionType
    tenant: Tenant
    start_date: datetime.date


BULK_CHUNK = 2000


@transaction.atomic
def functions_start_bulk(*, actor: User, starts: list[FunctionStart], reason: str | None = None) -> list[Function]:
    """`function_start` for many relations at once (the bulk import): the same rules — the
    function's own (`function_start_check`, once per kind, environment and date) and no
    overlap with a function the relation already holds (one query per chunk) — then the rows
    and their history rows written in chunks. A function that grants a role goes through
    `function_start` one by one (it makes a login). Returns the functions in the order given;
    RowRefused names the first row refused."""
    checked: set[tuple[int, int, datetime.date]] = set()
    functions: list[Function | None] = []
    plain: list[Function] = []
    for start in range(0, len(starts), BULK_CHUNK):
        chunk = starts[start : start + BULK_CHUNK]
        held: dict[tuple[int, int, int], list[tuple[datetime.date, datetime.date | None]]] = {}
        rows = Function.objects.filter(relation_id__in=[s.relation.pk for s in chunk]).values_list(
            "relation_id", "function_type_id", "tenant_id", "start_date", "end_date"
        )
        for relation_id, type_id, tenant_id, begin, end in rows:
            held.setdefault((relation_id, type_id, tenant_id), []).append((begin, end))
        for offset, item in enumerate(chunk):
            try:
                key = (item.function_type.pk, item.tenant.pk, item.start_date)
                if key not in checked:
                    function_start_check(function_type=item.function_type, tenant=item.tenant, start_date=item.start_date)
                    checked.add(key)
                if item.function_type.grants_role_id:
                    functions.append(function_start(
                        actor=actor, relation=item.relation, function_type=item.function_type, tenant=item.tenant,
                        start_date=item.start_date,
                    ))
                    continue
                periods = held.get((item.relation.pk, item.function_type.pk, item.tenant.pk), [])
                if any(end is None or end >= item.start_date for _begin, end in periods):
                    raise ValidationError({"function_type": _(
                        "%(relation)s already has the function “%(function)s” in %(tenant)s for these dates."
                    ) % {"relation": item.relation.display_name, "function": item.function_type.name,
                         "tenant": item.tenant.name}})
                function = Function(
                    relation=item.relation, function_type=item.function_type, tenant=item.tenant,
                    start_date=item.start_date, created_by=actor,
                    outside_home=Function.is_outside_home(item.relation.tenant, item.tenant),
                )
                function.full_clean(
                    exclude=["relation", "function_type", "tenant", "created_by", "cancellation_reason", "role_assignment"],
                    validate_unique=False, validate_constraints=False,
                )
                held.setdefault((item.relation.pk, item.function_type.pk, item.tenant.pk), []).append((item.start_date, None))
            except ValidationError as error:
                raise RowRefused(start + offset, error) from None
            functions.append(function)
            plain.append(function)
    for start in range(0, len(plain), BULK_CHUNK):
        chunk = bulk_insert(Function, plain[start : start + BULK_CHUNK])
        history_rows_insert(Function, [f.pk for f in chunk], history_type="+", user=actor, reason=reason)
    return functions


@transaction.atomic
def functions_merge(*, actor: User, keep: Relation, other: Relation) -> None:
    """Two cards become one (imports.merge): `other`'s functions move to `keep`. Two open
    functions of the same kind in the same environment become one, starting at the earlier of
    the two dates (a role assignment goes along); the history of both moves to `keep`. Each
    function keeps its own history rows (the one merged away ends with its deletion): re-keyed
    onto its twin, they would sit between the twin's rows and show its changes against the other
    function's values."""
    open_kept = {(f.function_type_id, f.tenant_id): f for f in Function.objects.filter(relation=keep, end_date__isnull=True)}
    twins = [
        (function, open_kept[function.function_type_id, function.tenant_id])
        for function in Function.objects.filter(relation=other, end_date__isnull=True)
        if (function.function_type_id, function.tenant_id) in open_kept
    ]
    # As every other change of a function: one without history first gets a row of its values as
    # they are (a twin that starts earlier, the functions that move), so the kept card's history
    # shows the change as old → new.
    merged_away = [function.pk for function, _twin in twins]
    history_baselines_insert(Function, [
        *(twin.pk for function, twin in twins if function.start_date < twin.start_date),
        *Function.objects.filter(relation=other).exclude(pk__in=merged_away).values_list("pk", flat=True),
    ])
    for function, twin in twins:
        if function.start_date < twin.start_date:
            twin.start_date = function.start_date
            twin._history_user = actor
            twin.save(update_fields=["start_date"])
        if function.role_assignment_id and not twin.role_assignment_id:
            assignment_id = function.role_assignment_id
            Function.objects.filter(pk=function.pk).update(role_assignment=None)
            Function.objects.filter(pk=twin.pk).update(role_assignment_id=assignment_id)
        function._history_user = actor
        function.delete()
    # Function.save keeps `outside_home`, which depends on the card's home: saved row by row.
    for function in Function.objects.filter(relation=other).select_related("tenant"):
        function.relation = keep
        function._history_user = actor
        function.save(update_fields=["relation"])
    Function.history.filter(relation_id=other.pk).update(relation_id=keep.pk)


def _grant_role(*, actor: User, relation: Relation, function: Function) -> RoleAssignment:
    if not relation.email:
        raise ValidationError(
            {"function_type": _("This function gives access to Ledenbeheer: fill in the e-mail address on the card first.")}
        )
    user = relation.user
    created = False
    if user is None:
        if User.objects.with_email(relation.email).exists():
            user = User.objects.with_email(relation.email).get()
            if hasattr(user, "relation") and user.relation.pk != relation.pk:
                raise ValidationError({"function_type": _("Another relation's login already uses this e-mail address.")})
        else:
            base = username_suggestion(first_name=relation.first_name or relation.initials, last_name=relation.last_name)
            user = user_create(
                actor=actor, tenant=function.tenant, username=username_free(base=base or f"R{relation.number}"),
                email=relation.email, first_name=relation.first_name,
                last_name=" ".join(p for p in [relation.infix, relation.last_name] if p),
                send_link=False,
            )
            created = True
        relation_login_link(relation=relation, user=user)
    assignment = role_assignment_create(
        actor=actor, user=user, tenant=function.tenant, role=function.function_type.grants_role,
        start_date=function.start_date, end_date=function.end_date,
    )
    if created or not user.has_usable_password():
        # The invitation: a one-time link to choose a password (SPEC T5, issue "ledenmodule").
        user_send_set_password_link(actor=actor, user=user)
        _invitation_log(relation=relation, user=user)
    return assignment


def _invitation_log(*, relation: Relation, user: User) -> None:
    """Write the invitation on the card (SPEC I5: every mail lands in the communication log),
    without the one-time link: the log is read by others. In the federation's language, the
    one the mail is rendered in by the background task."""
    with translation.override(settings.LANGUAGE_CODE):
        subject, body = set_password_mail(user=user, url=_("[personal link, not kept]"))
    communication_entry_add(
        actor=None, relation=relation, tenant=relation.tenant, subject=subject, body=body,
        channel=CommunicationEntry.Channel.EMAIL,
    )


def _end_one(*, actor: User, function: Function, end_date: datetime.date,
             reason: CancellationReason | None, note: str) -> None:
    history_baseline(function)
    function.end_date = max(end_date, function.start_date)
    function.cancellation_reason = reason
    function.cancellation_note = note
    function._history_user = actor
    function.save(update_fields=["end_date", "cancellation_reason", "cancellation_note"])
    if function.role_assignment_id:
        role_assignment_end(actor=actor, assignment=function.role_assignment, end_date=function.end_date)


def notice_end_date(*, tenant: Tenant, received: datetime.date, requested: datetime.date) -> datetime.date:
    """The end date of a membership cancelled on `received`: the requested date, or later when
    one of the federation's notice rules covers that day (e.g. cancellations received between
    1 November and 1 January end on 1 January)."""
    rules = NoticeRule.objects.filter(tenant__path=tenant.root_path, active=True)
    dates = [rule.end_date_for(received) for rule in rules if rule.covers(received)]
    return max([requested, *dates])


@transaction.atomic
def function_end(
    *,
    actor: User,
    function: Function,
    end_date: datetime.date,
    reason: CancellationReason | None = None,
    note: str = "",
) -> list[Function]:
    """End a function. Ending a membership ends every open function of the relation (SPEC R4),
    no earlier than the federation's notice rules allow (`notice_end_date`). Returns the
    functions that were ended."""
    _lock_relation(function.relation)
    with relations_changing([function.relation_id]):
        return _function_end(actor=actor, function=function, end_date=end_date, reason=reason, note=note)


def _function_end(*, actor: User, function: Function, end_date: datetime.date,
                  reason: CancellationReason | None, note: str) -> list[Function]:
    function = Function.objects.select_related("function_type", "role_assignment").get(pk=function.pk)
    _check_end_date(end_date)
    if end_date < function.start_date:
        raise ValidationError({"end_date": _("The end date cannot be before the start date.")})
    if has_ended(function.end_date, datetime.date.today()):
        raise ValidationError({"end_date": _("This function has already ended.")})
    if function.function_type.counts_as_membership:
        end_date = notice_end_date(tenant=function.tenant, received=datetime.date.today(), requested=end_date)
    ended = [function]
    _end_one(actor=actor, function=function, end_date=end_date, reason=reason, note=note)
    if function.function_type.counts_as_membership:
        ended += _end_others(actor=actor, function=function, end_date=end_date, reason=reason, note=note)
    return ended


def _end_others(*, actor: User, function: Function, end_date: datetime.date,
                reason: CancellationReason | None, note: str) -> list[Function]:
    """A membership ends on `end_date`: so does every other function of the relation (SPEC R4)."""
    ended = []
    others = (
        Function.objects.filter(relation_id=function.relation_id)
        .exclude(pk=function.pk)
        .not_ended(end_date)
        .select_related("function_type", "role_assignment")
    )
    for other in others:
        if other.start_date >= end_date:
            # It would start when or after the membership ends: it never begins (a
            # zero-day function is no row worth keeping).
            assignment = other.role_assignment
            other._history_user = actor
            other.delete()
            if assignment is not None:
                role_assignment_delete(actor=actor, assignment=assignment)
            continue
        _end_one(actor=actor, function=other, end_date=end_date, reason=reason, note=note)
        ended.append(other)
    return ended


@transaction.atomic
def function_dates_correct(
    *, actor: User, function: Function, start_date: datetime.date, end_date: datetime.date | None
) -> Function:
    """Correct the start and end date of a function entered wrongly, with the rules of starting
    and ending it: a changed start date of a function that gives access is not in the past, a
    changed end date is today or later (a function that has ended keeps its end date), no
    overlap with the same function in the same environment, and a membership that gets an end
    date ends the relation's other functions then too (SPEC R4). The role the function gives
    follows; the change is in the card's history, and is watched as every change of a function
    (`relations_changing`: the dashboard's kept counts follow). The notice rules do not apply: a
    correction fixes a wrong date, while a notice rule says when a membership being ended ends
    (`function_end`)."""
    relation = _lock_relation(function.relation)
    function = Function.objects.select_related("function_type", "tenant", "role_assignment").get(pk=function.pk)
    today = datetime.date.today()
    start_changed, end_changed = start_date != function.start_date, end_date != function.end_date
    if not (start_changed or end_changed):
        return function
    if start_changed and function.function_type.grants_role_id and start_date < today:
        raise ValidationError(
            {"start_date": _("This function gives access to Ledenbeheer: its start date is today or later, never in the past.")}
        )
    _check_dates(start_date, end_date)
    if end_changed:
        if has_ended(function.end_date, today):
            raise ValidationError({"end_date": _("This function has already ended; its end date stays.")})
        _check_end_date(end_date)
    if _overlapping(relation, function.function_type, function.tenant, start_date, end_date, exclude_pk=function.pk).exists():
        raise ValidationError(
            {"start_date": _("%(relation)s already has the function “%(function)s” in %(tenant)s for these dates.")
             % {"relation": relation.display_name, "function": function.function_type.name, "tenant": function.tenant.name}}
        )
    with relations_changing([relation.pk]):
        history_baseline(function)
        function.start_date, function.end_date = start_date, end_date
        function._history_user = actor
        try:
            with transaction.atomic():
                function.save(update_fields=["start_date", "end_date"])
        except IntegrityError:
            raise ValidationError({"end_date": _("This relation already has this open function in this environment.")}) from None
        if function.role_assignment_id:
            role_assignment_dates_change(
                actor=actor, assignment=function.role_assignment, start_date=start_date, end_date=end_date,
            )
        if end_changed and end_date is not None and function.function_type.counts_as_membership:
            _end_others(actor=actor, function=function, end_date=end_date, reason=None, note="")
    return function


@transaction.atomic
def functions_bulk_end(
    *,
    actor: User,
    functions: list[Function],
    end_date: datetime.date,
    reason: CancellationReason | None = None,
    note: str = "",
) -> int:
    """End several memberships at once: all of them, or none when one cannot be ended."""
    # About the batch's one date, not about one of its memberships.
    _check_end_date(end_date, field=None)
    ended: set[int] = set()
    for function in functions:
        # Ending a membership also ends the relation's other functions: one selected later in
        # the same batch is already done.
        if function.pk in ended:
            continue
        try:
            ended.update(f.pk for f in function_end(actor=actor, function=function, end_date=end_date, reason=reason, note=note))
        except ValidationError as error:
            raise ValidationError(
                _("%(relation)s: %(error)s") % {"relation": function.relation.display_name, "error": " ".join(error.messages)}
            ) from None
    return len(ended)


@transaction.atomic
def function_delete(*, actor: User, function: Function) -> None:
    """Remove a function row entirely: a national power (SPEC R5), for entries made in error."""
    if not actor.has_perm("memberships.delete_function", function):
        raise PermissionDenied
    function = Function.objects.select_related("role_assignment").get(pk=function.pk)
    assignment = function.role_assignment
    function._history_user = actor
    with relations_changing([function.relation_id]):
        function.delete()
    if assignment is not None:
        role_assignment_delete(actor=actor, assignment=assignment)


def _transfer_note(department: Tenant) -> str:
    # Stored on the row, so written in the federation's language, not the clicking user's.
    with translation.override(settings.LANGUAGE_CODE):
        return _("Transferred to %(department)s") % {"department": department.name}


@transaction.atomic
def member_transfer(
    *,
    actor: User,
    function: Function,
    to_department: Tenant,
    date: datetime.date,
) -> Function:
    """Move a member to another department in one step (SPEC R6): the old membership ends and
    the new one starts on the same date, and the card's home moves along. Within a province
    for province administrators; across provinces only with the national power."""
    function = Function.objects.select_related("function_type", "tenant", "relation__tenant").get(pk=function.pk)
    if not function.function_type.counts_as_membership:
        raise ValidationError(_("Only a membership can be transferred."))
    if has_ended(function.end_date, max(date, datetime.date.today())):
        raise ValidationError({"date": _("This membership has ended or ends before that date; it cannot be transferred.")})
    if to_department.kind != TenantKind.DEPARTMENT:
        raise ValidationError({"to_department": _("Choose a department.")})
    if to_department.pk == function.tenant_id:
        raise ValidationError({"to_department": _("The member is already in this department.")})
    if date < datetime.date.today():
        raise ValidationError({"date": _("A transfer date is today or later, never in the past.")})
    if date < function.start_date:
        raise ValidationError({"date": _("The transfer date cannot be before the membership started.")})
    # The card's home moves along, so where the relation is homed counts, not only where the
    # membership is held: a guest homed in another province is never pulled into this one by a
    # membership added here and then transferred (SPEC R6).
    home = function.relation.tenant
    same_province = (
        to_department.parent_path == function.tenant.parent_path
        and home.province_path == to_department.province_path
    )
    needed = "memberships.transfer_member" if same_province else "memberships.transfer_member_across_provinces"
    if not all(actor.has_perm(needed, tenant) for tenant in (function.tenant, to_department, home)):
        raise ValidationError(
            {"to_department": _("Only the federation can transfer a member to another province.")
             if not same_province else _("You may not transfer members of this department.")}
        )
    relation = _lock_relation(function.relation)
    with relations_changing([relation.pk]):
        _end_one(actor=actor, function=function, end_date=date, reason=None, note=_transfer_note(to_department))
        new = function_start(
            actor=actor, relation=relation, function_type=function.function_type, tenant=to_department,
            start_date=date,
        )
        history_baseline(relation)
        relation.tenant = to_department
        relation._history_user = actor
        relation.save(update_fields=["tenant"])
        _outside_home_refresh(relation)
    new.refresh_from_db(fields=["outside_home"])
    return new


def _outside_home_refresh(relation: Relation) -> None:
    """Recompute `Function.outside_home` of all the relation's functions after its home moved."""
    rows = Function.objects.filter(relation=relation).values_list("pk", "tenant__path")
    outside = {pk for pk, path in rows if not relation.tenant.path.startswith(path)}
    Function.objects.filter(relation=relation).exclude(pk__in=outside).update(outside_home=False)
    Function.objects.filter(pk__in=outside).update(outside_home=True)
