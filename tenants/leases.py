"""Leases for background work (ARCHITECTURE "Jobs and mail"; docs/jobs.md "Leases and the reaper").

A row of work (an export, a documents job, a mail, a nightly run) that a worker is busy with holds
a lease: a token and a time it runs out. The worker takes it in one conditional UPDATE (so two
deliveries of the same task cannot both take it), renews it from a heartbeat thread while it
works, and gives it back when it is done. A worker killed mid-way stops renewing; once the lease
has run out the reaper — a task beat sends every minute — queues the work again, and the next
delivery takes the lease over. A reaper that queues a row puts a fresh *reservation* on it (an
empty token until a new time), so a second reaper, or a second beat started by mistake, does not
queue it a second time; the task that picks it up takes the lease at once.

Each app registers what its reaper looks at with `reaper_register` (in its `AppConfig.ready()`);
`reap()` runs them all.
"""

from __future__ import annotations

import datetime
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import connections, models
from django.db.models import Q
from django.utils import timezone

logger = logging.getLogger("ledenbeheer.jobs")


class Leased(models.Model):
    """The two columns of a lease. Empty token with a time: reserved for whoever delivers the
    task next (the reaper queued it); a token: held by a worker until `lease_until`."""

    lease_token = models.CharField(max_length=32, blank=True, default="", editable=False)
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True


def lease_length() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.JOB_LEASE_SECONDS)


def queued_grace() -> datetime.timedelta:
    """How long a row may wait in the queue before the reaper takes its message for lost."""
    return datetime.timedelta(seconds=settings.JOB_REQUEUE_QUEUED_AFTER)


def _free(now: datetime.datetime) -> Q:
    return Q(lease_until__isnull=True) | Q(lease_until__lte=now) | Q(lease_token="")


def lease_take(model: type[models.Model], pk, *, where: Q | None = None, **fields) -> str | None:
    """Take the lease on row `pk` (when `where` holds and nobody holds a live lease) and set
    `fields` in the same UPDATE. Returns the token, or None when another worker has it."""
    now = timezone.now()
    token = uuid.uuid4().hex
    rows = model.objects.filter(_free(now), pk=pk)
    if where is not None:
        rows = rows.filter(where)
    if rows.update(lease_token=token, lease_until=now + lease_length(), **fields):
        return token
    return None


def lease_renew(model: type[models.Model], pk, token: str) -> bool:
    return bool(
        model.objects.filter(pk=pk, lease_token=token).update(lease_until=timezone.now() + lease_length())
    )


def lease_release(model: type[models.Model], pk, token: str, **fields) -> bool:
    """Give the lease back and set `fields`, only if it is still ours: a worker that lost its
    lease to another never records the result a second time."""
    return bool(model.objects.filter(pk=pk, lease_token=token).update(lease_token="", lease_until=None, **fields))


def lease_pass_on(model: type[models.Model], pk, token: str) -> bool:
    """Give the lease back but keep the row reserved (an empty token until a new time) for the
    next step, which the caller queues now: the reaper leaves it alone meanwhile."""
    return bool(
        model.objects.filter(pk=pk, lease_token=token).update(lease_token="", lease_until=timezone.now() + queued_grace())
    )


def lease_held(model: type[models.Model], pk, token: str) -> bool:
    return model.objects.filter(pk=pk, lease_token=token).exists()


class Heartbeat:
    """Renews a lease every third of its length from a thread of its own, so a step that takes
    longer than the lease (a slow query, a large PDF) does not lose it while the worker lives.
    `lost` turns true when the lease was taken over; the work should then stop."""

    def __init__(self, model: type[models.Model], pk, token: str):
        self.model, self.pk, self.token = model, pk, token
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{model.__name__}-{pk}", daemon=True)

    def _run(self) -> None:
        interval = max(0.2, settings.JOB_LEASE_SECONDS / 3)
        try:
            while not self._stop.wait(interval):
                if not lease_renew(self.model, self.pk, self.token):
                    self.lost = True
                    return
        except Exception:  # a database hiccup: the lease runs out and the reaper recovers the work
            logger.exception("Renewing the lease of %s %s failed", self.model.__name__, self.pk)
        finally:
            connections.close_all()  # this thread's own connection

    def __enter__(self) -> Heartbeat:
        # Tasks run in-process without a broker (the demo): no reaper, nothing to renew for.
        if not settings.CELERY_TASK_ALWAYS_EAGER:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


@contextmanager
def heartbeat(model: type[models.Model], pk, token: str) -> Iterator[Heartbeat]:
    with Heartbeat(model, pk, token) as beat:
        yield beat


# --- the reaper ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reaper:
    """What one kind of work looks like to the reaper: its rows (`queryset`), which of them are
    being worked on (`running`) and which wait to be started (`queued`, with the field that says
    since when), and how to queue one again (`requeue(pk)`)."""

    name: str
    queryset: Callable[[], models.QuerySet]
    running: Q
    queued: Q | None
    queued_since: str
    requeue: Callable[[object], None]


REAPERS: dict[str, Reaper] = {}


def reaper_register(reaper: Reaper) -> None:
    REAPERS[reaper.name] = reaper


def _expired(reaper: Reaper, now: datetime.datetime) -> Q:
    lapsed = Q(lease_until__isnull=True) | Q(lease_until__lte=now)
    condition = reaper.running & lapsed
    if reaper.queued is not None:
        condition |= reaper.queued & lapsed & Q(**{f"{reaper.queued_since}__lte": now - queued_grace()})
    return condition


def reap_one(reaper: Reaper) -> list:
    """Queue again every row of `reaper` whose lease ran out (or that waited too long in the
    queue). Each row is reserved in a conditional UPDATE before it is queued, so two reapers
    running at once queue it once."""
    now = timezone.now()
    rows = reaper.queryset()
    queued = []
    for pk in list(rows.filter(_expired(reaper, now)).values_list("pk", flat=True)[:1000]):
        if rows.filter(_expired(reaper, now), pk=pk).update(lease_token="", lease_until=now + queued_grace()):
            reaper.requeue(pk)
            queued.append(pk)
    if queued:
        logger.warning("Reaper %s queued again: %s", reaper.name, ", ".join(map(str, queued)))
    return queued


def reap() -> dict[str, int]:
    """Run every registered reaper; returns how many rows each queued again."""
    done = {}
    for reaper in REAPERS.values():
        try:
            done[reaper.name] = len(reap_one(reaper))
        except Exception:  # one broken reaper must not keep the others from running
            logger.exception("Reaper %s failed", reaper.name)
    return done
