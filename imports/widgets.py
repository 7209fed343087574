"""imports' widget on the dashboard (tenants.widgets): the user's imports that are still being
checked, wait to be carried out, or are being imported, linking to the import list."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tenants.models import Tenant, User
from tenants.widgets import Widget, WidgetContent, WidgetFigure

from .models import ImportBatch
from .querysets import IMPORT_PERM

UNFINISHED = [
    ImportBatch.Status.UPLOADED, ImportBatch.Status.QUEUED, ImportBatch.Status.CHECKING, ImportBatch.Status.CHECKED,
    ImportBatch.Status.IMPORTING,
]


def imports_content(*, user: User, tenant: Tenant, ledenmodule: bool = False) -> WidgetContent | None:
    if ledenmodule or not user.has_perm(IMPORT_PERM, tenant):
        return None
    count = ImportBatch.objects.visible_to(user, tenant).filter(user=user, status__in=UNFINISHED).count()
    return WidgetContent(figures=[WidgetFigure(_("Imports not finished"), count, reverse("import_list"))])


IMPORTS_UNFINISHED = Widget("imports_unfinished", gettext_lazy("Imports"), 60, imports_content)
