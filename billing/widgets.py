"""billing's widget on the dashboard (tenants.widgets): open invoices of the environment (or, in
a department's ledenmodule, the invoices the department received and has not paid)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tenants.models import Tenant, User
from tenants.widgets import Widget, WidgetContent, WidgetFigure

from .models import Invoice, InvoiceStatus

UNPAID = [InvoiceStatus.OPEN, InvoiceStatus.PARTLY_PAID]


def open_invoices_content(*, user: User, tenant: Tenant, ledenmodule: bool = False) -> WidgetContent | None:
    if ledenmodule:
        invoices, url = Invoice.objects.of_department(user, tenant), reverse("department_invoice_list")
    elif user.has_perm("billing.view_invoice", tenant):
        invoices = Invoice.objects.visible_to(user, tenant)
        url = f"{reverse('invoice_list')}?{urlencode({'status': InvoiceStatus.OPEN})}"
    else:
        return None
    count = invoices.filter(kind=Invoice.Kind.INVOICE, status__in=UNPAID).count()
    return WidgetContent(figures=[WidgetFigure(_("Open invoices"), count, url)])


OPEN_INVOICES = Widget("open_invoices", gettext_lazy("Invoices"), 70, open_invoices_content)
