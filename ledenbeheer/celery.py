"""The Celery application, configured from Django settings (keys prefixed CELERY_)."""

import os

from celery import Celery
from celery.signals import beat_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledenbeheer.settings")

app = Celery("ledenbeheer")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@beat_init.connect
def catch_up_at_start(sender=None, **kwargs) -> None:
    """A night missed while beat was down is made up as soon as beat is back (docs/jobs.md)."""
    app.send_task("quality.tasks.catch_up")
