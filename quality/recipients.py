"""Who receives an environment's error reports ("Automatische uitwisseling", SPEC N3)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from tenants.models import Tenant

from .models import ErrorReportRecipient


@transaction.atomic
def recipient_add(*, tenant: Tenant, email: str, active: bool = True) -> ErrorReportRecipient:
    """Add an address to the environment's recipients; refuses a malformed address and one the
    environment already has (in any capitalisation), keyed by field."""
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": _("Enter a valid e-mail address, like naam@voorbeeld.nl.")}) from None
    if ErrorReportRecipient.objects.filter(tenant=tenant, email__iexact=email).exists():
        raise ValidationError({"email": _("This environment already sends its error reports to this address.")})
    recipient = ErrorReportRecipient(tenant=tenant, email=email, active=active)
    recipient.full_clean()
    recipient.save()
    return recipient


def recipient_set_active(*, recipient: ErrorReportRecipient, active: bool) -> ErrorReportRecipient:
    recipient.active = active
    recipient.save(update_fields=["active"])
    return recipient


def recipient_delete(*, recipient: ErrorReportRecipient) -> None:
    recipient.delete()
