"""The pre-aggregated membership counts behind the dashboard and the membership flow.

A membership counts on day D when `Function.objects.memberships_held_on(D)` holds it — the one
definition of "current" (memberships/querysets.py); nothing here compares dates itself. For every
pair (day, partner) of `CountPair` the table `MembershipCount` holds, per environment where the
membership is held and per dimension value (gender, age band on `day`, membership type, total):
how many memberships were current on `day`, on `partner`, and on both. A season's flow is one
pair: start = current, end = partner_current, stayed = stayed, in = end − stayed, out = start −
stayed, so start + in − out = end always (docs/dashboard.md).

The table is rebuilt from the raw rows every night (`counts_rebuild`, job `membership_counts`),
and kept up to date in between: relations.services and memberships.services report every change
of a card or its functions (`relations.card.relations_changing`), and `relations_withdraw` /
`relations_add` take the relations' old contribution out and put the new one in.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from collections.abc import Iterable
from contextvars import ContextVar

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, CharField, Count, Value, When

from memberships.models import Function
from tenants.models import Tenant

from .models import CountMismatch, CountPair, Dimension, MembershipCount

logger = logging.getLogger("ledenbeheer.dashboard")

# (lowest age, label); a band runs up to the next one's lowest age.
AGE_BANDS: list[tuple[int, str]] = [
    (0, "0–17"), (18, "18–24"), (25, "25–34"), (35, "35–44"), (45, "45–54"), (55, "55–64"), (65, "65+"),
]
AGE_UNKNOWN = "?"
# How far back the table goes: the longest report asks for 25 seasons, a little more for context.
SEASONS_KEPT = 30

Key = tuple[datetime.date, datetime.date, int, str, str]
Figures = tuple[int, int, int]  # current, partner_current, stayed


# --- seasons and days -------------------------------------------------------------------------


def season_start(day: datetime.date) -> datetime.date:
    """The first day of the season holding `day` (settings.DASHBOARD_SEASON_START_MONTH)."""
    month = settings.DASHBOARD_SEASON_START_MONTH
    return datetime.date(day.year if day.month >= month else day.year - 1, month, 1)


def season_of_year(year: int) -> datetime.date:
    """The first day of the season that starts in `year`."""
    return datetime.date(year, settings.DASHBOARD_SEASON_START_MONTH, 1)


def years_before(day: datetime.date, years: int) -> datetime.date:
    """The same day `years` earlier; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def age_band(birth_date: datetime.date | None, day: datetime.date) -> str:
    """The age band of someone born on `birth_date` on `day`: the highest band whose lowest age
    they reached (born on or before the day that many years earlier)."""
    if birth_date is None:
        return AGE_UNKNOWN
    found = AGE_BANDS[0][1]
    for low, label in AGE_BANDS:
        if birth_date <= years_before(day, low):
            found = label
    return found


def _age_band_sql(day: datetime.date) -> Case:
    """`age_band` as a database expression on `relation__birth_date`, the same cut-off days."""
    whens = [When(relation__birth_date__isnull=True, then=Value(AGE_UNKNOWN))]
    whens += [
        When(relation__birth_date__lte=years_before(day, low), then=Value(label))
        for low, label in reversed(AGE_BANDS[1:])
    ]
    return Case(*whens, default=Value(AGE_BANDS[0][1]), output_field=CharField())


def pairs_for(today: datetime.date, earliest: datetime.date | None) -> list[tuple[datetime.date, datetime.date]]:
    """The pairs the table holds on `today`: every past season's first day with the next
    season's, the running season's first day with today, and a year ago with itself."""
    current = season_start(today)
    # From the season before the first membership: its end is the first members' start.
    first = season_of_year(season_start(earliest).year - 1) if earliest else current
    first = max(first, season_of_year(current.year - SEASONS_KEPT))
    pairs = []
    year = first.year
    while season_of_year(year) < current:
        pairs.append((season_of_year(year), season_of_year(year + 1)))
        year += 1
    pairs.append((current, today))
    year_ago = years_before(today, 1)
    pairs.append((year_ago, year_ago))
    return sorted(set(pairs))


def stored_pairs() -> list[tuple[datetime.date, datetime.date]]:
    return list(CountPair.objects.values_list("day", "partner"))


# --- counting from the raw rows ---------------------------------------------------------------


def _grouped(queryset, day: datetime.date):
    """(tenant, gender, type, age band on `day`) → number of memberships."""
    rows = (
        queryset.annotate(band=_age_band_sql(day))
        .values_list("tenant_id", "relation__gender", "function_type_id", "band")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return rows


def _spread(into: dict, day, partner, rows, slot: int) -> None:
    for tenant_id, gender, type_id, band, n in rows:
        for dimension, value in (
            (Dimension.TOTAL, ""), (Dimension.GENDER, gender or ""), (Dimension.TYPE, str(type_id)),
            (Dimension.AGE, band),
        ):
            figures = into[(day, partner, tenant_id, str(dimension), value)]
            figures[slot] += n


def count_from_rows(pairs: Iterable[tuple[datetime.date, datetime.date]], scope: Tenant | None = None) -> dict[Key, Figures]:
    """The table's figures for `pairs`, counted from the functions themselves (three grouped
    queries a pair), optionally only for memberships held in `scope` and below."""
    counted: dict[Key, list[int]] = defaultdict(lambda: [0, 0, 0])
    functions = Function.objects.all()
    if scope is not None:
        functions = functions.in_subtree(scope)
    for day, partner in pairs:
        on_day = functions.memberships_held_on(day)
        _spread(counted, day, partner, _grouped(on_day, day), 0)
        _spread(counted, day, partner, _grouped(functions.memberships_held_on(partner), day), 1)
        _spread(counted, day, partner, _grouped(on_day.memberships_held_on(partner), day), 2)
    return {key: tuple(figures) for key, figures in counted.items() if any(figures)}


def stored_counts(pairs: Iterable[tuple[datetime.date, datetime.date]], scope: Tenant | None = None) -> dict[Key, Figures]:
    pairs = list(pairs)
    if not pairs:
        return {}
    rows = MembershipCount.objects.filter(day__in={d for d, _p in pairs}, partner__in={p for _d, p in pairs})
    if scope is not None:
        rows = rows.filter(scope.subtree_filter("tenant"))
    wanted = set(pairs)
    return {
        (day, partner, tenant_id, dimension, value): (current, partner_current, stayed)
        for day, partner, tenant_id, dimension, value, current, partner_current, stayed in rows.values_list(
            "day", "partner", "tenant_id", "dimension", "value", "current", "partner_current", "stayed"
        )
        if (day, partner) in wanted and (current or partner_current or stayed)
    }


# --- the nightly rebuild and its check ----------------------------------------------------------


def _earliest_start() -> datetime.date | None:
    first = Function.objects.memberships().order_by("start_date").values_list("start_date", flat=True).first()
    return first


def _lock_table() -> None:
    """Keep the services' additions out while the table is rebuilt: one that changed a
    membership waits for the rebuild to commit and then adds to the rebuilt rows; one that added
    first makes the rebuild wait until its change is committed, so the recount sees it."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {MembershipCount._meta.db_table} IN EXCLUSIVE MODE")


def counts_rebuild(day: datetime.date) -> dict:
    """Recount the table for `day` from the raw rows. Where the rows the services kept up to date
    differ from the recount (for the pairs both hold), write a `CountMismatch` — a data problem —
    and report it in the job's run record; then replace the table with the recount."""
    with transaction.atomic():
        _lock_table()
        pairs = pairs_for(day, _earliest_start())
        counted = count_from_rows(pairs)
        common = set(stored_pairs()) & set(pairs)
        kept = stored_counts(common)
        recounted = {key: figures for key, figures in counted.items() if key[:2] in common}
        mismatches = [
            CountMismatch(
                found_on=day, day=key[0], partner=key[1], tenant_id=key[2], dimension=key[3], value=key[4],
                kept=list(kept.get(key, (0, 0, 0))), counted=list(recounted.get(key, (0, 0, 0))),
            )
            for key in sorted(set(kept) | set(recounted))
            if kept.get(key, (0, 0, 0)) != recounted.get(key, (0, 0, 0))
        ]
        CountMismatch.objects.filter(found_on=day).delete()
        CountMismatch.objects.bulk_create(mismatches)
        MembershipCount.objects.all().delete()
        MembershipCount.objects.bulk_create(
            (
                MembershipCount(day=d, partner=p, tenant_id=t, dimension=dim, value=v,
                                current=c, partner_current=pc, stayed=s)
                for (d, p, t, dim, v), (c, pc, s) in counted.items()
            ),
            batch_size=5000,
        )
        CountPair.objects.all().delete()
        CountPair.objects.bulk_create(CountPair(day=d, partner=p) for d, p in pairs)
    result: dict = {"pairs": len(pairs), "rows": len(counted), "mismatches": len(mismatches)}
    if mismatches:
        logger.error("Membership counts: %s kept counts differed from the raw rows", len(mismatches))
        result["errors"] = [
            {"error": f"{m.tenant_id} {m.day}→{m.partner} {m.dimension}={m.value}: kept {m.kept}, counted {m.counted}"}
            for m in mismatches[:20]
        ]
    return result


# --- kept up to date by the services -------------------------------------------------------------

# The contribution withdrawn before a change, per watched set of relations, until it is added again.
_withdrawn: ContextVar[dict[tuple[int, ...], tuple[list, dict]] | None] = ContextVar("dashboard_withdrawn", default=None)


def _contributions(relation_ids: list[int], pairs: list) -> dict[Key, list[int]]:
    """What these relations' memberships add to the table now (`Function.is_active_on`, the
    model's form of the same definition)."""
    figures: dict[Key, list[int]] = defaultdict(lambda: [0, 0, 0])
    functions = Function.objects.filter(relation_id__in=relation_ids).memberships().select_related("relation")
    for function in functions:
        relation = function.relation
        for day, partner in pairs:
            on_day, on_partner = function.is_active_on(day), function.is_active_on(partner)
            if not (on_day or on_partner):
                continue
            for dimension, value in (
                (Dimension.TOTAL, ""), (Dimension.GENDER, relation.gender or ""),
                (Dimension.TYPE, str(function.function_type_id)), (Dimension.AGE, age_band(relation.birth_date, day)),
            ):
                row = figures[(day, partner, function.tenant_id, str(dimension), value)]
                row[0] += on_day
                row[1] += on_partner
                row[2] += on_day and on_partner
    return figures


def relations_withdraw(relation_ids: list[int]) -> None:
    pairs = stored_pairs()
    before = _contributions(relation_ids, pairs) if pairs else {}
    _withdrawn.set({**(_withdrawn.get() or {}), tuple(relation_ids): (pairs, before)})


def relations_add(relation_ids: list[int]) -> None:
    withdrawn = dict(_withdrawn.get() or {})
    pairs, before = withdrawn.pop(tuple(relation_ids), ([], {}))
    _withdrawn.set(withdrawn)
    if not pairs:
        return
    after = _contributions(relation_ids, pairs)
    deltas = []
    for key in set(before) | set(after):
        old, new = before.get(key, [0, 0, 0]), after.get(key, [0, 0, 0])
        delta = [n - o for n, o in zip(new, old, strict=True)]
        if any(delta):
            deltas.append((*key, *delta))
    if deltas:
        _add(deltas)


def _add(deltas: list[tuple]) -> None:
    # The table name is the model's own; every value is a parameter.
    table = MembershipCount._meta.db_table
    sql = (
        f"INSERT INTO {table} (day, partner, tenant_id, dimension, value, current, partner_current, stayed) "  # noqa: S608
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (day, partner, tenant_id, dimension, value) DO UPDATE SET "
        f"current = {table}.current + excluded.current, "
        f"partner_current = {table}.partner_current + excluded.partner_current, "
        f"stayed = {table}.stayed + excluded.stayed"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, deltas)
