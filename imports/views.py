"""Screens of the import: the template, upload, mapping, check, preview, import, undo."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from relations.card import row_parts
from relations.exports import XLSX_CONTENT_TYPE
from relations.models import Relation
from relations.services import custom_fields_for, export_log_record
from tenants.access import environment_required, require_perm

from . import files, services
from .columns import targets
from .forms import MappingForm, UploadForm
from .models import ImportBatch
from .querysets import IMPORT_PERM
from .reading import PREVIEW_ROWS, FileRefused

PREVIEW_LIMIT = 200


def get_batch_or_404(request, pk) -> ImportBatch:
    """An import of the current environment, and only its uploader's: it holds their file."""
    try:
        return ImportBatch.objects.visible_to(request.user, request.tenant).select_related("user", "tenant").get(
            pk=pk, user=request.user
        )
    except (ImportBatch.DoesNotExist, ValidationError):
        raise Http404 from None


@environment_required
@require_GET
def import_list(request):
    require_perm(request, IMPORT_PERM)
    batches = ImportBatch.objects.visible_to(request.user, request.tenant).filter(user=request.user)[:50]
    return render(request, "imports/import_list.html", {"batches": batches, "form": UploadForm()})


@environment_required
@require_GET
def import_template(request, fmt: str):
    require_perm(request, IMPORT_PERM)
    if fmt not in ("csv", "xlsx"):
        raise Http404
    departments = services.allowed_departments(request.user, request.tenant)
    membership = services.membership_types().first()
    headers, example = files.template_rows(
        custom_fields_for(request.tenant), departments.first().name if departments.exists() else "",
        membership.name if membership else "", targets(custom_fields_for(request.tenant), request.user, request.tenant),
    )
    name = _("import-template")
    if fmt == "csv":
        response = HttpResponse(files.csv_bytes([headers, example]), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(files.xlsx_bytes([headers, example], _("Members")), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, f"{name}.{fmt}")
    return response


@environment_required
@require_POST
def import_upload(request):
    require_perm(request, IMPORT_PERM)
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = services.import_upload(
                actor=request.user, tenant=request.tenant, name=upload.name, data=upload.read(),
            )
        except FileRefused as error:
            form.add_error("file", error)
        else:
            return redirect("import_detail", pk=batch.pk)
    batches = ImportBatch.objects.visible_to(request.user, request.tenant).filter(user=request.user)[:50]
    return render(request, "imports/import_list.html", {"batches": batches, "form": form}, status=200)


def _mapping_form(request, batch: ImportBatch, data=None) -> tuple[MappingForm, object]:
    table = services.batch_table(batch)
    custom_fields = custom_fields_for(batch.tenant)
    initial = {f"col_{k}": v for k, v in batch.mapping.items()}
    options = batch.options or {}
    initial.update({
        "encoding": batch.encoding, "sheet": batch.sheet, "function_type": options.get("function_type"),
        "department": options.get("department"), "update_fields": options.get("update_fields") or [],
    })
    if options.get("start_date"):
        initial["start_date"] = options["start_date"]
    if not options.get("department"):
        departments = services.allowed_departments(request.user, request.tenant)
        if departments.count() == 1:
            initial["department"] = departments.first().pk
    if not options.get("function_type"):
        initial["function_type"] = services.membership_types().filter(code="department_member").values_list("pk", flat=True).first()
    form = MappingForm(
        data, initial=initial, headers=table.headers, targets=targets(custom_fields, request.user, request.tenant), sheets=table.sheets,
        departments=services.allowed_departments(request.user, request.tenant),
        membership_types=services.membership_types(),
    )
    return form, table


@environment_required
@require_http_methods(["GET", "POST"])
def import_detail(request, pk):
    batch = get_batch_or_404(request, pk)
    context = {"batch": batch}
    if batch.status in (ImportBatch.Status.UPLOADED, ImportBatch.Status.FAILED):
        try:
            form, table = _mapping_form(request, batch, request.POST or None)
        except FileRefused as error:
            messages.error(request, error.messages[0])
            return redirect("import_list")
        if request.method == "POST" and form.is_valid():
            try:
                services.import_mapping_set(
                    actor=request.user, batch=batch, mapping=form.mapping, options=form.options,
                    encoding=form.cleaned_data.get("encoding") or "", sheet=form.cleaned_data.get("sheet") or "",
                )
                if request.POST.get("action") == "check":
                    services.import_start(actor=request.user, batch=batch, step="check")
                return redirect("import_detail", pk=batch.pk)
            except (FileRefused, services.ImportRefused) as error:
                form.add_error(None, error)
        elif request.method == "POST":
            pass
        context.update({"form": form, "table": table, "preview_rows": table.rows[:PREVIEW_ROWS]})
        return render(request, "imports/import_mapping.html", context)
    if request.method == "POST":
        raise PermissionDenied
    if batch.is_busy:
        template = "imports/import_detail.html#status" if request.htmx else "imports/import_detail.html"
        return render(request, template, context)
    if batch.status == ImportBatch.Status.CHECKED:
        context.update(_preview(batch))
    if batch.status == ImportBatch.Status.IMPORTED:
        context["undo_refusal"] = services.undo_refusal(batch)
    if request.htmx:
        # The progress area asked; the work is done, so the whole page is shown.
        response = HttpResponse()
        response["HX-Refresh"] = "true"
        return response
    return render(request, "imports/import_detail.html", context)


def _preview(batch: ImportBatch) -> dict:
    summary = batch.result.get("summary", {})
    errors = [services.error_text(*e) for e in services.row_errors(batch)]
    # The first rows of each kind only: the outcome of a large file stays in the database.
    groups = {key: list(services.batch_rows(batch, (key,), limit=PREVIEW_LIMIT)) if summary.get(key) else []
              for key in ("new", "update", "ambiguous", "duplicate", "unchanged")}
    wanted = {r["relation"] for r in groups["update"][:PREVIEW_LIMIT]}
    wanted |= {pk for r in groups["ambiguous"][:PREVIEW_LIMIT] for pk in r["candidates"]}
    cards = {r.pk: r for r in Relation.objects.filter(pk__in=wanted).select_related("tenant")}
    labels = {t.key: t.label for t in targets(custom_fields_for(batch.tenant))}
    for row in groups["update"][:PREVIEW_LIMIT]:
        row["card"] = cards.get(row["relation"])
        row["change_list"] = [(labels.get(k, k), old, new) for k, (old, new) in row["changes"].items()]
    for row in groups["ambiguous"][:PREVIEW_LIMIT]:
        row["cards"] = [cards[pk] for pk in row["candidates"] if pk in cards]
    # What other apps' columns will write besides the cards (imports/parts.py), e.g. mandates.
    part_counts = batch.result.get("parts", {})
    parts_summary = [(part.label, part_counts[part.key]) for part in row_parts() if part_counts.get(part.key)]
    return {
        "parts_summary": parts_summary,
        "errors": errors[:PREVIEW_LIMIT], "error_count": len(errors), "summary": summary,
        "groups": {k: v[:PREVIEW_LIMIT] for k, v in groups.items()}, "limit": PREVIEW_LIMIT,
    }


@environment_required
@require_POST
def import_run(request, pk):
    batch = get_batch_or_404(request, pk)
    choices = {key.removeprefix("choice_"): value for key, value in request.POST.items() if key.startswith("choice_")}
    try:
        batch = services.import_start(actor=request.user, batch=batch, step="import", choices=choices)
    except services.ImportRefused as error:
        for message in error.messages[:20]:
            messages.error(request, message)
        return redirect("import_detail", pk=batch.pk)
    if batch.status == ImportBatch.Status.IMPORTED:
        messages.success(request, _("The import is done: %(created)s created, %(updated)s updated.")
                         % {"created": batch.created_count, "updated": batch.updated_count})
    return redirect("import_detail", pk=batch.pk)


@environment_required
@require_POST
def import_undo(request, pk):
    batch = get_batch_or_404(request, pk)
    try:
        batch = services.import_undo_start(actor=request.user, batch=batch)
    except services.ImportRefused as error:
        messages.error(request, error.messages[0])
    else:
        if batch.status == ImportBatch.Status.UNDONE:
            messages.success(request, _("The import has been undone."))
    return redirect("import_detail", pk=batch.pk)


@environment_required
@require_GET
def import_errors(request, pk):
    """The uploaded file back, with a column naming each row's errors."""
    batch = get_batch_or_404(request, pk)
    if batch.status != ImportBatch.Status.CHECKED:
        raise Http404
    by_line: dict[int, list[str]] = {}
    for line, column, message in services.row_errors(batch):
        by_line.setdefault(line, []).append(f"{column}: {message}" if column else message)
    table = services.batch_table(batch)
    rows = files.error_file_rows(table, by_line)
    stem = batch.file_name.rsplit(".", 1)[0]
    if batch.file_type == "xlsx":
        response = HttpResponse(files.xlsx_bytes(rows, table.sheet or "Blad1"), content_type=XLSX_CONTENT_TYPE)
        filename = f"{stem}-{_('errors')}.xlsx"
    else:
        response = HttpResponse(files.csv_bytes(rows), content_type="text/csv; charset=utf-8")
        filename = f"{stem}-{_('errors')}.csv"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    export_log_record(
        user=request.user, tenant=request.tenant, fmt=batch.file_type, rows=len(rows) - 1,
        what=_("Import errors: %(file)s") % {"file": batch.file_name},
    )
    return response
