"""Searching relations ("Relaties beheren", SPEC R2): the fields a search can look at, the columns a
result can show, and `RelationFilter`, the django-filter FilterSet that turns a query string into a
filtered queryset.

The query string is the whole search, so a search can be bookmarked, saved and rerun:

- ``q``: the one search box; every word must occur in a relation's `search_text` (part of a name,
  the relation number, e-mail, postcode or city), folded the same way (relations/text.py: case,
  accents, commas and a postcode's space do not matter; a word of one or two characters must
  start a word there). An exact relation number or e-mail
  address comes first (`exact`). On PostgreSQL this uses the trigram index.
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
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import reduce
from operator import and_, attrgetter, or_
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db.models import Exists, Q, QuerySet
from django.http import QueryDict
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.constants import EMPTY_VALUES

from tenants.models import Language, Tenant

from .models import CustomField, CustomFieldType, Gender, MagazineDelivery, Relation, RelationKind
from .text import SHORT_WORD, exact_lookup, name_words, postcode_forms, search_words

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
    # For exports that read value tuples instead of models (relations.exports.ExportRows): the
    # `values()` path the column reads, and what turns that value into the cell `value` gives.
    path: str = ""
    convert: Callable[[Any], Any] | None = None

    @property
    def filterable(self) -> bool:
        """Whether the column has a box in the filter row above the result."""
        return self.field is not None or self.key in ("name", "home", "departments")


def _plain(key: str, label: str, search_field: SearchField) -> Column:
    """A column showing one of the relation's own fields as it is."""
    return Column(key, label, attrgetter(key), (key, "number"), search_field, path=key)


def _choice(key: str, label: str, choices, search_field: SearchField) -> Column:
    """A column showing the label of a choice field's code."""
    # Translated once, when the columns are made (in the request's language), not per cell.
    labels = {code: str(name) for code, name in choices}

    def convert(code: Any) -> Any:
        return labels.get(code, code)

    def value(relation: Relation) -> Any:
        return convert(getattr(relation, key))

    return Column(key, label, value, (key, "number"), search_field, path=key, convert=convert)


def _custom_column(search_field: SearchField) -> Column:
    """A column showing a custom field, read from the relation's `extra`."""

    def convert(extra: dict | None) -> Any:
        raw = (extra or {}).get(search_field.code)
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

    def value(relation: Relation) -> Any:
        return convert(relation.extra)

    return Column(search_field.key, search_field.label, value, (), search_field, path="extra", convert=convert)


def _memberships(relation: Relation) -> list[str]:
    return [f.tenant.name for f in getattr(relation, "current_memberships", [])]


def columns_for(fields: dict[str, SearchField]) -> dict[str, Column]:
    """The columns a user can choose, in the order the chooser lists them."""
    f = fields
    columns = [
        Column("number", _("Relation number"), lambda r: r.number, ("number",), f["number"], path="number"),
        Column("name", _("Name"), lambda r: r.sort_name, NAME_ORDER),
        _choice("kind", _("Kind"), RelationKind.choices, f["kind"]),
        _plain("initials", _("Initials"), f["initials"]),
        _plain("first_name", _("First name"), f["first_name"]),
        _plain("infix", _("Infix"), f["infix"]),
        _plain("last_name", _("Surname"), f["last_name"]),
        _plain("organisation_name", _("Organisation name"), f["organisation_name"]),
        _choice("gender", _("Gender"), Gender.choices, f["gender"]),
        _plain("birth_date", _("Birth date"), f["birth_date"]),
        _plain("email", _("E-mail address"), f["email"]),
        _plain("phone", _("Phone"), f["phone"]),
        _plain("mobile", _("Mobile phone"), f["mobile"]),
        _plain("street", _("Street"), f["street"]),
        _plain("house_number", _("House number"), f["house_number"]),
        _plain("house_number_suffix", _("Suffix"), f["house_number_suffix"]),
        _plain("postcode", _("Postcode"), f["postcode"]),
        _plain("city", _("City"), f["city"]),
        _plain("country", _("Country"), f["country"]),
        _choice("language", _("Language"), Language.choices, f["language"]),
        _choice("magazine_delivery", _("Magazine"), MagazineDelivery.choices, f["magazine_delivery"]),
        Column(
            "home", _("Home environment"), lambda r: r.tenant.name, ("tenant__name", "number"), needs="tenant",
            path="tenant__name",
        ),
        Column("departments", _("Department(s)"), _memberships, needs="memberships"),
    ]
    for search_field in fields.values():
        if search_field.is_custom:
            columns.append(_custom_column(search_field))
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


# --- what the search asks the app that keeps functions ------------------------------------------


@dataclass(frozen=True)
class FunctionSearch:
    """The search's questions about functions. Relations may not import memberships (the layers
    in docs/architecture.md), so memberships answers them with its selectors and registers them
    here from its AppConfig.ready() (`register_function_search`)."""

    # held(tenant=, day=, departments=, function_types=): the functions the outer relation
    # (OuterRef("pk")) holds on `day` in `tenant`'s subtree, of one of `function_types` and held in
    # or below one of `departments` when given; the search asks whether one EXISTS.
    held: Callable[..., QuerySet]
    # membership_in_named(tenant=, day=, name=): the memberships the outer relation holds on `day`
    # in `tenant`'s subtree in a tenant whose name contains `name` (the "Department(s)" column).
    membership_in_named: Callable[..., QuerySet]
    # The function types the extended filters offer (objects with `pk`, `code` and `name`).
    function_types: Callable[[], list]


_registered: dict[str, FunctionSearch] = {}


def register_function_search(answers: FunctionSearch) -> None:
    _registered["functions"] = answers


def function_search() -> FunctionSearch:
    try:
        return _registered["functions"]
    except KeyError:
        raise ImproperlyConfigured(
            "No app registered the relation search's function selectors (memberships does, in its AppConfig.ready())."
        ) from None


# --- the search ---------------------------------------------------------------------------------


@dataclass
class FieldTerms:
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


TRUE_FLAGS = ("1", "on", "yes", "true")
NOT_A_DATE = gettext_lazy("“%(value)s” is not a date; write it as dd-mm-jjjj.")


def _values(data: QueryDict, key: str, *, unique: bool = True) -> list[str]:
    """The non-empty values of `key`; ends of ranges keep their order and repeats, because the
    n-th `from` pairs with the n-th `to`."""
    seen: list[str] = []
    for value in data.getlist(key):
        value = value.strip()
        if value and (not unique or value not in seen):
            seen.append(value)
    return seen


def _converted(search_field: SearchField, raw: str, key: str) -> Any:
    """`raw` as the value `search_field` filters with. The error names the query-string `key` it
    is about, because one form field reads several keys (see `RelationFilter.errors`)."""
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
            message = NOT_A_DATE
        elif search_field.kind == NUMBER:
            message = _("“%(value)s” is not a number.")
        else:
            message = _("“%(value)s” is not one of the choices of %(label)s.")
        raise ValidationError(message, params={"value": raw, "label": search_field.label, "key": key}) from None
    return raw


# Form fields and widgets: the query string is the form. A key may repeat, and one field's
# extended filter spans the keys `<field>__<operator>`.


class _Repeated(forms.Widget):
    """Every non-empty value of a repeated key."""

    def value_from_datadict(self, data, files, name):
        return _values(data, name)


class _Flag(forms.Field):
    widget = forms.HiddenInput

    def to_python(self, value) -> bool:
        return value in TRUE_FLAGS


class _Parsed(forms.Field):
    """A field that reads what it can of its input and lists the errors of the rest (`parse`), so
    a search with an error still shows what it understood."""

    def parse(self, value) -> tuple[Any, list[ValidationError]]:
        raise NotImplementedError

    def clean(self, value) -> Any:
        parsed, errors = self.parse(value)
        if errors:
            raise ValidationError(errors)
        return parsed


class _Dates(_Parsed):
    widget = _Repeated

    def parse(self, value: list[str]) -> tuple[list[datetime.date], list[ValidationError]]:
        days, errors = [], []
        for raw in value:
            try:
                days.append(parse_date(raw))
            except ValueError:
                errors.append(ValidationError(NOT_A_DATE, params={"value": raw}))
        return days, errors


@dataclass(frozen=True)
class HeldFunction:
    """Holds a current function in one of `departments`, of one of `function_types`."""

    departments: list[int]
    function_types: list[str]


class _HeldFunctionInput(forms.Widget):
    def value_from_datadict(self, data, files, name):
        return {"department": _values(data, "department"), "function_type": _values(data, "function_type")}


class _HeldFunctionField(_Parsed):
    widget = _HeldFunctionInput

    def parse(self, value: dict[str, list[str]]) -> tuple[HeldFunction | None, list[ValidationError]]:
        departments, errors = [], []
        for raw in value["department"]:
            try:
                departments.append(int(raw))
            except ValueError:
                errors.append(ValidationError(_("Choose a department from the list."), params={"key": "department"}))
        if not departments and not value["function_type"]:
            return None, errors
        return HeldFunction(departments, value["function_type"]), errors


class _OperatorsInput(forms.Widget):
    def __init__(self, operators: tuple[str, ...]):
        super().__init__()
        self.operators = operators

    def value_from_datadict(self, data, files, name):
        found = {}
        for operator in self.operators:
            raw = _values(data, f"{name}__{operator}", unique=operator not in ("from", "to"))
            if raw:
                found[operator] = raw
        return found


class _FieldTermsField(_Parsed):
    def __init__(self, *, search_field: SearchField, **kwargs):
        self.search_field = search_field
        super().__init__(widget=_OperatorsInput(search_field.operators), **kwargs)

    def parse(self, value: dict[str, list[str]]) -> tuple[FieldTerms | None, list[ValidationError]]:
        if not value:
            return None, []
        sf = self.search_field
        terms = FieldTerms(sf, raw=value)
        errors: list[ValidationError] = []

        def convert(operator: str, raw: str) -> Any:
            try:
                return _converted(sf, raw, f"{sf.key}__{operator}")
            except ValidationError as error:
                errors.append(error)
                return None

        for raw in value.get("contains", []):
            terms.contains.append(raw)
        for raw in value.get("equals", []):
            converted = convert("equals", raw)
            if converted is not None:
                terms.equals.append(converted)
        lows = [convert("from", raw) for raw in value.get("from", [])]
        highs = [convert("to", raw) for raw in value.get("to", [])]
        for i in range(max(len(lows), len(highs))):
            low = lows[i] if i < len(lows) else None
            high = highs[i] if i < len(highs) else None
            if low is None and high is None:
                continue
            if low is not None and high is not None and low > high:
                errors.append(ValidationError(
                    _("The end of the range comes before its start."), params={"key": f"{sf.key}__to"}
                ))
                continue
            terms.ranges.append((low, high))
        return terms, errors


class _ColumnValueField(forms.CharField):
    """The box above a column: text, or the value a number, date or yes/no column filters with."""

    def __init__(self, *, column: Column, **kwargs):
        self.column = column
        super().__init__(**kwargs)

    def clean(self, value) -> Any:
        text = super().clean(value)
        sf = self.column.field
        if text and sf is not None and sf.kind in (NUMBER, DATE, BOOLEAN):
            return _converted(sf, text, f"col_{self.column.key}")
        return text


class _Filter(django_filters.Filter):
    """A filter given its form field class when made (django-filter fixes it per Filter class)."""

    def __init__(self, *args, field_class: type[forms.Field] = forms.Field, **kwargs):
        self.field_class = field_class
        super().__init__(*args, **kwargs)


class _ColumnFilter(django_filters.Filter):
    field_class = _ColumnValueField

    def __init__(self, column: Column):
        super().__init__(field_name=f"col_{column.key}", label=column.label, column=column)
        self.column = column

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        return qs.filter(self.parent.column_q(self.column, value))


class _FieldTermsFilter(django_filters.Filter):
    field_class = _FieldTermsField

    def __init__(self, search_field: SearchField):
        super().__init__(field_name=search_field.key, label=search_field.label, search_field=search_field)

    def filter(self, qs, value: FieldTerms | None):
        terms = field_terms(value) if value is not None else []
        return qs.filter(reduce(or_, terms)) if terms else qs


class RelationFilter(django_filters.FilterSet):
    """A search as the query string states it (see the module docstring), as a django-filter
    FilterSet whose form is the query string.

    `errors` maps query-string keys to messages; a search with errors finds nothing, so a typo
    in a date never silently widens an export. Apply it with `filter_queryset(queryset)` to a
    queryset already limited by `visible_to` (the FilterSet validates its form when made, and no
    query runs before that queryset is asked for).
    """

    q = django_filters.CharFilter(method="filter_words")

    class Meta:
        model = Relation
        fields: list[str] = []

    def __init__(
        self,
        data: QueryDict,
        queryset: QuerySet[Relation] | None = None,
        *,
        tenant: Tenant,
        custom_fields: Iterable[CustomField] = (),
        today: datetime.date | None = None,
    ):
        super().__init__(data, queryset)
        self.tenant = tenant
        self.today = today or datetime.date.today()
        self.fields = search_fields(custom_fields)
        self.columns = columns_for(self.fields)
        # The columns and fields depend on the environment's custom fields, so their filters are
        # made here, and only for the boxes the query string fills: a form field for every column
        # and field (some 50) would cost more time than the rest of the search. In the order the
        # conditions were always applied (so the SQL stays the same): words, column boxes and
        # extended filters on fields in the order of the query string, then on memberships and
        # functions.
        columns = {f"col_{c.key}": c for c in self.columns.values() if c.filterable}
        fields = dict.fromkeys(key.rpartition("__")[0] for key in self.data if "__" in key)
        self.filters = {
            "q": self.filters["q"],
            **{key: _ColumnFilter(columns[key]) for key in self.data if key in columns},
            **{key: _FieldTermsFilter(self.fields[key]) for key in fields if key in self.fields},
            "current_member": _Filter(field_class=_Flag, method="filter_current_member"),
            "member_on": _Filter(field_class=_Dates, method="filter_member_on"),
            "held_function": _Filter(field_class=_HeldFunctionField, method="filter_held_function"),
        }
        for filter_ in self.filters.values():
            filter_.model, filter_.parent = Relation, self
        self.form.full_clean()

    # -- what the search says

    def _parsed(self, name: str, default: Any) -> Any:
        """What the search understood of filter `name`, also when part of it is wrong."""
        bound = self.form[name]
        value, _errors = bound.field.parse(bound.data)
        return default if value is None else value

    @property
    def errors(self) -> dict[str, list[str]]:
        """The form's errors by the query-string key each is about."""
        by_key: dict[str, list[str]] = {}
        for name, errors in self.form.errors.as_data().items():
            for error in errors:
                key = (error.params or {}).get("key", name)
                by_key.setdefault(key, []).extend(error.messages)
        return by_key

    @property
    def query(self) -> str:
        return self.form.cleaned_data["q"]

    @property
    def current_member(self) -> bool:
        return self.form.cleaned_data["current_member"]

    @property
    def member_on(self) -> list[datetime.date]:
        return self._parsed("member_on", [])

    @property
    def departments(self) -> list[int]:
        return self._parsed("held_function", HeldFunction([], [])).departments

    @property
    def function_types(self) -> list[str]:
        return self._parsed("held_function", HeldFunction([], [])).function_types

    @property
    def field_filters(self) -> dict[str, FieldTerms]:
        found = {}
        for key, filter_ in self.filters.items():
            if isinstance(filter_, _FieldTermsFilter):
                terms = self._parsed(key, None)
                if terms is not None:
                    found[key] = terms
        return found

    @property
    def include_inactive(self) -> bool:
        return self.data.get("inactive") in TRUE_FLAGS

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
        for key in self.data:
            if key not in without and key not in replace:
                params.setlist(key, [v for v in self.data.getlist(key) if v.strip()])
        for key, value in replace.items():
            params[key] = str(value)
        return params.urlencode()

    @property
    def has_empty_values(self) -> bool:
        """A form sent without JavaScript carries every empty box along."""
        return any(not v.strip() for key in self.data for v in self.data.getlist(key))

    def hidden_params(self) -> list[tuple[str, str]]:
        """The extended-filter parameters, to carry along in the search form while the panel that
        edits them is not loaded."""
        keys = {"current_member", "member_on", "department", "function_type"}
        hidden = []
        for key in self.data:
            name, _sep, operator = key.rpartition("__")
            if key in keys or (name in self.fields and operator in self.fields[name].operators):
                hidden.extend((key, v) for v in self.data.getlist(key) if v.strip())
        return hidden

    # -- applying it

    def filter_queryset(self, queryset: QuerySet[Relation]) -> QuerySet[Relation]:
        """Narrow `queryset` (already limited by `visible_to`) to what the search asks for."""
        if not self.form.is_valid():
            return queryset.none()
        return super().filter_queryset(queryset)

    def filter_words(self, queryset, name: str, value: str):
        for word in search_words(value):
            if len(word) > SHORT_WORD:
                found = Q(search_text__contains=word)
            else:  # the start of a word (relations/text.py)
                found = Q(search_text__startswith=word) | Q(search_text__contains=f" {word}")
            if word.isdigit() and len(word) <= 18:
                # A number may be that of a card merged into this one: it still finds it.
                merged = Relation.objects.filter(number=int(word), merged_into__isnull=False).values("merged_into")
                found |= Q(pk__in=merged)
            queryset = queryset.filter(found)
        return queryset

    @functools.cached_property
    def box_words(self) -> list[str] | None:
        """The words of the search box when nothing else narrows the search (no column, extended
        filter or other sort order); None otherwise, or for an empty box."""
        others = [key for key in self.data if key not in ("q", "page") and any(v.strip() for v in self.data.getlist(key))]
        if others or not self.form.is_valid():
            return None
        return search_words(self.form.cleaned_data.get("q", "")) or None

    @property
    def only_short_words(self) -> bool:
        """A search box holding only words of a letter or two, and no other filter: the first
        letters someone types (relations/paging.py does not count its matches)."""
        words = self.box_words
        return bool(words) and all(len(word) <= SHORT_WORD for word in words)

    @property
    def exact(self) -> Q | None:
        """The relation the search box names exactly (its relation number or e-mail address),
        which the result shows first; None for any other search."""
        lookup = exact_lookup(self.form.cleaned_data.get("q", "")) if self.form.is_valid() else None
        return Q(**lookup) if lookup else None

    def filter_current_member(self, queryset, name: str, value: bool):
        if not value:
            return queryset
        # What visible_to read about the environment is reused, not read again.
        return queryset.members_on(self.today, self.tenant, scope=queryset.environment_scope)

    def filter_member_on(self, queryset, name: str, value: list[datetime.date]):
        scope = queryset.environment_scope
        members = [Relation.objects.members_on(day, self.tenant, scope=scope) for day in value]
        return queryset & reduce(or_, members)

    def filter_held_function(self, queryset, name: str, value: HeldFunction):
        held = function_search().held(
            tenant=self.tenant, day=self.today, departments=value.departments, function_types=value.function_types,
        )
        return queryset.filter(Exists(held))

    def active_only(self, queryset: QuerySet[Relation]) -> QuerySet[Relation]:
        """Leave out inactive relations (no current function in the environment) unless asked."""
        if self.include_inactive:
            return queryset
        return queryset.filter(Exists(function_search().held(tenant=self.tenant, day=self.today)))

    def column_q(self, column: Column, value: Any) -> Q:
        """The condition of the box above `column`; `value` as its form field cleaned it."""
        if column.key == "name":
            words = [Q(first_name__icontains=w) | Q(initials__icontains=w) | Q(infix__icontains=w)
                     | Q(last_name__icontains=w) | Q(organisation_name__icontains=w) for w in name_words(value)]
            return reduce(and_, words) if words else Q()
        if column.key == "home":
            return Q(tenant__name__icontains=value)
        if column.key == "departments":
            return Q(Exists(function_search().membership_in_named(tenant=self.tenant, day=self.today, name=value)))
        sf = column.field
        if sf.kind == TEXT:
            return _contains(sf, value)
        if sf.kind == CHOICE:
            codes = [code for code, label in sf.choices
                     if value.lower() in str(label).lower() or value.lower() == str(code).lower()]
            return reduce(or_, [_lookup(sf, "exact", c) for c in codes]) if codes else Q(pk__in=[])
        return _equals(sf, value)

    # -- sorting

    def ordering(self, columns: dict[str, Column] | None = None) -> tuple[str, ...]:
        """The order of the result: the column named in ``sort`` (``-`` for descending), else by
        name. The relation number last keeps pages stable."""
        sort = self.data.get("sort", "")
        descending = sort.startswith("-")
        column = (columns or self.columns).get(sort.lstrip("-"))
        if column is None or not column.sort:
            return NAME_ORDER
        return tuple(f"-{f}" if descending else f for f in column.sort)


def field_terms(terms: FieldTerms) -> list[Q]:
    sf = terms.field
    found = [_contains(sf, str(v)) for v in terms.contains]
    found += [_equals(sf, v) for v in terms.equals]
    for low, high in terms.ranges:
        term = Q()
        if low is not None:
            term &= _lookup(sf, "gte", _json_value(sf, low))
        if high is not None:
            term &= _lookup(sf, "lte", _json_value(sf, high))
        found.append(term)
    return found


def _equals(sf: SearchField, value: Any) -> Q:
    if sf.kind == TEXT:
        return _lookup(sf, "iexact", value)
    if sf.is_custom and sf.kind == BOOLEAN and value is False:
        # "No" also finds relations that never had the field filled in.
        return Q(**{f"extra__{sf.code}": False}) | ~Q(extra__has_key=sf.code)
    return _lookup(sf, "exact", _json_value(sf, value))


def _json_value(sf: SearchField, value: Any) -> Any:
    """Custom values are stored as JSON: dates as ISO text, numbers as numbers."""
    if not sf.is_custom:
        return value
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def _contains(sf: SearchField, text: str) -> Q:
    """The field holds `text`, ignoring case; a postcode also written with or without its space."""
    if sf.key == "postcode":
        return reduce(or_, [_lookup(sf, "icontains", form) for form in postcode_forms(text)])
    return _lookup(sf, "icontains", text)


def _lookup(sf: SearchField, lookup: str, value: Any) -> Q:
    if sf.is_custom:
        return Q(**{f"extra__{sf.code}__{lookup}": value})
    return Q(**{f"{sf.path}__{lookup}": value})
