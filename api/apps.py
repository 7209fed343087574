import datetime

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("HTTP API")

    def ready(self) -> None:
        # Imported here, not at the top: Django loads apps.py before any model exists.
        from tenants.jobs import Job, job_register

        from .services import token_uses_prune

        job_register(Job("api_token_uses", token_uses_prune, datetime.timedelta(hours=23)))
