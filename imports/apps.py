from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "imports"
    verbose_name = _("Imports")

    def ready(self) -> None:
        # Imported here, not at the top: Django loads apps.py before any model exists.
        from tenants.leases import reaper_register
        from tenants.widgets import widget_register

        from .tasks import IMPORT_REAPER
        from .widgets import IMPORTS_UNFINISHED

        widget_register(IMPORTS_UNFINISHED)
        # A batch whose worker died is checked, imported or undone again (docs/jobs.md).
        reaper_register(IMPORT_REAPER)
