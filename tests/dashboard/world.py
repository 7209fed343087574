"""A membership history on the test federation for the dashboard's tests: memberships that began
and ended in past seasons (written straight into the table, as a migration from the old system
would; the services refuse past end dates), on a season's first day and beside it, a transfer,
a person with memberships in two departments, and a few current members made by the services."""

from __future__ import annotations

import datetime

from memberships.models import CancellationReason, Function, FunctionType
from relations.models import Relation
from tests.factories import make_relation

TODAY = datetime.date.today()
# (department key, gender, birth date, function code, start, end, reason)
HISTORY = [
    ("department11", "f", datetime.date(1990, 5, 17), "department_member", datetime.date(2018, 3, 1), None, None),
    ("department11", "m", datetime.date(2005, 1, 1), "department_member", datetime.date(2019, 1, 1),
     datetime.date(2022, 6, 30), "Verhuisd"),
    ("department12", "x", None, "department_member", datetime.date(2020, 5, 5), datetime.date(2021, 1, 1),
     "Geen tijd meer"),
    ("department12", "f", datetime.date(2004, 2, 29), "aspirant_member", datetime.date(2023, 2, 2), None, None),
    ("department21", "m", datetime.date(1960, 12, 31), "department_member", datetime.date(2024, 7, 1),
     datetime.date(2025, 3, 1), None),
    ("department22", "", datetime.date(1950, 1, 1), "department_member", datetime.date(2016, 1, 1),
     datetime.date(2020, 12, 31), "Overleden"),
    ("department11", "f", datetime.date(2010, 6, 15), "department_member", datetime.date(2021, 12, 31), None, None),
]


def _relation(tenant, gender, birth_date, number) -> Relation:
    return Relation.objects.create(
        tenant=tenant, kind="person", first_name="Lid", last_name=f"Historie {number}", gender=gender,
        birth_date=birth_date, number=900000 + number,
    )


def _function(relation, tenant, code, start, end, reason=None) -> Function:
    return Function.objects.create(
        relation=relation, tenant=tenant, function_type=FunctionType.objects.get(code=code),
        start_date=start, end_date=end,
        cancellation_reason=CancellationReason.objects.get(name=reason) if reason else None,
    )


def make_history(federation) -> dict:
    made = {}
    for number, (key, gender, birth, code, start, end, reason) in enumerate(HISTORY):
        tenant = federation.tenants[key]
        relation = _relation(tenant, gender, birth, number)
        made[f"h{number}"] = _function(relation, tenant, code, start, end, reason)
    # A transfer from 1.1 to 2.1 on 1 January 2022: ends in one, starts in the other.
    moved = _relation(federation.department21, "m", datetime.date(1985, 8, 8), 50)
    _function(moved, federation.department11, "department_member", datetime.date(2017, 1, 1), datetime.date(2021, 12, 31))
    _function(moved, federation.department21, "department_member", datetime.date(2022, 1, 1), None)
    # Member of two departments at once: counts once in each.
    twice = _relation(federation.department11, "f", datetime.date(1999, 9, 9), 51)
    _function(twice, federation.department11, "department_member", datetime.date(2022, 4, 1), None)
    _function(twice, federation.department21, "department_member", datetime.date(2023, 4, 1), None)
    # A board function is no membership and never counts.
    _function(twice, federation.department11, "department_chair", datetime.date(2020, 1, 1), None)
    # Current members made by the services, this season.
    for index, key in enumerate(("department11", "department12", "department21")):
        made[f"new{index}"] = make_relation(
            federation.tenants[key], first_name="Nieuw", last_name=f"Lid {index}", gender="mf"[index % 2],
            birth_date=datetime.date(1995 + index, 3, 3), start_date=TODAY - datetime.timedelta(days=1),
        )
    return made
