from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QualityConfig(AppConfig):
    """Data-quality rules, open problems, recipients, the nightly checks and digests (SPEC N)."""

    name = "quality"
    verbose_name = _("Data quality")
