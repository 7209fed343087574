from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class MembershipsConfig(AppConfig):
    name = "memberships"
    verbose_name = _("Functions and memberships")

    def ready(self) -> None:
        from relations.querysets import (
            MembershipSource,
            register_guest_source,
            register_membership_source,
        )

        from .catalogue import catalogue_ensure_after_migrate
        from .models import Function, FunctionType

        # Like the built-in roles, the starting catalogue is there after every migrate.
        post_migrate.connect(catalogue_ensure_after_migrate, dispatch_uid="memberships.catalogue")
        # Relations lies below this app: tell its lists who is a guest in an environment and who
        # is a member.
        register_guest_source(Function.objects.guests_on)
        register_membership_source(
            MembershipSource(held_on=Function.objects.memberships_held_on, kinds=FunctionType.objects.memberships)
        )
