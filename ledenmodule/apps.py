from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedenmoduleConfig(AppConfig):
    """The department member administrators' interface and looking along (SPEC L1, T7)."""

    name = "ledenmodule"
    verbose_name = _("Ledenmodule")
