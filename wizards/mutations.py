"""The mutation list ("Relatiemutatielijst", SPEC W4): sign-ups, cancellations and other changes
of relations in a period, by relation type (the category of the function).

Sign-ups and cancellations are functions held in the environment's subtree that started / ended in
the period; they stay listed where they were held, also when the relation has left (ARCHITECTURE
"Tenancy and access"). Other changes come from the card's history, for relations the environment
shows that hold (or held) a function of the chosen types there.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from itertools import groupby

from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from memberships.models import Function
from relations.filters import Column
from relations.models import Relation
from tenants.models import Tenant, User

# Rows of one kind listed at most; more means the period is too wide to read on a screen.
LIMIT = 5000
# Fields of the card whose change is listed (everything a member administrator types in).
HISTORY_IGNORED = {"id", "history_id", "history_date", "history_change_reason", "history_type", "history_user",
                   "history_user_id", "created_at", "number", "user", "user_id"}


@dataclass(frozen=True)
class Mutation:
    date: datetime.date
    kind: str
    relation_id: int
    number: int
    name: str
    what: str
    environment: str
    detail: str

    @property
    def kind_label(self) -> str:
        return {"sign_up": _("Sign-up"), "cancellation": _("Cancellation"), "change": _("Change")}[self.kind]


@dataclass
class MutationList:
    rows: list[Mutation]
    truncated: bool


def mutation_columns() -> list[Column]:
    return [
        Column("date", _("Date"), lambda m: m.date),
        Column("kind", _("Mutation"), lambda m: m.kind_label),
        Column("number", _("Relation number"), lambda m: m.number),
        Column("name", _("Name"), lambda m: m.name),
        Column("what", _("Function"), lambda m: m.what),
        Column("environment", _("Environment"), lambda m: m.environment),
        Column("detail", _("Details"), lambda m: m.detail),
    ]


def mutation_list(
    *, user: User, tenant: Tenant, date_from: datetime.date, date_to: datetime.date,
    categories: list[str], kinds: list[str],
) -> MutationList:

    kinds = kinds or ["sign_up", "cancellation", "change"]
    functions = Function.objects.in_subtree(tenant).select_related(
        "relation", "function_type", "tenant", "cancellation_reason"
    )
    if categories:
        functions = functions.filter(function_type__category__in=categories)
    rows: list[Mutation] = []
    truncated = False
    for kind, field_name in (("sign_up", "start_date"), ("cancellation", "end_date")):
        if kind not in kinds:
            continue
        found = list(
            functions.filter(**{f"{field_name}__gte": date_from, f"{field_name}__lte": date_to})
            .order_by(field_name, "pk")[: LIMIT + 1]
        )
        truncated |= len(found) > LIMIT
        for function in found[:LIMIT]:
            detail = ""
            if kind == "cancellation":
                reason = function.cancellation_reason.name if function.cancellation_reason else ""
                detail = " — ".join(p for p in (reason, function.cancellation_note) if p)
            rows.append(Mutation(
                getattr(function, field_name), kind, function.relation_id, function.relation.number,
                function.relation.sort_name, function.function_type.name, function.tenant.name, detail,
            ))
    if "change" in kinds:
        changes, cut = _changes(user, tenant, date_from, date_to, categories)
        rows += changes
        truncated |= cut
    rows.sort(key=lambda m: (m.date, m.name, m.kind))
    return MutationList(rows, truncated)


def _changes(user: User, tenant: Tenant, date_from: datetime.date, date_to: datetime.date,
             categories: list[str]) -> tuple[list[Mutation], bool]:
    """Changes of cards in the period, each with the fields that changed: the history rows of the
    period and the one before each (one query), compared in Python."""

    held = Function.objects.in_subtree(tenant).filter(relation=OuterRef("id"))
    if categories:
        held = held.filter(function_type__category__in=categories)
    visible = Relation.objects.visible_to(user, tenant).values("pk")
    start = timezone.make_aware(datetime.datetime.combine(date_from, datetime.time.min))
    end = timezone.make_aware(datetime.datetime.combine(date_to, datetime.time.max))
    history = Relation.history.model.objects
    changed = (
        history.filter(history_type="~", history_date__range=(start, end), id__in=visible)
        .filter(Exists(held))
        .order_by("history_date")
    )
    relation_ids = list(changed.values_list("id", flat=True).distinct()[: LIMIT + 1])
    truncated = len(relation_ids) > LIMIT
    relation_ids = relation_ids[:LIMIT]
    records = history.filter(id__in=relation_ids, history_date__lte=end).select_related("tenant").order_by(
        "id", "history_date", "history_id"
    )
    fields = [f for f in Relation._meta.concrete_fields if f.attname not in HISTORY_IGNORED and f.name != "search_text"]
    rows = []
    for _relation_id, group in groupby(records.iterator(), key=lambda r: r.id):
        previous = None
        for record in group:
            if previous is not None and record.history_type == "~" and record.history_date >= start:
                names = [str(f.verbose_name) for f in fields
                         if getattr(previous, f.attname, None) != getattr(record, f.attname, None)]
                if names:
                    rows.append(Mutation(
                        timezone.localdate(record.history_date), "change", record.id, record.number,
                        Relation.sort_name.fget(record), "",
                        record.tenant.name, ", ".join(names),
                    ))
            previous = record
    return rows, truncated
