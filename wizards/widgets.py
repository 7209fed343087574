"""wizards' widget on the dashboard (tenants.widgets): the user's background exports that are
waiting or busy, linking to the newest one."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tenants.models import Tenant, User
from tenants.widgets import Widget, WidgetContent, WidgetFigure

from .models import ExportJob


def exports_content(*, user: User, tenant: Tenant, ledenmodule: bool = False) -> WidgetContent | None:
    if ledenmodule or not user.has_perm("wizards.view_wizard", tenant):
        return None
    running = list(
        ExportJob.objects.filter(user=user, tenant=tenant, status__in=[ExportJob.Status.PENDING, ExportJob.Status.RUNNING])
        .order_by("-created_at").values_list("pk", flat=True)[:100]
    )
    url = reverse("export_job_detail", kwargs={"pk": running[0]}) if running else reverse("wizard_list")
    return WidgetContent(figures=[WidgetFigure(_("Exports running"), len(running), url)])


EXPORTS_RUNNING = Widget("exports_running", gettext_lazy("Exports"), 50, exports_content)
