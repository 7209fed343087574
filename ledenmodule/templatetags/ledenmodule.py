"""Template tags of the ledenmodule."""

from __future__ import annotations

from django import template

from tenants.access import LOOK_ALONG_PERM, may_look_along

from .. import looking_along

register = template.Library()


@register.simple_tag(takes_context=True)
def look_along_target(context, relation):
    """The login of `relation` when the current user may look along with it (SPEC T7); asked
    only of users who hold the power here, so other cards cost no query."""
    request = context.get("request")
    if request is None or relation is None or not relation.user_id or request.tenant is None:
        return None
    if looking_along.current(request) is not None:
        return None
    if not request.user.has_perm(LOOK_ALONG_PERM, request.tenant):
        return None
    target = relation.user
    return target if may_look_along(request.user, target) else None
