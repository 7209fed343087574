from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = _("Environments and access")

    def ready(self) -> None:
        from . import lookups  # noqa: F401 (registers `__in_list`)
        from .services import roles_sync_after_migrate

        # Like Django's own permissions, the built-in roles follow the code after every migrate.
        post_migrate.connect(roles_sync_after_migrate, dispatch_uid="tenants.sync_builtin_roles")
