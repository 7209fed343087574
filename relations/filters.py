"""Searching relations ("Relaties beheren", SPEC R2): the fields a search can look at, the columns a
result can show, and `RelationSearch`, which turns a query string into a filtered queryset.

The query string is the whole search, so a search can be bookmarked, saved and rerun:

- ``q``: the one search box; every word must occur in a relation's `search_text` (part of a name,
  the relation number, e-mail, postcode or city). On PostgreSQL this uses the trigram index.
- ``col_<column>=value``: the filter row above a result column.
- ``<field>__contains|equals|from|to=value``: extended filters on any field, custom fields included
  (``extra_<code>__…``). Repeating a key, or using several operators on one field, means OR within
  that field; the n-th ``from`` and the n-th ``to`` of a field form one range (either end may be
  left out when it is the last one). Different fields AND.
- ``current_member=1``: holds a current membership in the environment.
- ``member_on=<date>``: held a membership in the environment on that date (repeat for OR).
- ``department=<tenant id>`` and ``function_type=<code>``: holds a current function in that part
  of the environment / of that type (repeat for OR; together: that type in that department).
- ``inactive=1``: exports include relations without a current function in the environment.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import reduce
from operator import and_, or_
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Length, Substr
from django.http import QueryDict
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tenants.models import Language, Tenant

from .models import CustomField, CustomFieldType, Gender, MagazineDelivery, Relation, RelationKind

TEXT, NUMBER, DATE, CHOICE, BOOLEAN = "text", "number", "date", "choice", "boolean"
OPERATORS_BY_KIND = {
    TEXT: ("contains", "equals"),
    NUMBER: ("equals", "from", "to"),
    DATE: ("equals", "from", "to"),
    CHOICE: ("equals",),
    BOOLEAN: ("equals",),
}
OPERATOR_LABELS = {
    "contains": gettext_lazy("contains"),
    "equals": gettext_lazy("equals"),
    "from": gettext_lazy("from"),
    "to": gettext_lazy("to"),
}
YES_NO = [("yes", gettext_lazy("Yes")), ("no", gettext_lazy("No"))]
DATE_INPUT_FORMATS = ("%d-%m-%Y", "%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y")

# The order of the (last_name, first_name, number) index, so a page of an unfiltered list of a
# million relations is read from the index instead of sorted.
NAME_ORDER = ("last_name", "first_name", "number")
# Keys of the query string that are not filters: paging, sorting, the lazily loaded panel.
NON_FILTER_KEYS = frozenset({"page", "sort", "panel"})


# --- fields -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchField:
    """A field a search can filter on: a column of the relation or a custom field."""

    key: str
    label: str
    kind: str
    path: str = ""  # the model field, for the relation's own fields
    code: str = ""  # the custom field's code, for custom fields
    choices: tuple[tuple[str, str], ...] = ()

    @property
    def is_custom(self) -> bool:
        return bool(self.code)

    @property
    def operators(self) -> tuple[str, ...]:
        return OPERATORS_BY_KIND[self.kind]

    def choice_label(self, value: Any) -> str:
        return str(dict(self.choices).get(value, value))


def _base_fields() -> list[SearchField]:
    # Built per call so that labels follow the active language.
    return [
        SearchField("number", _("Relation number"), NUMBER, "number"),
        SearchField("kind", _("Kind"), CHOICE, "kind", choices=tuple(RelationKind.choices)),
        SearchField("initials", _("Initials"), TEXT, "initials"),
        SearchField("first_name", _("First name"), TEXT, "first_name"),
        SearchField("infix", _("Infix"), TEXT, "infix"),
        SearchField("last_name", _("Surname"), TEXT, "last_name"),
        SearchField("organisation_name", _("Organisation name"), TEXT, "organisation_name"),
        SearchField("gender", _("Gender"), CHOICE, "gender", choices=tuple(Gender.choices)),
        SearchField("birth_date", _("Birth date"), DATE, "birth_date"),
        SearchField("email", _("E-mail address"), TEXT, "email"),
        SearchField("phone", _("Phone"), TEXT, "phone"),
        SearchField("mobile", _("Mobile phone"), TEXT, "mobile"),
        SearchField("street", _("Street"), TEXT, "street"),
        SearchField("house_number", _("House number"), NUMBER, "house_number"),
        SearchField("house_number_suffix", _("Suffix"), TEXT, "house_number_suffix"),
        SearchField("postcode", _("Postcode"), TEXT, "postcode"),
        SearchField("city", _("City"), TEXT, "city"),
        SearchField("country", _("Country"), TEXT, "country"),
        SearchField("language", _("Language"), CHOICE, "language", choices=tuple(Language.choices)),
        SearchField(
            "magazine_delivery", _("Magazine"), CHOICE, "magazine_delivery",
            choices=tuple(MagazineDelivery.choices),
        ),
    ]


_CUSTOM_KINDS = {
    CustomFieldType.TEXT: TEXT,
    CustomFieldType.NUMBER: NUMBER,
    CustomFieldType.DATE: DATE,
    CustomFieldType.CHOICE: CHOICE,
    CustomFieldType.BOOLEAN: BOOLEAN,
}


def search_fields(custom_fields: Iterable[CustomField]) -> dict[str, SearchField]:
    """Every field a search in an environment can filter on, keyed by its query-string name."""
    fields = {f.key: f for f in _base_fields()}
    for custom in custom_fields:
        kind = _CUSTOM_KINDS.get(custom.field_type, TEXT)
        choices = tuple((c, c) for c in custom.choice_list) if kind == CHOICE else YES_NO if kind == BOOLEAN else ()
        key = f"extra_{custom.code}"
        fields[key] = SearchField(key, custom.label, kind, code=custom.code, choices=tuple(choices))
    return fields


# --- columns ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A column of the result (and of the exports)."""

    key: str
    label: str
    value: Callable[[Relation], Any]
    sort: tuple[str, ...] = ()
    field: SearchField | None = None  # the field its filter row filters on, when there is one
    needs: str = ""  # "tenant" (select_related) or "memberships" (the prefetch)

    @property
    def filterable(self) -> bool:
        """Whether the column has a box in the filter row above the result."""
        return self.field is not None or self.key in ("name", "home", "departments")


def _choice(field_name: str, choices) -> Callable[[Relation], str]:
    labels = dict(choices)
    return lambda r: str(labels.get(getattr(r, field_name), getattr(r, field_name)))


def _custom_value(search_field: SearchField) -> Callable[[Relation], Any]:
    def value(relation: Relation) -> Any:
        raw = (relation.extra or {}).get(search_field.code)
        if raw is None or raw == "":
            return ""
        if search_field.kind == DATE:
            try:
                return datetime.date.fromisoformat(str(raw))
            except ValueError:
                return str(raw)
        if search_field.kind == BOOLEAN:
            return _("Yes") if raw is True else _("No")
        return raw

    return value


def _memberships(relation: Relation) -> list[str]:
    return [f.tenant.name for f in getattr(relation, "current_memberships", [])]


def columns_for(fields: dict[str, SearchField]) -> dict[str, Column]:
    """The columns a user can choose, in the order the chooser lists them."""
    f = fields
    columns = [
        Column("number", _("Relation number"), lambda r: r.number, ("number",), f["number"]),
        Column("name", _("Name"), lambda r: r.sort_name, NAME_ORDER),
        Column("kind", _("Kind"), _choice("kind", RelationKind.choices), ("kind", "number"), f["kind"]),
        Column("initials", _("Initials"), lambda r: r.initials, ("initials", "number"), f["initials"]),
        Column("first_name", _("First name"), lambda r: r.first_name, ("first_name", "number"), f["first_name"]),
        Column("infix", _("Infix"), lambda r: r.infix, ("infix", "number"), f["infix"]),
        Column("last_name", _("Surname"), lambda r: r.last_name, ("last_name", "number"), f["last_name"]),
        Column(
            "organisation_name", _("Organisation name"), lambda r: r.organisation_name,
            ("organisation_name", "number"), f["organisation_name"],
        ),
        Column("gender", _("Gender"), _choice("gender", Gender.choices), ("gender", "number"), f["gender"]),
        Column("birth_date", _("Birth date"), lambda r: r.birth_date, ("birth_date", "number"), f["birth_date"]),
        Column("email", _("E-mail address"), lambda r: r.email, ("email", "number"), f["email"]),
        Column("phone", _("Phone"), lambda r: r.phone, ("phone", "number"), f["phone"]),
        Column("mobile", _("Mobile phone"), lambda r: r.mobile, ("mobile", "number"), f["mobile"]),
        Column("street", _("Street"), lambda r: r.street, ("street", "number"), f["street"]),
        Column(
            "house_number", _("House number"), lambda r: r.house_number, ("house_number", "number"),
            f["house_number"],
        ),
        Column(
            "house_number_suffix", _("Suffix"), lambda r: r.house_number_suffix,
            ("house_number_suffix", "number"), f["house_number_suffix"],
        ),
        Column("postcode", _("Postcode"), lambda r: r.postcode, ("postcode", "number"), f["postcode"]),
        Column("city", _("City"), lambda r: r.city, ("city", "number"), f["city"]),
        Column("country", _("Country"), lambda r: r.country, ("country", "number"), f["country"]),
        Column("language", _("Language"), _choice("language", Language.choices), ("language", "number"), f["language"]),
        Column(
            "magazine_delivery", _("Magazine"), _choice("magazine_delivery", MagazineDelivery.choices),
            ("magazine_delivery", "number"), f["magazine_delivery"],
        ),
        Column("home", _("Home environment"), lambda r: r.tenant.name, ("tenant__name", "number"), needs="tenant"),
        Column("departments", _("Department(s)"), _memberships, needs="memberships"),
    ]
    for search_field in fields.values():
        if search_field.is_custom:
            columns.append(Column(search_field.key, search_field.label, _custom_value(search_field), (), search_field))
    return {c.key: c for c in columns}


DEFAULT_COLUMNS = ("number", "name", "birth_date", "postcode", "city", "departments")
# Exports carry every field of the card, whatever columns the screen shows.
EXPORT_COLUMNS = (
    "number", "kind", "initials", "first_name", "infix", "last_name", "organisation_name", "gender",
    "birth_date", "email", "phone", "mobile", "street", "house_number", "house_number_suffix",
    "postcode", "city", "country", "language", "magazine_delivery", "home", "departments",
)


def chosen_columns(available: dict[str, Column], keys: Iterable[str] | None) -> list[Column]:
    """The user's columns that exist in this environment; the default set when none remain."""
    columns = [available[k] for k in (keys or ()) if k in available]
    return columns or [available[k] for k in DEFAULT_COLUMNS]


def export_columns(available: dict[str, Column]) -> list[Column]:
    return [available[k] for k in EXPORT_COLUMNS] + [c for c in available.values() if c.field and c.field.is_custom]


def as_text(value: Any) -> str:
    """A cell as people read it: dates dd-mm-jjjj, lists comma-separated, nothing for None."""
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.strftime("%d-%m-%Y")
    if isinstance(value, list | tuple):
        return ", ".join(as_text(v) for v in value)
    return str(value)


# --- the search ---------------------------------------------------------------------------------


@dataclass
class FieldFilter:
    """The extended filter on one field: every term is OR-ed."""

    field: SearchField
    contains: list[Any] = field(default_factory=list)
    equals: list[Any] = field(default_factory=list)
    ranges: list[tuple[Any, Any]] = field(default_factory=list)
    raw: dict[str, list[str]] = field(default_factory=dict)  # as typed, for redisplay

    def describe(self) -> str:
        parts = [f"{OPERATOR_LABELS['contains']} “{v}”" for v in self.contains]
        parts += [self.field.choice_label(_display(v)) for v in self.equals]
        for low, high in self.ranges:
            parts.append(f"{_display(low) if low is not None else '…'} – {_display(high) if high is not None else '…'}")
        return f" {_('or')} ".join(parts)


def _display(value: Any) -> str:
    if isinstance(value, datetime.date):
        return date_format(value, "d-m-Y")
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def parse_date(raw: str) -> datetime.date:
    for fmt in DATE_INPUT_FORMATS:
        try:
            return datetime.datetime.strptime(raw.strip(), fmt).date()
        except ValueError:
            continue
    raise ValueError(raw)


class RelationSearch:
    """A search as the query string states it (see the module docstring).

    `errors` maps query-string keys to messages; a search with errors finds nothing, so a typo
    in a date never silently widens an export.
    """

    def __init__(
        self,
        params: QueryDict,
        *,
        tenant: Tenant,
        custom_fields: Iterable[CustomField] = (),
        today: datetime.date | None = None,
    ):
        self.params = params
        self.tenant = tenant
        self.today = today or datetime.date.today()
        self.fields = search_fields(custom_fields)
        self.columns = columns_for(self.fields)
        self.errors: dict[str, list[str]] = {}
        self.query = params.get("q", "").strip()
        self.column_filters: dict[str, str] = {}
        self.field_filters: dict[str, FieldFilter] = {}
        self.current_member = params.get("current_member") in ("1", "on", "yes", "true")
        self.member_on: list[datetime.date] = []
        self.departments: list[int] = []
        self.function_types: list[str] = []
        self.include_inactive = params.get("inactive") in ("1", "on", "yes", "true")
        self._parse()

    # -- parsing

    def _error(self, key: str, message: str) -> None:
        self.errors.setdefault(key, []).append(message)

    def _values(self, key: str, *, unique: bool = True) -> list[str]:
        """The non-empty values of `key`; ends of ranges keep their order and repeats, because
        the n-th `from` pairs with the n-th `to`."""
        seen: list[str] = []
        for value in self.params.getlist(key):
            value = value.strip()
            if value and (not unique or value not in seen):
                seen.append(value)
        return seen

    def _convert(self, search_field: SearchField, key: str, raw: str) -> Any:
        try:
            if search_field.kind == NUMBER:
                number = decimal.Decimal(raw.replace(",", "."))
                if not number.is_finite():
                    raise ValueError(raw)
                return int(number) if number == number.to_integral_value() else number
            if search_field.kind == DATE:
                return parse_date(raw)
            if search_field.kind == BOOLEAN:
                if raw.lower() in ("yes", "1", "true", "on", "ja"):
                    return True
                if raw.lower() in ("no", "0", "false", "off", "nee"):
                    return False
                raise ValueError(raw)
            if search_field.kind == CHOICE and raw not in dict(search_field.choices):
                raise ValueError(raw)
        except (ValueError, decimal.InvalidOperation):
            if search_field.kind == DATE:
                message = _("“%(value)s” is not a date; write it as dd-mm-jjjj.")
            elif search_field.kind == NUMBER:
                message = _("“%(value)s” is not a number.")
            else:
                message = _("“%(value)s” is not one of the choices of %(label)s.")
            self._error(key, message % {"value": raw, "label": search_field.label})
            return None
        return raw

    def _parse(self) -> None:
        for key in self.params:
            if key.startswith("col_"):
                column = self.columns.get(key[4:])
                value = self.params.get(key, "").strip()
                if column is not None and value and column.filterable:
                    self.column_filters[column.key] = value
                continue
            name, sep, operator = key.rpartition("__")
            if not sep or name not in self.fields:
                continue
            search_field = self.fields[name]
            if operator not in search_field.operators:
                continue
            raw_values = self._values(key, unique=operator not in ("from", "to"))
            if not raw_values:
                continue
            flt = self.field_filters.setdefault(name, FieldFilter(search_field))
            flt.raw[operator] = raw_values
        for name, flt in self.field_filters.items():
            self._parse_field(name, flt)
        for column_key, value in self.column_filters.items():
            column = self.columns[column_key]
            if column.field is not None and column.field.kind in (NUMBER, DATE, BOOLEAN):
                self._convert(column.field, f"col_{column_key}", value)
        for raw in self._values("member_on"):
            try:
                self.member_on.append(parse_date(raw))
            except ValueError:
                self._error("member_on", _("“%(value)s” is not a date; write it as dd-mm-jjjj.") % {"value": raw})
        for raw in self._values("department"):
            try:
                self.departments.append(int(raw))
            except ValueError:
                self._error("department", _("Choose a department from the list."))
        self.function_types = self._values("function_type")

    def _parse_field(self, name: str, flt: FieldFilter) -> None:
        sf = flt.field
        for operator in ("contains", "equals"):
            for raw in flt.raw.get(operator, []):
                value = raw if operator == "contains" else self._convert(sf, f"{name}__{operator}", raw)
                if value is not None:
                    getattr(flt, operator).append(value)
        lows = [self._convert(sf, f"{name}__from", raw) for raw in flt.raw.get("from", [])]
        highs = [self._convert(sf, f"{name}__to", raw) for raw in flt.raw.get("to", [])]
        for i in range(max(len(lows), len(highs))):
            low = lows[i] if i < len(lows) else None
            high = highs[i] if i < len(highs) else None
            if low is None and high is None:
                continue
            if low is not None and high is not None and low > high:
                self._error(f"{name}__to", _("The end of the range comes before its start."))
                continue
            flt.ranges.append((low, high))

    # -- what the search says

    @property
    def is_valid(self) -> bool:
        return not self.errors

    @property
    def extended_count(self) -> int:
        """How many extended filters are active (for the summary above the result)."""
        return (
            len(self.field_filters) + bool(self.current_member) + bool(self.member_on)
            + bool(self.departments) + bool(self.function_types)
        )

    def query_string(self, *, without: Iterable[str] = NON_FILTER_KEYS, **replace: Any) -> str:
        """The current search as a query string without empty boxes, e.g. for links that keep it."""
        params = QueryDict(mutable=True)
        for key in self.params:
            if key not in without and key not in replace:
                params.setlist(key, [v for v in self.params.getlist(key) if v.strip()])
        for key, value in replace.items():
            params[key] = str(value)
        return params.urlencode()

    @property
    def has_empty_values(self) -> bool:
        """A form sent without JavaScript carries every empty box along."""
        return any(not v.strip() for key in self.params for v in self.params.getlist(key))

    def hidden_params(self) -> list[tuple[str, str]]:
        """The extended-filter parameters, to carry along in the search form while the panel that
        edits them is not loaded."""
        keys = {"current_member", "member_on", "department", "function_type"}
        hidden = []
        for key in self.params:
            name, _sep, operator = key.rpartition("__")
            if key in keys or (name in self.fields and operator in self.fields[name].operators):
                hidden.extend((key, v) for v in self.params.getlist(key) if v.strip())
        return hidden

    # -- applying it

    def filter(self, queryset: QuerySet[Relation]) -> QuerySet[Relation]:
        """Narrow `queryset` (already limited by `visible_to`) to what the search asks for."""
        if self.errors:
            return queryset.none()
        for word in self.query.lower().split():
            queryset = queryset.filter(search_text__contains=word)
        for column_key, value in self.column_filters.items():
            queryset = queryset.filter(self._column_q(self.columns[column_key], value))
        for flt in self.field_filters.values():
            terms = self._field_terms(flt)
            if terms:
                queryset = queryset.filter(reduce(or_, terms))
        scope = queryset.environment_scope  # what visible_to read: reused, not read again
        if self.current_member:
            queryset = queryset.members_on(self.today, self.tenant, scope=scope)
        if self.member_on:
            members = [Relation.objects.members_on(day, self.tenant, scope=scope) for day in self.member_on]
            queryset = queryset & reduce(or_, members)
        if self.departments or self.function_types:
            queryset = queryset.filter(Exists(self._current_functions(self.departments, self.function_types)))
        return queryset

    def active_only(self, queryset: QuerySet[Relation]) -> QuerySet[Relation]:
        """Leave out inactive relations (no current function in the environment) unless asked."""
        if self.include_inactive:
            return queryset
        return queryset.filter(Exists(self._current_functions([], [])))

    def _current_functions(self, departments: list[int], function_types: list[str]):
        from memberships.models import Function

        functions = Function.objects.active_on(self.today).in_subtree(self.tenant).filter(relation=OuterRef("pk"))
        if function_types:
            functions = functions.filter(function_type__code__in=function_types)
        if departments:
            # Held in a chosen tenant or below it: the chosen tenant's path is a prefix of the
            # path of the tenant the function is held in.
            chosen = Tenant.objects.subtree(self.tenant).filter(pk__in=departments).filter(
                path=Substr(OuterRef("tenant__path"), 1, Length("path"))
            )
            functions = functions.filter(Exists(chosen))
        return functions

    def _column_q(self, column: Column, value: str) -> Q:
        from memberships.models import Function

        if column.key == "name":
            words = [Q(first_name__icontains=w) | Q(initials__icontains=w) | Q(infix__icontains=w)
                     | Q(last_name__icontains=w) | Q(organisation_name__icontains=w) for w in value.split()]
            return reduce(and_, words) if words else Q()
        if column.key == "home":
            return Q(tenant__name__icontains=value)
        if column.key == "departments":
            held = Function.objects.memberships().active_on(self.today).filter(
                self.tenant.subtree_filter("tenant"), relation=OuterRef("pk"), tenant__name__icontains=value,
            )
            return Q(Exists(held))
        sf = column.field
        if sf.kind == TEXT:
            return self._lookup(sf, "icontains", value)
        if sf.kind == CHOICE:
            codes = [code for code, label in sf.choices
                     if value.lower() in str(label).lower() or value.lower() == str(code).lower()]
            return reduce(or_, [self._lookup(sf, "exact", c) for c in codes]) if codes else Q(pk__in=[])
        converted = self._convert(sf, f"col_{column.key}", value)
        return self._equals(sf, converted)

    def _field_terms(self, flt: FieldFilter) -> list[Q]:
        sf = flt.field
        terms = [self._lookup(sf, "icontains", str(v)) for v in flt.contains]
        terms += [self._equals(sf, v) for v in flt.equals]
        for low, high in flt.ranges:
            term = Q()
            if low is not None:
                term &= self._lookup(sf, "gte", self._json_value(sf, low))
            if high is not None:
                term &= self._lookup(sf, "lte", self._json_value(sf, high))
            terms.append(term)
        return terms

    def _equals(self, sf: SearchField, value: Any) -> Q:
        if sf.kind == TEXT:
            return self._lookup(sf, "iexact", value)
        if sf.is_custom and sf.kind == BOOLEAN and value is False:
            # "No" also finds relations that never had the field filled in.
            return Q(**{f"extra__{sf.code}": False}) | ~Q(extra__has_key=sf.code)
        return self._lookup(sf, "exact", self._json_value(sf, value))

    @staticmethod
    def _json_value(sf: SearchField, value: Any) -> Any:
        """Custom values are stored as JSON: dates as ISO text, numbers as numbers."""
        if not sf.is_custom:
            return value
        if isinstance(value, datetime.date):
            return value.isoformat()
        if isinstance(value, decimal.Decimal):
            return float(value)
        return value

    @staticmethod
    def _lookup(sf: SearchField, lookup: str, value: Any) -> Q:
        if sf.is_custom:
            return Q(**{f"extra__{sf.code}__{lookup}": value})
        return Q(**{f"{sf.path}__{lookup}": value})

    # -- sorting

    def ordering(self, columns: dict[str, Column] | None = None) -> tuple[str, ...]:
        """The order of the result: the column named in ``sort`` (``-`` for descending), else by
        name. The relation number last keeps pages stable."""
        sort = self.params.get("sort", "")
        descending = sort.startswith("-")
        column = (columns or self.columns).get(sort.lstrip("-"))
        if column is None or not column.sort:
            return NAME_ORDER
        return tuple(f"-{f}" if descending else f for f in column.sort)
