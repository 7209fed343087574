"""The start page (the dashboard) and the reports: thin views over dashboard.services and
dashboard.reports."""

from __future__ import annotations

from operator import itemgetter

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from relations.exports import download_response
from relations.filters import Column
from tenants.access import environment_required, require_perm, works_in_ledenmodule_only
from tenants.models import Tenant, TenantKind

from . import reports, services
from .forms import FlowForm, ReportForm, WidgetVisibilityForm
from .widgets import REPORT_PERM


@login_required
def home(request):
    """The start page: the widgets of this environment, then the environment's own pages and
    the environments below it."""
    tenant = request.tenant
    if tenant is not None and works_in_ledenmodule_only(request):
        return redirect("ledenmodule_dashboard")
    context = {"tenant": tenant, "children": [], "widgets": [], "hidden": []}
    if tenant is not None:
        # Each widget loads on its own (htmx): a slow count of one app never holds up the page.
        context["lazy_widgets"], context["hidden"] = services.widgets_split(services.hidden_widgets(request.user))
        context["children"] = list(
            Tenant.objects.visible_to(request.user, tenant).filter(depth=tenant.depth + 1).order_by("name")
        )
        context["can_report"] = request.user.has_perm(REPORT_PERM, tenant)
    return render(request, "dashboard/home.html", context)


@environment_required
def widget(request, key: str):
    """One widget of the start page, loaded by htmx (or opened as a page without JavaScript)."""
    if key not in services.widget_keys():
        raise Http404
    shown = services.widget_content(key=key, user=request.user, tenant=request.tenant)
    if shown is None:
        if request.htmx:
            return HttpResponse("")  # not for this user: the placeholder goes away
        raise Http404
    if request.htmx:
        return render(request, "dashboard/_widget.html", {"shown": shown})
    return render(request, "dashboard/widget.html", {"shown": shown})


@environment_required
@require_POST
def widget_visibility(request):
    form = WidgetVisibilityForm(request.POST)
    if form.is_valid():
        try:
            services.widget_visibility_set(
                user=request.user, key=form.cleaned_data["key"], visible=form.cleaned_data["visible"]
            )
        except ValidationError:
            raise Http404 from None
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        target = "home"
    return redirect(target)


# --- reports ----------------------------------------------------------------------------------------


def _departments(request):
    return Tenant.objects.visible_to(request.user, request.tenant).filter(kind=TenantKind.DEPARTMENT).order_by("name")


def _scope(request, form: ReportForm) -> tuple[reports.ReportScope | None, list[str]]:
    """The report's scope from the form, or the messages that say what is wrong."""
    if not form.is_valid():
        return None, [f"{form.fields[name].label}: {' '.join(errors)}" for name, errors in form.errors.items()]
    data = form.cleaned_data
    try:
        scope = reports.report_scope(
            environment=request.tenant, department_id=data["department"], first=data["first"], last=data["last"],
            today=timezone.localdate(),
        )
    except ValidationError as error:
        return None, error.messages
    return scope, []


@environment_required
def flow(request):
    """Membership flow per season ("Ledenverloop"): a table, and a chart drawn from it."""
    require_perm(request, REPORT_PERM)
    departments = _departments(request)
    form = FlowForm(request.GET)
    scope, errors = _scope(request, form)
    context = {"form": form, "departments": departments, "errors": errors, "breakdowns": reports.BREAKDOWNS}
    if scope is not None:
        report = reports.membership_flow(scope, today=timezone.localdate())
        by = form.cleaned_data.get("by") or "gender"
        wanted = form.cleaned_data.get("season")
        season = next((s for s in report.seasons if s.year == wanted), report.seasons[-1])
        context.update(report=report, by=by, by_label=reports.BREAKDOWNS[by], season=season,
                       breakdown_rows=season.breakdowns[by], query_string=request.GET.urlencode())
    return render(request, "dashboard/flow.html", context, status=400 if errors else 200)


@environment_required
def flow_export(request, fmt: str):
    require_perm(request, REPORT_PERM)
    if fmt not in ("csv", "xlsx"):
        raise Http404
    form = FlowForm(request.GET)
    scope, errors = _scope(request, form)
    if scope is None:
        return render(request, "dashboard/flow.html", {"form": form, "errors": errors, "departments": _departments(request),
                                                       "breakdowns": reports.BREAKDOWNS}, status=400)
    header, *rows = reports.flow_table_rows(reports.membership_flow(scope, today=timezone.localdate()))
    columns = [Column(str(i), label, itemgetter(i)) for i, label in enumerate(header)]
    return download_response(
        rows, columns, fmt=fmt, actor=request.user, tenant=request.tenant,
        filename=f"ledenverloop-{scope.first}-{scope.last}", title=_("Membership flow"), what=_("Membership flow"),
    )


@environment_required
def end_dates(request):
    """End-date analysis: after how many years, in which month and why memberships ended."""
    require_perm(request, REPORT_PERM)
    departments = _departments(request)
    form = ReportForm(request.GET)
    scope, errors = _scope(request, form)
    context = {"form": form, "departments": departments, "errors": errors}
    if scope is not None:
        context["report"] = reports.end_date_analysis(scope)
    return render(request, "dashboard/end_dates.html", context, status=400 if errors else 200)
