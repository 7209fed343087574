from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """seed_demo, the demo loaders and every bench_* command: it knows every app, none imports it."""

    name = "demo"
    verbose_name = _("Demo and benchmarks")
