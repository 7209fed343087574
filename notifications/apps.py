from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        # Imported here, not at the top: Django loads apps.py before any model exists.
        from relations.privacy import personal_data_register
        from tenants.leases import reaper_register

        from .privacy import MAILS
        from .tasks import DOCUMENTS_REAPER, MAIL_REAPER

        personal_data_register(MAILS)
        reaper_register(MAIL_REAPER)
        reaper_register(DOCUMENTS_REAPER)
