"""Template context every page needs: banners, the environment switcher and the navigation."""

from __future__ import annotations

import functools

from django.conf import settings
from django.db import router
from django.urls import get_script_prefix, reverse
from django.utils.translation import get_language

from .access import grants_for
from .compiled import CompiledQueries
from .models import Tenant, TenantKind

# What a department administrator's header shows next to the ledenmodule.
LEDENMODULE_MENU = {"ledenmodule", "department_invoices"}


class _ReversedUrls:
    """`urls.<name>` in a template: the address of a URL name without arguments, reversed once per
    process (and script prefix). The navigation names forty of them on every page, and a `reverse`
    costs as much as rendering the rest of the menu; the relation list's search box answer another
    dozen. An unknown name fails as `{% url %}` does (NoReverseMatch)."""

    _known: dict[tuple[str, str], str] = {}

    def __getitem__(self, name: str) -> str:
        key = (get_script_prefix(), name)
        url = self._known.get(key)
        if url is None:
            url = self._known[key] = reverse(name)
        return url


URLS = _ReversedUrls()
_switcher_queries = CompiledQueries()


def environment(request) -> dict:
    tenant = getattr(request, "tenant", None)
    user = getattr(request, "user", None)
    name = settings.ENVIRONMENT_NAME
    context = {
        "environment_banner": name if name and name.lower() != "production" else "",
        "current_tenant": tenant,
        "looking_along": getattr(request, "looking_along", False),
        "looked_along_user": getattr(request, "looked_along_user", None),
        "switcher_tenants": [],
        "own_environment": None,
        "nav": {},
        "urls": URLS,
    }
    if tenant is None or user is None or not user.is_authenticated:
        return context

    grants = grants_for(user)
    perms_here = grants.permissions_on(tenant)

    def can(perm: str) -> bool:
        return user.is_superuser or perm in perms_here

    context["nav"] = {
        "tenant": can("tenants.view_tenant"),
        "users": can("tenants.view_user"),
        "relations": can("relations.view_relation"),
        "add_relation": can("relations.add_relation"),
        "custom_fields": can("relations.change_customfield"),
        "communication_types": can("relations.change_communicationtype"),
        "cancellation_reasons": can("memberships.change_cancellationreason"),
        "notice_rules": can("memberships.change_noticerule"),
        "approval_settings": can("relations.change_approvalsetting"),
        "ledenmodule": can("tenants.use_ledenmodule"),
        "registrations": can("intake.view_registration") or can("intake.add_registration"),
        "intake_forms": can("intake.view_intakeform"),
        "mail_templates": can("notifications.view_mailtemplate"),
        "wizards": can("wizards.view_wizard") or can("wizards.run_ledenmodule_wizard"),
        "mutation_list": can("wizards.view_mutation_list"),
        "quality_problems": can("quality.view_dataproblem"),
        "quality_recipients": can("quality.view_errorreportrecipient"),
        "quality_rules": can("quality.change_qualityrulesetting"),
        "imports": can("imports.add_importbatch"),
        "duplicates": can("imports.view_duplicatecandidate"),
        "billing": can("billing.view_invoice"),
        "billing_settings": can("billing.change_billingenvironment"),
        "department_invoices": can("billing.view_department_invoices"),
        "api_tokens": can("api.view_apitoken"),
    }
    only_here = all(Tenant.depth_of(path) >= tenant.depth for path in grants.root_paths)
    if context["nav"]["ledenmodule"] and tenant.kind == TenantKind.DEPARTMENT and only_here and not user.is_superuser:
        # A department administrator (no role above the department) works in the ledenmodule:
        # its own menu holds what they do (members, registering, reports, invoices), so the full
        # menus are not shown beside it.
        context["nav"] = {key: key in LEDENMODULE_MENU and allowed for key, allowed in context["nav"].items()}

    # The menus depend on nothing else than this key (templates/_navigation.html caches them).
    context["nav_key"] = "|".join((
        get_script_prefix(), get_language() or "", str(tenant.pk), "1" if tenant.is_root() else "0",
        "".join("1" if allowed else "0" for allowed in context["nav"].values()),
    ))

    # The dropdown holds the user's own environments and the ones directly below them; the
    # switcher page lists every environment with a search box. Loaded only when a template asks
    # (the ledenmodule's slimmer header does not), so those pages save the query.
    @functools.cache
    def switcher() -> list[Tenant]:
        depth = min((Tenant.depth_of(p) for p in grants.root_paths), default=1) + 1
        # Its SQL compiled once per set of roots (tenants/compiled.py); the rows read every time,
        # so an environment made or renamed shows at once.
        tenants = _switcher_queries.objects(
            (user.is_superuser, tuple(grants.root_paths), depth),
            Tenant,
            lambda: Tenant.objects.enterable_by(user).filter(depth__lte=depth).order_by("path"),
            router.db_for_read(Tenant),
            fields=("id", "name", "depth", "path"),
        )
        top = min((t.depth for t in tenants), default=1)
        for t in tenants:
            t.relative_depth = t.depth - top + 1
        return tenants if len(tenants) > 1 else []

    @functools.cache
    def own_environment() -> Tenant | None:
        own = [t for t in switcher() if t.path in grants.root_paths]
        return own[0] if own else None

    context["switcher_tenants"] = switcher
    if context["looking_along"]:
        context["own_environment"] = own_environment
    return context
