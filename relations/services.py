"""Use cases of relation cards: create, update, custom fields, the communication log, the export
log and the magazine flag. A new card always gets its first function in the same transaction:
memberships.card.relation_create does both."""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from ledenbeheer.addresses import clean_postcode
from tenants.models import Tenant, TenantKind, User
from tenants.services import user_email_change

from . import card
from .models import (
    CommunicationEntry,
    CommunicationType,
    CustomField,
    CustomFieldType,
    ExportLog,
    MagazineDelivery,
    Relation,
    RelationKind,
    RelationNumberCounter,
)
from .text import search_text

# --- relation numbers and search text -----------------------------------------------------------


def relation_number_next() -> int:
    """The next relation number. The UPDATE takes a row lock held until the transaction ends,
    so concurrent registrations queue instead of sharing a number."""
    with transaction.atomic():
        updated = RelationNumberCounter.objects.filter(pk=1).update(value=F("value") + 1)
        if not updated:
            RelationNumberCounter.objects.create(pk=1, value=100001)
        return RelationNumberCounter.objects.get(pk=1).value


def search_text_for(relation: Relation) -> str:
    """The search text the one search box looks in (relations/text.py): folded name, number,
    e-mail, postcode and city. Kept up to date by every save of a card."""
    return search_text(relation)


# --- custom fields -----------------------------------------------------------------------------


def custom_fields_for(tenant: Tenant) -> list[CustomField]:
    """The custom fields that apply to relations homed in `tenant`: its own and those of every
    tenant above it."""
    return list(CustomField.objects.filter(tenant__path__in=tenant.ancestor_paths()).order_by("order", "label"))


def custom_values_clean(fields: list[CustomField], values: dict[str, Any]) -> dict[str, Any]:
    """Validate raw custom-field input and return JSON-ready values, keyed by field code."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for field in fields:
        raw = values.get(field.code)
        if raw in (None, "") or (field.field_type != CustomFieldType.BOOLEAN and str(raw).strip() == ""):
            if field.required:
                errors[f"extra_{field.code}"] = [_("%(label)s is required.") % {"label": field.label}]
            continue
        try:
            cleaned[field.code] = _custom_value(field, raw)
        except (ValueError, decimal.InvalidOperation):
            errors[f"extra_{field.code}"] = [
                _("“%(value)s” is not a valid value for %(label)s.") % {"value": raw, "label": field.label}
            ]
    if errors:
        raise ValidationError(errors)
    return cleaned


def _custom_value(field: CustomField, raw: Any) -> Any:
    if field.field_type == CustomFieldType.NUMBER:
        number = decimal.Decimal(str(raw).replace(",", "."))
        # No infinities, and nothing a person would type in a form: huge exponents would make a
        # number of millions of digits.
        if not number.is_finite() or number.adjusted() > 15 or number.adjusted() < -15:
            raise ValueError(raw)
        return int(number) if number == number.to_integral_value() else float(number)
    if field.field_type == CustomFieldType.DATE:
        return (raw if isinstance(raw, datetime.date) else datetime.date.fromisoformat(str(raw))).isoformat()
    if field.field_type == CustomFieldType.BOOLEAN:
        return raw in (True, "true", "True", "on", "1", 1)
    if field.field_type == CustomFieldType.CHOICE:
        if str(raw) not in field.choice_list:
            raise ValueError(raw)
        return str(raw)
    return str(raw).strip()


# --- relation cards ----------------------------------------------------------------------------

RELATION_FIELDS = (
    "kind", "initials", "first_name", "infix", "last_name", "organisation_name", "gender",
    "birth_date", "email", "phone", "mobile", "postcode", "house_number", "house_number_suffix",
    "street", "city", "country", "language", "magazine_delivery",
)


def relation_validate(relation: Relation) -> None:
    """The rules of a card beyond single fields; raises ValidationError keyed by field."""
    errors: dict[str, list[str]] = {}
    if relation.kind == RelationKind.PERSON and not relation.last_name.strip():
        errors["last_name"] = [_("Fill in the surname.")]
    if relation.kind == RelationKind.ORGANISATION and not relation.organisation_name.strip():
        errors["organisation_name"] = [_("Fill in the organisation name.")]
    if relation.birth_date and relation.birth_date > datetime.date.today():
        errors["birth_date"] = [_("The birth date cannot be in the future.")]
    try:
        relation.postcode = clean_postcode(relation.postcode, relation.country)
    except ValidationError as error:
        errors["postcode"] = error.messages
    relation.initials = relation.initials.strip().upper()
    relation.email = relation.email.strip()
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def relation_create(
    *,
    actor: User | None,
    tenant: Tenant,
    data: dict[str, Any],
    extra: dict[str, Any] | None = None,
    complete: Callable[[Relation], object] | None = None,
) -> Relation:
    """Create a relation card. `complete(relation)` runs right after the save, in the same
    transaction and before the after-save checks (relations.card): memberships gives the card its
    first function there (SPEC R1/R3), so the checks see the card as it will be."""
    relation = Relation(tenant=tenant, **{k: v for k, v in data.items() if k in RELATION_FIELDS})
    relation_validate(relation)
    relation.extra = custom_values_clean(custom_fields_for(tenant), extra or {})
    relation.number = relation_number_next()
    relation.search_text = search_text_for(relation)
    relation.full_clean()
    relation._history_user = actor
    relation.save()
    if complete is not None:
        complete(relation)
    card.after_save_run(relation)
    return relation


@transaction.atomic
def relation_update(
    *, actor: User, relation: Relation, data: dict[str, Any], extra: dict[str, Any] | None = None
) -> Relation:
    relation = Relation.objects.select_for_update().get(pk=relation.pk)
    for field, value in data.items():
        if field in RELATION_FIELDS:
            setattr(relation, field, value)
    relation_validate(relation)
    if extra is not None:
        relation.extra = custom_values_clean(custom_fields_for(relation.tenant), extra)
    relation.search_text = search_text_for(relation)
    relation.full_clean()
    if relation.user_id and relation.email:
        _sync_login_email(relation)
    relation._history_user = actor
    relation.save()
    card.after_save_run(relation)
    return relation


def _sync_login_email(relation: Relation) -> None:
    """A department administrator logs in with the e-mail on their card (SPEC T5): keep the
    login's address equal to the card's, refusing one that another login already uses."""
    user_email_change(user=User.objects.get(pk=relation.user_id), email=relation.email)


def relation_home_for(*, function_tenant: Tenant, environment: Tenant) -> Tenant:
    """The home environment of a new card whose first function is held in `function_tenant`:
    a member lives in the department where they are a member; anything else is homed in the
    environment where the card was made."""
    return function_tenant if function_tenant.kind == TenantKind.DEPARTMENT else environment


# --- communication log -------------------------------------------------------------------------


def communication_entry_add(
    *,
    actor: User | None,
    relation: Relation,
    tenant: Tenant,
    subject: str,
    body: str = "",
    date: datetime.date | None = None,
    channel: str = CommunicationEntry.Channel.MANUAL,
    communication_type: CommunicationType | None = None,
    attachment: str = "",
) -> CommunicationEntry:
    """One line in the relation's communication log; `attachment` is the storage name of a file
    already saved (the PDF that was sent)."""
    entry = CommunicationEntry(
        relation=relation, tenant=tenant, subject=subject, body=body,
        date=date or datetime.date.today(), channel=channel,
        communication_type=communication_type, created_by=actor, attachment=attachment,
    )
    # Mails sent by the system itself (a public registration) have no actor.
    entry.full_clean(exclude=["created_by"] if actor is None else None)
    entry.save()
    return entry


# --- export log --------------------------------------------------------------------------------


def export_log_record(*, user: User, tenant: Tenant, what: str, fmt: str, rows: int) -> ExportLog:
    """Write down one export of personal data: who, from where, what, how many rows (SPEC X3).
    Every export (relation search, wizards, mutation list, background files) comes here."""
    return ExportLog.objects.create(user=user, tenant=tenant, what=what[:200], format=fmt, rows=rows)


# --- magazine ----------------------------------------------------------------------------------


def magazine_block_all_but_oldest(*, actor: User, relations: list[Relation]) -> list[Relation]:
    """Several relations at one address each get the magazine: keep it for the oldest member
    and block it for the others (SPEC R7). Returns the relations that were blocked."""
    receiving = [r for r in relations if r.magazine_delivery == MagazineDelivery.AUTOMATIC]
    if len(receiving) < 2:
        return []
    oldest = min(receiving, key=lambda r: (r.birth_date or datetime.date.max, r.number))
    blocked = []
    with transaction.atomic():
        for relation in receiving:
            if relation.pk == oldest.pk:
                continue
            relation.magazine_delivery = MagazineDelivery.BLOCKED
            relation._history_user = actor
            relation.save(update_fields=["magazine_delivery"])
            blocked.append(relation)
    return blocked
