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


def get_relation_or_404(request, pk: int, *, merged: bool = False) -> Relation:
    """The relation, if the current environment shows it to this user; otherwise 404, so an
    outsider cannot learn that the number exists. An anonymised card still opens (lists leave it
    out); a card merged into another one does not: nothing is done on it any more
    (`merged_card_target` sends its address on)."""
    relations = Relation.objects.visible_to(request.user, request.tenant, archived=True).select_related("tenant")
    return get_object_or_404(relations if merged else relations.filter(merged_into__isnull=True), pk=pk)


def merged_card_target(request, pk: int) -> int | None:
    """The card that the card `pk` was merged into (following later merges), when the current
    environment shows it to this user; else None."""
    target = (
        Relation.objects.visible_to(request.user, request.tenant, archived=True)
        .filter(pk=pk, merged_into__isnull=False).values_list("merged_into_id", flat=True).first()
    )
    seen = {pk}
    while target is not None and target not in seen:
        seen.add(target)
        found = Relation.objects.filter(pk=target).values_list("merged_into_id", flat=True).first()
        if found is None:
            break
        target = found
    if target is None or not Relation.objects.visible_to(request.user, request.tenant).filter(pk=target).exists():
        return None
    return target
