"""The dashboard's widgets, registered by the apps that know what they count.

A feature may not import another feature (docs/architecture.md), so the dashboard cannot ask
billing for its open invoices. This registry lies below every app: each app registers its
widgets in its AppConfig.ready(), and the dashboard renders whatever is registered for the user
and environment (docs/dashboard.md). Filled at start-up, only read afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.functional import Promise


@dataclass(frozen=True)
class WidgetFigure:
    """One number on a widget, with what it counts and the list behind it (filter set)."""

    label: str | Promise
    value: int | str
    url: str = ""


@dataclass(frozen=True)
class WidgetContent:
    """What a widget shows: figures, and optionally a line of explanation (an empty state says
    why it is empty)."""

    figures: list[WidgetFigure] = field(default_factory=list)
    note: str | Promise = ""


@dataclass(frozen=True)
class Widget:
    """A widget: its key (remembered when a user hides it), title, place (lower first) and the
    function that gives its content for a user in an environment — or None when the widget is
    not for them (no permission, nothing this environment does)."""

    key: str
    title: str | Promise
    order: int
    content: Callable[..., WidgetContent | None]


_widgets: dict[str, Widget] = {}


def widget_register(widget: Widget) -> None:
    """`widget.content(user=, tenant=, ledenmodule=)` is called for every dashboard shown; keep it
    to one or two queries. `ledenmodule` is True on a department's dashboard in the ledenmodule,
    where links go to the ledenmodule's own screens."""
    _widgets[widget.key] = widget


def widgets() -> list[Widget]:
    return sorted(_widgets.values(), key=lambda w: (w.order, w.key))
