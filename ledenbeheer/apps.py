"""Django's admin with our own site class: behind the same login and second factor as the rest."""

from django.contrib.admin.apps import AdminConfig


class TwoFactorAdminConfig(AdminConfig):
    default_site = "tenants.two_factor.TwoFactorAdminSite"
