from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class MembershipsConfig(AppConfig):
    name = "memberships"
    verbose_name = _("Functions and memberships")

    def ready(self) -> None:
        # Imported here, not at the top: Django loads apps.py before any model exists.
        from relations.privacy import personal_data_register

        from .catalogue import catalogue_ensure_after_migrate
        from .privacy import FUNCTIONS

        personal_data_register(FUNCTIONS)

        # Like the built-in roles, the starting catalogue is there after every migrate.
        post_migrate.connect(catalogue_ensure_after_migrate, dispatch_uid="memberships.catalogue")

        # Imported here because selectors import models, which are not loaded when apps.py is.
        from relations.filters import FunctionSearch, register_function_search

        from . import selectors

        # The relation search's filters on functions (relations may not import memberships).
        register_function_search(FunctionSearch(
            held=selectors.functions_held,
            membership_in_named=selectors.memberships_held_in_named,
            function_types=selectors.function_types_to_choose,
        ))

        from relations.querysets import (
            MembershipSource,
            register_guest_source,
            register_membership_source,
        )

        from .models import Function, FunctionType

        # Relations lies below this app: tell its lists who is a guest in an environment and who
        # is a member.
        register_guest_source(Function.objects.guests_on)
        register_membership_source(
            MembershipSource(held_on=Function.objects.memberships_held_on, kinds=FunctionType.objects.memberships)
        )
