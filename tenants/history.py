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
from django.db import models
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
