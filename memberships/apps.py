from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class MembershipsConfig(AppConfig):
    name = "memberships"
    verbose_name = _("Functions and memberships")

    def ready(self) -> None:
        from .catalogue import catalogue_ensure_after_migrate

        # Like the built-in roles, the starting catalogue is there after every migrate.
        post_migrate.connect(catalogue_ensure_after_migrate, dispatch_uid="memberships.catalogue")
