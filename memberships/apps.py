from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class MembershipsConfig(AppConfig):
    name = "memberships"
    verbose_name = _("Functions and memberships")

    def ready(self) -> None:
        # Imported here, not at the top: Django loads apps.py before any model exists.
        from relations import card as relation_card
        from relations import exports
        from relations.privacy import personal_data_register

        from . import card
        from .catalogue import catalogue_ensure_after_migrate
        from .privacy import FUNCTIONS

        personal_data_register(FUNCTIONS)

        # Like the built-in roles, the starting catalogue is there after every migrate.
        post_migrate.connect(catalogue_ensure_after_migrate, dispatch_uid="memberships.catalogue")
        # memberships joins in where relations offers a place (docs/architecture.md).
        relation_card.tab_register(card.FUNCTIONS_TAB)
        relation_card.history_source_register("functions", card.function_history_events)
        exports.column_data_register("memberships", card.with_current_memberships)
