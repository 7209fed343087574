"""The reports: the membership flow per season and the end-date analysis (SPEC W7).

Both read for an environment the user may see (the current one, or a department below it) and a
range of seasons. The flow reads only the pre-aggregated counts (dashboard/counts.py); the
end-date analysis reads the ended memberships themselves.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Q, Sum
from django.utils.dates import MONTHS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from memberships.models import Function, FunctionType
from relations.models import Gender
from tenants.models import PROVINCE_DEPTH, Tenant, TenantKind

from .counts import AGE_BANDS, AGE_UNKNOWN, age_band, season_of_year, season_start, stored_pairs
from .models import Dimension, MembershipCount

MAX_SEASONS = 25

BREAKDOWNS = {
    "gender": gettext_lazy("Gender"),
    "age": gettext_lazy("Age band"),
    "type": gettext_lazy("Membership type"),
    "department": gettext_lazy("Department"),
    "province": gettext_lazy("Province"),
}


def season_label(year: int) -> str:
    start = season_of_year(year)
    return str(year) if start.month == 1 else f"{year}–{year + 1}"


# --- input ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportScope:
    """What a report covers: an environment (the user's current one or a department below it)
    and the seasons `first` to `last` (the years they start in)."""

    tenant: Tenant
    first: int
    last: int

    @property
    def years(self) -> list[int]:
        return list(range(self.first, self.last + 1))


def report_scope(*, environment: Tenant, department_id: int | None, first: int | None, last: int | None,
                 today: datetime.date, default_seasons: int = 10) -> ReportScope:
    """Check the report's choices; a refusal says in the user's words what is wrong."""
    current = season_start(today).year
    last = current if last is None else last
    first = last - default_seasons + 1 if first is None else first
    errors = {}
    if first > last:
        errors["first"] = _("The first season comes after the last one: swap them.")
    elif last - first + 1 > MAX_SEASONS:
        errors["first"] = _("Choose at most %(n)s seasons.") % {"n": MAX_SEASONS}
    if last > current:
        errors["last"] = _("The season %(season)s has not started yet.") % {"season": season_label(last)}
    tenant = environment
    if department_id is not None:
        found = Tenant.objects.filter(pk=department_id).filter(environment.subtree_filter()).first()
        if found is None:
            errors["department"] = _("That department is not part of %(environment)s.") % {"environment": environment.name}
        else:
            tenant = found
    if errors:
        raise ValidationError(errors)
    return ReportScope(tenant=tenant, first=first, last=last)


# --- the flow ---------------------------------------------------------------------------------------


@dataclass
class FlowRow:
    label: str
    start: int = 0
    end: int = 0
    stayed: int = 0
    key: str = ""

    @property
    def joined(self) -> int:
        return self.end - self.stayed

    @property
    def left(self) -> int:
        return self.start - self.stayed

    @property
    def difference(self) -> int:
        return self.end - self.start

    @property
    def growth(self) -> float | None:
        return round(100 * self.difference / self.start, 1) if self.start else None

    def add(self, current: int, partner_current: int, stayed: int) -> None:
        self.start += current
        self.end += partner_current
        self.stayed += stayed


@dataclass
class SeasonFlow:
    year: int
    label: str
    counted: bool  # the table holds this season
    running: bool  # the running season: its end is today
    total: FlowRow
    breakdowns: dict[str, list[FlowRow]] = field(default_factory=dict)


@dataclass
class FlowReport:
    scope: ReportScope
    seasons: list[SeasonFlow]
    today: datetime.date

    @property
    def empty(self) -> bool:
        return not any(s.total.start or s.total.end for s in self.seasons)

    @property
    def built(self) -> bool:
        return any(s.counted for s in self.seasons)


def _season_pair(year: int, pairs: set, today: datetime.date) -> tuple[datetime.date, datetime.date] | None:
    start = season_of_year(year)
    for candidate in ((start, season_of_year(year + 1)), (start, today)):
        if candidate in pairs:
            return candidate
    return None


def _labels(dimension: str, values) -> dict[str, str]:
    if dimension == "gender":
        return {value: str(Gender(value).label) if value in Gender.values else value for value in values}
    if dimension == "type":
        names = dict(FunctionType.objects.filter(pk__in=[int(v) for v in values if v.isdigit()]).values_list("pk", "name"))
        return {value: names.get(int(value), value) if value.isdigit() else value for value in values}
    if dimension == "age":
        return {value: _("unknown") if value == AGE_UNKNOWN else value for value in values}
    return {value: value for value in values}


def _order(dimension: str, rows: list[FlowRow]) -> list[FlowRow]:
    if dimension == "age":
        order = {label: i for i, (_low, label) in enumerate(AGE_BANDS)}
        return sorted(rows, key=lambda r: order.get(r.key, len(order)))
    return sorted(rows, key=lambda r: (r.key == "", r.label))


def membership_flow(scope: ReportScope, *, today: datetime.date) -> FlowReport:
    """In, out, stayed and growth per season for the scope, in total and by gender, age band,
    membership type, department and province. Five queries, whatever the size."""
    pairs = set(stored_pairs())
    by_year = {year: _season_pair(year, pairs, today) for year in scope.years}
    wanted = {p for p in by_year.values() if p}
    rows = MembershipCount.objects.filter(scope.tenant.subtree_filter("tenant")).filter(
        day__in={d for d, _p in wanted} or [None], partner__in={p for _d, p in wanted} or [None]
    )
    sums = ("current", "partner_current", "stayed")
    by_value = (
        rows.exclude(dimension=Dimension.TOTAL).values_list("day", "partner", "dimension", "value")
        .annotate(*[Sum(f) for f in sums]).order_by()
    )
    by_tenant = (
        rows.filter(dimension=Dimension.TOTAL).values_list("day", "partner", "tenant_id")
        .annotate(*[Sum(f) for f in sums]).order_by()
    )
    values: dict[tuple, dict[str, dict[str, tuple]]] = defaultdict(lambda: defaultdict(dict))
    for day, partner, dimension, value, *figures in by_value:
        if (day, partner) in wanted:
            values[(day, partner)][dimension][value] = figures
    tenants_seen: dict[tuple, list] = defaultdict(list)
    tenant_ids = set()
    for day, partner, tenant_id, *figures in by_tenant:
        if (day, partner) in wanted:
            tenants_seen[(day, partner)].append((tenant_id, figures))
            tenant_ids.add(tenant_id)
    # The environments counted in and every province (a dozen or so): one query.
    known = list(Tenant.objects.filter(Q(pk__in=tenant_ids) | Q(depth__lte=PROVINCE_DEPTH))) if tenant_ids else []
    tenants = {t.pk: t for t in known}
    provinces = {t.path: t for t in known if t.depth == PROVINCE_DEPTH}
    labels = {dim: _labels(dim, {v for per in values.values() for v in per.get(dim, {})}) for dim in ("gender", "age", "type")}

    seasons = []
    for year in scope.years:
        pair = by_year[year]
        total = FlowRow(label=_("Total"))
        season = SeasonFlow(year=year, label=season_label(year), counted=pair is not None,
                            running=pair is not None and pair[1] == today and pair[1] != season_of_year(year + 1),
                            total=total)
        breakdown: dict[str, dict[str, FlowRow]] = {key: {} for key in BREAKDOWNS}
        if pair is not None:
            for tenant_id, figures in tenants_seen[pair]:
                total.add(*figures)
                tenant = tenants[tenant_id]
                if tenant.kind == TenantKind.DEPARTMENT:
                    row = breakdown["department"].setdefault(str(tenant_id), FlowRow(label=tenant.name, key=str(tenant_id)))
                    row.add(*figures)
                province = provinces.get(tenant.province_path)
                if province is not None and province.kind == TenantKind.PROVINCE:
                    row = breakdown["province"].setdefault(str(province.pk), FlowRow(label=province.name, key=str(province.pk)))
                    row.add(*figures)
            for dimension in ("gender", "age", "type"):
                for value, figures in values[pair].get(dimension, {}).items():
                    breakdown[dimension][value] = FlowRow(label=labels[dimension][value], key=value)
                    breakdown[dimension][value].add(*figures)
        season.breakdowns = {key: _order(key, list(rows.values())) for key, rows in breakdown.items()}
        seasons.append(season)
    return FlowReport(scope=scope, seasons=seasons, today=today)


def flow_table_rows(report: FlowReport) -> list[list]:
    """Every number of the report in one long table (CSV/XLSX): season, breakdown, value."""
    header = [_("Season"), _("Breakdown"), _("Value"), _("Start"), _("In"), _("Out"), _("Stayed"), _("End"),
              _("Difference"), _("Growth") + " %"]
    rows = [header]
    for season in report.seasons:
        for breakdown, flow_rows in [("", [season.total]), *season.breakdowns.items()]:
            for row in flow_rows:
                rows.append([
                    season.label, str(BREAKDOWNS.get(breakdown, _("Total"))), row.label, row.start, row.joined,
                    row.left, row.stayed, row.end, row.difference, "" if row.growth is None else row.growth,
                ])
    return rows


# --- the dashboard's own figures ---------------------------------------------------------------------


@dataclass(frozen=True)
class MemberFigures:
    day: datetime.date
    now: int
    year_ago: int
    joined: int  # this season so far
    left: int
    season: str


def member_figures(tenant: Tenant, *, today: datetime.date) -> MemberFigures | None:
    """Members now and a year ago, and who joined and left this season, for the environment: one
    query on the counts, or None while the counts have not been built."""
    pairs = stored_pairs()
    running = max((p for p in pairs if p[0] == season_start(today)), default=None)
    if running is None:
        return None
    ago = next((p for p in pairs if p[0] == p[1] and p != running), None)
    wanted = [running] + ([ago] if ago else [])
    figures = dict.fromkeys(wanted, (0, 0, 0))
    rows = (
        MembershipCount.objects.filter(tenant.subtree_filter("tenant"), dimension=Dimension.TOTAL)
        .filter(day__in=[p[0] for p in wanted], partner__in=[p[1] for p in wanted])
        .values_list("day", "partner").annotate(Sum("current"), Sum("partner_current"), Sum("stayed")).order_by()
    )
    for day, partner, *sums in rows:
        if (day, partner) in figures:
            figures[(day, partner)] = tuple(sums)
    start, now, stayed = figures[running]
    return MemberFigures(
        day=running[1], now=now, year_ago=figures[ago][0] if ago else 0, joined=now - stayed, left=start - stayed,
        season=season_label(running[0].year),
    )


# --- the end-date analysis -----------------------------------------------------------------------------

YEAR_BUCKETS = [(0, "< 1"), (1, "1"), (2, "2"), (3, "3"), (4, "4"), (5, "5–9"), (10, "10+")]


def _years_between(start: datetime.date, end: datetime.date) -> int:
    return end.year - start.year - ((end.month, end.day) < (start.month, start.day))


def _year_bucket(years: int) -> str:
    found = YEAR_BUCKETS[0][1]
    for low, label in YEAR_BUCKETS:
        if years >= low:
            found = label
    return found


@dataclass
class EndDateReport:
    scope: ReportScope
    total: int
    years: list[tuple[str, int]]
    months: list[tuple[str, int]]
    reasons: list[tuple[str, int]]
    ages: list[tuple[str, int]]
    departments: list[tuple[str, int]]


def end_date_analysis(scope: ReportScope) -> EndDateReport:
    """Memberships held in the scope whose last day lies in the seasons: after how many years
    they ended, in which month, with which reason, by age band (on the last day) and
    department."""
    first, after = season_of_year(scope.first), season_of_year(scope.last + 1)
    ended = (
        Function.objects.memberships().in_subtree(scope.tenant)
        .filter(end_date__gte=first, end_date__lt=after)
        .values_list("start_date", "end_date", "cancellation_reason__name", "tenant__name", "tenant__kind",
                     "relation__birth_date")
    )
    years, months, reasons, ages, departments = Counter(), Counter(), Counter(), Counter(), Counter()
    total = 0
    for start, end, reason, tenant_name, tenant_kind, birth_date in ended.iterator(chunk_size=5000):
        total += 1
        years[_year_bucket(_years_between(start, end))] += 1
        months[end.month] += 1
        reasons[reason or _("no reason given")] += 1
        ages[age_band(birth_date, end)] += 1
        if tenant_kind == TenantKind.DEPARTMENT:
            departments[tenant_name] += 1
    age_labels = [label for _low, label in AGE_BANDS] + [AGE_UNKNOWN]
    return EndDateReport(
        scope=scope, total=total,
        years=[(label, years[label]) for _low, label in YEAR_BUCKETS],
        months=[(str(MONTHS[m]), months[m]) for m in range(1, 13)],
        reasons=sorted(reasons.items(), key=lambda item: (-item[1], item[0])),
        ages=[(_("unknown") if label == AGE_UNKNOWN else label, ages[label]) for label in age_labels],
        departments=sorted(departments.items()),
    )
