from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "imports"
    verbose_name = _("Imports")

    def ready(self) -> None:
        # Imported here, not at the top: Django loads apps.py before any model exists.
        from tenants.widgets import widget_register

        from .widgets import IMPORTS_UNFINISHED

        widget_register(IMPORTS_UNFINISHED)
