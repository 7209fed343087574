from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class WizardsConfig(AppConfig):
    name = "wizards"
    verbose_name = _("Selection wizards")

    def ready(self) -> None:
        # Imported here, not at the top: Django loads apps.py before any model exists.
        from tenants.leases import reaper_register
        from tenants.widgets import widget_register

        from .standard import standard_wizards_ensure_after_migrate
        from .tasks import EXPORTS_REAPER
        from .widgets import EXPORTS_RUNNING

        reaper_register(EXPORTS_REAPER)
        widget_register(EXPORTS_RUNNING)

        # Like the function catalogue, the shipped wizards are there after every migrate.
        post_migrate.connect(standard_wizards_ensure_after_migrate, dispatch_uid="wizards.standard")
