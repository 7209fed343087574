"""The relation card: "+ Relatie", editing, address completion, and the tabs Data, History and
Communication (the Functions tab lives in memberships.views)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from ledenbeheer import addresses
from memberships.models import Function
from quality.services import relation_problems
from tenants.access import environment_required, require_perm
from tenants.models import Tenant, TenantKind

from .. import privacy, services
from ..access import get_relation_or_404
from ..forms import (
    CommunicationEntryForm,
    CommunicationFilterForm,
    RelationCreateForm,
    RelationForm,
    add_service_error,
)
from ..models import CommunicationEntry, CommunicationType, CustomFieldType, Relation

COMMUNICATION_PAGE_SIZE = 50


def card_context(request, relation: Relation, tab: str) -> dict[str, Any]:
    """What the card's header and tab bar need (templates/relations/_card_header.html)."""
    user, tenant = request.user, request.tenant
    return {
        "relation": relation,
        "tab": tab,
        "can_edit": user.has_perm("relations.change_relation", tenant),
        "can_view_communication": user.has_perm("relations.view_communicationentry", tenant),
        "can_view_privacy": user.has_perm("relations.view_relationview", tenant),
        "can_view_billing": user.has_perm("billing.view_invoice", tenant),
    }


def function_tenants(request):
    """Where a function may be given from this environment: its own subtree."""
    return Tenant.objects.visible_to(request.user, request.tenant).order_by("path")


# --- add and edit ------------------------------------------------------------------------------


@environment_required
@require_http_methods(["GET", "POST"])
def relation_create(request):
    require_perm(request, "relations.add_relation")
    form = RelationCreateForm(
        request.POST or None, custom_fields=services.custom_fields_for(request.tenant),
        tenants=function_tenants(request), initial={"tenant": request.tenant},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        function_tenant = data["tenant"]
        if not request.user.has_perm("memberships.add_function", function_tenant):
            raise PermissionDenied
        # A member lives in the department where they are a member; anything else is homed in
        # the environment where the card was made.
        home = function_tenant if function_tenant.kind == TenantKind.DEPARTMENT else request.tenant
        try:
            relation = services.relation_create(
                actor=request.user, tenant=home, data=form.relation_data, extra=form.extra_data,
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


@environment_required
@require_http_methods(["GET", "POST"])
def relation_edit(request, pk: int):
    relation = get_relation_or_404(request, pk)
    require_perm(request, "relations.change_relation")
    form = RelationForm(request.POST or None, instance=relation, custom_fields=services.custom_fields_for(relation.tenant))
    if request.method == "POST" and form.is_valid():
        try:
            services.relation_update(actor=request.user, relation=relation, data=form.relation_data, extra=form.extra_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("The card has been saved."))
            return redirect("relation_detail", pk=relation.pk)
    return render(request, "relations/relation_form.html", {"form": form, **card_context(request, relation, "data")})


@environment_required
@require_GET
def address_lookup(request):
    """Fill in street and city from postcode and house number (htmx). No answer leaves the
    fields as they are: typing the address by hand always works."""
    require_perm(request, "relations.view_relation")
    country = (request.GET.get("country") or "NL").upper()
    address = None
    looked_up = False
    try:
        postcode = addresses.clean_postcode(request.GET.get("postcode", ""), country)
        house_number = int(request.GET.get("house_number", ""))
    except (ValidationError, ValueError):
        postcode, house_number = "", 0
    if country == "NL" and postcode and house_number > 0:
        looked_up = True
        address = addresses.address_lookup(postcode, house_number)
    return render(
        request, "relations/relation_form.html#address_lookup", {"address": address, "looked_up": looked_up}
    )


# --- the Data tab ------------------------------------------------------------------------------


def _custom_value_display(custom_field, value):
    if value is None:
        return None
    if custom_field.field_type == CustomFieldType.BOOLEAN:
        return _("Yes") if value else _("No")
    if custom_field.field_type == CustomFieldType.DATE:
        try:
            return datetime.date.fromisoformat(value)
        except (TypeError, ValueError):
            return value
    return value


@environment_required
def relation_detail(request, pk: int):
    relation = get_relation_or_404(request, pk)
    privacy.card_view_record(user=request.user, relation=relation)
    extra = relation.extra or {}
    custom_values = [
        (custom_field.label, _custom_value_display(custom_field, extra.get(custom_field.code)))
        for custom_field in services.custom_fields_for(relation.tenant)
    ]
    context = {
        **card_context(request, relation, "data"), "custom_values": custom_values,
        "data_problems": relation_problems(relation.pk),
    }
    return render(request, "relations/relation_detail.html", context)


# --- the History tab ---------------------------------------------------------------------------


@dataclass
class HistoryChange:
    field: str
    old: Any
    new: Any


@dataclass
class HistoryEvent:
    when: datetime.datetime
    who: str
    subject: str
    action: str
    changes: list[HistoryChange] = field(default_factory=list)
    order: int = 0


ACTIONS = {
    "relation_created": gettext_lazy("Relation created"),
    "relation_changed": gettext_lazy("Relation changed"),
    "function_added": gettext_lazy("Function added"),
    "function_changed": gettext_lazy("Function changed"),
    "function_ended": gettext_lazy("Function ended"),
    "function_deleted": gettext_lazy("Function deleted"),
}
RELATION_HISTORY_SKIP = {"extra"}
FUNCTION_HISTORY_SKIP = {"relation", "created_by"}


def _display(model, name: str, record, value):
    """A readable value: the related object for foreign keys (select_related already loaded
    it), the label for choices."""
    model_field = model._meta.get_field(name)
    if value is None or value == "":
        return None
    if model_field.is_relation:
        return getattr(record, name, None) or value
    if model_field.choices:
        return dict(model_field.flatchoices).get(value, value)
    return value


def _field_changes(model, new, old, skip: set[str]) -> list[HistoryChange]:
    changes = []
    for change in new.diff_against(old, excluded_fields=skip).changes:
        label = model._meta.get_field(change.field).verbose_name
        changes.append(HistoryChange(
            str(label)[:1].upper() + str(label)[1:],
            _display(model, change.field, old, change.old),
            _display(model, change.field, new, change.new),
        ))
    return changes


def _extra_changes(labels: dict[str, str], new: dict, old: dict) -> list[HistoryChange]:
    new, old = new or {}, old or {}
    return [
        HistoryChange(labels.get(code, code), old.get(code), new.get(code))
        for code in sorted(set(new) | set(old))
        if new.get(code) != old.get(code)
    ]


def _who(record) -> str:
    who = record.history_user.username if record.history_user_id and record.history_user else "—"
    if record.history_on_behalf_of_id and record.history_on_behalf_of:
        # Looking along (SPEC T7): the person who really acted, for the one whose ledenmodule it was.
        return _("%(actor)s on behalf of %(user)s") % {"actor": who, "user": record.history_on_behalf_of.username}
    return who


def relation_history_events(relation: Relation) -> list[HistoryEvent]:
    """Every change to the relation and its functions, newest first: one query per model, the
    field differences computed here from consecutive records."""
    events: list[HistoryEvent] = []
    labels = {f.code: f.label for f in services.custom_fields_for(relation.tenant)}
    records = list(
        Relation.history.filter(id=relation.pk).select_related("history_user", "history_on_behalf_of", "tenant")
        .order_by("history_date", "history_id")
    )
    previous = None
    for record in records:
        if previous is None or record.history_type == "+":
            events.append(HistoryEvent(record.history_date, _who(record), relation.display_name,
                                       ACTIONS["relation_created"], order=record.history_id))
        else:
            changes = _field_changes(Relation, record, previous, RELATION_HISTORY_SKIP)
            changes += _extra_changes(labels, record.extra, previous.extra)
            if changes:
                events.append(HistoryEvent(record.history_date, _who(record), relation.display_name,
                                           ACTIONS["relation_changed"], changes, order=record.history_id))
        previous = record

    function_records = list(
        Function.history.filter(relation_id=relation.pk)
        .select_related("history_user", "history_on_behalf_of", "function_type", "tenant", "cancellation_reason")
        .order_by("history_date", "history_id")
    )
    last_by_function: dict[int, Any] = {}
    for record in function_records:
        subject = f"{record.function_type} — {record.tenant}"
        before = last_by_function.get(record.id)
        if record.history_type == "-":
            events.append(HistoryEvent(record.history_date, _who(record), subject, ACTIONS["function_deleted"]))
        elif before is None or record.history_type == "+":
            events.append(HistoryEvent(
                record.history_date, _who(record), subject, ACTIONS["function_added"],
                [HistoryChange(str(_("Start date")), None, record.start_date)]
                + ([HistoryChange(str(_("End date")), None, record.end_date)] if record.end_date else []),
            ))
        else:
            changes = _field_changes(Function, record, before, FUNCTION_HISTORY_SKIP)
            ended = record.end_date is not None and record.end_date != before.end_date
            if changes:
                events.append(HistoryEvent(
                    record.history_date, _who(record), subject,
                    ACTIONS["function_ended" if ended else "function_changed"], changes,
                ))
        last_by_function[record.id] = record
    events.sort(key=lambda e: e.when, reverse=True)
    return events


@environment_required
def relation_history(request, pk: int):
    relation = get_relation_or_404(request, pk)
    context = {**card_context(request, relation, "history"), "events": relation_history_events(relation)}
    return render(request, "relations/relation_history.html", context)


# --- the Communication tab ---------------------------------------------------------------------


@environment_required
@require_http_methods(["GET", "POST"])
def relation_communication(request, pk: int):
    relation = get_relation_or_404(request, pk)
    require_perm(request, "relations.view_communicationentry")
    types = CommunicationType.objects.filter(tenant__path__in=request.tenant.ancestor_paths()).order_by("name")
    type_list = list(types)
    can_add = request.user.has_perm("relations.add_communicationentry", request.tenant)
    entry_form = None
    if request.method == "POST":
        require_perm(request, "relations.add_communicationentry")
        entry_form = CommunicationEntryForm(request.POST, types=types, type_required=bool(type_list))
        if entry_form.is_valid():
            data = entry_form.cleaned_data
            try:
                services.communication_entry_add(
                    actor=request.user, relation=relation, tenant=request.tenant, subject=data["subject"],
                    body=data["body"], date=data["date"], communication_type=data["communication_type"],
                )
            except ValidationError as error:
                add_service_error(entry_form, error)
            else:
                messages.success(request, _("The entry has been added to the communication log."))
                return redirect("relation_communication", pk=relation.pk)
    elif can_add:
        entry_form = CommunicationEntryForm(types=types, type_required=bool(type_list))
    filter_form = CommunicationFilterForm(request.GET or None, types=type_list)
    entries = filter_form.filter(
        CommunicationEntry.objects.filter(relation=relation).select_related("communication_type", "created_by")
    )
    page = Paginator(entries, COMMUNICATION_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        **card_context(request, relation, "communication"),
        "filter_form": filter_form, "entry_form": entry_form, "page": page,
    }
    template = "relations/relation_communication.html"
    if request.htmx and request.method == "GET":
        template += "#entries"
    return render(request, template, context)
