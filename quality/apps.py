from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QualityConfig(AppConfig):
    """Data-quality rules, open problems, recipients, the nightly checks and digests (SPEC N)."""

    name = "quality"
    verbose_name = _("Data quality")

    def ready(self) -> None:
        # Imported here, not at the top: Django loads apps.py before any model exists.
        from relations import card
        from relations.privacy import personal_data_register
        from tenants.leases import reaper_register
        from tenants.widgets import widget_register

        from . import services
        from .privacy import DATA_PROBLEMS
        from .tasks import RUNS_REAPER
        from .widgets import OPEN_PROBLEMS

        personal_data_register(DATA_PROBLEMS)
        reaper_register(RUNS_REAPER)
        widget_register(OPEN_PROBLEMS)
        # The card shows what to complete on it, and saving it opens and closes its problems at
        # once (SPEC N2); relations offers the places, quality fills them (docs/architecture.md).
        card.panel_register(card.CardPanel(
            "quality_problems", "quality/_card_problems.html",
            lambda request, relation: {"problems": services.relation_problems(relation.pk)},
        ))
        card.after_save_register(
            "quality_recheck",
            lambda relation: services.relation_recheck(relation_id=relation.pk),
            many=lambda relations: services.relations_recheck(relation_ids=[r.pk for r in relations]),
        )
