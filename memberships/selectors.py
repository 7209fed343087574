"""What the relation search asks about functions, answered here because relations may not import
memberships: `apps.py` registers them with `relations.filters.register_function_search`."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.db.models import Exists, OuterRef
from django.db.models.functions import Length, Substr

from tenants.models import Tenant

from .models import Function, FunctionType
from .querysets import FunctionQuerySet


def functions_held(
    *, tenant: Tenant, day: datetime.date, departments: Sequence[int] = (), function_types: Sequence[str] = ()
) -> FunctionQuerySet:
    """The functions the outer relation (`OuterRef("pk")`) holds on `day` in `tenant`'s subtree; of
    one of `function_types` and held in (or below) one of `departments` when given."""
    functions = Function.objects.active_on(day).filter(tenant.subtree_filter("tenant"), relation=OuterRef("pk"))
    if function_types:
        functions = functions.filter(function_type__code__in=function_types)
    if departments:
        # Held in a chosen tenant or below it: the chosen tenant's path is a prefix of the
        # path of the tenant the function is held in.
        chosen = Tenant.objects.subtree(tenant).filter(pk__in=departments).filter(
            path=Substr(OuterRef("tenant__path"), 1, Length("path"))
        )
        functions = functions.filter(Exists(chosen))
    return functions


def memberships_held_in_named(*, tenant: Tenant, day: datetime.date, name: str) -> FunctionQuerySet:
    """The memberships the outer relation holds on `day` in `tenant`'s subtree, in a tenant whose
    name contains `name` (the search's "Department(s)" column filter)."""
    return Function.objects.memberships().active_on(day).filter(
        tenant.subtree_filter("tenant"), relation=OuterRef("pk"), tenant__name__icontains=name,
    )


def function_types_to_choose() -> list[FunctionType]:
    """The function types the search's extended panel offers."""
    return list(FunctionType.objects.filter(active=True).order_by("order", "name"))



def former_members_ended_before(cutoff: datetime.date):
    """The outer relations' condition "held functions, and every one of them ended before
    `cutoff`": former members whose last function is older than that (the retention job)."""
    held = Function.objects.filter(relation=OuterRef("pk"))
    still = held.not_ended(cutoff)
    return Exists(held) & ~Exists(still)
