"""The dashboard's use cases: the widgets a user sees, and hiding or showing one."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from tenants.models import Tenant, User
from tenants.widgets import Widget, WidgetContent, widgets

from .models import WidgetPreference


@dataclass(frozen=True)
class ShownWidget:
    widget: Widget
    content: WidgetContent


def hidden_widgets(user: User) -> list[str]:
    return list(WidgetPreference.objects.filter(user=user).values_list("hidden", flat=True).first() or [])


def dashboard_widgets(*, user: User, tenant: Tenant, ledenmodule: bool = False) -> tuple[list[ShownWidget], list[Widget]]:
    """The widgets this user sees in this environment, and the ones they hid (which can be shown
    again). A widget whose content is None is not for them and is in neither list."""
    hidden = set(hidden_widgets(user))
    shown, hidden_list = [], []
    for widget in widgets():
        if widget.key in hidden:
            hidden_list.append(widget)
            continue
        content = widget.content(user=user, tenant=tenant, ledenmodule=ledenmodule)
        if content is not None:
            shown.append(ShownWidget(widget, content))
    return shown, hidden_list


@transaction.atomic
def widget_visibility_set(*, user: User, key: str, visible: bool) -> list[str]:
    """Hide a widget from the user's dashboard, or show it again; remembered per user."""
    if key not in {w.key for w in widgets()}:
        raise ValidationError(_("There is no widget “%(key)s”.") % {"key": key})
    preference, _created = WidgetPreference.objects.select_for_update().get_or_create(user=user)
    hidden = [k for k in preference.hidden if k != key]
    if not visible:
        hidden.append(key)
    preference.hidden = sorted(hidden)
    preference.save(update_fields=["hidden"])
    return preference.hidden
