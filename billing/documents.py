"""The invoice as a document: its PDF (WeasyPrint, through the notifications renderer with its
own-files-only fetcher) and the texts of the e-mails that carry it and remind of it."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import override

from notifications.rendering import DOCUMENT_BASE_URL, html_to_pdf

from .models import BillingEnvironment, Invoice


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
            text += "\n\n" + _("The list of members this invoice counts is on the invoice's page in Ledenbeheer.")
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
