"""The access helper of relation cards: look a relation up within what the user may see."""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from .models import Relation


def get_relation_or_404(request, pk: int) -> Relation:
    """The relation, if the current environment shows it to this user; otherwise 404, so an
    outsider cannot learn that the number exists."""
    return get_object_or_404(
        Relation.objects.visible_to(request.user, request.tenant).select_related("tenant"), pk=pk
    )
