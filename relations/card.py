"""What other apps add to the relation card, without relations importing them: tabs in the tab
bar, panels on the Data tab, events on the History tab and checks that run after a card is saved.

relations sits below the apps that join in (docs/architecture.md): memberships registers the
Functions tab and the history of functions, quality the open data problems and its re-check after
a save. Each registers once, in its AppConfig.ready(); the registries are read on every request
and never change after start-up.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Relation

# --- tabs --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CardTab:
    """A tab of the card: its key (the views' `tab`), label, URL name taking the relation's pk,
    and the permission on the environment that shows it (None: everyone who sees the card)."""

    key: str
    label: str | Promise
    url_name: str
    order: int
    permission: str | None = None


_tabs: dict[str, CardTab] = {}


def tab_register(tab: CardTab) -> None:
    _tabs[tab.key] = tab


def tabs() -> list[CardTab]:
    return sorted(_tabs.values(), key=lambda t: (t.order, t.key))


# The card's own tabs; memberships puts Functions at 20.
tab_register(CardTab("data", gettext_lazy("Data"), "relation_detail", 10))
tab_register(CardTab("history", gettext_lazy("History"), "relation_history", 30))
tab_register(CardTab(
    "communication", gettext_lazy("Communication"), "relation_communication", 40,
    permission="relations.view_communicationentry",
))
tab_register(CardTab(
    "privacy", gettext_lazy("Privacy"), "relation_privacy", 50, permission="relations.view_relationview",
))


# --- panels on the Data tab --------------------------------------------------------------------


@dataclass(frozen=True)
class CardPanel:
    """A block on the Data tab: `template` is included with `panel` set to what `context`
    returns for the card; None leaves the panel out."""

    key: str
    template: str
    context: Callable[[Any, Relation], dict[str, Any] | None]


@dataclass(frozen=True)
class ShownPanel:
    template: str
    context: dict[str, Any]


_panels: dict[str, CardPanel] = {}


def panel_register(panel: CardPanel) -> None:
    _panels[panel.key] = panel


def panels_for(request, relation: Relation) -> list[ShownPanel]:
    shown = []
    for panel in _panels.values():
        context = panel.context(request, relation)
        if context is not None:
            shown.append(ShownPanel(panel.template, context))
    return shown


# --- the History tab ---------------------------------------------------------------------------


@dataclass
class HistoryChange:
    field: str
    old: Any
    new: Any


@dataclass
class HistoryEvent:
    when: datetime.datetime
    who: str
    subject: str
    action: str
    changes: list[HistoryChange] = field(default_factory=list)
    order: int = 0


_history_sources: dict[str, Callable[[Relation], Iterable[HistoryEvent]]] = {}


def history_source_register(key: str, events: Callable[[Relation], Iterable[HistoryEvent]]) -> None:
    """`events(relation)` gives the events of rows that belong to the card (its functions)."""
    _history_sources[key] = events


def history_sources() -> list[Callable[[Relation], Iterable[HistoryEvent]]]:
    return list(_history_sources.values())


def history_display(model, name: str, record, value):
    """A readable value of a history record's field: the related object for foreign keys
    (select_related already loaded it), the label for choices."""
    model_field = model._meta.get_field(name)
    if value is None or value == "":
        return None
    if model_field.is_relation:
        return getattr(record, name, None) or value
    if model_field.choices:
        return dict(model_field.flatchoices).get(value, value)
    return value


def history_field_changes(model, new, old, skip: set[str]) -> list[HistoryChange]:
    """The fields that differ between two consecutive django-simple-history records."""
    changes = []
    for change in new.diff_against(old, excluded_fields=skip).changes:
        label = model._meta.get_field(change.field).verbose_name
        changes.append(HistoryChange(
            str(label)[:1].upper() + str(label)[1:],
            history_display(model, change.field, old, change.old),
            history_display(model, change.field, new, change.new),
        ))
    return changes


def history_who(record) -> str:
    who = record.history_user.username if record.history_user_id and record.history_user else "—"
    if record.history_user_id and record.history_user_id == getattr(record, "user_id", None):
        # The card's own login changed it: the member, in the portal (issue 18).
        return _("%(user)s (the member)") % {"user": who}
    if record.history_on_behalf_of_id and record.history_on_behalf_of:
        # Looking along (SPEC T7): the person who really acted, for the one whose ledenmodule it was.
        return _("%(actor)s on behalf of %(user)s") % {"actor": who, "user": record.history_on_behalf_of.username}
    return who


# --- after a card is saved ---------------------------------------------------------------------

_after_save: dict[str, Callable[[Relation], None]] = {}
_after_save_many: dict[str, Callable[[list[Relation]], None]] = {}


def after_save_register(
    key: str, check: Callable[[Relation], None], many: Callable[[list[Relation]], None] | None = None
) -> None:
    """`check(relation)` runs after every save of a card by relations.services, in the same
    transaction (quality opens and closes the card's data problems at once, SPEC N2).
    `many(relations)`, when given, does the same for many cards saved together (the bulk
    import); without it `check` runs once per card."""
    _after_save[key] = check
    if many is not None:
        _after_save_many[key] = many
    else:
        _after_save_many.pop(key, None)


def after_save_run(relation: Relation) -> None:
    for check in _after_save.values():
        check(relation)


def after_save_run_many(relations: list[Relation]) -> None:
    for key, check in _after_save.items():
        many = _after_save_many.get(key)
        if many is not None:
            many(relations)
        else:
            for relation in relations:
                check(relation)


# --- around a change of cards or their functions ---------------------------------------------

_change_watches: dict[str, tuple[Callable[[list[int]], None], Callable[[list[int]], None]]] = {}
# The relations whose change is being watched now, so a service that calls another one (creating
# a card starts its first function) reports each relation once, around the outermost call.
_changing: ContextVar[frozenset[int]] = ContextVar("relations_changing", default=frozenset())


def change_watch_register(
    key: str, before: Callable[[list[int]], None], after: Callable[[list[int]], None]
) -> None:
    """`before(ids)` runs before relations.services or memberships.services change the cards with
    these ids or their functions, `after(ids)` after the change, both in the change's transaction
    (the dashboard withdraws the relations' counts and adds them again as they are now)."""
    _change_watches[key] = (before, after)


@contextmanager
def relations_changing(relation_ids: Iterable[int | None]):
    """Wrap a change of these relations (their card fields or functions) in the registered
    watches; nested calls for the same relations are covered by the outermost one."""
    outer = _changing.get()
    ids = sorted({pk for pk in relation_ids if pk is not None} - outer)
    token = _changing.set(outer | set(ids))
    try:
        if ids:
            for before, _after in _change_watches.values():
                before(ids)
        yield
        if ids:
            for _before, after in _change_watches.values():
                after(ids)
    finally:
        _changing.reset(token)


# --- parts of a card filled from a row of a file -----------------------------------------------


@dataclass(frozen=True)
class RowColumn:
    """A column of a row of cards (the bulk import's file) that fills a part of the card another
    app keeps. `key` is unique over all parts; `kind` says how the file's cell is read ("text"
    or "date"); `synonyms` are header names (lower case, letters and digits only) that mean it."""

    key: str
    label: str | Promise
    kind: str = "text"
    synonyms: tuple[str, ...] = ()
    example: Any = ""


@dataclass
class PartRow:
    """One row's cells of a part, by column key (only rows with a filled cell of the part).
    `relation` is the matched card's pk, None for a new card or one not yet chosen. `check`
    fills `clean` (kept with the checked row as JSON, handed back to `apply`) and `errors`
    ((column key, message))."""

    line: int
    values: dict[str, Any]
    relation: int | None = None
    clean: dict[str, Any] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class RowPart:
    """What another app keeps on a card that a row of a file may fill (billing: a SEPA
    mandate). All callbacks work on many rows at once and run in the caller's transaction:
    - `offered(user, tenant)`: whether the columns are offered there at all;
    - `check(user, tenant, rows)`: validates, writes nothing;
    - `apply(user, tenant, source, rows)`: writes, `rows` as (line, relation pk, clean) —
      a refusal is a ValidationError whose messages name the line; `source` names the file's
      import so that `undo_refusal(source)` (why it can no longer be taken back, or None) and
      `undo(user, source)` find what it wrote."""

    key: str
    label: str | Promise  # what its rows write, for the import's summary ("Mandates to record")
    columns: tuple[RowColumn, ...]
    offered: Callable[[Any, Any], bool]
    check: Callable[[Any, Any, list[PartRow]], None]
    apply: Callable[[Any, Any, str, list[tuple[int, int, dict[str, Any]]]], None]
    undo_refusal: Callable[[str], str | None]
    undo: Callable[[Any, str], None]


_row_parts: dict[str, RowPart] = {}


def row_part_register(part: RowPart) -> None:
    _row_parts[part.key] = part


def row_parts() -> list[RowPart]:
    return list(_row_parts.values())
