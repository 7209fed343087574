"""Selection wizards (SPEC W1–W3, W6): the list by section, running one (grid, report, CSV/XLSX),
the editor, copying, the background exports and the mutation list (W4). Views parse, check and
call; the rules are in services, runs and catalogue."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from relations.exports import XLSX_CONTENT_TYPE, download_response
from relations.filters import as_text
from relations.services import custom_fields_for, export_log_record
from tenants.access import environment_required, require_perm
from tenants.models import Tenant

from . import services
from .catalogue import catalogue_for, catalogue_search
from .forms import (
    MutationListForm,
    WizardCopyForm,
    WizardFieldFormSet,
    WizardForm,
    WizardRunForm,
    field_rows_initial,
)
from .models import ExportJob, Section, Wizard
from .mutations import mutation_columns, mutation_list
from .paging import grid_page
from .runs import RunParameters, WizardRun

PAGE_SIZE = 50
# The printable report shows at most this many rows; more is a download.
REPORT_LIMIT = 2000


def get_wizard_or_404(request, pk: int) -> Wizard:
    """A wizard the user may run in the current environment; 404 for any other."""
    try:
        wizard = Wizard.objects.visible_to(request.user, request.tenant).select_related("tenant").get(pk=pk)
    except Wizard.DoesNotExist:
        raise Http404 from None
    return wizard


def _require_wizards(request) -> None:
    if not (request.user.has_perm("wizards.view_wizard", request.tenant)
            or request.user.has_perm("wizards.run_ledenmodule_wizard", request.tenant)):
        raise PermissionDenied


def _catalogue(tenant: Tenant):
    return catalogue_for(tenant, custom_fields_for(tenant))


def _file_response(rows, columns, *, request, name: str, fmt: str, what: str):
    return download_response(
        rows, columns, fmt=fmt, actor=request.user, tenant=request.tenant, title=name, what=what,
        filename=f"{slugify(name) or 'selectie'}-{datetime.date.today():%Y%m%d}",
    )


# --- the list -------------------------------------------------------------------------------------


@environment_required
def wizard_list(request):
    _require_wizards(request)
    wizards = list(Wizard.objects.visible_to(request.user, request.tenant).select_related("tenant"))
    section = request.GET.get("section", "")
    if section in Section.values:
        wizards = [w for w in wizards if w.section == section]
    root = Tenant.objects.get_first_root_node()
    for wizard in wizards:
        wizard.root_tenant = root
    editable = services.editable_wizard_ids(request.user, wizards)
    groups = []
    for code, label in Section.choices:
        in_section = [w for w in wizards if w.section == code]
        for wizard in in_section:
            wizard.can_edit = wizard.pk in editable
        if in_section:
            groups.append({"code": code, "label": label, "wizards": in_section})
    return render(request, "wizards/wizard_list.html", {
        "groups": groups,
        "section": section if section in Section.values else "",
        "sections": Section.choices,
        "can_copy": request.user.has_perm("wizards.add_wizard", request.tenant),
        "can_mutation_list": request.user.has_perm("wizards.view_mutation_list", request.tenant)
        and section in ("", Section.OTHER),
    })


# --- running ----------------------------------------------------------------------------------------


def _run_form(request, wizard: Wizard, data, catalogue) -> WizardRunForm:
    fields = list(wizard.fields.all())
    form = WizardRunForm(data, wizard=wizard, tenant=request.tenant, fields=fields, catalogue=catalogue)
    form.wizard_fields = fields
    return form


def _parameters(form: WizardRunForm, wizard: Wizard) -> RunParameters | None:
    """The run's parameters: from the form once sent; the defaults when the wizard asks nothing."""
    if form.is_bound:
        return form.parameters() if form.is_valid() else None
    if form.asked:
        return None
    return RunParameters(include_inactive=wizard.include_inactive)


def _query_string(request) -> str:
    params = QueryDict(mutable=True)
    for key in request.GET:
        if key not in ("page", "output", "count", "csrfmiddlewaretoken"):
            params.setlist(key, request.GET.getlist(key))
    return params.urlencode()


def _export_params(request, form: WizardRunForm, wizard: Wizard) -> list[tuple[str, str]]:
    """The run's parameters as the download forms send them again."""
    if form.is_bound:
        return [(key, value) for key in request.GET if key not in ("page", "output", "count")
                for value in request.GET.getlist(key)]
    params = [("day", datetime.date.today().isoformat())]
    return params + ([("include_inactive", "on")] if wizard.include_inactive else [])


@dataclass(frozen=True)
class RunLayout:
    """Where a run's page sits: the main layout, or an interface's own (the ledenmodule runs its
    wizards inside its slimmer header, with its own member page and its own way back)."""

    base_template: str = "base.html"
    back_url_name: str = "wizard_list"
    relation_url_name: str = "relation_detail"


@environment_required
def wizard_run(request, pk: int, *, layout: RunLayout | None = None):
    wizard = get_wizard_or_404(request, pk)
    layout = layout or RunLayout()
    catalogue = _catalogue(request.tenant)
    form = _run_form(request, wizard, request.GET if "day" in request.GET else None, catalogue)
    params = _parameters(form, wizard)
    output = "report" if request.GET.get("output") == "report" else "grid"
    context = {
        "wizard": wizard, "form": form, "output": output, "query_string": _query_string(request),
        "can_edit": services.may_edit(request.user, wizard),
        "can_copy": request.user.has_perm("wizards.add_wizard", request.tenant),
        "can_export": request.user.has_perm("relations.export_relation", request.tenant),
        "export_formats": (("csv", "CSV"), ("xlsx", "Excel")),
        "export_params": _export_params(request, form, wizard),
        "layout": layout,
    }
    if params is not None:
        run = WizardRun(wizard, user=request.user, tenant=request.tenant, params=params,
                        fields=form.wizard_fields, catalogue=catalogue)
        try:
            run.check()
            context.update(_result(request, run, output))
            if output == "report":
                # The printable report is a download of personal data on paper.
                export_log_record(
                    user=request.user, tenant=request.tenant, fmt="print", rows=len(context["rows"]),
                    what=_("Report: %(wizard)s") % {"wizard": wizard.name},
                )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    return render(request, "wizards/wizard_run.html", context)


def _result(request, run: WizardRun, output: str) -> dict:
    columns = run.columns
    headings = [
        (wf.label or cf.label, services.filter_description(cf, flt)) for wf, cf, flt in run.filters()
    ]
    if output == "report":
        # The same walk as the grid, with one long page.
        report = grid_page(run.matches(), page_number=1, per_page=REPORT_LIMIT, prepare=run.prepare)
        rows = report.rows
        truncated = report.has_next
        count = len(rows)
        page = None
    else:
        page = grid_page(run.matches(), page_number=request.GET.get("page"), per_page=PAGE_SIZE, prepare=run.prepare)
        rows = page.rows
        truncated = page.capped
        count = page.count
        if count is None and request.GET.get("count") == "1":
            # Asked for: the exact number of a large selection (one full count).
            count = run.matches().count()
    for relation in rows:
        relation.cells = [as_text(column.value(relation)) for column in columns]
    return {"columns": columns, "rows": rows, "page": page, "count": count, "truncated": truncated,
            "filter_headings": headings, "show_result": True, "run_day": run.params.day,
            "run_part": run.params.part}


@environment_required
@require_POST
def wizard_export(request, pk: int, fmt: str):
    require_perm(request, "relations.export_relation")
    wizard = get_wizard_or_404(request, pk)
    if fmt not in services.EXPORT_FORMATS:
        raise Http404
    catalogue = _catalogue(request.tenant)
    data = request.POST.copy()
    data.pop("csrfmiddlewaretoken", None)
    run_url = f"{reverse('wizard_run', args=[wizard.pk])}?{data.urlencode()}"
    form = _run_form(request, wizard, data, catalogue)
    if not form.is_valid():
        messages.error(request, _("Correct the selection before downloading it."))
        return redirect(run_url)
    run = WizardRun(wizard, user=request.user, tenant=request.tenant, params=form.parameters(),
                    fields=form.wizard_fields, catalogue=catalogue)
    try:
        run.check()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(run_url)
    if run.count_up_to(settings.WIZARD_EXPORT_SYNC_ROWS) > settings.WIZARD_EXPORT_SYNC_ROWS:
        job = services.export_job_create(
            user=request.user, tenant=request.tenant, wizard=wizard, parameters=run.params.as_json(), fmt=fmt,
        )
        return redirect("export_job_detail", pk=job.pk)
    return _file_response(run.rows(), run.columns, request=request, name=wizard.name, fmt=fmt, what=wizard.name)


# --- background exports ------------------------------------------------------------------------------


def _own_job_or_404(request, pk) -> ExportJob:
    try:
        return ExportJob.objects.get(pk=pk, user=request.user)
    except (ExportJob.DoesNotExist, ValidationError):
        raise Http404 from None


@environment_required
def export_job_detail(request, pk):
    job = _own_job_or_404(request, pk)
    context = {"job": job, "finished": job.status in (ExportJob.Status.DONE, ExportJob.Status.FAILED)}
    template = "wizards/export_job.html#status" if request.htmx else "wizards/export_job.html"
    return render(request, template, context)


@environment_required
def export_job_download(request, pk):
    job = _own_job_or_404(request, pk)
    name = services.export_job_file(job)
    if name is None:
        context = {"job": job, "finished": True, "gone": True, "vanished": services.export_job_vanished(job)}
        return render(request, "wizards/export_job.html", context, status=410)
    filename = f"{slugify(job.what) or 'selectie'}-{job.created_at:%Y%m%d}.{job.format}"
    content_type = "text/csv; charset=utf-8" if job.format == "csv" else XLSX_CONTENT_TYPE
    # Streamed from the storage (local disk or the object store) after the check above.
    handle = services.export_storage().open(name, "rb")
    return FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)


@environment_required
@require_POST
def export_job_again(request, pk):
    """Make a vanished or expired download again, with the same answers."""
    job = _own_job_or_404(request, pk)
    new_job = services.export_job_again(job=job, user=request.user)
    return redirect("export_job_detail", pk=new_job.pk)


# --- the editor --------------------------------------------------------------------------------------


def _editable_wizard(request, pk: int) -> Wizard:
    wizard = get_wizard_or_404(request, pk)
    if not services.may_edit(request.user, wizard):
        raise PermissionDenied
    return wizard


@environment_required
def wizard_edit(request, pk: int):
    wizard = _editable_wizard(request, pk)
    catalogue = _catalogue(request.tenant)
    query = request.GET.get("q", "").strip()
    found = catalogue_search(catalogue, query) if query else list(catalogue.values())
    # A field is in a wizard once: the catalogue says so instead of offering it again.
    used = set(wizard.fields.values_list("field_key", flat=True))
    if request.htmx and request.method == "GET":
        context = {"wizard": wizard, "found": found, "query": query, "used": used}
        return render(request, "wizards/wizard_edit.html#catalogue", context)
    fields = list(wizard.fields.all())
    if request.method == "POST":
        form = WizardForm(request.POST, instance=wizard)
        formset = WizardFieldFormSet(request.POST, prefix="fields", catalogue=catalogue)
        if form.is_valid() and formset.is_valid():
            try:
                services.wizard_update(
                    wizard=wizard, actor=request.user, catalogue=catalogue, name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    include_inactive=form.cleaned_data["include_inactive"], fields=formset.rows(),
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("The wizard has been saved."))
                return redirect("wizard_edit", pk=wizard.pk)
        wizard.refresh_from_db()
    else:
        form = WizardForm(instance=wizard)
        formset = WizardFieldFormSet(initial=field_rows_initial(fields, catalogue), prefix="fields",
                                     catalogue=catalogue)
    for row in formset.forms:
        row.catalogue_label = row.catalogue_field.label if row.catalogue_field else row["field_key"].value()
        row.catalogue_kind = row.catalogue_field.kind if row.catalogue_field else ""
        row.catalogue_choices = row.catalogue_field.choices if row.catalogue_field else ()
    return render(request, "wizards/wizard_edit.html", {
        "wizard": wizard, "form": form, "formset": formset, "found": found, "query": query, "used": used,
    })


@environment_required
@require_POST
def wizard_field_add(request, pk: int):
    wizard = _editable_wizard(request, pk)
    try:
        services.wizard_field_add(wizard=wizard, actor=request.user, catalogue=_catalogue(request.tenant),
                                  field_key=request.POST.get("field_key", ""))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The field has been added at the end of the list."))
    return redirect(f"{reverse('wizard_edit', args=[wizard.pk])}#fields")


@environment_required
def wizard_copy(request, pk: int):
    wizard = get_wizard_or_404(request, pk)
    require_perm(request, "wizards.add_wizard")
    form = WizardCopyForm(request.POST or None, initial={"name": _("Copy of %(name)s") % {"name": wizard.name}})
    if request.method == "POST" and form.is_valid():
        try:
            copy = services.wizard_copy(wizard=wizard, actor=request.user, tenant=request.tenant,
                                        name=form.cleaned_data["name"])
        except ValidationError as error:
            form.add_error("name", error.message_dict.get("name", error.messages))
        else:
            messages.success(request, _("The copy has been made; you are now editing the copy."))
            return redirect("wizard_edit", pk=copy.pk)
    return render(request, "wizards/wizard_copy.html", {"wizard": wizard, "form": form})


@environment_required
@require_POST
def wizard_delete(request, pk: int):
    services.wizard_delete(wizard=_editable_wizard(request, pk), actor=request.user)
    messages.success(request, _("The wizard has been deleted."))
    return redirect("wizard_list")


# --- the mutation list ----------------------------------------------------------------------------------


def _mutations(request) -> tuple[MutationListForm, object]:
    form = MutationListForm(request.GET if "date_from" in request.GET else None)
    if not form.is_bound or not form.is_valid():
        return form, None
    data = form.cleaned_data
    result = mutation_list(user=request.user, tenant=request.tenant, date_from=data["date_from"],
                           date_to=data["date_to"], categories=data["category"], kinds=data["kinds"])
    return form, result


@environment_required
def mutation_list_view(request):
    require_perm(request, "wizards.view_mutation_list")
    if "date_from" not in request.GET:
        today = datetime.date.today()
        form = MutationListForm(initial={"date_from": today.replace(day=1), "date_to": today})
        result = None
    else:
        form, result = _mutations(request)
    return render(request, "wizards/mutation_list.html", {
        "form": form, "result": result, "query_string": _query_string(request),
        "can_export": request.user.has_perm("relations.export_relation", request.tenant),
    })


@environment_required
def mutation_list_export(request, fmt: str):
    require_perm(request, "wizards.view_mutation_list")
    require_perm(request, "relations.export_relation")
    if fmt not in services.EXPORT_FORMATS:
        raise Http404
    form, result = _mutations(request)
    if result is None:
        messages.error(request, _("Correct the selection before downloading it."))
        return redirect(f"{reverse('mutation_list')}?{_query_string(request)}")
    return _file_response(result.rows, mutation_columns(), request=request, name=_("Mutation list"), fmt=fmt,
                          what=_("Mutation list"))
