"""The screen of API tokens (System administration › API tokens): list, make (the secret is shown
once), look at the uses, revoke."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from relations.forms import add_service_error
from tenants.access import environment_required, require_perm
from tenants.models import Tenant

from . import services
from .forms import ApiTokenForm
from .models import ApiToken

# The secret of a token just made, kept in the session for the one page that shows it.
SHOW_ONCE_KEY = "api_token_secret"


def _get_token_or_404(request, pk: int) -> ApiToken:
    return get_object_or_404(ApiToken.objects.visible_to(request.user, request.tenant).select_related("tenant"), pk=pk)


@environment_required
def token_list(request):
    require_perm(request, "api.view_apitoken")
    tokens = ApiToken.objects.visible_to(request.user, request.tenant).select_related("tenant", "created_by")
    context = {"tokens": tokens, "can_add": request.user.has_perm("api.add_apitoken", request.tenant)}
    return render(request, "api/token_list.html", context)


@environment_required
@require_http_methods(["GET", "POST"])
def token_create(request):
    require_perm(request, "api.add_apitoken")
    tenants = Tenant.objects.visible_to(request.user, request.tenant).order_by("path")
    form = ApiTokenForm(request.POST or None, tenants=tenants, initial={"tenant": request.tenant})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not request.user.has_perm("api.add_apitoken", data["tenant"]):
            raise PermissionDenied
        try:
            new = services.token_create(
                actor=request.user, tenant=data["tenant"], name=data["name"], scope=data["scope"],
                expires_on=data["expires_on"],
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            request.session[SHOW_ONCE_KEY] = [new.token.pk, new.secret]
            return redirect("api_token_detail", pk=new.token.pk)
    return render(request, "api/token_form.html", {"form": form})


@environment_required
def token_detail(request, pk: int):
    require_perm(request, "api.view_apitoken")
    token = _get_token_or_404(request, pk)
    shown = request.session.get(SHOW_ONCE_KEY)
    secret = None
    if shown and shown[0] == token.pk:
        secret = shown[1]
        del request.session[SHOW_ONCE_KEY]
    context = {
        "token": token,
        "secret": secret,
        "uses": token.uses.all()[:50],
        "can_revoke": token.revoked_at is None and request.user.has_perm("api.change_apitoken", token),
    }
    return render(request, "api/token_detail.html", context)


@environment_required
@require_POST
def token_revoke(request, pk: int):
    require_perm(request, "api.view_apitoken")
    token = _get_token_or_404(request, pk)
    require_perm(request, "api.change_apitoken", token)
    try:
        services.token_revoke(actor=request.user, token=token)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The token “%(name)s” has been revoked; it no longer works.") % {"name": token.name})
    return redirect("api_token_detail", pk=token.pk)
