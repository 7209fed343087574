"""The invoice as a document: its PDF (WeasyPrint, through the notifications renderer with its
own-files-only fetcher) and the texts of the e-mails that carry it and remind of it."""

from __future__ import annotations

import io

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override

from memberships.models import Function
from notifications.models import MailTemplate
from notifications.rendering import DOCUMENT_BASE_URL, RenderedMail, html_to_pdf, mail_render
from notifications.services import token_context_for
from notifications.tokens import TokenContext, tokens_used
from relations.exports import XLSX_CONTENT_TYPE, csv_write, xlsx_write
from relations.filters import Column

from .models import BillingEnvironment, Invoice, InvoiceMember

# (key, description, example): the invoice's details as tokens of the invoice and reminder mail
# templates, registered in BillingConfig.ready(); their values come from `invoice_token_values`.
INVOICE_TOKENS = [
    ("invoicenumber", gettext_lazy("Invoice number"), "2027-000001"),
    ("invoicedate", gettext_lazy("Invoice date"), "1-1-2027"),
    ("invoiceamount", gettext_lazy("Amount of the invoice"), "35,00"),
    ("openamount", gettext_lazy("Amount still open"), "35,00"),
    ("duedate", gettext_lazy("Date the invoice is due"), "15-1-2027"),
    ("paymentreference", gettext_lazy("Payment reference (betalingskenmerk)"), "RF89 2027 0000 01"),
]


def _logo_url(invoice: Invoice) -> str:
    logo = invoice.tenant.logo
    return f"{DOCUMENT_BASE_URL}{settings.MEDIA_URL.lstrip('/')}{logo.name}" if logo else ""


def invoice_context(invoice: Invoice) -> dict:
    environment = BillingEnvironment.objects.filter(tenant=invoice.tenant).first()
    mandate = None
    if invoice.relation_id and invoice.kind == Invoice.Kind.INVOICE:
        mandate = invoice.relation.mandates.filter(tenant=invoice.tenant, ended_on__isnull=True, flagged=False).first()
    return {
        "invoice": invoice, "lines": list(invoice.lines.all()), "environment": environment,
        "tenant": invoice.tenant, "mandate": mandate, "logo_url": _logo_url(invoice),
    }


def invoice_html(invoice: Invoice) -> str:
    return render_to_string("billing/invoice_pdf.html", invoice_context(invoice))


def invoice_pdf(invoice: Invoice) -> bytes:
    with override(invoice.tenant.language or "nl"):
        return html_to_pdf(invoice_html(invoice))


def invoice_token_values(invoice: Invoice) -> dict[str, str]:
    return {
        "invoicenumber": invoice.number,
        "invoicedate": invoice.date.strftime("%d-%m-%Y"),
        "invoiceamount": number_format(invoice.total, 2, use_l10n=True),
        "openamount": number_format(invoice.balance, 2, use_l10n=True),
        "duedate": invoice.due_date.strftime("%d-%m-%Y"),
        "paymentreference": invoice.payment_reference,
    }


def invoice_mail(invoice: Invoice, template: MailTemplate | None, standard: tuple[str, str, str]) -> RenderedMail:
    """The mail about `invoice`: the environment's mail template when it has one (the relation's
    tokens and the invoice's), else the standard text. A template that names no invoice token
    gets the standard text's details appended, so a mail never leaves out what to pay."""
    subject, text, html = standard
    if template is None:
        return RenderedMail(subject=subject, text=text, html=html)
    if invoice.relation is not None:
        context = token_context_for(invoice.relation, invoice.tenant)
    else:
        context = TokenContext(tenant=invoice.tenant)
    context.values = invoice_token_values(invoice)
    rendered = mail_render(template, context)
    keys = {key for key, _description, _example in INVOICE_TOKENS}
    if keys & tokens_used(f"{template.email_subject} {template.email_text}"):
        return rendered
    subject, text, html = _mail(rendered.subject, f"{rendered.text}\n\n{text}")
    return RenderedMail(subject=subject, text=text, html=html)


def _mail(subject: str, text: str) -> tuple[str, str, str]:
    html = render_to_string("notifications/email.html", {"subject": subject, "text": text})
    return subject, text, html


def invoice_email_text(invoice: Invoice) -> tuple[str, str, str]:
    with override(invoice.tenant.language or "nl"):
        subject = _("Invoice %(number)s from %(sender)s") % {"number": invoice.number, "sender": invoice.tenant.name}
        text = _(
            "Dear %(name)s,\n\nAttached you find invoice %(number)s of € %(amount)s, payable by %(due)s "
            "with reference %(reference)s.\n\nKind regards,\n%(sender)s"
        ) % {
            "name": invoice.debtor_name, "number": invoice.number, "amount": number_format(invoice.total, 2, use_l10n=True),
            "due": invoice.due_date.strftime("%d-%m-%Y"), "reference": invoice.payment_reference,
            "sender": invoice.tenant.name,
        }
        if invoice.debtor_tenant_id:
            text += "\n\n" + _("The list of members this invoice counts is attached (CSV and Excel).")
        return _mail(subject, text)


def reminder_email_text(invoice: Invoice) -> tuple[str, str, str]:
    with override(invoice.tenant.language or "nl"):
        subject = _("Reminder: invoice %(number)s") % {"number": invoice.number}
        text = _(
            "Invoice %(number)s of %(date)s is still open: € %(balance)s, due on %(due)s. Please pay with "
            "reference %(reference)s. If you have already paid, you can ignore this message."
        ) % {
            "number": invoice.number, "date": invoice.date.strftime("%d-%m-%Y"), "balance": number_format(invoice.balance, 2, use_l10n=True),
            "due": invoice.due_date.strftime("%d-%m-%Y"), "reference": invoice.payment_reference,
        }
        return _mail(subject, text)


# --- the member list of a department invoice (SPEC B4) ------------------------------------------

MEMBER_LIST_COLUMNS = [
    Column("number", gettext_lazy("Relation number"), lambda m: m.relation.number),
    Column("name", gettext_lazy("Name"), lambda m: m.relation.sort_name),
    Column("birth_date", gettext_lazy("Birth date"), lambda m: m.relation.birth_date),
    Column("function_type", gettext_lazy("Membership"), lambda m: str(m.function_type)),
    Column("amount", gettext_lazy("Amount"), lambda m: m.amount),
]


def invoice_member_list(invoice: Invoice) -> list[InvoiceMember]:
    """The memberships a department invoice counted, one row each, by name: the rows kept when
    the run was finalised. An invoice finalised before they were kept gets the memberships held
    on the run's reference date as they are recorded now (without amounts)."""
    counted = list(
        invoice.counted_members.select_related("relation", "function_type")
        .order_by("relation__last_name", "relation__first_name", "relation__number", "pk")
    )
    if counted or invoice.run_id is None or invoice.debtor_tenant_id is None:
        return counted
    run = invoice.run
    functions = (
        Function.objects.memberships().active_on(run.reference_date)
        .filter(invoice.debtor_tenant.subtree_filter("tenant"), function_type__in=run.function_types.all())
        .select_related("relation", "function_type")
        .order_by("relation__last_name", "relation__first_name", "relation__number", "pk")
    )
    return [InvoiceMember(invoice=invoice, relation=f.relation, function_type=f.function_type, amount=None)
            for f in functions]


def invoice_member_files(invoice: Invoice, members: list[InvoiceMember]) -> list[tuple[str, bytes, str]]:
    """The member list as (file name, content, content type): CSV for Excel, and XLSX."""
    text = io.StringIO(newline="")
    csv_write(text, members, MEMBER_LIST_COLUMNS)
    workbook = io.BytesIO()
    xlsx_write(workbook, members, MEMBER_LIST_COLUMNS, title=invoice.number)
    name = f"leden-{invoice.number}"
    return [
        (f"{name}.csv", text.getvalue().encode("utf-8"), "text/csv"),
        (f"{name}.xlsx", workbook.getvalue(), XLSX_CONTENT_TYPE),
    ]
