from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "portal"
    verbose_name = _("Member portal")

    def ready(self) -> None:
        # Imported here, not at the top: modules with models load only once the app registry is
        # ready (docs/architecture.md, "Registries").
        from relations import card

        from .views import card_panel

        card.panel_register(card.CardPanel("portal", "portal/_card_panel.html", card_panel))
