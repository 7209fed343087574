"""The access helpers of relation cards: may this card open here, and look it up if so.

Who may open a relation is defined once, in relations/querysets.py ("who may open a relation
where"); these helpers and `Relation.objects.visible_to` are two spellings of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.shortcuts import get_object_or_404

from .models import Relation
from .querysets import may_list_relations

if TYPE_CHECKING:
    from tenants.models import Tenant, User


def relation_opens(user: User, tenant: Tenant | None, relation: Relation) -> bool:
    """The object check: whether environment `tenant` opens `relation`'s card for `user` — the
    answer `Relation.objects.visible_to(user, tenant)` gives for this one relation."""
    return may_list_relations(user, tenant) and any(place.is_within(tenant) for place in relation.access_tenants)


def get_relation_or_404(request, pk: int) -> Relation:
    """The relation, if the current environment shows it to this user; otherwise 404, so an
    outsider cannot learn that the number exists."""
    return get_object_or_404(
        Relation.objects.visible_to(request.user, request.tenant).select_related("tenant"), pk=pk
    )
