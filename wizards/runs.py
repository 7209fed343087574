"""Running a wizard: its fields and the run's parameters turned into a queryset of relations and
the columns of the result (for the grid, the report and the exports).

The rows always start from `Relation.objects.visible_to(user, tenant)`; whatever a wizard or its
parameters say can only narrow that down.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from functools import reduce
from operator import and_
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import (
    BooleanField,
    CharField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    StringAgg,
    Subquery,
    Value,
)
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from ledenbeheer.dbrouter import read_alias
from memberships.models import Function
from relations.filters import NAME_ORDER, Column
from relations.models import Relation
from relations.services import custom_fields_for
from tenants.models import Tenant, TenantKind, User

from .catalogue import CatalogueField, Filter, RunContext, catalogue_for
from .models import FilterMode, Wizard, WizardField


@dataclass
class RunParameters:
    day: datetime.date = field(default_factory=datetime.date.today)
    part: Tenant | None = None
    include_inactive: bool = False
    # The filters asked when running, by WizardField pk; they replace the saved ones.
    asked: dict[int, Filter] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """For a background export: what the task needs to run the same selection again."""
        return {
            "day": self.day.isoformat(),
            "part": self.part.pk if self.part else None,
            "include_inactive": self.include_inactive,
            "asked": {
                str(pk): {"mode": f.mode, "values": [_stored(v) for v in f.values],
                          "low": _stored(f.low), "high": _stored(f.high)}
                for pk, f in self.asked.items()
            },
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], catalogue: dict[str, CatalogueField],
                  fields: list[WizardField], tenant: Tenant) -> RunParameters:
        by_pk = {wf.pk: wf for wf in fields}
        asked = {}
        for pk, raw in data.get("asked", {}).items():
            wf = by_pk.get(int(pk))
            if wf is None or wf.field_key not in catalogue:
                continue
            cf = catalogue[wf.field_key]
            asked[wf.pk] = Filter(
                raw["mode"], tuple(cf.parse(v) for v in raw["values"]),
                cf.parse(raw["low"]) if raw["low"] is not None else None,
                cf.parse(raw["high"]) if raw["high"] is not None else None,
            )
        part = Tenant.objects.subtree(tenant).filter(pk=data.get("part")).first() if data.get("part") else None
        return cls(datetime.date.fromisoformat(data["day"]), part, data.get("include_inactive", False), asked)


def _stored(value: Any) -> Any:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, datetime.date) else str(value)


def saved_filter(wf: WizardField, cf: CatalogueField) -> Filter:
    """The filter saved on a wizard field, parsed (ValidationError when it no longer fits, e.g. a
    department that was removed)."""
    if not wf.mode:
        return Filter("")
    if wf.mode == FilterMode.RANGE:
        low = cf.parse(wf.value) if wf.value.strip() else None
        high = cf.parse(wf.value_to) if wf.value_to.strip() else None
        return Filter(wf.mode, (), low, high)
    return Filter(wf.mode, tuple(cf.parse(v) for v in wf.values))


def _applies(flt: Filter, cf: CatalogueField) -> bool:
    if not flt.is_empty:
        return True
    return cf.blank_is_day and flt.mode == FilterMode.SINGLE


class WizardRun:
    """One run of a wizard by a user in an environment."""

    def __init__(self, wizard: Wizard, *, user: User, tenant: Tenant, params: RunParameters,
                 fields: list[WizardField] | None = None, catalogue: dict[str, CatalogueField] | None = None):
        self.wizard = wizard
        self.user = user
        self.tenant = tenant
        self.params = params
        self.catalogue = catalogue if catalogue is not None else catalogue_for(tenant, custom_fields_for(tenant))
        all_fields = fields if fields is not None else list(wizard.fields.all())
        # A field whose key is no longer in the catalogue (a custom field that was removed) is
        # left out instead of breaking every run.
        self.fields = [wf for wf in all_fields if wf.field_key in self.catalogue]
        province_names = {}
        if any(wf.field_key == "province" and wf.shown for wf in self.fields):
            province_names = dict(
                Tenant.objects.filter(kind=TenantKind.PROVINCE).values_list("path", "name")
            )
        scope = params.part or tenant
        scope_ids = None if scope.is_root() else tuple(
            Tenant.objects.subtree(scope).order_by().values_list("pk", flat=True)
        )
        self.context = RunContext(tenant, scope, params.day, province_names, scope_ids)

    # -- filters

    def filters(self) -> list[tuple[WizardField, CatalogueField, Filter]]:
        """Every field's filter that applies to this run (asked ones replace saved ones)."""
        found = []
        for wf in self.fields:
            cf = self.catalogue[wf.field_key]
            flt = self.params.asked.get(wf.pk) if wf.ask and wf.pk in self.params.asked else saved_filter(wf, cf)
            if _applies(flt, cf):
                found.append((wf, cf, flt))
        return found

    def _function_terms(self) -> list[Q]:
        return [cf.function_q(flt, self.context) for _wf, cf, flt in self.filters() if cf.function_q]

    def matches(self) -> QuerySet[Relation]:
        """The selected relations, unordered."""

        ctx = self.context
        queryset = Relation.objects.visible_to(self.user, self.tenant)
        if self.params.part is not None:
            held_there = Function.objects.active_on(ctx.day).filter(ctx.in_scope(), relation=OuterRef("pk"))
            queryset = queryset.filter(ctx.in_scope() | Q(Exists(held_there)))
        for _wf, cf, flt in self.filters():
            if cf.relation_q:
                queryset = queryset.filter(cf.relation_q(flt, ctx))
        function_terms = self._function_terms()
        if function_terms:
            functions = Function.objects.filter(reduce(and_, function_terms), ctx.in_scope(), relation=OuterRef("pk"))
            queryset = queryset.filter(Exists(functions))
        if not self.params.include_inactive:
            # Inactive: no function held in the environment on the reference date (SPEC W6).
            active = Function.objects.active_on(ctx.day).filter(ctx.in_scope(), relation=OuterRef("pk"))
            queryset = queryset.filter(Exists(active))
        # Heavy reads: from the read replica when there is one (DATABASE_REPLICA_URL).
        return queryset.using(read_alias())

    # -- columns

    @property
    def columns(self) -> list[Column]:
        ctx = self.context
        columns = []
        for wf in self.fields:
            if not wf.shown:
                continue
            cf = self.catalogue[wf.field_key]
            columns.append(Column(f"f{wf.pk}", wf.label or cf.label, _value(cf, ctx), needs=cf.needs))
        return columns

    def prepare(self, queryset: QuerySet[Relation]) -> QuerySet[Relation]:
        """`queryset` with what the columns read loaded alongside: a join or one prefetch query
        per page or chunk, never one per row."""

        ctx = self.context
        needs = {c.needs for c in self.columns}
        if "tenant" in needs:
            queryset = queryset.select_related("tenant")
        # Exports read tens of thousands of rows: load only the fields the columns read.
        reads = [self.catalogue[wf.field_key].reads for wf in self.fields if wf.shown]
        if all(r is not None for r in reads):
            queryset = queryset.only("pk", *{field for r in reads for field in r})
        else:
            queryset = queryset.defer("search_text")
        if "memberships" in needs:
            # The environments of the memberships held on the reference date, as one column of the
            # main query (their ids, comma-separated; no model per membership, no extra query per
            # chunk). The names come from `RunContext.tenant_names`: joining the tenants per row in
            # the subquery cost PostgreSQL about half of a 100,000-row export's query.
            if not ctx.tenant_names:
                ctx.tenant_names.update(Tenant.objects.using(queryset.db).order_by().values_list("pk", "name"))
            held = (
                Function.objects.memberships().active_on(ctx.day).filter(ctx.in_scope(), relation=OuterRef("pk"))
                .order_by().values("relation")
                .annotate(ids=StringAgg(Cast("tenant_id", CharField()), Value(",")))
                .values("ids")
            )
            queryset = queryset.annotate(wizard_memberships=Subquery(held))
        for wf in self.fields:
            cf = self.catalogue[wf.field_key]
            if wf.shown and cf.flag is not None:
                queryset = queryset.annotate(
                    **{f"wizard_{cf.key}": ExpressionWrapper(cf.flag(ctx), output_field=BooleanField())}
                )
        if "functions" in needs:
            terms = self._function_terms()
            functions = Function.objects.filter(ctx.in_scope())
            functions = functions.filter(reduce(and_, terms)) if terms else functions.active_on(ctx.day)
            functions = functions.annotate(
                type_name=F("function_type__name"), type_category=F("function_type__category"),
                tenant_name=F("tenant__name"), reason_name=F("cancellation_reason__name"),
            ).only("relation_id", "start_date", "end_date").order_by("start_date", "pk")
            queryset = queryset.prefetch_related(Prefetch("functions", queryset=functions, to_attr="wizard_functions"))
        return queryset

    def rows(self) -> QuerySet[Relation]:
        """The result in the order of a member list, with the columns' data."""
        return self.prepare(self.matches().order_by(*NAME_ORDER))

    def count_up_to(self, limit: int) -> int:
        """The number of matches, counted no further than `limit` + 1 (cheap on a million)."""
        return len(self.matches().order_by().values_list("pk", flat=True)[: limit + 1])

    def check(self) -> None:
        """Refuse a run that cannot give a sensible result."""
        if not self.columns:
            raise ValidationError(_("This wizard has no fields to show; add at least one in the editor."))


def _value(cf: CatalogueField, ctx: RunContext):
    return lambda relation: cf.value(relation, ctx)
