"""Use cases of relation cards: create, update, custom fields, the communication log, the export
log and the magazine flag. A new card always gets its first function in the same transaction:
memberships.card.relation_create does both."""

from __future__ import annotations

import datetime
import decimal
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, router, transaction
from django.db.models import F, JSONField
from django.utils import timezone
from django.utils.translation import gettext as _

from ledenbeheer.addresses import clean_postcode
from tenants.bulk import bulk_insert
from tenants.compiled import CompiledQueries
from tenants.history import (
    history_baseline,
    history_baselines_insert,
    history_rows_insert,
    rows_delete_with_history,
)
from tenants.models import Tenant, TenantKind, User
from tenants.services import user_email_change

from . import card
from .models import (
    ApprovalSetting,
    ChangeRequest,
    ColumnPreference,
    CommunicationEntry,
    CommunicationRefusal,
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


def relation_numbers_reserve(count: int) -> list[int]:
    """`count` consecutive relation numbers at once, under the counter's row lock (a bulk
    import takes one block instead of one UPDATE per card)."""
    if count <= 0:
        return []
    with transaction.atomic():
        updated = RelationNumberCounter.objects.filter(pk=1).update(value=F("value") + count)
        if not updated:
            RelationNumberCounter.objects.create(pk=1, value=100000 + count)
        last = RelationNumberCounter.objects.get(pk=1).value
    return list(range(last - count + 1, last + 1))


def search_text_for(relation: Relation) -> str:
    """The search text the one search box looks in (relations/text.py): folded name, number,
    e-mail, postcode and city. Kept up to date by every save of a card."""
    return search_text(relation)


# --- custom fields -----------------------------------------------------------------------------


def custom_fields_for(tenant: Tenant) -> list[CustomField]:
    """The custom fields that apply to relations homed in `tenant`: its own and those of every
    tenant above it."""
    return _custom_field_queries.objects(
        tenant.path,
        CustomField,
        lambda: CustomField.objects.filter(tenant__path__in=tenant.ancestor_paths()).order_by("order", "label"),
        router.db_for_read(CustomField),
    )


# Every search and card asks the custom fields: their SQL is compiled once per environment.
_custom_field_queries = CompiledQueries()


def column_choice_for(user: User) -> list[str] | None:
    """The keys of the columns `user` chose for the relation list; None for the standard ones.
    Every search asks it: its SQL is compiled once per user."""
    rows = _column_choice_queries.rows(
        user.pk,
        lambda: ColumnPreference.objects.filter(user_id=user.pk).order_by("pk").values_list("columns")[:1],
        router.db_for_read(ColumnPreference),
    )
    return rows[0][0] if rows else None


_column_choice_queries = CompiledQueries()


def column_choice_save(*, user: User, available: list[str], wanted: set[str]) -> list[str]:
    """Keep the columns of `wanted` that the list has (`available`, in its order) as `user`'s
    choice; at least one."""
    keys = [key for key in available if key in wanted]
    if not keys:
        raise ValidationError(_("Choose at least one column."))
    ColumnPreference.objects.update_or_create(user=user, defaults={"columns": keys})
    return keys


def column_choice_reset(*, user: User) -> None:
    """`user` sees the standard columns again."""
    ColumnPreference.objects.filter(user=user).delete()


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
    with card.relations_changing([relation.pk]):
        if complete is not None:
            complete(relation)
    card.after_save_run(relation)
    return relation


@transaction.atomic
def relation_update(
    *, actor: User, relation: Relation, data: dict[str, Any], extra: dict[str, Any] | None = None
) -> Relation:
    relation = Relation.objects.select_for_update().get(pk=relation.pk)
    history_baseline(relation)
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
    with card.relations_changing([relation.pk]):
        relation.save()
    card.after_save_run(relation)
    return relation


# --- many cards at once (the bulk import) -------------------------------------------------------
#
# The same rules as relation_create / relation_update (relation_validate, the custom fields, the
# model's own field validation), applied row by row in Python; the writes go in chunks
# (bulk_create / bulk_update with their history rows) and the after-save checks run once for
# all cards (`card.after_save_run_many`). Foreign keys are not looked up again per row: the
# tenants passed in are rows read from the database.

BULK_CHUNK = 2000
# Checked per row by the model (lengths, choices, e-mail); the foreign keys come from the caller
# and the number from the counter, so neither needs a query per card.
_BULK_EXCLUDE = ["tenant", "user", "number"]


class RowRefused(ValidationError):
    """Row `index` of a bulk call breaks a card's rules; the messages say which."""

    def __init__(self, index: int, error: ValidationError):
        super().__init__(error.error_dict if hasattr(error, "error_dict") else error.messages)
        self.index = index


@dataclass
class NewCard:
    tenant: Tenant
    data: dict[str, Any]
    extra: dict[str, Any] | None = None


def _bulk_custom_fields(cache: dict[int, list[CustomField]], tenant: Tenant) -> list[CustomField]:
    if tenant.pk not in cache:
        cache[tenant.pk] = custom_fields_for(tenant)
    return cache[tenant.pk]


@transaction.atomic
def relations_create_bulk(
    *,
    actor: User | None,
    cards: list[NewCard],
    reason: str | None = None,
    complete: Callable[[list[Relation]], object] | None = None,
    fields_cache: dict[int, list[CustomField]] | None = None,
    after_save: bool = True,
) -> list[Relation]:
    """`relation_create` for many cards: validated one by one with its rules (RowRefused names
    the first row that breaks one; nothing is written then), numbered from one block, written in
    chunks with their history rows (carrying `reason`). `complete(relations)` gives them their
    first functions before the after-save checks run once for all of them. `fields_cache` (per
    environment its custom fields) may be shared by calls for chunks of one file. With
    `after_save=False` the after-save checks are the caller's to run (`card.after_save_run_many`),
    e.g. once for a whole import after its commit."""
    fields_cache = {} if fields_cache is None else fields_cache
    relations = []
    for index, new in enumerate(cards):
        relation = Relation(tenant=new.tenant, **{k: v for k, v in new.data.items() if k in RELATION_FIELDS})
        try:
            relation_validate(relation)
            relation.extra = custom_values_clean(_bulk_custom_fields(fields_cache, new.tenant), new.extra or {})
            relation.full_clean(exclude=_BULK_EXCLUDE, validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            raise RowRefused(index, error) from None
        relations.append(relation)
    for relation, number in zip(relations, relation_numbers_reserve(len(relations)), strict=True):
        relation.number = number
        relation.search_text = search_text_for(relation)
    for start in range(0, len(relations), BULK_CHUNK):
        chunk = bulk_insert(Relation, relations[start : start + BULK_CHUNK])
        history_rows_insert(Relation, [r.pk for r in chunk], history_type="+", user=actor, reason=reason)
    if complete is not None:
        complete(relations)
    if after_save:
        card.after_save_run_many(relations)
    return relations


@transaction.atomic
def relations_delete_bulk(*, actor: User | None, relation_ids: list[int], reason: str | None = None) -> None:
    """Delete these cards, a chunk at a time, each history row naming `actor` and `reason` (the
    undo of a bulk import). What cascades with a card goes too, without a history row of its
    own: an app whose rows keep history deletes them first (memberships.card.relations_delete_bulk)."""
    for start in range(0, len(relation_ids), BULK_CHUNK):
        ids = relation_ids[start : start + BULK_CHUNK]
        with card.relations_changing(ids):
            rows_delete_with_history(list(Relation.objects.filter(pk__in=ids)), user=actor, reason=reason)


@transaction.atomic
def relations_update_bulk(
    *,
    actor: User,
    changes: list[tuple[int, dict[str, Any], dict[str, Any] | None]],
    reason: str | None = None,
    before_change: Callable[[Relation], object] | None = None,
    extra_merge: Callable[[Relation, dict[str, Any]], dict[str, Any]] | None = None,
    fields_cache: dict[int, list[CustomField]] | None = None,
    after_save: bool = True,
) -> list[Relation]:
    """`relation_update` for many cards: `changes` holds (pk, data, extra or None) per card. The
    cards are locked and read in chunks, checked with relation_update's rules (RowRefused names
    the row), written with one history row each (carrying `reason`; a card without history gets
    its baseline first, as in relation_update), then rechecked together.
    `before_change(card)` sees each card as it was; `extra_merge(card, extra)` makes the custom
    values to store from the card's and the given ones (default: the given ones)."""
    fields_cache = {} if fields_cache is None else fields_cache
    updated: list[Relation] = []
    names = set()
    for start in range(0, len(changes), BULK_CHUNK):
        chunk = changes[start : start + BULK_CHUNK]
        locked = Relation.objects.select_for_update(of=("self",)).select_related("tenant").in_bulk([pk for pk, _d, _e in chunk])
        for offset, (pk, data, extra) in enumerate(chunk):
            relation = locked.get(pk)
            try:
                if relation is None:
                    raise ValidationError(_("This relation no longer exists."))
                if before_change is not None:
                    before_change(relation)
                if extra is not None and extra_merge is not None:
                    extra = extra_merge(relation, extra)
                for name, value in data.items():
                    if name in RELATION_FIELDS:
                        setattr(relation, name, value)
                        names.add(name)
                relation_validate(relation)
                if extra is not None:
                    relation.extra = custom_values_clean(_bulk_custom_fields(fields_cache, relation.tenant), extra)
                    names.add("extra")
                relation.search_text = search_text_for(relation)
                relation.full_clean(exclude=_BULK_EXCLUDE, validate_unique=False, validate_constraints=False)
                if relation.user_id and relation.email:
                    _sync_login_email(relation)
            except ValidationError as error:
                raise RowRefused(start + offset, error) from None
            updated.append(relation)
    # relation_validate may tidy these on every card.
    fields = sorted(names | {"search_text", "postcode", "initials", "email"})
    for start in range(0, len(updated), BULK_CHUNK):
        chunk = updated[start : start + BULK_CHUNK]
        # As relation_update: a card without history first gets a row of its values as they are
        # (still in the table), so its history shows this change as old → new.
        history_baselines_insert(Relation, [r.pk for r in chunk])
        rows_update(Relation, chunk, fields)
        history_rows_insert(Relation, [r.pk for r in chunk], history_type="~", user=actor, reason=reason)
    if after_save:
        card.after_save_run_many(updated)
    return updated


def rows_update(model, objs: list, fields: list[str]) -> None:
    """`bulk_update` for many rows: on PostgreSQL one UPDATE … FROM unnest(…) per call (every
    value sent as text in an array and cast to its column's type), instead of Django's CASE
    per field and row, which costs more Python than the rows themselves."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_update(objs, fields, batch_size=BULK_CHUNK)
        return
    qn = connection.ops.quote_name
    table, pk = qn(model._meta.db_table), model._meta.pk
    arrays, sets, names = [[str(obj.pk) for obj in objs]], [], ["pk__"]
    for index, name in enumerate(fields):
        field = model._meta.get_field(name)
        values = []
        for obj in objs:
            value = getattr(obj, field.attname)
            if value is None:
                values.append(None)
            elif isinstance(field, JSONField):
                values.append(json.dumps(value, cls=field.encoder))
            else:
                prepared = field.get_db_prep_save(value, connection)
                values.append(None if prepared is None else (prepared.isoformat() if hasattr(prepared, "isoformat") else str(prepared)))
        arrays.append(values)
        names.append(f"v{index}")
        sets.append(f"{qn(field.column)} = u.v{index}::{field.db_type(connection)}")
    unnest = ", ".join(["%s::text[]"] * len(arrays))
    # Names from the model's metadata, never input; the values are parameters.
    sql = (f"UPDATE {table} SET {', '.join(sets)} FROM unnest({unnest}) AS u({', '.join(names)}) "  # noqa: S608
           f"WHERE {table}.{qn(pk.column)} = u.pk__::{pk.db_type(connection)}")
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)


@transaction.atomic
def relation_archive_merged(*, actor: User, keep: Relation, other: Relation) -> Relation:
    """The end of a merge (imports.merge): `other` is archived, pointing at `keep` (so its
    address opens `keep`, and no list or search shows it again); cards merged into `other`
    earlier now point at `keep`; `other`'s login moves to `keep` (refused when both have one).
    Returns `keep` as saved."""
    keep = Relation.objects.select_for_update().get(pk=keep.pk)
    other = Relation.objects.select_for_update().get(pk=other.pk)
    # Their history shows the merge as old → new, also for a card that had none yet.
    history_baseline(keep)
    history_baseline(other)
    if other.user_id:
        if keep.user_id:
            raise ValidationError(_("Both relations have a login. End the roles of one of them first."))
        keep.user_id, other.user_id = other.user_id, None
    other.archived, other.merged_into = True, keep
    other._history_user = actor
    other.save(update_fields=["user", "archived", "merged_into"])
    Relation.objects.filter(merged_into=other).update(merged_into=keep)
    keep._history_user = actor
    keep.save(update_fields=["user"])
    return keep


def _sync_login_email(relation: Relation) -> None:
    """A department administrator logs in with the e-mail on their card (SPEC T5): keep the
    login's address equal to the card's, refusing one that another login already uses."""
    user_email_change(user=User.objects.get(pk=relation.user_id), email=relation.email)


def relation_login_link(*, relation: Relation, user: User) -> Relation:
    """Link a login to the card of the person it belongs to (the member portal, a department
    administrator's function). The login itself is made by tenants.services; one card per login."""
    if relation.user_id == user.pk:
        return relation
    if Relation.objects.filter(user=user).exclude(pk=relation.pk).exists():
        raise ValidationError({"email": _("Another relation's login already uses this e-mail address.")})
    relation.user = user
    relation.save(update_fields=["user"])
    return relation


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


# --- consent and members' own corrections (the member portal, issue 18) --------------------------


def communication_types_for(tenant: Tenant):
    """The communication types that apply to relations homed in `tenant`: its own and those of
    every environment above it."""
    return CommunicationType.objects.filter(tenant__path__in=tenant.ancestor_paths()).order_by("name")


def communication_refused_ids(relation: Relation) -> set[int]:
    return set(CommunicationRefusal.objects.filter(relation=relation).values_list("communication_type_id", flat=True))


@transaction.atomic
def communication_preferences_set(*, relation: Relation, refused: set[int]) -> None:
    """The person's consent per communication type: `refused` are the types they do not want
    (only types that apply to their card count)."""
    allowed_ids = set(communication_types_for(relation.tenant).values_list("pk", flat=True))
    refused = set(refused) & allowed_ids
    CommunicationRefusal.objects.filter(relation=relation).exclude(communication_type_id__in=refused).delete()
    existing = communication_refused_ids(relation)
    CommunicationRefusal.objects.bulk_create(
        [CommunicationRefusal(relation=relation, communication_type_id=pk) for pk in sorted(refused - existing)],
        ignore_conflicts=True,
    )


def relations_refusing(*, relation_ids: list[int], communication_type: CommunicationType | None) -> set[int]:
    """Which of these relations refused `communication_type` (none when there is no type)."""
    if communication_type is None or not relation_ids:
        return set()
    return set(
        CommunicationRefusal.objects.filter(relation_id__in=relation_ids, communication_type=communication_type)
        .values_list("relation_id", flat=True)
    )


# The card fields a member corrects in the portal; the federation may make any of them wait for
# the department's approval.
MEMBER_FIELDS = (
    "email", "phone", "mobile", "postcode", "house_number", "house_number_suffix", "street", "city", "country",
)


def approval_fields_for(tenant: Tenant) -> list[str]:
    """The fields whose correction by the member waits for approval, as the federation of
    `tenant` set them."""
    setting = ApprovalSetting.objects.filter(tenant__path=tenant.root_path).first()
    return [name for name in (setting.fields if setting else []) if name in MEMBER_FIELDS]


def approval_setting_set(*, actor: User, federation: Tenant, fields: list[str]) -> ApprovalSetting:
    unknown = [name for name in fields if name not in MEMBER_FIELDS]
    if unknown:
        raise ValidationError({"fields": _("Unknown fields: %(fields)s.") % {"fields": ", ".join(unknown)}})
    setting, _created = ApprovalSetting.objects.update_or_create(
        tenant=federation, defaults={"fields": list(fields), "changed_by": actor}
    )
    return setting


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime.date) else value


@transaction.atomic
def member_correction(*, actor: User, relation: Relation, data: dict[str, Any]) -> ChangeRequest | None:
    """A member corrects their own card: the fields that need no approval change at once
    (relation_update, so the history names the member); the others wait in a change request for
    the department. Everything is checked first: nothing is written when any value is wrong.
    Returns the change request, if one waits."""
    data = {name: value for name, value in data.items() if name in MEMBER_FIELDS}
    current = Relation.objects.select_for_update().get(pk=relation.pk)
    probe = Relation.objects.get(pk=relation.pk)
    for name, value in data.items():
        setattr(probe, name, value)
    relation_validate(probe)
    probe.full_clean(exclude=["number"])
    changed = {name: getattr(probe, name) for name in data if getattr(probe, name) != getattr(current, name)}
    waiting_fields = set(approval_fields_for(current.tenant))
    direct = {name: value for name, value in changed.items() if name not in waiting_fields}
    waiting = {name: _json_value(value) for name, value in changed.items() if name in waiting_fields}
    if direct:
        relation_update(actor=actor, relation=current, data=direct)
    if not waiting:
        return None
    request = ChangeRequest.objects.filter(relation=current, status=ChangeRequest.Status.PENDING).first()
    if request is None:
        request = ChangeRequest(relation=current, tenant=current.tenant, requested_by=actor)
    request.values = {**request.values, **waiting}
    request.previous = {name: _json_value(getattr(current, name)) for name in request.values}
    request.save()
    return request


@transaction.atomic
def change_request_decide(*, actor: User, change_request: ChangeRequest, approve: bool) -> ChangeRequest:
    """The department approves (the card changes, in the member's name) or rejects a member's
    correction. A request decided before is left alone."""
    request = ChangeRequest.objects.select_for_update().get(pk=change_request.pk)
    if request.status != ChangeRequest.Status.PENDING:
        raise ValidationError(_("This change has already been decided."))
    if approve:
        values = dict(request.values)
        if "house_number" in values and values["house_number"] in ("", None):
            values["house_number"] = None
        relation_update(actor=request.requested_by or actor, relation=request.relation, data=values)
    request.status = ChangeRequest.Status.APPROVED if approve else ChangeRequest.Status.REJECTED
    request.decided_by, request.decided_at = actor, timezone.now()
    request.save(update_fields=["status", "decided_by", "decided_at"])
    return request
