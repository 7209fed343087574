from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RelationsConfig(AppConfig):
    name = "relations"
    verbose_name = _("Relations")

    def ready(self) -> None:
        # The card's own personal data registers itself with the GDPR export and erasure.
        from . import privacy  # noqa: F401
