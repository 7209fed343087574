"""What billing holds about a person, for the GDPR export and erasure (relations/privacy.py):
their invoices and credit notes with payments, their direct-debit mandates, and the invoice PDFs.

Invoices are bookkeeping records that must be kept (a finalised invoice is never changed, SPEC
B2), so an erasure keeps their amounts and numbers but empties the debtor's name, e-mail address
and address; it is refused while an invoice is still open or a mandate still active, because
those are still being collected."""

from __future__ import annotations

import datetime

from django.utils.translation import gettext as _

from relations.models import Relation
from relations.privacy import ANONYMISED_NAME, PersonalDataSource

from .models import Invoice, InvoiceStatus, Mandate


def _invoices(relation: Relation):
    return Invoice.objects.filter(relation=relation).select_related("tenant").order_by("date", "pk")


def billing_rows(relation: Relation) -> list[dict]:
    rows = []
    for invoice in _invoices(relation).prefetch_related("payments"):
        rows.append({
            "kind": "invoice" if invoice.kind == Invoice.Kind.INVOICE else "credit_note",
            "environment": invoice.tenant.name, "number": invoice.number, "date": invoice.date,
            "due_date": invoice.due_date, "debtor": invoice.debtor_name, "email": invoice.debtor_email,
            "address": invoice.debtor_address, "total": invoice.total, "paid": invoice.paid,
            "status": invoice.get_status_display(), "payment_reference": invoice.payment_reference,
            "payments": [
                {"date": payment.date, "amount": payment.amount, "method": payment.get_method_display()}
                for payment in invoice.payments.all()
            ],
        })
    for mandate in Mandate.objects.filter(relation=relation).select_related("tenant").order_by("signed_on", "pk"):
        rows.append({
            "kind": "mandate", "environment": mandate.tenant.name, "reference": mandate.reference,
            "signed_on": mandate.signed_on, "iban": mandate.iban, "bic": mandate.bic,
            "account_holder": mandate.account_holder, "ended_on": mandate.ended_on,
        })
    return rows


def billing_files(relation: Relation):
    for invoice in _invoices(relation).exclude(pdf=""):
        yield f"facturen/{invoice.number}.pdf", invoice.pdf


def billing_erasure_refusal(relation: Relation, day: datetime.date) -> str | None:
    if Invoice.objects.filter(relation=relation, status__in=[InvoiceStatus.OPEN, InvoiceStatus.PARTLY_PAID]).exists():
        return _("An invoice of this person is still open: settle, credit or write it off first.")
    if Mandate.objects.active().filter(relation=relation).exists():
        return _("A direct-debit mandate of this person is still active: end it first.")
    return None


def billing_anonymise(relation: Relation) -> None:
    """The invoices keep their numbers and amounts (bookkeeping); the debtor's name and contact
    data go, and so do the ended mandates' account details."""
    Invoice.objects.filter(relation=relation).update(debtor_name=ANONYMISED_NAME, debtor_email="", debtor_address="")
    Mandate.objects.filter(relation=relation).update(account_holder=ANONYMISED_NAME, iban="", bic="")


BILLING = PersonalDataSource(
    key="billing", rows=billing_rows, files=billing_files, anonymise=billing_anonymise,
    erasure_refusal=billing_erasure_refusal,
)
