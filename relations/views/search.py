"""Relation search ("Relaties beheren", SPEC R2): the list with its search box, filters and chosen
columns; CSV/XLSX exports of the result; saved searches; the column choice. Ending the memberships
of selected relations (SPEC R4) is memberships' `memberships_bulk_end`."""

from __future__ import annotations

import datetime
import html

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tenants.access import environment_required, require_perm
from tenants.forms import DATE_DISPLAY_FORMAT
from tenants.models import Tenant

from ..exports import ExportRows, ListedRows, download_response
from ..filters import (
    BOOLEAN,
    CHOICE,
    DATE,
    OPERATOR_LABELS,
    Column,
    RelationFilter,
    as_text,
    chosen_columns,
    columns_for,
    export_columns,
    function_search,
    parse_date,
    search_fields,
)
from ..models import Relation, SavedSearch
from ..paging import search_count, search_page
from ..selection import clean_query_string, list_url
from ..services import column_choice_for, column_choice_reset, column_choice_save, custom_fields_for

PAGE_SIZE = 50


def _search(request) -> RelationFilter:
    return RelationFilter(request.GET, tenant=request.tenant, custom_fields=custom_fields_for(request.tenant))


def _error_list(search: RelationFilter) -> list[tuple[str, list[str]]]:
    """The search's errors with a readable name for the input each belongs to."""
    named = []
    for key, errors in search.errors.items():
        if key.startswith("col_"):
            column = search.columns.get(key[4:])
            label = column.label if column else key
        elif key == "member_on":
            label = _("Was a member on")
        elif key == "department":
            label = _("Department")
        else:
            name, _sep, operator = key.rpartition("__")
            field = search.fields.get(name)
            label = f"{field.label} ({OPERATOR_LABELS.get(operator, operator)})" if field else key
        named.append((label, errors))
    return named


@environment_required
def relation_list(request):
    require_perm(request, "relations.view_relation")
    search = _search(request)
    if search.has_empty_values and not request.htmx:
        # A search form sent without JavaScript: the same search at a URL fit to bookmark.
        return redirect(list_url(search.query_string(without=())))
    if request.GET.get("panel") == "1":
        return _extended_search(request, search)

    columns = chosen_columns(search.columns, column_choice_for(request.user))
    visible = Relation.objects.visible_to(request.user, request.tenant)
    matches = search.filter_queryset(visible)
    result = search_page(
        matches, ordering=search.ordering(), page_number=request.GET.get("page"), per_page=PAGE_SIZE,
        prepare=ListedRows(columns, request.tenant), first=search.exact, probe=visible,
        uncounted=search.only_short_words, words=search.box_words,
    )
    page = result.page
    page.object_list = list(page.object_list)
    card_url = _card_url()
    for relation in page.object_list:
        relation.cells = [(column.key, as_text(value)) for column, value in zip(columns, relation.values, strict=True)]
        relation.row_html = _row_html(relation, card_url(relation.pk))

    chosen_keys = {c.key for c in columns}
    context = {
        "search": search,
        "query": search.query,
        "page": page,
        "result": result,
        "headers": _headers(request, search, columns),
        "column_count": len(columns) + 1,
        "current_query": search.query_string(without=("page", "panel")),
        "hidden_params": search.hidden_params(),
        "error_list": _error_list(search),
        "available_columns": [(c, c.key in chosen_keys) for c in search.columns.values()],
        "can_export": request.user.has_perm("relations.export_relation", request.tenant),
        "can_bulk_end": request.user.has_perm("memberships.change_function", request.tenant),
        "can_send_documents": request.user.has_perm("notifications.send_document", request.tenant),
        "can_invite": request.user.has_perm("relations.change_relation", request.tenant),
        "show_results": True,
    }
    partial = request.htmx and not request.htmx.history_restore_request
    template = "relations/relation_list.html#results" if partial else "relations/relation_list.html"
    response = render(request, template, context)
    if partial:
        # The address bar shows the search without the form's empty boxes.
        response["HX-Push-Url"] = list_url(search.query_string(without=("panel",)))
    patch_vary_headers(response, ["HX-Request"])
    return response


@environment_required
def relation_count(request):
    """How many relations a search finds, for a first page shown before it was counted
    (`count_later`): the list's count line, which the results load in its place (htmx)."""
    require_perm(request, "relations.view_relation")
    search = _search(request)
    matches = search.filter_queryset(Relation.objects.visible_to(request.user, request.tenant))
    count, capped = search_count(matches)
    context = {"result": {"count": count, "capped": capped}}
    response = render(request, "relations/relation_list.html#count", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# The columns whose cell links to the card.
LINKED_COLUMNS = frozenset({"name", "number"})
_PK_MARK = 987654321987


def _card_url():
    """`url(pk)`: the card's address, from one `reverse` for the whole page (fifty reverses per
    page cost more than the page's query)."""
    before, _mark, after = reverse("relation_detail", args=[_PK_MARK]).partition(str(_PK_MARK))
    return lambda pk: f"{before}{pk}{after}"


def _row_html(relation, url: str) -> SafeString:
    """A result row as HTML, its checkbox and its cells, every text escaped: built here rather than
    in the template, where the 50 rows' 300 cells and 200 values cost more than finding them
    (docs/benchmarks.md, issue 16). `html.escape` escapes what Django's `escape` does (it calls
    it), without making a SafeString of every cell."""
    label = html.escape(_("Select %(name)s") % {"name": relation.display_name})
    parts = [
        f'<tr data-testid="relation-row" data-relation-id="{relation.pk}">'
        f'<td><input class="form-check-input" type="checkbox" name="relation" value="{relation.pk}" aria-label="{label}"></td>'
    ]
    for key, text in relation.cells:
        if key in LINKED_COLUMNS:
            parts.append(f'<td><a href="{url}">{html.escape(text) if text else "—"}</a></td>')
        else:
            parts.append(f"<td>{html.escape(text)}</td>")
    parts.append("</tr>")
    return mark_safe("".join(parts))  # noqa: S308 (every text escaped above; the id is a number)


def _headers(request, search: RelationFilter, columns: list[Column]) -> list[dict]:
    """The result's column headers: a link that sorts on the column (again: the other way round)
    and the column's box in the filter row."""
    sort = request.GET.get("sort", "")
    headers = []
    for column in columns:
        sort_link = None
        if column.sort:
            next_sort = f"-{column.key}" if sort == column.key else column.key
            sort_link = "?" + search.query_string(without=("page", "panel"), sort=next_sort)
        headers.append({
            "column": column,
            "sort_link": sort_link,
            "direction": "asc" if sort == column.key else "desc" if sort == f"-{column.key}" else "",
            "filterable": column.filterable,
            "filter_value": request.GET.get(f"col_{column.key}", ""),
        })
    return headers


def _extended_search(request, search: RelationFilter) -> HttpResponse:
    """The extended filters and saved searches: loaded into the list page when its panel is opened
    (htmx), or as a page of their own without JavaScript."""
    panel_fields = []
    for field in search.fields.values():
        def values(operator, key=field.key):
            return [v for v in request.GET.getlist(f"{key}__{operator}") if v.strip()]

        entry = {"field": field, "errors": []}
        for operator in field.operators:
            entry["errors"] += search.errors.get(f"{field.key}__{operator}", [])
        if field.kind in (CHOICE, BOOLEAN):
            chosen = set(values("equals"))
            entry["choices"] = [(code, label, code in chosen) for code, label in field.choices]
        else:
            if "contains" in field.operators:
                entry["contains"] = _inputs(field.kind, [*values("contains"), ""], text=True)
            entry["equals"] = _inputs(field.kind, [*values("equals"), ""])
            if "from" in field.operators:
                lows = request.GET.getlist(f"{field.key}__from")
                highs = request.GET.getlist(f"{field.key}__to")
                pairs = [(lows[i] if i < len(lows) else "", highs[i] if i < len(highs) else "")
                         for i in range(max(len(lows), len(highs)))]
                pairs = [p for p in pairs if p[0].strip() or p[1].strip()] + [("", "")]
                entry["ranges"] = [(_inputs(field.kind, [low])[0], _inputs(field.kind, [high])[0]) for low, high in pairs]
        panel_fields.append(entry)
    departments = list(Tenant.objects.visible_to(request.user, request.tenant).order_by("path").only("pk", "name", "depth", "path"))
    chosen_departments = set(search.departments)
    for tenant in departments:
        tenant.indented_name = "\u00a0\u00a0" * (tenant.depth - request.tenant.depth) + tenant.name
        tenant.chosen = tenant.pk in chosen_departments
    function_types = function_search().function_types()
    for function_type in function_types:
        function_type.chosen = function_type.code in search.function_types
    context = {
        "search": search,
        "query": search.query,
        "panel_fields": panel_fields,
        "departments": departments if len(departments) > 1 else [],
        "function_types": function_types,
        "member_on": _inputs(DATE, [*[v for v in request.GET.getlist("member_on") if v.strip()], ""]),
        "member_on_errors": search.errors.get("member_on", []),
        "saved_searches": SavedSearch.objects.filter(user=request.user, tenant=request.tenant),
        "current_query": search.query_string(without=("page", "panel")),
        "error_list": _error_list(search),
        "show_panel": True,
        "show_results": False,
    }
    partial = request.htmx and not request.htmx.history_restore_request
    template = "relations/relation_list.html#extended" if partial else "relations/relation_list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _inputs(kind: str, values: list[str], *, text: bool = False) -> list[dict[str, str]]:
    """Inputs of the extended filters: a date shows as dd-mm-jjjj, however it came in the query
    string; a value that is not a date stays as typed, so it can be corrected."""
    inputs = []
    for raw in values:
        if kind == DATE and not text:
            try:
                value = parse_date(raw).strftime(DATE_DISPLAY_FORMAT) if raw.strip() else ""
            except ValueError:
                value = raw
            inputs.append({"value": value, "type": "text", "date": True})
        else:
            inputs.append({"value": raw, "type": "text"})
    return inputs


# --- exports ------------------------------------------------------------------------------------


@environment_required
def relation_export(request, fmt: str):
    require_perm(request, "relations.export_relation")
    if fmt not in ("csv", "xlsx"):
        raise Http404
    search = _search(request)
    if not search.is_valid():
        messages.error(request, _("Correct the search before exporting it."))
        return redirect(list_url(search.query_string(without=("page", "panel"))))
    relations = search.active_only(search.filter_queryset(Relation.objects.visible_to(request.user, request.tenant)))
    columns = export_columns(search.columns)
    rows = ExportRows(relations.order_by(*search.ordering()), columns, request.tenant)
    return download_response(
        rows, columns, fmt=fmt, actor=request.user, tenant=request.tenant, title=_("Relations"),
        filename=f"relaties-{slugify(request.tenant.name)}-{datetime.date.today():%Y%m%d}",
    )


# --- columns and saved searches -----------------------------------------------------------------


@environment_required
@require_POST
def relation_columns(request):
    require_perm(request, "relations.view_relation")
    if "reset" in request.POST:
        column_choice_reset(user=request.user)
        messages.success(request, _("The list shows the standard columns again."))
    else:
        available = list(columns_for(search_fields(custom_fields_for(request.tenant))))
        try:
            column_choice_save(user=request.user, available=available, wanted=set(request.POST.getlist("columns")))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Your columns have been saved."))
    return redirect(list_url(clean_query_string(request.POST.get("next", ""))))


@environment_required
@require_POST
def saved_search_create(request):
    require_perm(request, "relations.view_relation")
    name = request.POST.get("name", "").strip()
    query_string = clean_query_string(request.POST.get("query_string", ""))
    max_length = SavedSearch._meta.get_field("name").max_length
    if not name:
        messages.error(request, _("Give the search a name to save it."))
    elif len(name) > max_length:
        messages.error(request, _("A name has at most %(n)d characters.") % {"n": max_length})
    else:
        _saved, created = SavedSearch.objects.update_or_create(
            user=request.user, tenant=request.tenant, name=name, defaults={"query_string": query_string}
        )
        if created:
            messages.success(request, _("The search “%(name)s” has been saved.") % {"name": name})
        else:
            messages.success(request, _("The search “%(name)s” has been replaced.") % {"name": name})
    return redirect(list_url(query_string))


@environment_required
@require_POST
def saved_search_delete(request, pk: int):
    saved = get_object_or_404(SavedSearch, pk=pk, user=request.user, tenant=request.tenant)
    saved.delete()
    messages.success(request, _("The search “%(name)s” has been deleted.") % {"name": saved.name})
    return redirect(list_url(clean_query_string(request.POST.get("next", ""))))
