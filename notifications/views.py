"""Mail templates ("Afdrukformulieren"): list, edit, copy, preview and PDF test; the token
dictionary ("Woordenboek"); attachments in the communication log; personalised documents for
the relations selected in the search (SPEC I4, I5)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from relations.access import get_relation_or_404
from relations.forms import add_service_error
from relations.models import CommunicationEntry, Relation
from relations.selection import clean_query_string, list_url, selected_ids
from relations.services import export_log_record
from tenants.access import environment_required, require_perm

from . import services
from .forms import DocumentsForm, MailTemplateForm
from .models import DocumentJob, MailTemplate
from .rendering import letter_parts, mail_render, pdf_filename, pdf_render
from .tokens import TOKENS, token_search


def _usable_template_or_404(request, pk: int) -> MailTemplate:
    return get_object_or_404(services.templates_for(request.tenant), pk=pk)


def _own_template_or_404(request, pk: int) -> MailTemplate:
    return get_object_or_404(MailTemplate.objects.select_related("tenant"), pk=pk, tenant=request.tenant)


@environment_required
def mail_template_list(request):
    require_perm(request, "notifications.view_mailtemplate")
    templates = list(services.templates_for(request.tenant).order_by("tenant__depth", "name"))
    for template in templates:
        template.is_own = template.tenant_id == request.tenant.pk
    context = {
        "templates": templates,
        "can_add": request.user.has_perm("notifications.add_mailtemplate", request.tenant),
        "can_change": request.user.has_perm("notifications.change_mailtemplate", request.tenant),
    }
    return render(request, "notifications/mail_template_list.html", context)


def _template_page(request, template: MailTemplate):
    form = MailTemplateForm(request.POST or None, request.FILES or None, instance=template, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        try:
            services.mail_template_save(template=form.save(commit=False))
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("The template “%(name)s” has been saved.") % {"name": template.name})
            return redirect("mail_template_edit", pk=template.pk)
    return render(request, "notifications/mail_template_form.html", {"form": form, "template": template})


@environment_required
@require_http_methods(["GET", "POST"])
def mail_template_create(request):
    require_perm(request, "notifications.add_mailtemplate")
    return _template_page(request, MailTemplate(tenant=request.tenant))


@environment_required
@require_http_methods(["GET", "POST"])
def mail_template_edit(request, pk: int):
    # The power first, then the object: the answer tells nothing to whoever may not edit.
    require_perm(request, "notifications.change_mailtemplate")
    template = _own_template_or_404(request, pk)
    return _template_page(request, template)


@environment_required
@require_POST
def mail_template_copy(request, pk: int):
    require_perm(request, "notifications.add_mailtemplate")
    template = _usable_template_or_404(request, pk)
    copy = services.mail_template_copy(template=template, tenant=request.tenant)
    messages.success(request, _("“%(name)s” has been made; change it as you like.") % {"name": copy.name})
    return redirect("mail_template_edit", pk=copy.pk)


def _context_for(request):
    """The relation chosen with ?relation=<pk> or a typed ?number=<relation number> (within what
    the user may see), or an example person. Returns (relation, context, error)."""
    raw_pk, raw_number = request.GET.get("relation", ""), request.GET.get("number", "").strip()
    if raw_pk.isdigit():
        relation = get_relation_or_404(request, int(raw_pk))
        return relation, services.token_context_for(relation, request.tenant), ""
    if raw_number:
        relation = (
            Relation.objects.visible_to(request.user, request.tenant).filter(number=raw_number).first()
            if raw_number.isdigit() else None
        )
        if relation is None:
            error = _("No relation with number %(number)s in this environment.") % {"number": raw_number}
            return None, services.token_context_example(request.tenant), error
        return relation, services.token_context_for(relation, request.tenant), ""
    return None, services.token_context_example(request.tenant), ""


@environment_required
def mail_template_preview(request, pk: int):
    require_perm(request, "notifications.view_mailtemplate")
    template = _usable_template_or_404(request, pk)
    relation, context, error = _context_for(request)
    preview = {
        "mail": mail_render(template, context), "letter": letter_parts(template, context), "relation": relation,
        "error": error, "number": request.GET.get("number", ""),
    }
    return render(request, "notifications/mail_template_preview.html", {"template": template, **preview})


@environment_required
def mail_template_pdf(request, pk: int):
    """The "Test" button: the letter as PDF, for a chosen relation or the example."""
    require_perm(request, "notifications.view_mailtemplate")
    template = _usable_template_or_404(request, pk)
    relation, context, _error = _context_for(request)
    if relation is not None:
        # A letter with a person's data in it, not the example: a download of personal data.
        export_log_record(
            user=request.user, tenant=request.tenant, fmt="pdf", rows=1,
            what=_("Letter %(template)s for %(number)s") % {"template": template.name, "number": relation.number},
        )
    response = HttpResponse(pdf_render(template, [context]), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{pdf_filename(template)}"'
    return response


@environment_required
def token_dictionary(request):
    require_perm(request, "tenants.view_tenant")
    query = request.GET.get("q", "")
    context = {"tokens": token_search(query), "query": query, "total": len(TOKENS)}
    template = "notifications/token_dictionary.html"
    if request.htmx:
        template += "#tokens"
    return render(request, template, context)


@environment_required
def communication_attachment(request, pk: int):
    """A file kept in a communication log (the PDF that was sent), for whoever sees the log."""
    entry = get_object_or_404(CommunicationEntry.objects.exclude(attachment=""), pk=pk)
    relation = get_relation_or_404(request, entry.relation_id)
    require_perm(request, "relations.view_communicationentry")
    try:
        file = entry.attachment.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    export_log_record(
        user=request.user, tenant=request.tenant, fmt=entry.attachment.name.rsplit(".", 1)[-1][:10], rows=1,
        what=_("Attachment of %(number)s: %(subject)s") % {"number": relation.number, "subject": entry.subject},
    )
    return FileResponse(file, as_attachment=True, filename=entry.attachment.name.rsplit("/", 1)[-1])


# --- personalised documents ----------------------------------------------------------------------


@environment_required
@require_http_methods(["GET", "POST"])
def documents_send(request):
    require_perm(request, "notifications.send_document")
    data = request.POST if request.method == "POST" else request.GET
    relations = list(
        Relation.objects.visible_to(request.user, request.tenant)
        .filter(pk__in=selected_ids(data.getlist("relation")))
        .order_by("last_name", "first_name", "number")
    )
    next_query = clean_query_string(data.get("next", ""))
    templates = services.templates_for(request.tenant).order_by("name")
    form = DocumentsForm(data if "template" in data else None, templates=templates)
    preview = None
    if form.is_valid() and relations:
        template = form.cleaned_data["template"]
        action = request.POST.get("action") if request.method == "POST" else "preview"
        if action in ("send", "download"):
            try:
                job = services.document_job_create(
                    actor=request.user, tenant=request.tenant, template=template, relations=relations,
                    action=action, by_email=form.cleaned_data["by_email"],
                )
            except ValidationError as error:
                add_service_error(form, error)
            else:
                return redirect("document_job_detail", pk=job.pk)
        else:
            chosen = next((r for r in relations if str(r.pk) == data.get("preview")), relations[0])
            context = services.token_context_for(chosen, request.tenant)
            preview = {"relation": chosen, "mail": mail_render(template, context), "letter": letter_parts(template, context)}
    context = {
        "form": form, "relations": relations, "preview": preview, "next_query": next_query,
        "back_url": list_url(next_query), "max": services.DOCUMENTS_MAX,
        "requested_count": len(set(selected_ids(data.getlist("relation")))),
        "pdf_url": reverse("mail_template_pdf", kwargs={"pk": form.cleaned_data["template"].pk})
        if preview else "",
    }
    return render(request, "notifications/documents_send.html", context)


def _own_document_job_or_404(request, pk: int) -> DocumentJob:
    """A documents job is its maker's alone, in the environment it was made in."""
    return get_object_or_404(DocumentJob, pk=pk, created_by=request.user, tenant=request.tenant)


@environment_required
def document_job_detail(request, pk: int):
    require_perm(request, "notifications.send_document")
    job = _own_document_job_or_404(request, pk)
    template = "notifications/document_job.html#status" if request.htmx else "notifications/document_job.html"
    return render(request, template, {"job": job})


@environment_required
def document_job_download(request, pk: int):
    require_perm(request, "notifications.send_document")
    job = _own_document_job_or_404(request, pk)
    if job.status != DocumentJob.Status.DONE or not job.pdf:
        raise Http404
    try:
        handle = job.pdf.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    export_log_record(
        user=request.user, tenant=request.tenant, fmt="pdf", rows=job.total,
        what=_("Documents: %(template)s") % {"template": job.template.name},
    )
    response = FileResponse(handle, as_attachment=True, filename=pdf_filename(job.template), content_type="application/pdf")
    response["Cache-Control"] = "no-store"
    return response
