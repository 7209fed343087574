"""Merging two relation cards into one (SPEC R10): the kept card gets the chosen values, and
every row of every model that points at the other card moves to the kept one. The other card
is archived with a pointer to the kept one (`Merge`), never deleted.

Every foreign key to Relation needs a rule in MOVES; `moves_for` refuses a key without one, and
tests/imports/test_merge.py walks Relation's related models so a new model with such a key fails
the suite until it is handled here."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from memberships.services import functions_merge
from relations.card import relations_changing
from relations.models import Relation
from relations.services import RELATION_FIELDS, relation_archive_merged, relation_update
from tenants.events import audit_record
from tenants.models import Tenant, TenantKind, User

from .models import DuplicateCandidate, Merge

MERGE_PERM = "imports.merge_relation"
# Fields of the card a user chooses between; the rest (number, home, login) follow the kept card.
CHOSEN_FIELDS = tuple(f for f in RELATION_FIELDS if f != "kind")

Move = Callable[[models.ForeignKey, Relation, Relation, User], None]


def _move_rows(field: models.ForeignKey, keep: Relation, other: Relation, actor: User) -> None:
    """Point the rows at the kept card (no rule of their own stands in the way)."""
    field.model._default_manager.filter(**{field.name: other}).update(**{field.name: keep})


def _move_functions(field: models.ForeignKey, keep: Relation, other: Relation, actor: User) -> None:
    """Functions move through memberships (two open ones of the same kind in the same
    environment become one, their history moves along)."""
    functions_merge(actor=actor, keep=keep, other=other)


def _moved_with_functions(field: models.ForeignKey, keep: Relation, other: Relation, actor: User) -> None:
    """The functions' history rows: moved by `functions_merge` with the functions."""


def _move_data_problems(field: models.ForeignKey, keep: Relation, other: Relation, actor: User) -> None:
    """Open problems of both cards would break "one open problem per rule": the other card's
    open ones are closed before they move; the recheck after the merge reopens what still holds."""
    model = field.model
    model._default_manager.filter(relation=other, closed_on__isnull=True).update(closed_on=datetime.date.today())
    model._default_manager.filter(relation=other).update(relation=keep)


def _move_card_views(field: models.ForeignKey, keep: Relation, other: Relation, actor: User) -> None:
    """The view log keeps one row per user, card and day: a day both cards were opened by the
    same user stays once."""
    model = field.model
    kept_day = model._default_manager.filter(relation=keep, user_id=models.OuterRef("user_id"), day=models.OuterRef("day"))
    model._default_manager.filter(models.Exists(kept_day), relation=other).delete()
    model._default_manager.filter(relation=other).update(relation=keep)


def _move_billed_lines(field: models.ForeignKey, keep: Relation, other: Relation, actor: User) -> None:
    """Invoice lines move, unless both cards were billed for the same membership and season by
    the same environment: the person was invoiced twice, which a credit note must settle before
    the cards can become one (the whole merge is refused, nothing changes)."""
    billed = field.model._default_manager.filter(billed=True)
    twice = billed.filter(relation=other).filter(models.Exists(billed.filter(
        relation=keep, tenant_id=models.OuterRef("tenant_id"), function_type_id=models.OuterRef("function_type_id"),
        season_start=models.OuterRef("season_start"),
    )))
    if twice.exists():
        raise ValidationError(_(
            "Both relations were invoiced for the same membership and season. Credit one of those "
            "invoices first, then merge."
        ))
    _move_rows(field, keep, other, actor)


def _drop_pairs(field: models.ForeignKey, keep: Relation, other: Relation, actor: User) -> None:
    """Candidate pairs of the other card: the pair with the kept card is settled by the merge;
    the others move to the kept card unless it already has that pair."""
    for candidate in DuplicateCandidate.objects.filter(models.Q(relation_a=other) | models.Q(relation_b=other)):
        partner = candidate.relation_b_id if candidate.relation_a_id == other.pk else candidate.relation_a_id
        if partner == keep.pk:
            candidate.delete()
            continue
        a, b = sorted((keep.pk, partner))
        if DuplicateCandidate.objects.filter(relation_a_id=a, relation_b_id=b).exists():
            candidate.delete()
        else:
            DuplicateCandidate.objects.filter(pk=candidate.pk).update(relation_a_id=a, relation_b_id=b)


def _earlier_merges(field: models.ForeignKey, keep: Relation, other: Relation, actor: User) -> None:
    """Cards merged into the other card earlier now point at the kept card; the other card's
    own archive row is made by the merge itself."""
    if field.name == "kept":
        Merge.objects.filter(kept=other).update(kept=keep)


def _move_refusals(field: models.ForeignKey, keep: Relation, other: Relation, actor: User) -> None:
    """The other card's "no" to a communication type joins the kept card's (once per type): the
    person said no, whichever card they said it on."""
    kept_types = set(field.model._default_manager.filter(relation=keep).values_list("communication_type_id", flat=True))
    rows = field.model._default_manager.filter(relation=other)
    rows.filter(communication_type_id__in=kept_types).delete()
    rows.update(relation=keep)


MOVES: dict[tuple[str, str], Move] = {
    ("relations.CommunicationEntry", "relation"): _move_rows,
    ("memberships.Function", "relation"): _move_functions,
    ("intake.Registration", "relation"): _move_rows,
    ("notifications.OutboundMail", "relation"): _move_rows,
    ("quality.DataProblem", "relation"): _move_data_problems,
    ("relations.RelationView", "relation"): _move_card_views,
    # The person's invoices, their lines and their mandates are the kept card's from now on
    # (the invoices themselves, number, amounts and PDF, do not change).
    ("billing.Invoice", "relation"): _move_rows,
    ("billing.InvoiceLine", "relation"): _move_billed_lines,
    ("billing.Mandate", "relation"): _move_rows,
    ("billing.InvoiceMember", "relation"): _move_rows,  # a department invoice's member list
    ("imports.ImportChange", "relation"): _move_rows,
    # The member portal (issue 18): consent per communication type, corrections waiting for approval.
    ("relations.CommunicationRefusal", "relation"): _move_refusals,
    ("relations.ChangeRequest", "relation"): _move_rows,
    ("imports.DuplicateCandidate", "relation_a"): _drop_pairs,
    ("imports.DuplicateCandidate", "relation_b"): _drop_pairs,
    ("imports.Merge", "kept"): _earlier_merges,
    ("imports.Merge", "merged"): _earlier_merges,
    # Last: the moves above write history rows of their own.
    ("memberships.HistoricalFunction", "relation"): _moved_with_functions,
}


def foreign_keys_to_relation() -> list[models.ForeignKey]:
    """Every foreign key (and one-to-one) of any model, hidden ones included, that points at
    Relation."""
    return [
        f.field for f in Relation._meta.get_fields(include_hidden=True)
        if f.is_relation and f.auto_created and not f.concrete and f.field.model is not Relation
    ]


def moves_for() -> list[tuple[models.ForeignKey, Move]]:
    """The moves in the order of MOVES: history rows after the rows whose changes they record."""
    found = []
    for fk in foreign_keys_to_relation():
        key = (fk.model._meta.label, fk.name)
        if key not in MOVES:
            raise NotImplementedError(f"Merging relations does not know what to do with {key[0]}.{key[1]}")
        found.append((fk, MOVES[key]))
    order = list(MOVES)
    return sorted(found, key=lambda pair: order.index((pair[0].model._meta.label, pair[0].name)))


def merge_refusal(*, actor: User, tenant: Tenant, keep: Relation, other: Relation) -> Exception | None:
    """Why these two cards cannot be merged here: PermissionDenied when the user may not,
    ValidationError when the cards do not allow it; None when they can."""
    if not actor.has_perm(MERGE_PERM, tenant) or tenant.kind == TenantKind.DEPARTMENT:
        return PermissionDenied(_("You may not merge relations here."))
    visible = Relation.objects.visible_to(actor, tenant, archived=True)
    if visible.filter(pk__in=[keep.pk, other.pk]).count() != len({keep.pk, other.pk}):
        return PermissionDenied(_("You may not merge relations here."))
    if keep.pk == other.pk:
        return ValidationError(_("Choose two different relations."))
    if keep.archived or other.archived or Merge.objects.filter(merged__in=[keep, other]).exists():
        return ValidationError(_("One of these relations has already been merged."))
    if keep.user_id and other.user_id:
        return ValidationError(_("Both relations have a login. End the roles of one of them first."))
    return None


@transaction.atomic
def relation_merge(
    *, actor: User, tenant: Tenant, keep: Relation, other: Relation, values: dict[str, str], extra: dict[str, str],
) -> Merge:
    """Merge `other` into `keep`. `values` says per card field which card's value survives
    ("keep" or "other"), `extra` the same per custom field code."""
    # Both rows locked, in primary-key order so two merges never wait for each other in a circle.
    locked = {r.pk: r for r in Relation.objects.select_for_update().filter(pk__in=[keep.pk, other.pk]).order_by("pk")}
    keep, other = locked.get(keep.pk, keep), locked.get(other.pk, other)
    refusal = merge_refusal(actor=actor, tenant=tenant, keep=keep, other=other)
    if refusal is not None:
        raise refusal
    data = {name: getattr(other, name) for name in CHOSEN_FIELDS if values.get(name) == "other"}
    merged_extra = dict(keep.extra or {})
    for code, side in extra.items():
        if side == "other":
            if code in (other.extra or {}):
                merged_extra[code] = other.extra[code]
            else:
                merged_extra.pop(code, None)
    # The functions move from one card to the other: watched as one change of both.
    with relations_changing([keep.pk, other.pk]):
        for fk, move in moves_for():
            move(fk, keep, other, actor)
        # The other card is archived, pointing at the kept one; its login moves along (relations).
        keep = relation_archive_merged(actor=actor, keep=keep, other=other)
        merge = Merge.objects.create(
            kept=keep, merged=other, merged_number=other.number, merged_by=actor,
            chosen={"values": values, "extra": extra},
        )
        keep = relation_update(actor=actor, relation=keep, data=data, extra=merged_extra)
    audit_record(
        actor=actor, action="relation_merge", tenant=tenant,
        detail=f"{other.number} → {keep.number}",
    )
    return merge


def merge_fields(keep: Relation, other: Relation) -> list[dict[str, Any]]:
    """The rows of the side-by-side view: a field, both values, which differs."""
    rows = []
    for name in CHOSEN_FIELDS:
        field = Relation._meta.get_field(name)
        a, b = getattr(keep, name), getattr(other, name)
        rows.append({"name": name, "label": field.verbose_name, "keep": _display(keep, name), "other": _display(other, name),
                     "differs": a != b})
    return rows


def _display(relation: Relation, name: str) -> str:
    value = getattr(relation, name)
    display = getattr(relation, f"get_{name}_display", None)
    if display is not None:
        return str(display())
    if isinstance(value, datetime.date):
        return value.strftime("%d-%m-%Y")
    return "" if value is None else str(value)
