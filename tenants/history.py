"""Change history that names both people when a national administrator looks along with a
department administrator (SPEC T7): `history_user` is who really acted, `history_on_behalf_of`
the person whose ledenmodule they were working in.

The middleware marks a request as acting on someone's behalf (`acting_on_behalf_of`); history
models built on `OnBehalfOfHistory` pick that up as the default of their extra column, so no
service needs to pass it along. This is the same mechanism django-simple-history itself uses to
find `history_user` from the request.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection, models
from django.db.models.deletion import Collector
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from .models import User

_on_behalf_of: contextvars.ContextVar[int | None] = contextvars.ContextVar("on_behalf_of", default=None)


def on_behalf_of_id() -> int | None:
    """The user on whose behalf the current request acts, if any (a field default)."""
    return _on_behalf_of.get()


@contextmanager
def acting_on_behalf_of(user: User | None) -> Iterator[None]:
    token = _on_behalf_of.set(user.pk if user is not None else None)
    try:
        yield
    finally:
        _on_behalf_of.reset(token)


class OnBehalfOfHistory(models.Model):
    """The base of historical models whose changes can be made while looking along."""

    history_on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("on behalf of"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+", default=on_behalf_of_id,
    )

    class Meta:
        abstract = True


def history_baseline(instance: models.Model) -> None:
    """Give a row that has no history yet a first ("+") history row holding its values as they
    are now, dated when the row was made. Rows written straight into their table (the demo
    loader's COPY, data from before the history existed) have none, and without it their first
    change shows as "created" instead of old → new. Call it before changing the row."""
    history = type(instance).history
    if history.filter(id=instance.pk).exists():
        return
    history.bulk_history_create([instance], default_date=getattr(instance, "created_at", None))


def history_rows_insert(
    model: type[models.Model], ids: list, *, history_type: str, user: User | None, reason: str | None,
) -> None:
    """The history rows of many rows just written (the bulk import), copied from the table
    itself in one INSERT … SELECT per chunk instead of a model instance per row: the values
    `bulk_history_create` would store (the tracked fields as saved, now, `user`, `reason`,
    `history_type` "+" or "~", and who the request acts on behalf of)."""
    _history_rows_copy(model, ids, {
        "history_date": timezone.now(), "history_type": history_type, "history_change_reason": reason,
        "history_user": user.pk if user is not None else None, "history_on_behalf_of": on_behalf_of_id(),
    })


def history_baselines_insert(model: type[models.Model], ids: list) -> None:
    """`history_baseline` for many rows: those of `ids` that have no history row yet get a
    first ("+") one holding their values as they are now, dated when the row was made (its
    `created_at`), naming no one — one INSERT … SELECT per chunk, the rows with history left
    out by the query itself. Call it before changing the rows (the bulk import's updates, the
    functions a merge moves)."""
    dated = {"history_date": "created_at"} if any(f.name == "created_at" for f in model._meta.concrete_fields) else {}
    _history_rows_copy(model, ids, {
        "history_date": timezone.now(), "history_type": "+", "history_change_reason": None,
        "history_user": None, "history_on_behalf_of": None,
    }, copied=dated, without_history=True)


def _history_rows_copy(
    model: type[models.Model], ids: list, fixed: dict, *, copied: dict[str, str] | None = None,
    without_history: bool = False,
) -> None:
    """Insert a history row per row of `ids`, copied from the table: the tracked fields as they
    are, the history fields in `fixed` as values, those in `copied` from the named field of the
    row. With `without_history`, only for the rows that have no history row yet."""
    if not ids or not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    copied = copied or {}
    history = model.history.model
    qn = connection.ops.quote_name
    table, history_table, pk = qn(model._meta.db_table), qn(history._meta.db_table), qn(model._meta.pk.column)
    columns, selected, params = [], [], []
    for field in history._meta.concrete_fields:
        if field.primary_key and field.name == "history_id":
            continue
        columns.append(qn(field.column))
        if field.name in copied:
            selected.append(f"{table}.{qn(model._meta.get_field(copied[field.name]).column)}")
        elif field.name in fixed:
            selected.append("%s")
            params.append(fixed[field.name])
        else:
            selected.append(f"{table}.{qn(model._meta.get_field(field.name).column)}")
    # Names from the models' own metadata, never input; values as parameters.
    tracked_id = qn(history._meta.get_field(model._meta.pk.name).column)
    unrecorded = f"NOT EXISTS (SELECT 1 FROM {history_table} h WHERE h.{tracked_id} = {table}.{pk}) AND "  # noqa: S608
    sql = (f"INSERT INTO {history_table} ({', '.join(columns)}) "  # noqa: S608
           f"SELECT {', '.join(selected)} FROM {table} "
           f"WHERE {unrecorded if without_history else ''}{table}.{pk} IN ")
    with connection.cursor() as cursor:
        for start in range(0, len(ids), 2000):
            chunk = list(ids[start : start + 2000])
            cursor.execute(sql + f"({', '.join(['%s'] * len(chunk))})", [*params, *chunk])


def rows_delete_with_history(instances: list[models.Model], *, user: User | None, reason: str | None = None) -> None:
    """Delete `instances` (of one model) together, as Model.delete() on each would: Django's
    collector finds what cascades for all of them at once, and each history row names `user`
    (and `reason`). For bulk undo; one at a time, the collector's queries repeat per row."""
    if not instances:
        return
    for instance in instances:
        instance._history_user = user
        if reason is not None:
            instance._change_reason = reason
    collector = Collector(using=instances[0]._state.db, origin=instances[0])
    collector.collect(instances)
    collector.delete()

