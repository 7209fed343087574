"""The relation card: editing, address completion, and the tabs Data, History and Communication.
"+ Relatie" (a card with its first function) and the Functions tab live in memberships.views;
other apps add tabs, panels and history through relations.card."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from ledenbeheer import addresses
from tenants.access import environment_required, require_perm

from .. import card, privacy, services
from ..access import get_relation_or_404, merged_card_target
from ..card import HistoryChange, HistoryEvent, history_field_changes, history_who
from ..forms import (
    CommunicationEntryForm,
    CommunicationFilterForm,
    RelationForm,
    add_service_error,
)
from ..models import CommunicationEntry, CommunicationType, CustomFieldType, Relation

COMMUNICATION_PAGE_SIZE = 50


def card_context(request, relation: Relation, tab: str) -> dict[str, Any]:
    """What the card's header and tab bar need (templates/relations/_card_header.html); the
    tabs are relations' own and those other apps registered (relations.card)."""
    user, tenant = request.user, request.tenant
    return {
        "relation": relation,
        "tab": tab,
        "card_tabs": [
            {"key": t.key, "label": t.label, "url": reverse(t.url_name, args=[relation.pk])}
            for t in card.tabs()
            if t.permission is None or user.has_perm(t.permission, tenant)
        ],
        "can_edit": user.has_perm("relations.change_relation", tenant),
    }


# --- edit --------------------------------------------------------------------------------------


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
    fields as the user typed them: typing the address by hand always works, and when the lookup
    cannot be reached the page says the address was not checked."""
    require_perm(request, "relations.view_relation")
    country = (request.GET.get("country") or "NL").upper()
    address = None
    looked_up = unavailable = False
    try:
        postcode = addresses.clean_postcode(request.GET.get("postcode", ""), country)
        house_number = int(request.GET.get("house_number", ""))
    except (ValidationError, ValueError):
        postcode, house_number = "", 0
    if country == "NL" and postcode and house_number > 0:
        looked_up = True
        try:
            address = addresses.address_lookup(postcode, house_number)
        except addresses.LookupUnavailable:
            unavailable = True
    context = {"address": address, "looked_up": looked_up, "unavailable": unavailable}
    return render(request, "relations/relation_form.html#address_lookup", context)


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
    relation = get_relation_or_404(request, pk, merged=True)
    if relation.merged_into_id is not None:
        # A merged card's address (and number) keeps opening the card it was merged into.
        kept = merged_card_target(request, pk)
        if kept is None:
            raise Http404
        messages.info(request, _("This relation was merged into this card."))
        return redirect("relation_detail", pk=kept)
    privacy.card_view_record(user=request.user, relation=relation)
    extra = relation.extra or {}
    custom_values = [
        (custom_field.label, _custom_value_display(custom_field, extra.get(custom_field.code)))
        for custom_field in services.custom_fields_for(relation.tenant)
    ]
    context = {
        **card_context(request, relation, "data"), "custom_values": custom_values,
        "panels": card.panels_for(request, relation),
    }
    return render(request, "relations/relation_detail.html", context)


# --- the History tab ---------------------------------------------------------------------------


ACTIONS = {
    "relation_created": gettext_lazy("Relation created"),
    "relation_changed": gettext_lazy("Relation changed"),
}
RELATION_HISTORY_SKIP = {"extra"}


def _extra_changes(labels: dict[str, str], new: dict, old: dict) -> list[HistoryChange]:
    new, old = new or {}, old or {}
    return [
        HistoryChange(labels.get(code, code), old.get(code), new.get(code))
        for code in sorted(set(new) | set(old))
        if new.get(code) != old.get(code)
    ]


def relation_history_events(relation: Relation) -> list[HistoryEvent]:
    """Every change to the relation and to what other apps registered as part of the card (its
    functions), newest first: one query per model, the field differences computed from
    consecutive records."""
    events: list[HistoryEvent] = []
    labels = {f.code: f.label for f in services.custom_fields_for(relation.tenant)}
    records = list(
        Relation.history.filter(id=relation.pk).select_related("history_user", "history_on_behalf_of", "tenant")
        .order_by("history_date", "history_id")
    )
    previous = None
    for record in records:
        if previous is None or record.history_type == "+":
            events.append(HistoryEvent(record.history_date, history_who(record), relation.display_name,
                                       ACTIONS["relation_created"], order=record.history_id))
        else:
            changes = history_field_changes(Relation, record, previous, RELATION_HISTORY_SKIP)
            changes += _extra_changes(labels, record.extra, previous.extra)
            if changes:
                events.append(HistoryEvent(record.history_date, history_who(record), relation.display_name,
                                           ACTIONS["relation_changed"], changes, order=record.history_id))
        previous = record

    for source in card.history_sources():
        events.extend(source(relation))
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
