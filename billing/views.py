"""Billing screens: billing details, rates, invoice runs (concept → finalise, progress),
invoices (search, PDF, credit, payment, write-off), payments, mandates on the card, collection
batches, bank statements and unmatched entries, the bookkeeper's export, and a department's own
invoices. Views fetch, check, call a service and render."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from relations.access import get_relation_or_404
from relations.exports import download_response
from relations.filters import Column
from relations.forms import add_service_error
from relations.services import export_log_record
from tenants.access import environment_required, require_perm

from . import services
from .documents import MEMBER_LIST_COLUMNS, invoice_member_list, invoice_pdf
from .forms import (
    BankStatementForm,
    BillingEnvironmentForm,
    CollectionBatchForm,
    CreditNoteForm,
    EntryMatchForm,
    InvoiceFilterForm,
    InvoiceRunForm,
    MandateForm,
    PaymentForm,
    PeriodForm,
    RateForm,
    WriteOffForm,
)
from .models import (
    BankEntry,
    BankStatement,
    BillingEnvironment,
    CollectionBatch,
    Invoice,
    InvoiceRun,
    InvoiceStatus,
    Mandate,
    Payment,
    Rate,
)

PAGE_SIZE = 50
CONCEPT_SHOWN = 500


def _page(request, rows):
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def _environment(request) -> BillingEnvironment | None:
    return services.billing_environment_for(request.tenant)


# --- billing details ---------------------------------------------------------------------------


@environment_required
@require_http_methods(["GET", "POST"])
def billing_settings(request):
    require_perm(request, "billing.change_billingenvironment")
    environment = _environment(request) or BillingEnvironment(
        tenant=request.tenant, creditor_name=request.tenant.name[:70], iban=request.tenant.iban
    )
    form = BillingEnvironmentForm(request.POST or None, instance=environment, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        try:
            services.billing_environment_save(environment=form.save(commit=False))
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("The billing details have been saved."))
            return redirect("billing_settings")
    return render(request, "billing/settings.html", {"form": form, "environment": environment})


# --- rates -------------------------------------------------------------------------------------


@environment_required
def rate_list(request):
    require_perm(request, "billing.view_rate")
    rates = Rate.objects.visible_to(request.user, request.tenant).select_related("tenant", "function_type")
    return render(request, "billing/rate_list.html", {
        "rates": rates.order_by("-season_start", "tenant__depth", "function_type__order", "age_from"),
        "can_change": request.user.has_perm("billing.change_rate", request.tenant),
        "can_add": request.user.has_perm("billing.add_rate", request.tenant),
        "environment": _environment(request),
    })


def _rate_page(request, rate: Rate):
    form = RateForm(request.POST or None, instance=rate)
    if request.method == "POST" and form.is_valid():
        try:
            services.rate_save(rate=form.save(commit=False))
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("The rate “%(name)s” has been saved.") % {"name": rate.name})
            return redirect("rate_list")
    return render(request, "billing/rate_form.html", {"form": form, "rate": rate})


@environment_required
@require_http_methods(["GET", "POST"])
def rate_create(request):
    require_perm(request, "billing.add_rate")
    environment = _environment(request)
    season = environment.season_of(datetime.date.today())[0] if environment else datetime.date(datetime.date.today().year, 1, 1)
    return _rate_page(request, Rate(tenant=request.tenant, season_start=season))


@environment_required
@require_http_methods(["GET", "POST"])
def rate_edit(request, pk: int):
    require_perm(request, "billing.change_rate")
    rate = get_object_or_404(Rate.objects.visible_to(request.user, request.tenant), pk=pk, tenant=request.tenant)
    return _rate_page(request, rate)


@environment_required
@require_POST
def rate_delete(request, pk: int):
    require_perm(request, "billing.change_rate")
    rate = get_object_or_404(Rate.objects.visible_to(request.user, request.tenant), pk=pk, tenant=request.tenant)
    try:
        services.rate_delete(rate=rate)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The rate “%(name)s” has been deleted.") % {"name": rate.name})
    return redirect("rate_list")


# --- invoice runs ------------------------------------------------------------------------------


def _run_or_404(request, pk: int) -> InvoiceRun:
    return get_object_or_404(InvoiceRun.objects.visible_to(request.user, request.tenant).select_related("tenant"), pk=pk)


@environment_required
def run_list(request):
    require_perm(request, "billing.view_invoice")
    runs = InvoiceRun.objects.visible_to(request.user, request.tenant).select_related("tenant")
    return render(request, "billing/run_list.html", {
        "page": _page(request, runs), "environment": _environment(request),
        "can_add": request.user.has_perm("billing.add_invoice", request.tenant),
    })


@environment_required
@require_http_methods(["GET", "POST"])
def run_create(request):
    require_perm(request, "billing.add_invoice")
    environment = _environment(request)
    form = InvoiceRunForm(request.POST or None, initial={"reference_date": datetime.date.today()})
    if request.method == "POST" and form.is_valid():
        try:
            run = services.invoice_run_create(tenant=request.tenant, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("The concept has been made; check it before finalising."))
            return redirect("run_detail", pk=run.pk)
    return render(request, "billing/run_form.html", {"form": form, "environment": environment})


@environment_required
def run_detail(request, pk: int):
    require_perm(request, "billing.view_invoice")
    run = _run_or_404(request, pk)
    context = {"run": run, "can_change": request.user.has_perm("billing.add_invoice", run.tenant)}
    if request.htmx and request.GET.get("progress"):
        return render(request, "billing/run_detail.html#progress", context)
    if run.status == InvoiceRun.Status.CONCEPT:
        try:
            concept = services.run_concept(run=run)
        except ValidationError as error:
            context["concept_error"] = " ".join(error.messages)
        else:
            context.update(concept=concept, lines=concept.lines[:CONCEPT_SHOWN],
                           more=max(len(concept.lines) - CONCEPT_SHOWN, 0))
    else:
        context["page"] = _page(request, run.invoices.select_related("relation").order_by("number"))
    return render(request, "billing/run_detail.html", context)


CONCEPT_COLUMNS = [
    Column("number", gettext_lazy("Relation number"), lambda line: line.relation_number),
    Column("name", gettext_lazy("Name"), lambda line: line.name),
    Column("department", gettext_lazy("Department"), lambda line: line.tenant_name),
    Column("membership", gettext_lazy("Membership"), lambda line: line.function_type),
    Column("start", gettext_lazy("Start date"), lambda line: line.start_date),
    Column("age", gettext_lazy("Age"), lambda line: "" if line.age is None else line.age),
    Column("rate", gettext_lazy("Rate"), lambda line: line.rate.name if line.rate else ""),
    Column("amount", gettext_lazy("Amount"), lambda line: line.amount),
    Column("why", gettext_lazy("Why"), lambda line: line.reason),
]


@environment_required
@require_GET
def run_concept_download(request, pk: int, fmt: str):
    require_perm(request, "billing.view_invoice")
    run = _run_or_404(request, pk)
    if fmt not in ("csv", "xlsx"):
        raise Http404
    try:
        concept = services.run_concept(run=run)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("run_detail", pk=run.pk)
    return download_response(
        concept.lines, CONCEPT_COLUMNS, fmt=fmt, actor=request.user, tenant=request.tenant,
        filename=f"concept-{run.pk}", title=_("Concept"), what=_("Invoice run concept: %(name)s") % {"name": run.name},
    )


@environment_required
@require_POST
def run_finalise(request, pk: int):
    require_perm(request, "billing.view_invoice")
    run = _run_or_404(request, pk)
    require_perm(request, "billing.add_invoice", run.tenant)
    try:
        run = services.invoice_run_finalise(run_id=run.pk, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("%(count)d invoices have been made; their PDFs are being made now.")
                         % {"count": run.invoice_count})
    return redirect("run_detail", pk=run.pk)


@environment_required
@require_POST
def run_delete(request, pk: int):
    require_perm(request, "billing.view_invoice")
    run = _run_or_404(request, pk)
    require_perm(request, "billing.add_invoice", run.tenant)
    try:
        services.invoice_run_delete(run=run)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("run_detail", pk=run.pk)
    messages.success(request, _("The concept has been deleted."))
    return redirect("run_list")


# --- invoices ----------------------------------------------------------------------------------


def _invoice_or_404(request, pk: int) -> Invoice:
    return get_object_or_404(
        Invoice.objects.visible_to(request.user, request.tenant).select_related("tenant", "relation", "credits", "run"),
        pk=pk,
    )


@environment_required
def invoice_list(request):
    require_perm(request, "billing.view_invoice")
    form = InvoiceFilterForm(request.GET or None)
    invoices = Invoice.objects.visible_to(request.user, request.tenant).select_related("tenant")
    if form.is_valid():
        query = form.cleaned_data["q"].strip()
        if query:
            invoices = invoices.filter(Q(number__icontains=query) | Q(debtor_name__icontains=query))
        if form.cleaned_data["status"]:
            invoices = invoices.filter(status=form.cleaned_data["status"])
        if form.cleaned_data["kind"]:
            invoices = invoices.filter(kind=form.cleaned_data["kind"])
    context = {"form": form, "page": _page(request, invoices.order_by("-date", "-number"))}
    if request.htmx:
        return render(request, "billing/invoice_list.html#results", context)
    return render(request, "billing/invoice_list.html", context)


@environment_required
def invoice_detail(request, pk: int):
    require_perm(request, "billing.view_invoice")
    invoice = _invoice_or_404(request, pk)
    can_change = request.user.has_perm("billing.change_invoice", invoice.tenant)
    return render(request, "billing/invoice_detail.html", {
        "invoice": invoice, "lines": invoice.lines.all(), "payments": invoice.payments.order_by("date", "pk"),
        "credit_notes": invoice.credit_notes.all(), "can_change": can_change,
        "credit_form": CreditNoteForm(initial={"amount": invoice.creditable}),
        "payment_form": PaymentForm(initial={"amount": invoice.balance}), "write_off_form": WriteOffForm(),
    })


def _pdf_response(request, invoice: Invoice) -> FileResponse | HttpResponse:
    export_log_record(
        user=request.user, tenant=request.tenant, fmt="pdf", rows=1,
        what=_("Invoice %(number)s") % {"number": invoice.number},
    )
    if invoice.pdf:
        return FileResponse(invoice.pdf.open("rb"), content_type="application/pdf", filename=f"{invoice.number}.pdf")
    response = HttpResponse(invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{invoice.number}.pdf"'
    return response


@environment_required
def invoice_pdf_view(request, pk: int):
    require_perm(request, "billing.view_invoice")
    return _pdf_response(request, _invoice_or_404(request, pk))


def _invoice_action(request, pk: int, form_class, action, success: str, template_key: str):
    require_perm(request, "billing.view_invoice")
    invoice = _invoice_or_404(request, pk)
    require_perm(request, "billing.change_invoice", invoice.tenant)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            action(invoice, form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, success)
            return redirect("invoice_detail", pk=invoice.pk)
    context = {
        "invoice": invoice, "lines": invoice.lines.all(), "payments": invoice.payments.order_by("date", "pk"),
        "credit_notes": invoice.credit_notes.all(), "can_change": True,
        "credit_form": CreditNoteForm(initial={"amount": invoice.creditable}),
        "payment_form": PaymentForm(initial={"amount": invoice.balance}), "write_off_form": WriteOffForm(),
    }
    context[template_key] = form
    return render(request, "billing/invoice_detail.html", context, status=200)


@environment_required
@require_POST
def invoice_credit(request, pk: int):
    return _invoice_action(
        request, pk, CreditNoteForm,
        lambda invoice, data: services.credit_note_create(invoice=invoice, amount=data["amount"], reason=data["reason"],
                                                          actor=request.user),
        _("The credit note has been made."), "credit_form",
    )


@environment_required
@require_POST
def invoice_payment(request, pk: int):
    return _invoice_action(
        request, pk, PaymentForm,
        lambda invoice, data: services.payment_register(invoice=invoice, amount=data["amount"], date=data["date"],
                                                        note=data["note"], actor=request.user),
        _("The payment has been registered."), "payment_form",
    )


@environment_required
@require_POST
def invoice_write_off(request, pk: int):
    return _invoice_action(
        request, pk, WriteOffForm,
        lambda invoice, data: services.invoice_write_off(invoice=invoice, reason=data["reason"], actor=request.user),
        _("The invoice has been written off."), "write_off_form",
    )


@environment_required
@require_GET
def invoice_members(request, pk: int, fmt: str):
    """The members a department invoice counted (SPEC B4), as CSV or XLSX."""
    require_perm(request, "billing.view_invoice")
    invoice = _invoice_or_404(request, pk)
    return _member_list(request, invoice, fmt)


def _member_list(request, invoice: Invoice, fmt: str):
    if fmt not in ("csv", "xlsx") or invoice.debtor_tenant_id is None or invoice.run_id is None:
        raise Http404
    return download_response(
        invoice_member_list(invoice), MEMBER_LIST_COLUMNS, fmt=fmt, actor=request.user, tenant=request.tenant,
        filename=f"leden-{invoice.number}", title=invoice.number,
        what=_("Member list of invoice %(number)s") % {"number": invoice.number},
    )


# --- payments ----------------------------------------------------------------------------------


@environment_required
def payment_list(request):
    require_perm(request, "billing.view_invoice")
    payments = Payment.objects.visible_to(request.user, request.tenant).select_related("invoice")
    return render(request, "billing/payment_list.html", {"page": _page(request, payments)})


# --- mandates on the card ----------------------------------------------------------------------


@environment_required
@require_http_methods(["GET", "POST"])
def relation_billing(request, pk: int):
    """The card's billing tab: the person's invoices and mandates, and a new mandate."""
    require_perm(request, "billing.view_invoice")
    relation = get_relation_or_404(request, pk)
    environment = _environment(request)
    can_add_mandate = environment is not None and request.user.has_perm("billing.add_mandate", request.tenant)
    form = MandateForm(request.POST or None, initial={"account_holder": relation.display_name})
    if request.method == "POST":
        require_perm(request, "billing.add_mandate")
        if environment is None:
            messages.error(request, _("This environment does not bill yet: fill in its billing details first."))
            return redirect("relation_billing", pk=relation.pk)
        if form.is_valid():
            try:
                services.mandate_create(tenant=request.tenant, relation=relation, actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_error(form, error)
            else:
                messages.success(request, _("The mandate has been recorded."))
                return redirect("relation_billing", pk=relation.pk)
    return render(request, "billing/relation_billing.html", {
        "relation": relation, "tab": "billing", "can_edit": False,
        "can_view_communication": request.user.has_perm("relations.view_communicationentry", request.tenant),
        "can_view_billing": True,
        "invoices": Invoice.objects.visible_to(request.user, request.tenant).filter(relation=relation).select_related("tenant"),
        "mandates": Mandate.objects.visible_to(request.user, request.tenant).filter(relation=relation).select_related("tenant"),
        "form": form, "can_add_mandate": can_add_mandate,
    })


@environment_required
@require_POST
def mandate_end(request, pk: int):
    require_perm(request, "billing.view_mandate")
    mandate = get_object_or_404(Mandate.objects.visible_to(request.user, request.tenant), pk=pk)
    require_perm(request, "billing.change_mandate", mandate.tenant)
    services.mandate_end(mandate=mandate)
    messages.success(request, _("The mandate has been ended."))
    return redirect("relation_billing", pk=mandate.relation_id)


@environment_required
def mandate_list(request):
    require_perm(request, "billing.view_mandate")
    mandates = Mandate.objects.visible_to(request.user, request.tenant).select_related("relation")
    if request.GET.get("flagged"):
        mandates = mandates.filter(flagged=True)
    return render(request, "billing/mandate_list.html", {"page": _page(request, mandates)})


# --- collection batches ------------------------------------------------------------------------


@environment_required
@require_http_methods(["GET", "POST"])
def batch_list(request):
    require_perm(request, "billing.view_invoice")
    form = CollectionBatchForm(request.POST or None, initial={
        "collection_date": datetime.date.today() + datetime.timedelta(days=(_environment(request).collection_lead_days
                                                                            if _environment(request) else 5))
    })
    if request.method == "POST":
        require_perm(request, "billing.change_invoice")
        if form.is_valid():
            try:
                batch = services.collection_batch_create(tenant=request.tenant, actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_error(form, error)
            else:
                messages.success(request, _("The collection file with %(count)d transactions has been made.")
                                 % {"count": batch.transactions})
                return redirect("batch_list")
    batches = CollectionBatch.objects.visible_to(request.user, request.tenant)
    return render(request, "billing/batch_list.html", {
        "form": form, "page": _page(request, batches),
        "can_change": request.user.has_perm("billing.change_invoice", request.tenant),
        "collectable": len(services.collectable_invoices(request.tenant)),
    })


@environment_required
def batch_download(request, pk: int):
    require_perm(request, "billing.view_invoice")
    batch = get_object_or_404(CollectionBatch.objects.visible_to(request.user, request.tenant), pk=pk)
    export_log_record(
        user=request.user, tenant=request.tenant, fmt="xml", rows=batch.transactions,
        what=_("Direct-debit file %(message_id)s") % {"message_id": batch.message_id},
    )
    return FileResponse(batch.file.open("rb"), as_attachment=True, filename=f"{batch.message_id}.xml",
                        content_type="application/xml")


# --- bank statements ---------------------------------------------------------------------------


@environment_required
@require_http_methods(["GET", "POST"])
def statement_list(request):
    require_perm(request, "billing.view_invoice")
    form = BankStatementForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        require_perm(request, "billing.change_invoice")
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                statement = services.bank_statement_import(
                    tenant=request.tenant, file_name=upload.name, content=upload.read(), actor=request.user
                )
            except ValidationError as error:
                add_service_error(form, error)
            else:
                messages.success(request, _("%(matched)d of %(entries)d entries have been matched.")
                                 % {"matched": statement.matched, "entries": statement.entries})
                return redirect("statement_detail", pk=statement.pk)
    statements = BankStatement.objects.visible_to(request.user, request.tenant)
    return render(request, "billing/statement_list.html", {
        "form": form, "page": _page(request, statements),
        "can_change": request.user.has_perm("billing.change_invoice", request.tenant),
    })


def _statement_or_404(request, pk: int) -> BankStatement:
    return get_object_or_404(BankStatement.objects.visible_to(request.user, request.tenant), pk=pk)


@environment_required
def statement_detail(request, pk: int):
    require_perm(request, "billing.view_invoice")
    statement = _statement_or_404(request, pk)
    entries = statement.lines.select_related("invoice").order_by("match", "pk")
    if request.GET.get("unmatched"):
        entries = entries.filter(match=BankEntry.Match.UNMATCHED)
    return render(request, "billing/statement_detail.html", {
        "statement": statement, "page": _page(request, entries), "match_form": EntryMatchForm(),
        "can_change": request.user.has_perm("billing.change_invoice", statement.tenant),
    })


@environment_required
@require_POST
def entry_match(request, pk: int):
    require_perm(request, "billing.view_invoice")
    entry = get_object_or_404(
        BankEntry.objects.filter(statement__in=BankStatement.objects.visible_to(request.user, request.tenant))
        .select_related("statement"), pk=pk,
    )
    require_perm(request, "billing.change_invoice", entry.statement.tenant)
    form = EntryMatchForm(request.POST)
    if form.is_valid():
        invoice = Invoice.objects.visible_to(request.user, request.tenant).filter(
            number=form.cleaned_data["number"].strip(), kind=Invoice.Kind.INVOICE, tenant=entry.statement.tenant,
        ).first()
        if invoice is None:
            messages.error(request, _("No invoice with that number in this environment."))
        else:
            try:
                services.bank_entry_match(entry=entry, invoice=invoice, actor=request.user)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, _("The entry has been matched to invoice %(number)s.")
                                 % {"number": invoice.number})
    else:
        messages.error(request, _("Enter an invoice number."))
    return redirect("statement_detail", pk=entry.statement_id)


# --- the bookkeeper's export -------------------------------------------------------------------


def _debtor_number(invoice: Invoice) -> str:
    if invoice.relation_id:
        return str(invoice.relation.number)
    return f"A{invoice.debtor_tenant_id}"


BOOKKEEPING_COLUMNS = [
    Column("type", gettext_lazy("Type"), lambda row: row["type"]),
    Column("debtor", gettext_lazy("Debtor number"), lambda row: row["debtor"]),
    Column("name", gettext_lazy("Debtor"), lambda row: row["name"]),
    Column("number", gettext_lazy("Invoice number"), lambda row: row["number"]),
    Column("date", gettext_lazy("Date"), lambda row: row["date"]),
    Column("description", gettext_lazy("Description"), lambda row: row["description"]),
    Column("amount", gettext_lazy("Amount"), lambda row: row["amount"]),
    Column("vat", gettext_lazy("VAT code"), lambda row: row["vat"]),
    Column("ledger", gettext_lazy("Ledger account"), lambda row: row["ledger"]),
]


def bookkeeping_rows(invoices, payments):
    for invoice in invoices.prefetch_related("lines").select_related("relation").iterator(chunk_size=2000):
        kind = _("Credit note") if invoice.kind == Invoice.Kind.CREDIT_NOTE else _("Invoice")
        for line in invoice.lines.all():
            yield {"type": kind, "debtor": _debtor_number(invoice), "name": invoice.debtor_name,
                   "number": invoice.number, "date": invoice.date, "description": line.description,
                   "amount": line.amount, "vat": line.vat_code, "ledger": line.ledger_account}
    for payment in payments.select_related("invoice__relation").iterator(chunk_size=2000):
        invoice = payment.invoice
        yield {"type": payment.get_method_display(), "debtor": _debtor_number(invoice), "name": invoice.debtor_name,
               "number": invoice.number, "date": payment.date, "description": payment.note,
               "amount": payment.amount, "vat": "", "ledger": ""}


@environment_required
@require_GET
def bookkeeping_export(request):
    require_perm(request, "billing.view_invoice")
    form = PeriodForm(request.GET or None)
    fmt = request.GET.get("fmt", "")
    if form.is_valid() and fmt in ("csv", "xlsx"):
        start, end = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
        invoices = Invoice.objects.visible_to(request.user, request.tenant).filter(date__range=(start, end)).order_by("number")
        payments = Payment.objects.visible_to(request.user, request.tenant).filter(date__range=(start, end)).order_by("date", "pk")
        return download_response(
            bookkeeping_rows(invoices, payments), BOOKKEEPING_COLUMNS, fmt=fmt, actor=request.user,
            tenant=request.tenant, filename=f"boekhouding-{start:%Y%m%d}-{end:%Y%m%d}", title=_("Bookkeeping"),
            what=_("Bookkeeping export"),
        )
    return render(request, "billing/bookkeeping.html", {"form": form})


# --- a department's own invoices (ledenmodule, SPEC B4) ----------------------------------------


@environment_required
def department_invoice_list(request):
    require_perm(request, "billing.view_department_invoices")
    invoices = Invoice.objects.of_department(request.user, request.tenant).select_related("tenant")
    return render(request, "billing/department_invoice_list.html", {
        "page": _page(request, invoices.order_by("-date", "-number")),
        "open_total": sum((i.balance for i in invoices.filter(status__in=[InvoiceStatus.OPEN, InvoiceStatus.PARTLY_PAID])), 0),
    })


def _department_invoice_or_404(request, pk: int) -> Invoice:
    return get_object_or_404(Invoice.objects.of_department(request.user, request.tenant).select_related("tenant", "run"),
                             pk=pk)


@environment_required
def department_invoice_pdf(request, pk: int):
    require_perm(request, "billing.view_department_invoices")
    return _pdf_response(request, _department_invoice_or_404(request, pk))


@environment_required
@require_GET
def department_invoice_members(request, pk: int, fmt: str):
    require_perm(request, "billing.view_department_invoices")
    return _member_list(request, _department_invoice_or_404(request, pk), fmt)


