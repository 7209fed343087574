"""Tenant details ("club details", SPEC T8): view, edit, logo."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .. import services
from ..access import environment_required, get_tenant_or_404, require_perm
from ..forms import TenantForm


@environment_required
def tenant_detail(request, pk: int):
    tenant = get_tenant_or_404(request, pk)
    require_perm(request, "tenants.view_tenant", tenant)
    can_change = request.user.has_perm("tenants.change_tenant", tenant)
    return render(request, "tenants/tenant_detail.html", {"tenant": tenant, "can_change": can_change})


@environment_required
@require_http_methods(["GET", "POST"])
def tenant_edit(request, pk: int):
    tenant = get_tenant_or_404(request, pk)
    require_perm(request, "tenants.change_tenant", tenant)
    form = TenantForm(request.POST or None, request.FILES or None, instance=tenant)
    if request.method == "POST" and form.is_valid():
        services.tenant_update(actor=request.user, tenant=form.save(commit=False), changed=form.changed_data)
        messages.success(request, _("The details of %(name)s have been saved.") % {"name": tenant.name})
        return redirect("tenant_detail", pk=tenant.pk)
    return render(request, "tenants/tenant_form.html", {"tenant": tenant, "form": form})


@environment_required
def tenant_logo(request, pk: int):
    tenant = get_tenant_or_404(request, pk)
    require_perm(request, "tenants.view_tenant", tenant)
    if not tenant.logo:
        raise Http404
    try:
        handle = tenant.logo.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle)
    response["Cache-Control"] = "private, max-age=3600"
    return response
