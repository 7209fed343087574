"""Home page and the environment switcher ("Clubs beheren › Systemen")."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from .. import services
from ..access import can_enter, grants_for
from ..middleware import SESSION_TENANT_KEY
from ..models import Tenant


@login_required
@require_http_methods(["GET", "POST"])
def switch_environment(request):
    if request.method == "POST":
        try:
            tenant = Tenant.objects.get(pk=int(request.POST.get("tenant", "")))
        except (ValueError, Tenant.DoesNotExist):
            raise Http404 from None
        if not can_enter(request.user, tenant):
            raise Http404
        request.session[SESSION_TENANT_KEY] = tenant.pk
        services.environment_enter(user=request.user, tenant=tenant)
        target = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            target = "home"
        return redirect(target)

    query = request.GET.get("q", "").strip()
    tenants = Tenant.objects.enterable_by(request.user).order_by("path")
    if query:
        tenants = tenants.filter(name__icontains=query)
    own = grants_for(request.user).tenant_ids
    return render(
        request,
        "tenants/switch_environment.html",
        {"tenants": tenants, "query": query, "own_tenant_ids": own},
    )
