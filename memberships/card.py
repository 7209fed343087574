"""What memberships adds to the relation card, which relations cannot know about (memberships
depends on relations, never the reverse; docs/architecture.md): a new card together with its
first function, the Functions tab, the functions' history on the History tab and the current
memberships that list and export columns show. MembershipsConfig.ready() registers them."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connections, transaction
from django.db.models import OuterRef, Prefetch, QuerySet, StringAgg, Subquery, Value
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from relations import services as relation_services
from relations.card import (
    CardTab,
    HistoryChange,
    HistoryEvent,
    history_field_changes,
    history_who,
    relations_changing,
)
from relations.models import Relation
from tenants.history import rows_delete_with_history
from tenants.models import Tenant, User

from .models import Function, FunctionType
from .services import FunctionStart, function_start, functions_start_bulk

# --- a new card ---------------------------------------------------------------------------------


@transaction.atomic
def relation_create(
    *,
    actor: User | None,
    tenant: Tenant,
    data: dict[str, Any],
    extra: dict[str, Any] | None = None,
    function_type: FunctionType,
    function_tenant: Tenant,
    start_date: datetime.date,
) -> Relation:
    """Create a relation card together with its first function (SPEC R1/R3): a new relation is
    never left without a function. The function starts before the card's after-save checks run,
    so they see the card as it will be."""
    return relation_services.relation_create(
        actor=actor, tenant=tenant, data=data, extra=extra,
        complete=lambda relation: function_start(
            actor=actor, relation=relation, function_type=function_type, tenant=function_tenant,
            start_date=start_date,
        ),
    )


@dataclass(frozen=True)
class NewMember:
    """One card of `relations_create_bulk` with its first function."""

    tenant: Tenant
    data: dict[str, Any]
    extra: dict[str, Any] | None
    function_type: FunctionType
    function_tenant: Tenant
    start_date: datetime.date


@transaction.atomic
def relations_create_bulk(
    *, actor: User, members: list[NewMember], reason: str | None = None, fields_cache: dict | None = None,
    after_save: bool = True,
) -> list[tuple[Relation, Function]]:
    """`relation_create` for many cards (the bulk import): each with its first function, all in
    one transaction, with the same rules (relations_create_bulk, functions_start_bulk); a
    RowRefused names the first row refused. Returns (card, function) in the order given."""
    made: list[Function] = []

    def complete(relations: list[Relation]) -> None:
        made.extend(functions_start_bulk(actor=actor, reason=reason, starts=[
            FunctionStart(relation, member.function_type, member.function_tenant, member.start_date)
            for relation, member in zip(relations, members, strict=True)
        ]))

    relations = relation_services.relations_create_bulk(
        actor=actor, reason=reason, complete=complete, fields_cache=fields_cache, after_save=after_save,
        cards=[relation_services.NewCard(member.tenant, member.data, member.extra) for member in members],
    )
    return list(zip(relations, made, strict=True))


def relations_delete_bulk(*, actor: User, relation_ids: list[int], reason: str | None = None) -> None:
    """Delete these cards with their functions (the undo of `relations_create_bulk`): the
    functions first, so that each keeps a history row naming `actor`, then the cards through
    relations. All under one watch of the cards (the dashboard's counts, the checks)."""
    with relations_changing(relation_ids):
        for start in range(0, len(relation_ids), relation_services.BULK_CHUNK):
            ids = relation_ids[start : start + relation_services.BULK_CHUNK]
            rows_delete_with_history(list(Function.objects.filter(relation_id__in=ids)), user=actor)
        relation_services.relations_delete_bulk(actor=actor, relation_ids=relation_ids, reason=reason)


# --- the Functions tab and the History tab ------------------------------------------------------

FUNCTIONS_TAB = CardTab("functions", gettext_lazy("Functions"), "function_list", 20)

ACTIONS = {
    "function_added": gettext_lazy("Function added"),
    "function_changed": gettext_lazy("Function changed"),
    "function_ended": gettext_lazy("Function ended"),
    "function_deleted": gettext_lazy("Function deleted"),
}
FUNCTION_HISTORY_SKIP = {"relation", "created_by"}


def function_history_events(relation: Relation) -> Iterator[HistoryEvent]:
    """Every change to the relation's functions, from their history records (one query)."""
    records = (
        Function.history.filter(relation_id=relation.pk)
        .select_related("history_user", "history_on_behalf_of", "function_type", "tenant", "cancellation_reason")
        .order_by("history_date", "history_id")
    )
    last_by_function: dict[int, Any] = {}
    for record in records:
        subject = f"{record.function_type} — {record.tenant}"
        before = last_by_function.get(record.id)
        if record.history_type == "-":
            yield HistoryEvent(record.history_date, history_who(record), subject, ACTIONS["function_deleted"])
        elif before is None or record.history_type == "+":
            yield HistoryEvent(
                record.history_date, history_who(record), subject, ACTIONS["function_added"],
                [HistoryChange(str(_("Start date")), None, record.start_date)]
                + ([HistoryChange(str(_("End date")), None, record.end_date)] if record.end_date else []),
            )
        else:
            changes = history_field_changes(Function, record, before, FUNCTION_HISTORY_SKIP)
            ended = record.end_date is not None and record.end_date != before.end_date
            if changes:
                yield HistoryEvent(
                    record.history_date, history_who(record), subject,
                    ACTIONS["function_ended" if ended else "function_changed"], changes,
                )
        last_by_function[record.id] = record


# --- list and export columns --------------------------------------------------------------------


def current_memberships_prefetch(tenant: Tenant, day: datetime.date | None = None) -> Prefetch:
    """The memberships each relation holds now in the environment's subtree, with their tenant,
    as `relation.current_memberships`: one query for a whole page (or chunk), never one per row."""
    memberships = (
        Function.objects.memberships()
        .active_on(day or datetime.date.today())
        .in_subtree(tenant)
        .select_related("tenant")
        # Only what the column shows: a page or an export chunk reads thousands of them.
        .only("relation_id", "tenant__name")
        .order_by("tenant__name", "pk")
    )
    return Prefetch("functions", queryset=memberships, to_attr="current_memberships")


def with_current_memberships(queryset: QuerySet[Relation], tenant: Tenant) -> QuerySet[Relation]:
    """Loads what columns that need "memberships" read (registered in relations.exports)."""
    return queryset.prefetch_related(current_memberships_prefetch(tenant))


def current_membership_names(tenant: Tenant, db: str, day: datetime.date | None = None) -> Subquery | None:
    """The names of the environments of the memberships the outer relation holds now in the
    environment's subtree, comma-separated in the prefetch's order (`current_memberships_prefetch`;
    the column shows that list joined the same way): the "Department(s)" column as one column of
    an export's query, registered in relations.exports. None where the database cannot order
    inside an aggregate (SQLite before 3.44): the export then reads the prefetch."""
    if not connections[db].features.supports_aggregate_order_by_clause:
        return None
    names = (
        Function.objects.memberships()
        .active_on(day or datetime.date.today())
        .in_subtree(tenant)
        .filter(relation=OuterRef("pk"))
        .order_by().values("relation")
        .annotate(names=StringAgg("tenant__name", Value(", "), order_by=("tenant__name", "pk")))
        .values("names")
    )
    return Subquery(names)
