"""What memberships holds about a person, for the GDPR export and erasure (relations/privacy.py):
the functions, kept by an erasure for the statistics; a person with a current function cannot be
erased until it is ended."""

from __future__ import annotations

import datetime

from django.utils.translation import ngettext

from relations.models import Relation
from relations.privacy import PersonalDataSource

from .models import Function


def _functions(relation: Relation):
    return Function.objects.filter(relation=relation).select_related("function_type", "tenant", "cancellation_reason")


def function_rows(relation: Relation) -> list[dict]:
    return [
        {
            "function": function.function_type.name,
            "environment": function.tenant.name,
            "start_date": function.start_date,
            "end_date": function.end_date,
            "reason_for_ending": function.cancellation_reason.name if function.cancellation_reason else "",
        }
        for function in _functions(relation).order_by("start_date", "pk")
    ]


def current_functions_refusal(relation: Relation, day: datetime.date) -> str | None:
    current = _functions(relation).not_ended(day).count()
    if not current:
        return None
    return ngettext(
        "%(name)s still holds %(count)d current or future function; end it first.",
        "%(name)s still holds %(count)d current or future functions; end them first.",
        current,
    ) % {"name": relation.display_name, "count": current}


FUNCTIONS = PersonalDataSource(key="functions", rows=function_rows, erasure_refusal=current_functions_refusal)
