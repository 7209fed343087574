"""Screens of the data-quality checks (SPEC N): the error list ("Berichten — verstuur fout") with
its exports, the error-report recipients of an environment ("Automatische uitwisseling") and
their overview, and the national choice of rules."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from relations.exports import download_response
from relations.filters import Column
from relations.forms import add_service_error
from relations.models import Relation
from tenants.access import environment_required, require_perm
from tenants.models import Tenant, TenantKind

from . import services as quality
from .forms import ProblemFilterForm, RecipientForm, RetentionForm
from .models import DataProblem, ErrorReportRecipient, JobRun
from .recipients import recipient_add, recipient_delete, recipient_set_active
from .retention import retention_candidates, retention_setting, retention_setting_save

PAGE_SIZE = 50


# --- the error list ----------------------------------------------------------------------------


def _problems(request) -> tuple:
    """The open problems of the relations this environment shows the user, narrowed by the
    filter form."""
    rules = quality.active_rules()
    departments = (
        Tenant.objects.visible_to(request.user, request.tenant).filter(kind=TenantKind.DEPARTMENT).order_by("name")
    )
    form = ProblemFilterForm(request.GET, rules=rules, departments=departments)
    visible = Relation.objects.visible_to(request.user, request.tenant).values("pk")
    problems = quality.open_problems([rule.code for rule in rules]).filter(relation__in=visible)
    if form.is_valid():
        if form.cleaned_data["rule"]:
            problems = problems.filter(rule=form.cleaned_data["rule"])
        if form.cleaned_data["department"]:
            department = departments.get(pk=form.cleaned_data["department"])
            problems = quality.in_department(problems, department, timezone.localdate())
    problems = problems.select_related("relation", "relation__tenant").order_by(
        "rule", "relation__last_name", "relation__first_name", "relation__number", "pk"
    )
    return problems, form


def _rule_of(problem: DataProblem) -> quality.Rule | None:
    return quality.RULES_BY_CODE.get(problem.rule)


@environment_required
def problem_list(request):
    require_perm(request, "quality.view_dataproblem")
    problems, form = _problems(request)
    page = Paginator(problems, PAGE_SIZE).get_page(request.GET.get("page"))
    for problem in page.object_list:
        problem.rule_definition = _rule_of(problem)
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "quality/problem_list.html", {
        "page": page, "form": form, "query_string": params.urlencode(),
        "can_export": request.user.has_perm("relations.export_relation", request.tenant),
    })


def _export_columns() -> list[Column]:
    def rule_text(problem: DataProblem) -> str:
        rule = _rule_of(problem)
        return str(rule.description) if rule else problem.rule

    def severity(problem: DataProblem) -> str:
        rule = _rule_of(problem)
        return rule.severity_label if rule else ""

    return [
        Column("number", _("Relation number"), lambda p: p.relation.number),
        Column("name", _("Name"), lambda p: p.relation.sort_name),
        Column("home", _("Home environment"), lambda p: p.relation.tenant.name),
        Column("rule", _("Problem"), rule_text),
        Column("severity", _("Severity"), severity),
        Column("first_seen", _("First seen"), lambda p: p.first_seen),
        Column("last_seen", _("Last seen"), lambda p: p.last_seen),
    ]


@environment_required
def problem_export(request, fmt: str):
    require_perm(request, "quality.view_dataproblem")
    require_perm(request, "relations.export_relation")
    if fmt not in ("csv", "xlsx"):
        raise Http404
    problems, _form = _problems(request)
    columns = _export_columns()
    return download_response(
        problems, columns, fmt=fmt, actor=request.user, tenant=request.tenant, title=_("Error list"),
        filename=f"foutmeldingen-{slugify(request.tenant.name)}-{datetime.date.today():%Y%m%d}",
    )


# --- recipients --------------------------------------------------------------------------------


def _own_recipient_or_404(request, pk: int) -> ErrorReportRecipient:
    """Only the current environment's own addresses can be changed here; others answer 404."""
    return get_object_or_404(ErrorReportRecipient, pk=pk, tenant=request.tenant)


@environment_required
@require_http_methods(["GET", "POST"])
def recipient_list(request):
    require_perm(request, "quality.view_errorreportrecipient")
    form = RecipientForm(request.POST or None)
    if request.method == "POST":
        require_perm(request, "quality.add_errorreportrecipient")
        if form.is_valid():
            try:
                recipient = recipient_add(
                    tenant=request.tenant, email=form.cleaned_data["email"], active=form.cleaned_data["active"]
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("%(email)s now receives the error reports.") % {"email": recipient.email})
                return redirect("quality_recipient_list")
    recipients = ErrorReportRecipient.objects.filter(tenant=request.tenant).order_by("email")
    return render(request, "quality/recipient_list.html", {
        "form": form, "recipients": recipients,
        "can_change": request.user.has_perm("quality.change_errorreportrecipient", request.tenant),
        "can_delete": request.user.has_perm("quality.delete_errorreportrecipient", request.tenant),
    })


@environment_required
@require_POST
def recipient_toggle(request, pk: int):
    recipient = _own_recipient_or_404(request, pk)
    require_perm(request, "quality.change_errorreportrecipient")
    recipient_set_active(recipient=recipient, active=not recipient.active)
    if recipient.active:
        messages.success(request, _("%(email)s receives the error reports again.") % {"email": recipient.email})
    else:
        messages.success(request, _("%(email)s no longer receives the error reports.") % {"email": recipient.email})
    return redirect("quality_recipient_list")


@environment_required
@require_POST
def recipient_remove(request, pk: int):
    recipient = _own_recipient_or_404(request, pk)
    require_perm(request, "quality.delete_errorreportrecipient")
    recipient_delete(recipient=recipient)
    messages.success(request, _("%(email)s has been removed.") % {"email": recipient.email})
    return redirect("quality_recipient_list")


@environment_required
def recipient_overview(request):
    """Every environment the user sees here, with the addresses it mails its reports to (from
    the national environment: the whole federation)."""
    require_perm(request, "quality.view_errorreportrecipient")
    tenants = Tenant.objects.visible_to(request.user, request.tenant).prefetch_related(
        Prefetch("error_report_recipients", queryset=ErrorReportRecipient.objects.order_by("email"))
    )
    return render(request, "quality/recipient_overview.html", {
        "tenants": tenants, "recipients_url": reverse("quality_recipient_list"),
    })


# --- the national choice of rules ------------------------------------------------------------------


@environment_required
@require_http_methods(["GET", "POST"])
def rule_list(request):
    require_perm(request, "quality.change_qualityrulesetting")
    if request.method == "POST":
        changed = quality.rule_settings_save(active_codes=request.POST.getlist("active"))
        if changed:
            messages.success(request, _("The checks have been saved; they apply from the next check."))
        else:
            messages.info(request, _("Nothing changed."))
        return redirect("quality_rule_list")
    states = quality.rule_states()
    open_counts = dict(
        DataProblem.objects.filter(closed_on__isnull=True).values_list("rule").annotate(n=Count("pk")).order_by()
    )
    rules = [
        {"rule": rule, "active": states[rule.code], "open": open_counts.get(rule.code, 0)} for rule in quality.RULES
    ]
    return render(request, "quality/rule_list.html", {
        "field_rules": [r for r in rules if r["rule"].mandatory_field],
        "other_rules": [r for r in rules if not r["rule"].mandatory_field],
        "runs": JobRun.objects.order_by("-started_at")[:10],
    })


# --- the federation's retention period (GDPR) ------------------------------------------------------

RETENTION_LIST_LIMIT = 200


@environment_required
@require_http_methods(["GET", "POST"])
def retention(request):
    require_perm(request, "quality.change_retentionsetting")
    setting = retention_setting()
    form = RetentionForm(request.POST or None, initial={"years": setting.years})
    if request.method == "POST" and form.is_valid():
        try:
            retention_setting_save(actor=request.user, years=form.cleaned_data["years"])
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("The retention period has been saved; it applies from the next night."))
            return redirect("quality_retention")
    today = timezone.localdate()
    candidates = retention_candidates(today)
    return render(request, "quality/retention.html", {
        "form": form, "setting": setting, "candidates": candidates[:RETENTION_LIST_LIMIT],
        "candidate_count": candidates.count(), "limit": RETENTION_LIST_LIMIT,
    })
