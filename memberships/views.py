""""+ Relatie" (a new card with its first function); the card's "Functies" tab: list, add, end,
delete (national only) and transfer (SPEC R3–R6); the federation's notice rules and cancellation
reasons for ending memberships."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from relations.access import get_relation_or_404
from relations.forms import add_service_error
from relations.models import Relation
from relations.selection import clean_query_string, list_url, selected_ids
from relations.services import custom_fields_for, relation_home_for
from relations.views.card import card_context
from tenants.access import environment_required, require_perm
from tenants.models import Tenant, TenantKind
from tenants.periods import has_ended

from . import card, services
from .forms import (
    CancellationReasonForm,
    FunctionDatesForm,
    FunctionEndForm,
    FunctionForm,
    MembershipsBulkEndForm,
    MemberTransferForm,
    NoticeRuleForm,
    RelationCreateForm,
)
from .models import CancellationReason, Function, NoticeRule


def function_tenants(request):
    """Where a function may be given from this environment: its own subtree."""
    return Tenant.objects.visible_to(request.user, request.tenant).order_by("path")


# --- "+ Relatie" -------------------------------------------------------------------------------


@environment_required
@require_http_methods(["GET", "POST"])
def relation_create(request):
    require_perm(request, "relations.add_relation")
    form = RelationCreateForm(
        request.POST or None, custom_fields=custom_fields_for(request.tenant),
        tenants=function_tenants(request), initial={"tenant": request.tenant},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        function_tenant = data["tenant"]
        if not request.user.has_perm("memberships.add_function", function_tenant):
            raise PermissionDenied
        try:
            relation = card.relation_create(
                actor=request.user,
                tenant=relation_home_for(function_tenant=function_tenant, environment=request.tenant), data=form.relation_data, extra=form.extra_data,
                function_type=data["function_type"], function_tenant=function_tenant,
                start_date=data["start_date"],
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request, _("%(name)s has been added with relation number %(number)s.")
                % {"name": relation.display_name, "number": relation.number},
            )
            return redirect("relation_detail", pk=relation.pk)
    return render(request, "relations/relation_form.html", {"form": form, "relation": None})


# --- the Functions tab -------------------------------------------------------------------------


def _get_function_or_404(relation: Relation, pk: int) -> Function:
    return get_object_or_404(
        Function.objects.select_related("function_type", "tenant", "relation"), pk=pk, relation=relation
    )


@environment_required
def function_list(request, pk: int):
    relation = get_relation_or_404(request, pk)
    require_perm(request, "memberships.view_function")
    today = datetime.date.today()
    functions = list(
        Function.objects.filter(relation=relation).select_related("function_type", "tenant", "cancellation_reason")
    )
    answers: dict[tuple[str, int], bool] = {}

    def may(perm: str, function: Function) -> bool:
        # Roles answer through the function's tenant, so the buttons ask about the tenant, once
        # each: asking about every row would cost django-guardian two queries per "no". The
        # action views ask about the function itself.
        key = (perm, function.tenant_id)
        if key not in answers:
            answers[key] = request.user.has_perm(perm, function.tenant)
        return answers[key]

    for function in functions:
        function.is_past = has_ended(function.end_date, today)
        function.can_correct = may("memberships.change_function", function)
        function.can_end = not function.is_past and function.can_correct
        function.can_delete = may("memberships.delete_function", function)
        function.can_transfer = (
            function.function_type.counts_as_membership and not function.is_past
            and function.tenant.kind == TenantKind.DEPARTMENT
            and may("memberships.transfer_member", function)
        )
    # Current (and future) functions first, newest start first; then past ones, latest end first.
    functions.sort(key=lambda f: (f.is_past, -(f.end_date if f.is_past else f.start_date).toordinal(), f.pk))
    context = {
        **card_context(request, relation, "functions"),
        "functions": functions,
        "can_add": request.user.has_perm("memberships.add_function", request.tenant),
    }
    return render(request, "memberships/function_list.html", context)


@environment_required
@require_http_methods(["GET", "POST"])
def function_add(request, pk: int):
    relation = get_relation_or_404(request, pk)
    require_perm(request, "memberships.add_function")
    form = FunctionForm(request.POST or None, tenants=function_tenants(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not request.user.has_perm("memberships.add_function", data["tenant"]):
            raise PermissionDenied
        try:
            function = services.function_start(
                actor=request.user, relation=relation, function_type=data["function_type"], tenant=data["tenant"],
                start_date=data["start_date"], end_date=data["end_date"],
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("%(function)s has been added.") % {"function": function})
            return redirect("function_list", pk=relation.pk)
    return render(request, "memberships/function_form.html", {"form": form, **card_context(request, relation, "functions")})


@environment_required
@require_http_methods(["GET", "POST"])
def function_end(request, pk: int, function_pk: int):
    relation = get_relation_or_404(request, pk)
    function = _get_function_or_404(relation, function_pk)
    require_perm(request, "memberships.change_function", function)
    form = FunctionEndForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ended = form.end(actor=request.user, function=function)
        if ended is not None:
            messages.success(
                request, ngettext("%(count)s function ends on %(date)s.", "%(count)s functions end on %(date)s.", len(ended))
                % {"count": len(ended), "date": date_format(ended[0].end_date, "SHORT_DATE_FORMAT")},
            )
            return redirect("function_list", pk=relation.pk)
    others = []
    if function.function_type.counts_as_membership:
        others = list(
            Function.objects.filter(relation=relation).exclude(pk=function.pk)
            .not_ended(datetime.date.today()).select_related("function_type", "tenant")
        )
    context = {**card_context(request, relation, "functions"), "form": form, "function": function, "others": others}
    return render(request, "memberships/function_end.html", context)


@environment_required
@require_http_methods(["GET", "POST"])
def function_dates(request, pk: int, function_pk: int):
    """Correct a function's start and end date (a wrong date no longer means delete and add)."""
    relation = get_relation_or_404(request, pk)
    function = _get_function_or_404(relation, function_pk)
    require_perm(request, "memberships.change_function", function)
    initial = {"start_date": function.start_date, "end_date": function.end_date}
    form = FunctionDatesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid() and form.correct(actor=request.user, function=function):
        messages.success(request, _("The dates of %(function)s have been corrected.") % {"function": function})
        return redirect("function_list", pk=relation.pk)
    context = {**card_context(request, relation, "functions"), "form": form, "function": function}
    return render(request, "memberships/function_dates.html", context)


@environment_required
@require_http_methods(["GET", "POST"])
def function_delete(request, pk: int, function_pk: int):
    relation = get_relation_or_404(request, pk)
    function = _get_function_or_404(relation, function_pk)
    require_perm(request, "memberships.delete_function", function)
    if request.method == "POST":
        services.function_delete(actor=request.user, function=function)
        messages.success(request, _("The function %(function)s has been deleted.") % {"function": function})
        return redirect("function_list", pk=relation.pk)
    return render(request, "memberships/function_delete.html", {**card_context(request, relation, "functions"), "function": function})


def transfer_departments(request, function: Function):
    """Departments this user may move the member to: any department with the national power,
    otherwise those in the membership's province."""
    departments = Tenant.objects.enterable_by(request.user).filter(kind=TenantKind.DEPARTMENT).order_by("path")
    if request.user.has_perm("memberships.transfer_member_across_provinces", function):
        return departments
    return departments.filter(Tenant.subtree_filter_at(function.tenant.parent_path))


@environment_required
@require_http_methods(["GET", "POST"])
def member_transfer(request, pk: int, function_pk: int):
    relation = get_relation_or_404(request, pk)
    function = _get_function_or_404(relation, function_pk)
    require_perm(request, "memberships.transfer_member", function)
    form = MemberTransferForm(request.POST or None, departments=transfer_departments(request, function))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.member_transfer(
                actor=request.user, function=function, to_department=data["to_department"], date=data["date"],
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request, _("%(name)s moves to %(department)s on %(date)s.")
                % {"name": relation.display_name, "department": data["to_department"].name,
                   "date": date_format(data["date"], "SHORT_DATE_FORMAT")},
            )
            # Moved out of this environment: the card no longer opens here.
            if not Relation.objects.visible_to(request.user, request.tenant).filter(pk=relation.pk).exists():
                return redirect("relation_list")
            return redirect("function_list", pk=relation.pk)
    context = {**card_context(request, relation, "functions"), "form": form, "function": function}
    return render(request, "memberships/member_transfer.html", context)


# --- the federation's notice rules for ending memberships: a national configuration screen ---


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


# --- ending the memberships of relations selected in the relation list -------------------------


@environment_required
@require_http_methods(["GET", "POST"])
def memberships_bulk_end(request):
    """End the current memberships of the relations selected in the relation list, all at once
    (SPEC R4)."""
    require_perm(request, "memberships.change_function")
    data = request.POST if request.method == "POST" else request.GET
    today = datetime.date.today()
    relations = Relation.objects.visible_to(request.user, request.tenant).filter(
        pk__in=selected_ids(data.getlist("relation"))
    )
    memberships = (
        Function.objects.memberships()
        .not_ended(today)
        .filter(request.tenant.subtree_filter("tenant"), relation__in=relations)
        .select_related("relation", "tenant", "function_type")
        .order_by("relation__last_name", "relation__first_name", "relation__number", "start_date", "pk")
    )
    selected = list(memberships)
    next_query = clean_query_string(data.get("next", ""))
    form = MembershipsBulkEndForm(
        request.POST or None,
        memberships=memberships,
        initial={"end_date": today, "functions": [f.pk for f in selected]},
    )
    if request.method == "POST" and form.is_valid():
        chosen = list(form.cleaned_data["functions"])
        try:
            ended = services.functions_bulk_end(
                actor=request.user, functions=chosen, end_date=form.cleaned_data["end_date"],
                reason=form.cleaned_data["reason"], note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            # The service ends all or nothing; its reason is about the end date of one of them.
            form.add_error("end_date", error)
        else:
            message = ngettext(
                "%(count)d membership has been ended.", "%(count)d memberships have been ended.", len(chosen)
            ) % {"count": len(chosen)}
            if ended > len(chosen):
                message += " " + ngettext(
                    "%(count)d other function of these relations ended with them.",
                    "%(count)d other functions of these relations ended with them.",
                    ended - len(chosen),
                ) % {"count": ended - len(chosen)}
            messages.success(request, message)
            return redirect(list_url(next_query))
    selected_relation_ids = sorted({f.relation_id for f in selected})
    context = {
        "form": form,
        "memberships": selected,
        "relation_ids": selected_relation_ids,
        "requested_count": len(set(selected_ids(data.getlist("relation")))),
        "next_query": next_query,
        "back_url": list_url(next_query),
    }
    return render(request, "memberships/memberships_bulk_end.html", context)


# --- the federation's reasons for ending a membership: a national configuration screen ---


@environment_required
@require_http_methods(["GET", "POST"])
def cancellation_reason_list(request):
    """The federation's list of reasons for ending a membership (national only)."""
    require_perm(request, "memberships.change_cancellationreason")
    reasons = CancellationReason.objects.all()
    form = CancellationReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("The reason has been added."))
        return redirect("cancellation_reason_list")
    return render(request, "memberships/cancellation_reason_list.html", {"reasons": reasons, "form": form})


@environment_required
@require_http_methods(["GET", "POST"])
def cancellation_reason_edit(request, pk: int):
    require_perm(request, "memberships.change_cancellationreason")
    reason = get_object_or_404(CancellationReason, pk=pk)
    form = CancellationReasonForm(request.POST or None, instance=reason)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("The reason has been saved."))
        return redirect("cancellation_reason_list")
    return render(request, "memberships/cancellation_reason_form.html", {"form": form, "reason": reason})
