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
        from relations.filters import FunctionSearch, register_function_search
        from relations.privacy import personal_data_register
        from relations.querysets import (
            MembershipSource,
            register_guest_source,
            register_membership_source,
        )

        from . import card, selectors
        from .catalogue import catalogue_ensure_after_migrate
        from .models import Function, FunctionType
        from .privacy import FUNCTIONS

        personal_data_register(FUNCTIONS)

        # Like the built-in roles, the starting catalogue is there after every migrate.
        post_migrate.connect(catalogue_ensure_after_migrate, dispatch_uid="memberships.catalogue")

        # memberships joins in where relations, below it, offers a place (docs/architecture.md):
        # the card's Functions tab and history, the current memberships that columns show,
        # the relation search's filters on functions, and guests and members in relations' lists.
        relation_card.tab_register(card.FUNCTIONS_TAB)
        relation_card.history_source_register("functions", card.function_history_events)
        exports.column_data_register("memberships", card.with_current_memberships)
        exports.column_values_register("memberships", card.current_membership_names)
        register_function_search(FunctionSearch(
            held=selectors.functions_held,
            membership_in_named=selectors.memberships_held_in_named,
            function_types=selectors.function_types_to_choose,
        ))
        register_guest_source(Function.objects.guests_on)
        register_membership_source(
            MembershipSource(held_on=Function.objects.memberships_held_on, kinds=FunctionType.objects.memberships)
        )
