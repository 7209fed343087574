from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    """Intake forms, the public form, registrations and their decisions (SPEC I1–I3)."""

    name = "intake"
    verbose_name = _("Intake")

    def ready(self) -> None:
        # Imported here, not at the top: Django loads apps.py before any model exists.
        from relations.privacy import personal_data_register
        from tenants.widgets import widget_register

        from .privacy import REGISTRATIONS
        from .widgets import REGISTRATIONS_WAITING

        personal_data_register(REGISTRATIONS)
        widget_register(REGISTRATIONS_WAITING)
