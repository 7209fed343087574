from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QualityConfig(AppConfig):
    """Data-quality rules, open problems, recipients, the nightly checks and digests (SPEC N)."""

    name = "quality"
    verbose_name = _("Data quality")

    def ready(self) -> None:
        # Imported here, not at the top: Django loads apps.py before any model exists.
        from relations.privacy import personal_data_register

        from .privacy import DATA_PROBLEMS

        personal_data_register(DATA_PROBLEMS)
