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


def widget_keys() -> set[str]:
    return {w.key for w in widgets()}


def widgets_split(hidden: list[str]) -> tuple[list[Widget], list[Widget]]:
    """Every registered widget, split into the ones to show and the ones the user hid."""
    return [w for w in widgets() if w.key not in hidden], [w for w in widgets() if w.key in hidden]


def widget_content(*, key: str, user: User, tenant: Tenant, ledenmodule: bool = False) -> ShownWidget | None:
    """One widget's content for this user in this environment; None for an unknown key or a
    widget that is not for them."""
    widget = next((w for w in widgets() if w.key == key), None)
    if widget is None:
        return None
    content = widget.content(user=user, tenant=tenant, ledenmodule=ledenmodule)
    return ShownWidget(widget, content) if content is not None else None


def dashboard_widgets(*, user: User, tenant: Tenant, ledenmodule: bool = False) -> tuple[list[ShownWidget], list[Widget]]:
    """The widgets this user sees in this environment with their content, and the ones they hid
    (which can be shown again). A widget whose content is None is not for them."""
    shown, hidden = widgets_split(hidden_widgets(user))
    contents = [widget_content(key=w.key, user=user, tenant=tenant, ledenmodule=ledenmodule) for w in shown]
    return [c for c in contents if c is not None], hidden


@transaction.atomic
def widget_visibility_set(*, user: User, key: str, visible: bool) -> list[str]:
    """Hide a widget from the user's dashboard, or show it again; remembered per user."""
    if key not in widget_keys():
        raise ValidationError(_("There is no widget “%(key)s”.") % {"key": key})
    preference, _created = WidgetPreference.objects.select_for_update().get_or_create(user=user)
    hidden = [k for k in preference.hidden if k != key]
    if not visible:
        hidden.append(key)
    preference.hidden = sorted(hidden)
    preference.save(update_fields=["hidden"])
    return preference.hidden
