from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WizardsConfig(AppConfig):
    name = "wizards"
    verbose_name = _("Selection wizards")
