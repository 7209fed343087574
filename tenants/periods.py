"""The one definition of when a dated row holds: functions (memberships) and role assignments.

A row with `start_date` S and `end_date` E holds on day D when S ≤ D and (E is empty or E > D).
The end date is the first day the row no longer holds, so a transfer's old membership ends on
the day the new one starts and only one of them counts that day, and a function ended today no
longer counts today. docs/definitions.md says this for people; every query and every check in
Python about "current", "held on", "ended" or "overlapping" goes through these helpers.
"""

from __future__ import annotations

import datetime

from django.db.models import Q


def _field(prefix: str, name: str) -> str:
    return f"{prefix}__{name}" if prefix else name


def not_ended_q(day: datetime.date, prefix: str = "") -> Q:
    """Rows still holding on `day` or starting later (current and future)."""
    return Q(**{_field(prefix, "end_date__isnull"): True}) | Q(**{_field(prefix, "end_date__gt"): day})


def ended_q(day: datetime.date, prefix: str = "") -> Q:
    """Rows that no longer hold on `day` (their end date is `day` or earlier)."""
    return Q(**{_field(prefix, "end_date__lte"): day})


def held_on_q(day: datetime.date, prefix: str = "") -> Q:
    """Rows that hold on `day`."""
    return Q(**{_field(prefix, "start_date__lte"): day}) & not_ended_q(day, prefix)


def held_during_q(low: datetime.date | None, high: datetime.date | None, prefix: str = "") -> Q:
    """Rows that hold on at least one day from `low` through `high` (either may be open)."""
    term = Q()
    if low is not None:
        term &= not_ended_q(low, prefix)
    if high is not None:
        term &= Q(**{_field(prefix, "start_date__lte"): high})
    return term


def overlapping_q(start: datetime.date, end: datetime.date | None, prefix: str = "") -> Q:
    """Rows that share at least one day with the period from `start` up to (not including) `end`."""
    term = not_ended_q(start, prefix)
    if end is not None:
        term &= Q(**{_field(prefix, "start_date__lt"): end})
    return term


def is_held_on(start: datetime.date, end: datetime.date | None, day: datetime.date) -> bool:
    return start <= day and (end is None or end > day)


def has_ended(end: datetime.date | None, day: datetime.date) -> bool:
    return end is not None and end <= day
