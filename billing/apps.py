from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        # Imported here, not at the top: Django loads apps.py before any model exists.
        from relations import card
        from tenants.leases import reaper_register
        from tenants.widgets import widget_register

        from .tasks import RUN_DOCUMENTS_REAPER
        from .widgets import OPEN_INVOICES

        reaper_register(RUN_DOCUMENTS_REAPER)
        # Open invoices on the dashboard (the dashboard does not know billing).
        widget_register(OPEN_INVOICES)

        # The person's invoices and mandate on their card (relations does not know billing).
        card.tab_register(card.CardTab("billing", _("Billing"), "relation_billing", 60, permission="billing.view_invoice"))
        # The invoice's details as tokens of the invoice and reminder mail templates.
        from notifications.tokens import Token, supplied, token_register

        from .documents import INVOICE_TOKENS

        for key, description, example in INVOICE_TOKENS:
            token_register(Token(key, _("Invoice"), description, supplied(key), example))
        # Invoices, payments and mandates in the person's GDPR export and erasure.
        from relations.privacy import personal_data_register

        from .privacy import BILLING

        personal_data_register(BILLING)
        # Mandates as columns of the bulk import (the import does not know billing).
        from .importing import MANDATE_PART

        card.row_part_register(MANDATE_PART)
