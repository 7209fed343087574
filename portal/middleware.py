"""A member's login (the portal) meets nothing of the administrators' screens: where an
administrator without the power would get 403, a member gets 404, so the portal does not even
tell which screens exist; the home page sends the member to the portal."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.views.defaults import page_not_found

from relations.models import Relation


def is_member_login(request) -> bool:
    """A login without any role (no current environment) that belongs to a relation card."""
    user = request.user
    if (
        not user.is_authenticated
        or user.is_superuser
        or user.is_staff
        or getattr(request, "tenant", None) is not None
    ):
        return False
    return Relation.objects.filter(user=user).exists()


class MemberLoginMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        member = is_member_login(request)
        if member:
            if request.path == reverse("home"):
                return redirect("portal_home")
            if request.path.startswith(reverse("admin:index")):
                return page_not_found(request, Http404())
        response = self.get_response(request)
        if member and response.status_code == 403:
            return page_not_found(request, Http404())
        return response
