"""The federation's notice rules for ending memberships: a national configuration screen."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tenants.access import environment_required, require_perm

from .forms_ledenmodule import NoticeRuleForm
from .models import NoticeRule


def _federation_rules(request):
    # The rules belong to the federation: configured in its own (national) environment.
    if not request.tenant.is_root():
        raise PermissionDenied
    return NoticeRule.objects.filter(tenant=request.tenant)


@environment_required
def notice_rule_list(request):
    require_perm(request, "memberships.view_noticerule")
    rules = _federation_rules(request)
    can_change = request.user.has_perm("memberships.change_noticerule", request.tenant)
    return render(request, "memberships/notice_rule_list.html", {"rules": rules, "can_change": can_change})


@environment_required
@require_http_methods(["GET", "POST"])
def notice_rule_edit(request, pk: int | None = None):
    require_perm(request, "memberships.change_noticerule" if pk else "memberships.add_noticerule")
    rules = _federation_rules(request)
    rule = get_object_or_404(rules, pk=pk) if pk else NoticeRule(tenant=request.tenant)
    form = NoticeRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("The notice rule “%(name)s” has been saved.") % {"name": rule.name})
        return redirect("notice_rule_list")
    return render(request, "memberships/notice_rule_form.html", {"form": form, "rule": rule})


@environment_required
@require_POST
def notice_rule_delete(request, pk: int):
    require_perm(request, "memberships.delete_noticerule")
    rule = get_object_or_404(_federation_rules(request), pk=pk)
    rule.delete()
    messages.success(request, _("The notice rule “%(name)s” has been deleted.") % {"name": rule.name})
    return redirect("notice_rule_list")
