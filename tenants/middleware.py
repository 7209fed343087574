"""Per-request state: the interface language, forced password changes, the current environment."""

from __future__ import annotations

from django.conf import settings
from django.db import router
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation

from .access import (
    can_enter,
    grants_for,
    is_looking_along,
    ledenmodule_departments,
    may_look_along,
)
from .compiled import CompiledQueries
from .history import acting_on_behalf_of
from .models import Tenant, User
from .services import look_along_stopped

# The session state of this module, its keys in one place. The operations of looking along
# (start, stop, current) are ledenmodule.looking_along's; the middleware below reads the state on
# every request, so it is kept here, in the base layer.
SESSION_TENANT_KEY = "tenant_id"
# The department administrator a national administrator looks along with (SPEC T7).
SESSION_LOOK_ALONG_KEY = "look_along_user_id"
# Where the national administrator was before looking along: {"tenant": pk}.
SESSION_LOOK_ALONG_RETURN_KEY = "look_along_return"


def environment_keep(request, tenant: Tenant | None) -> None:
    """The environment the user works in from the next request on (none: their default)."""
    if tenant is None:
        request.session.pop(SESSION_TENANT_KEY, None)
    else:
        request.session[SESSION_TENANT_KEY] = tenant.pk


def look_along_keep(request, *, target: User, department: Tenant) -> None:
    """From the next request on, `request.user` works in `target`'s ledenmodule, in `department`;
    stopping returns them to the environment they are in now."""
    request.session[SESSION_LOOK_ALONG_RETURN_KEY] = {"tenant": request.tenant.pk if request.tenant else None}
    request.session[SESSION_LOOK_ALONG_KEY] = target.pk
    environment_keep(request, department)


def look_along_forget(request) -> None:
    """Stop looking along from the next request on: back in the environment the user came from."""
    back = request.session.pop(SESSION_LOOK_ALONG_RETURN_KEY, None) or {}
    request.session.pop(SESSION_LOOK_ALONG_KEY, None)
    if back.get("tenant"):
        request.session[SESSION_TENANT_KEY] = back["tenant"]
    else:
        request.session.pop(SESSION_TENANT_KEY, None)


class PreferredLanguageMiddleware:
    """Dutch unless the user chose otherwise with the language switch.

    Django's LocaleMiddleware would follow the browser's Accept-Language, which puts most
    administrators' laptops in English; the users asked for Dutch by default (SPEC X1).
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.available = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.available else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


class PasswordChangeRequiredMiddleware:
    """A user with a temporary password may do nothing but choose a new one (SPEC T3)."""

    allowed_names = ("password_change", "logout", "set_language")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and user.must_change_password:
            allowed = {reverse(name) for name in self.allowed_names}
            if request.path not in allowed and not request.path.startswith(settings.STATIC_URL):
                return redirect("password_change")
        return self.get_response(request)


def default_tenant(user) -> Tenant | None:
    """The highest environment the user holds a role in."""
    grants = grants_for(user)
    roots = grants.root_paths
    if not roots:
        return Tenant.objects.get_first_root_node() if user.is_superuser else None
    return Tenant.objects.filter(path__in=roots).order_by("depth", "name").first()


def _tenant(pk: int) -> Tenant | None:
    """The environment of the session, read on every request: its SQL compiled once per
    environment (tenants/compiled.py), the row read every time."""
    found = _tenant_queries.objects(pk, Tenant, lambda: Tenant.objects.filter(pk=pk), router.db_for_read(Tenant))
    return found[0] if found else None


_tenant_queries = CompiledQueries()


class CurrentTenantMiddleware:
    """Sets `request.tenant`, the environment the user works in (kept in the session), and
    `request.looking_along` when that environment lies below the user's own.

    While a national administrator looks along with a department administrator,
    `request.looked_along_user` is that person, the environment is one of their departments, and
    history written during the request records them as the one on whose behalf it was done."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.tenant = None
        request.looking_along = False
        request.looked_along_user = None
        user = request.user
        if user.is_authenticated:
            target = self._looked_along_user(request)
            tenant = None
            tenant_id = request.session.get(SESSION_TENANT_KEY)
            if target is not None:
                departments = ledenmodule_departments(target)
                tenant = next((d for d in departments if d.pk == tenant_id), departments[0])
                environment_keep(request, tenant)
            elif tenant_id is not None:
                tenant = _tenant(tenant_id)
                if tenant is not None and not can_enter(user, tenant):
                    tenant = None
            if tenant is None:
                tenant = default_tenant(user)
                environment_keep(request, tenant)
            request.tenant = tenant
            request.looked_along_user = target
            request.looking_along = target is not None or is_looking_along(user, tenant)
            if target is not None:
                with acting_on_behalf_of(target):
                    return self.get_response(request)
        return self.get_response(request)

    @staticmethod
    def _looked_along_user(request) -> User | None:
        target_id = request.session.get(SESSION_LOOK_ALONG_KEY)
        if target_id is None:
            return None
        target = User.objects.filter(pk=target_id).first()
        if target is None or not may_look_along(request.user, target):
            # The power or the other person's function has ended: back to one's own screens, and
            # the stop is logged like one by the button.
            look_along_forget(request)
            look_along_stopped(actor=request.user, target=target, department=None)
            return None
        return target
