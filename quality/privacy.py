"""What quality holds about a person, for the GDPR export (relations/privacy.py): the data
problems of their card. They name rules, not the person, so an erasure leaves them."""

from __future__ import annotations

from relations.models import Relation
from relations.privacy import PersonalDataSource

from .models import DataProblem


def data_problem_rows(relation: Relation) -> list[dict]:
    return [
        {"rule": problem.rule, "first_seen": problem.first_seen, "last_seen": problem.last_seen,
         "closed_on": problem.closed_on, "closed_by": problem.get_closed_by_display()}
        for problem in DataProblem.objects.filter(relation=relation).order_by("first_seen", "pk")
    ]


DATA_PROBLEMS = PersonalDataSource(key="data_problems", rows=data_problem_rows)
