"""intake's widget on the dashboard (tenants.widgets): new registrations waiting for a decision,
linking to the registrations list filtered on "new"."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tenants.models import Tenant, User
from tenants.widgets import Widget, WidgetContent, WidgetFigure

from .models import Registration, RegistrationStatus


def waiting_content(*, user: User, tenant: Tenant, ledenmodule: bool = False) -> WidgetContent | None:
    if not user.has_perm("intake.view_registration", tenant):
        return None
    count = Registration.objects.visible_to(user, tenant).filter(status=RegistrationStatus.NEW).count()
    url = f"{reverse('registration_list')}?{urlencode({'status': RegistrationStatus.NEW})}"
    return WidgetContent(figures=[WidgetFigure(_("New registrations waiting"), count, "" if ledenmodule else url)])


REGISTRATIONS_WAITING = Widget("registrations_waiting", gettext_lazy("Registrations"), 40, waiting_content)
