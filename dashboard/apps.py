import datetime

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    """The start page's widgets, the membership flow and the end-date analysis (SPEC W7)."""

    name = "dashboard"
    verbose_name = _("Dashboard")

    def ready(self) -> None:
        # Imported here, not at the top: Django loads apps.py before any model exists.
        from relations import card
        from tenants.jobs import Job, job_register
        from tenants.widgets import widget_register

        from . import counts, widgets

        # Every change of a card or its functions keeps the counts up to date; the nightly job
        # rebuilds them from the raw rows and reports what differed (docs/dashboard.md).
        card.change_watch_register("dashboard_counts", counts.relations_withdraw, counts.relations_add)
        job_register(Job("membership_counts", counts.counts_rebuild, datetime.timedelta(hours=23)))
        for widget in widgets.WIDGETS:
            widget_register(widget)
