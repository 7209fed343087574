"""The field catalogue: every field a wizard can show or filter on ("Klik voor keuze").

Four groups of fields:

- the relation card's own fields and the environment's custom fields (those of the relation
  search, `relations.filters.search_fields`, with their column values);
- function fields (type, category, environment, start, end, reason, held on a date). All function
  filters of one wizard apply to the SAME function: "a board function held in province 1 that
  started in 2026". Their columns list the functions that match (without function filters: the
  functions held on the reference date);
- computed fields: age and membership on a date, has e-mail, department, province, and the
  checks of the mutation-check wizards.

Filters AND between fields; "one of" ORs the values within one field. A range includes both
limits. Values are kept as text (dates ISO) and turned into Python values by `parse`.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Exists, F, OuterRef, Q
from django.utils.translation import gettext as _

from memberships.models import CancellationReason, Function, FunctionCategory, FunctionType
from relations.filters import (
    BOOLEAN,
    CHOICE,
    DATE,
    NUMBER,
    TEXT,
    columns_for,
    parse_date,
    search_fields,
)
from relations.models import MagazineDelivery, Relation
from tenants.models import Tenant, TenantKind
from tenants.periods import held_during_q, held_on_q

from .models import FilterMode

MODES_BY_KIND = {
    TEXT: (FilterMode.SINGLE, FilterMode.CONTAINS, FilterMode.ONE_OF),
    NUMBER: (FilterMode.SINGLE, FilterMode.RANGE, FilterMode.ONE_OF),
    DATE: (FilterMode.SINGLE, FilterMode.RANGE),
    CHOICE: (FilterMode.SINGLE, FilterMode.ONE_OF),
    BOOLEAN: (FilterMode.SINGLE,),
}
YES, NO = "yes", "no"


@dataclass(frozen=True)
class RunContext:
    """What a run of a wizard knows: the environment, the part of it asked for, the reference
    date ("peildatum") and the provinces (for the province column)."""

    tenant: Tenant
    scope: Tenant
    day: datetime.date
    province_names: dict[str, str] = field(default_factory=dict)
    # The ids of the scope's subtree (None for the whole federation): `tenant_id IN (…)` lets
    # PostgreSQL estimate and probe the functions table without joining the tenants.
    scope_ids: tuple[int, ...] | None = None
    # Every environment's name by id, filled by WizardRun.prepare when a column shows memberships.
    tenant_names: dict[int, str] = field(default_factory=dict)

    def in_scope(self, prefix: str = "") -> Q:
        """Held in the scope: `<prefix>tenant_id IN (…)`, or nothing to check at the root."""
        if self.scope_ids is None:
            return Q()
        return Q(**{f"{prefix}tenant_id__in": self.scope_ids})


@dataclass(frozen=True)
class Filter:
    """A field's filter, parsed: `values` for single / contains / one of, `low`/`high` for a
    range (either may be None)."""

    mode: str
    values: tuple[Any, ...] = ()
    low: Any = None
    high: Any = None

    @property
    def is_empty(self) -> bool:
        return not self.mode or (not self.values and self.low is None and self.high is None)


@dataclass(frozen=True)
class CatalogueField:
    key: str
    label: str
    group: str
    kind: str
    choices: tuple[tuple[str, str], ...] = ()
    # Relation filter: (filter, context) -> Q on Relation.
    relation_q: Callable[[Filter, RunContext], Q] | None = None
    # Function filter: (filter, context) -> Q on Function (one Exists for all function fields).
    function_q: Callable[[Filter, RunContext], Q] | None = None
    value: Callable[[Relation, RunContext], Any] = lambda relation, ctx: ""
    needs: str = ""  # "tenant", "memberships" or "functions": what the column's value reads
    # An empty single value means the reference date (e.g. "member on date").
    blank_is_day: bool = False
    # The relation's fields the column's value reads (None: unknown, load them all); exports of
    # 100,000 rows load only these.
    reads: tuple[str, ...] | None = ()
    # A yes/no condition the column shows, computed by the database as an annotation named
    # `wizard_<key>` (see WizardRun.prepare).
    flag: Callable[[RunContext], Q] | None = None

    @property
    def modes(self) -> tuple[str, ...]:
        return MODES_BY_KIND[self.kind]

    @property
    def group_label(self) -> str:
        return {
            "relation": _("Relation"), "custom": _("Custom fields"), "function": _("Functions"),
            "computed": _("Computed"),
        }[self.group]

    def parse(self, raw: str) -> Any:
        """A typed value as the Python value this field filters with; ValidationError (Dutch)
        when it can't be one."""
        raw = (raw or "").strip()
        if self.kind == DATE:
            try:
                return parse_date(raw)
            except ValueError:
                raise ValidationError(
                    _("“%(value)s” is not a date; write it as dd-mm-yyyy."), params={"value": raw}
                ) from None
        if self.kind == NUMBER:
            try:
                number = decimal.Decimal(raw.replace(",", "."))
            except decimal.InvalidOperation:
                raise ValidationError(_("“%(value)s” is not a number."), params={"value": raw}) from None
            if not number.is_finite() or abs(number) > 10**12:
                raise ValidationError(_("“%(value)s” is not a number."), params={"value": raw})
            return int(number) if number == number.to_integral_value() else number
        if self.kind in (CHOICE, BOOLEAN):
            choices = self.choices if self.kind == CHOICE else ((YES, _("Yes")), (NO, _("No")))
            for code, label in choices:
                if raw == code or raw.lower() == str(label).lower():
                    return code
            raise ValidationError(_("“%(value)s” is not one of the choices."), params={"value": raw})
        return raw

    def display(self, value: Any) -> str:
        """A parsed value as the user reads it (for the run form and the report's heading)."""
        if isinstance(value, datetime.date):
            return value.strftime("%d-%m-%Y")
        if self.kind == CHOICE:
            return str(dict(self.choices).get(value, value))
        if self.kind == BOOLEAN:
            return _("Yes") if value == YES else _("No")
        return str(value)

    def as_stored(self, value: Any) -> str:
        return value.isoformat() if isinstance(value, datetime.date) else str(value)


# --- building blocks ------------------------------------------------------------------------------


def _lookup_q(path: str) -> Callable[[Filter, RunContext], Q]:
    """A filter on a model field (or `extra__<code>` for a custom field) in every mode."""

    def q(flt: Filter, ctx: RunContext) -> Q:
        if flt.mode == FilterMode.RANGE:
            term = Q()
            if flt.low is not None:
                term &= Q(**{f"{path}__gte": _json(path, flt.low)})
            if flt.high is not None:
                term &= Q(**{f"{path}__lte": _json(path, flt.high)})
            return term
        lookup = "icontains" if flt.mode == FilterMode.CONTAINS else "exact"
        terms = Q()
        for value in flt.values:
            exact = lookup == "exact" and isinstance(value, str) and not path.startswith("extra__")
            terms |= Q(**{f"{path}__{'iexact' if exact else lookup}": _json(path, value)})
        return terms

    return q


def _json(path: str, value: Any) -> Any:
    """Custom values are stored as JSON: dates as ISO text, numbers as numbers."""
    if not path.startswith("extra__"):
        return value
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if value in (YES, NO):
        return value == YES
    return value


def _yes_no(condition: Callable[[RunContext], Q]) -> Callable[[Filter, RunContext], Q]:
    def q(flt: Filter, ctx: RunContext) -> Q:
        return condition(ctx) if flt.values[0] == YES else ~condition(ctx)

    return q


def _functions_on(day: datetime.date, ctx: RunContext, *, memberships: bool = False):

    functions = Function.objects.active_on(day).filter(ctx.in_scope(), relation=OuterRef("pk"))
    return functions.memberships() if memberships else functions


def _held_on(*, memberships: bool) -> Callable[[Filter, RunContext], Q]:
    """Held on a date ("member on date X", `tenants.periods`), or at some time within a range."""

    def q(flt: Filter, ctx: RunContext) -> Q:
        if flt.mode == FilterMode.RANGE:
            term = held_during_q(flt.low, flt.high)
        else:
            term = Q()
            for day in flt.values or (ctx.day,):
                term |= held_on_q(day)
        if not memberships:
            return term

        held = Function.objects.memberships().filter(term, ctx.in_scope(), relation=OuterRef("pk"))
        return Q(Exists(held))

    return q


def _age_q(flt: Filter, ctx: RunContext) -> Q:
    """Age on the reference date, turned into a range of birth dates (so the index serves)."""

    def born_by(age: int) -> datetime.date:  # the latest birth date of someone `age` years old
        return _years_before(ctx.day, int(age))

    def born_after(age: int) -> datetime.date:  # the earliest birth date of someone `age` old
        return _years_before(ctx.day, int(age) + 1) + datetime.timedelta(days=1)

    if flt.mode == FilterMode.RANGE:
        term = Q()
        if flt.low is not None:
            term &= Q(birth_date__lte=born_by(flt.low))
        if flt.high is not None:
            term &= Q(birth_date__gte=born_after(flt.high))
        return term
    terms = Q()
    for age in flt.values:
        terms |= Q(birth_date__gte=born_after(age), birth_date__lte=born_by(age))
    return terms


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without it
        return day.replace(year=day.year - years, day=28)


def _departments_q(flt: Filter, ctx: RunContext) -> Q:
    """Holds a membership on the reference date in one of the chosen departments."""
    held = _functions_on(ctx.day, ctx, memberships=True).filter(tenant_id__in=[int(v) for v in flt.values])
    return Q(Exists(held))


def _within_chosen_tenants(flt: Filter, ctx: RunContext) -> Q:
    """`tenant` (a relation's home, a function's environment) is a chosen tenant or below it."""
    paths = list(Tenant.objects.filter(pk__in=[int(v) for v in flt.values]).values_list("path", flat=True))
    return Tenant.subtrees_filter(paths, "tenant")


def _has_email(ctx: RunContext) -> Q:
    return ~Q(email="")


def _has_department_membership(ctx: RunContext) -> Q:
    return Q(Exists(_functions_on(ctx.day, ctx, memberships=True).filter(tenant__kind=TenantKind.DEPARTMENT)))


def _function_in_wrong_kind(ctx: RunContext) -> Q:
    wrong = _functions_on(ctx.day, ctx).exclude(tenant__kind=F("function_type__tenant_kind"))
    return Q(Exists(wrong))


def _complete_personal_data(ctx: RunContext) -> Q:
    return Q(birth_date__isnull=False, house_number__isnull=False) & ~Q(postcode="")


def _magazine_shared(ctx: RunContext) -> Q:
    """Receives the magazine at an address where another member receives it too."""

    others = Relation.objects.filter(
        postcode=OuterRef("postcode"), house_number=OuterRef("house_number"),
        house_number_suffix=OuterRef("house_number_suffix"), magazine_delivery=MagazineDelivery.AUTOMATIC,
    ).exclude(pk=OuterRef("pk")).filter(
        Exists(Function.objects.memberships().active_on(ctx.day).filter(relation=OuterRef("pk")))
    )
    return (
        Q(magazine_delivery=MagazineDelivery.AUTOMATIC, house_number__isnull=False)
        & ~Q(postcode="") & Q(Exists(others))
    )


def _function_values(attribute: Callable[[Any], Any]) -> Callable[[Relation, RunContext], list]:
    return lambda relation, ctx: [attribute(f) for f in getattr(relation, "wizard_functions", [])]


def _membership_names(relation: Relation, ctx: RunContext) -> str:
    # WizardRun.prepare annotates the environments' ids, comma-separated; shown as their names in
    # alphabetical order.
    ids = getattr(relation, "wizard_memberships", None)
    if not ids:
        return ""
    return ", ".join(sorted(ctx.tenant_names.get(int(pk), "") for pk in ids.split(",")))


def _province_name(relation: Relation, ctx: RunContext) -> str:
    return ctx.province_names.get(relation.tenant.province_path, "")


def _flag_value(key: str) -> Callable[[Relation, RunContext], str]:
    return lambda relation, ctx: _("Yes") if getattr(relation, f"wizard_{key}", False) else _("No")


def _yes_no_value(condition: Callable[[Relation, RunContext], bool]) -> Callable[[Relation, RunContext], str]:
    return lambda relation, ctx: _("Yes") if condition(relation, ctx) else _("No")


# --- the catalogue --------------------------------------------------------------------------------


def catalogue_for(tenant: Tenant, custom_fields) -> dict[str, CatalogueField]:
    """Every field a wizard can use in environment `tenant`, keyed by `field_key`. Built per call:
    labels follow the active language, choices the environment."""

    found: dict[str, CatalogueField] = {}
    fields = search_fields(custom_fields)
    columns = columns_for(fields)

    def relation_value(key):
        column = columns[key]
        return lambda relation, ctx: column.value(relation)

    name = columns["name"]
    found["name"] = CatalogueField(
        "name", _("Name"), "relation", TEXT,
        relation_q=lambda flt, ctx: _name_q(flt), value=lambda r, ctx: name.value(r),
        reads=("kind", "organisation_name", "first_name", "initials", "infix", "last_name"),
    )
    for key, sf in fields.items():
        path = f"extra__{sf.code}" if sf.is_custom else sf.path
        found[key] = CatalogueField(
            key, sf.label, "custom" if sf.is_custom else "relation",
            BOOLEAN if sf.kind == BOOLEAN else sf.kind, choices=sf.choices if sf.kind == CHOICE else (),
            relation_q=_lookup_q(path), value=relation_value(key), reads=("extra",) if sf.is_custom else (sf.path,),
        )
    found["home"] = CatalogueField(
        "home", _("Home environment"), "relation", TEXT, relation_q=_lookup_q("tenant__name"),
        value=lambda r, ctx: r.tenant.name, needs="tenant", reads=("tenant__name",),
    )

    # Function fields.
    types = tuple((t.code, t.name) for t in FunctionType.objects.order_by("order", "name"))
    reasons = tuple((str(r.pk), r.name) for r in CancellationReason.objects.order_by("order", "name"))
    subtree = tuple(
        (str(t.pk), t.name) for t in Tenant.objects.subtree(tenant).only("pk", "name", "path").order_by("path")
    )
    departments = tuple(
        (str(t.pk), t.name)
        for t in Tenant.objects.subtree(tenant).filter(kind=TenantKind.DEPARTMENT).only("pk", "name").order_by("name")
    )
    provinces = tuple(
        (str(t.pk), t.name)
        for t in Tenant.objects.subtree(tenant).filter(kind=TenantKind.PROVINCE).only("pk", "name").order_by("name")
    )
    # The function columns read names annotated by the prefetch of WizardRun.prepare.
    category_labels = {code: str(label) for code, label in FunctionCategory.choices}
    function_fields = [
        ("function_type", _("Function"), CHOICE, types, _lookup_q("function_type__code"),
         lambda f: f.type_name),
        ("function_category", _("Function category"), CHOICE, tuple(FunctionCategory.choices),
         _lookup_q("function_type__category"), lambda f: category_labels.get(f.type_category, f.type_category)),
        ("function_tenant", _("Function held in"), CHOICE, subtree, _within_chosen_tenants, lambda f: f.tenant_name),
        ("function_start", _("Function start date"), DATE, (), _lookup_q("start_date"), lambda f: f.start_date),
        ("function_end", _("Function end date"), DATE, (), _lookup_q("end_date"), lambda f: f.end_date),
        ("function_reason", _("Reason for ending"), CHOICE, reasons, _lookup_q("cancellation_reason_id"),
         lambda f: f.reason_name or ""),
        ("function_held_on", _("Function held on"), DATE, (), _held_on(memberships=False),
         lambda f: f.tenant_name),
    ]
    for key, label, kind, choices, q, attribute in function_fields:
        found[key] = CatalogueField(
            key, label, "function", kind, choices=choices, function_q=q, value=_function_values(attribute),
            needs="functions", blank_is_day=key == "function_held_on",
        )

    # Computed fields.
    computed = [
        CatalogueField("age", _("Age on the reference date"), "computed", NUMBER, relation_q=_age_q,
                       value=lambda r, ctx: r.age_on(ctx.day), reads=("birth_date",)),
        CatalogueField("member_on", _("Member on date"), "computed", DATE, relation_q=_held_on(memberships=True),
                       value=_membership_names, needs="memberships", blank_is_day=True),
        CatalogueField("department", _("Department"), "computed", CHOICE, departments, relation_q=_departments_q,
                       value=_membership_names, needs="memberships"),
        CatalogueField("province", _("Province"), "computed", CHOICE, provinces, relation_q=_within_chosen_tenants,
                       value=_province_name, needs="tenant", reads=("tenant__path",)),
        CatalogueField("has_email", _("Has an e-mail address"), "computed", BOOLEAN,
                       relation_q=_yes_no(_has_email), value=_yes_no_value(lambda r, ctx: bool(r.email)),
                       reads=("email",)),
        CatalogueField("has_department_membership", _("Has a department membership"), "computed", BOOLEAN,
                       relation_q=_yes_no(_has_department_membership), value=_flag_value("has_department_membership"),
                       flag=_has_department_membership),
        CatalogueField("function_in_wrong_kind", _("Has a function in the wrong kind of environment"),
                       "computed", BOOLEAN, relation_q=_yes_no(_function_in_wrong_kind),
                       value=_flag_value("function_in_wrong_kind"), flag=_function_in_wrong_kind),
        CatalogueField("complete_personal_data", _("Birth date and address known"), "computed", BOOLEAN,
                       relation_q=_yes_no(_complete_personal_data),
                       value=_yes_no_value(lambda r, ctx: bool(r.birth_date and r.postcode and r.house_number)),
                       reads=("birth_date", "postcode", "house_number")),
        CatalogueField("magazine_shared", _("Shares the magazine address with another member"), "computed",
                       BOOLEAN, relation_q=_yes_no(_magazine_shared), value=_flag_value("magazine_shared"),
                       flag=_magazine_shared),
    ]
    for cf in computed:
        found[cf.key] = cf
    return found


def _name_q(flt: Filter) -> Q:
    terms = Q()
    for value in flt.values:
        words = Q()
        for word in str(value).split():
            words &= (Q(first_name__icontains=word) | Q(initials__icontains=word) | Q(infix__icontains=word)
                      | Q(last_name__icontains=word) | Q(organisation_name__icontains=word))
        terms |= words
    return terms


def catalogue_search(catalogue: dict[str, CatalogueField], text: str) -> list[CatalogueField]:
    """Fields whose label, group or key contains every typed word (the editor's search box)."""
    words = text.lower().split()
    return [
        cf for cf in catalogue.values()
        if all(w in f"{cf.label} {cf.group_label} {cf.key}".lower() for w in words)
    ]
