"""The rights of the people in the data (GDPR, SPEC X3): everything the federation holds about one
person as a ZIP, erasure on request by anonymising the person, and the log of who opened which
card.

Relations knows its own data (the card, its history, the communication log, the view log). The
apps above it hold more about a person (functions, registrations, data problems, sent mails, later
invoices); each registers a `PersonalDataSource` in its AppConfig.ready(), so the export is
complete and an erasure reaches everything, without relations importing them
(docs/architecture.md, "Registries")."""

from __future__ import annotations

import datetime
import io
import json
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext as _

from tenants.events import audit_record
from tenants.models import AuditEvent, Tenant, User

from . import card
from .models import (
    ChangeRequest,
    CommunicationEntry,
    CommunicationRefusal,
    CustomField,
    Relation,
    RelationView,
)
from .services import export_log_record

# What an erased card shows where the name was.
ANONYMISED_NAME = "Geanonimiseerd"
ANONYMISED_TEXT = "(geanonimiseerd)"

# The card's fields that name or reach the person; they are emptied by an erasure, in the card
# and in every history row of it. Kind, home, number, gender, country and language stay for the
# statistics.
PERSONAL_FIELDS = (
    "initials", "first_name", "infix", "last_name", "organisation_name", "birth_date", "email", "phone",
    "mobile", "postcode", "house_number", "house_number_suffix", "street", "city", "extra",
)
CARD_FIELDS = (
    "number", "kind", "initials", "first_name", "infix", "last_name", "organisation_name", "gender",
    "birth_date", "email", "phone", "mobile", "street", "house_number", "house_number_suffix", "postcode",
    "city", "country", "language", "magazine_delivery", "created_at", "anonymised_at",
)


@dataclass(frozen=True)
class PersonalDataSource:
    """What one app holds about a person.

    - `rows(relation)`: the section of the export, JSON-serialisable rows;
    - `files(relation)`: (name in the ZIP, stored file) pairs, e.g. sent PDFs;
    - `anonymise(relation)`: empties what the app keeps that names the person (called inside the
      erasure's transaction);
    - `erasure_refusal(relation, day)`: why the person cannot be erased yet, or None.
    """

    key: str
    rows: Callable[[Relation], list[dict]]
    files: Callable[[Relation], Iterable[tuple[str, FieldFile]]] = field(default=lambda relation: ())
    anonymise: Callable[[Relation], None] | None = None
    erasure_refusal: Callable[[Relation, datetime.date], str | None] | None = None


_SOURCES: dict[str, PersonalDataSource] = {}


def personal_data_register(source: PersonalDataSource) -> None:
    """Add an app's data to the export and the erasure (call from AppConfig.ready())."""
    _SOURCES[source.key] = source


def personal_data_sources() -> list[PersonalDataSource]:
    return list(_SOURCES.values())


def _user_name(user: User | None) -> str:
    return user.get_username() if user is not None else ""


# --- relations' own data ------------------------------------------------------------------------


def _card_rows(relation: Relation) -> list[dict]:
    row = {name: getattr(relation, name) for name in CARD_FIELDS}
    row["home_environment"] = relation.tenant.name
    row["login"] = _user_name(relation.user)
    labels = dict(CustomField.objects.filter(code__in=list(relation.extra)).values_list("code", "label"))
    row["custom_fields"] = {labels.get(code, code): value for code, value in sorted(relation.extra.items())}
    return [row]


def _history_rows(relation: Relation) -> list[dict]:
    history = relation.history.select_related("history_user").order_by("history_date", "history_id")
    return [
        {
            "when": entry.history_date,
            "what": entry.get_history_type_display(),
            "by": _user_name(entry.history_user),
            **{name: getattr(entry, name) for name in CARD_FIELDS if hasattr(entry, name)},
        }
        for entry in history
    ]


def _communication_entries(relation: Relation):
    return CommunicationEntry.objects.filter(relation=relation).select_related("communication_type", "created_by")


def _communication_rows(relation: Relation) -> list[dict]:
    return [
        {
            "date": entry.date,
            "channel": entry.get_channel_display(),
            "type": entry.communication_type.name if entry.communication_type else "",
            "subject": entry.subject,
            "text": entry.body,
            "attachment": _attachment_name("communication", entry.pk, entry.attachment),
            "by": _user_name(entry.created_by),
        }
        for entry in _communication_entries(relation)
    ]


def _attachment_name(folder: str, pk: int, stored: FieldFile) -> str:
    return f"{folder}/{pk}-{stored.name.rsplit('/', 1)[-1]}" if stored else ""


def _communication_files(relation: Relation) -> Iterable[tuple[str, FieldFile]]:
    for entry in _communication_entries(relation).exclude(attachment=""):
        yield _attachment_name("communication", entry.pk, entry.attachment), entry.attachment


def _communication_anonymise(relation: Relation) -> None:
    for entry in _communication_entries(relation).exclude(attachment=""):
        entry.attachment.delete(save=False)
    _communication_entries(relation).update(subject=ANONYMISED_TEXT, body="", attachment="")


def _view_rows(relation: Relation) -> list[dict]:
    views = RelationView.objects.filter(relation=relation).select_related("user").order_by("day", "user__username")
    return [{"date": view.day, "user": _user_name(view.user)} for view in views]


def _login_refusal(relation: Relation, day: datetime.date) -> str | None:
    if relation.user_id is not None and relation.user.is_active:
        return _("%(name)s still has an active login; block it first (Users).") % {"name": relation.display_name}
    return None


personal_data_register(PersonalDataSource(key="card", rows=_card_rows, erasure_refusal=_login_refusal))
personal_data_register(PersonalDataSource(key="history", rows=_history_rows))
personal_data_register(
    PersonalDataSource(
        key="communication", rows=_communication_rows, files=_communication_files, anonymise=_communication_anonymise
    )
)
personal_data_register(PersonalDataSource(key="card_views", rows=_view_rows))


# --- what the member said in the portal (issue 18) ----------------------------------------------


def _refusal_rows(relation: Relation) -> list[dict]:
    refusals = CommunicationRefusal.objects.filter(relation=relation).select_related("communication_type")
    return [{"refused": refusal.communication_type.name, "since": refusal.created_at} for refusal in refusals]


def _change_request_rows(relation: Relation) -> list[dict]:
    return [
        {
            "asked_on": request.requested_at, "status": request.get_status_display(), "new_values": request.values,
            "old_values": request.previous, "decided_on": request.decided_at, "decided_by": _user_name(request.decided_by),
        }
        for request in ChangeRequest.objects.filter(relation=relation).select_related("decided_by")
    ]


def _change_requests_anonymise(relation: Relation) -> None:
    ChangeRequest.objects.filter(relation=relation).update(values={}, previous={})


personal_data_register(PersonalDataSource(key="communication_refusals", rows=_refusal_rows))
personal_data_register(
    PersonalDataSource(key="change_requests", rows=_change_request_rows, anonymise=_change_requests_anonymise)
)


# --- the export --------------------------------------------------------------------------------


def personal_data_export(*, actor: User, tenant: Tenant, relation: Relation) -> bytes:
    """Everything about `relation` as a ZIP: `persoonsgegevens.json` with a section per source
    and every stored file (sent mails' PDFs, attachments) under `bestanden/`. Logged in the audit
    log before it is handed out."""
    sections = {source.key: source.rows(relation) for source in personal_data_sources()}
    document = {
        "exported_at": timezone.now(),
        "exported_by": _user_name(actor),
        "relation_number": relation.number,
        **sections,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "persoonsgegevens.json", json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
        )
        for source in personal_data_sources():
            for name, stored in source.files(relation):
                try:
                    with stored.open("rb") as handle:
                        archive.writestr(f"bestanden/{name}", handle.read())
                except FileNotFoundError:
                    archive.writestr(f"bestanden/{name}.ontbreekt.txt", _("This file is no longer stored."))
    audit_record(
        actor=actor, action=AuditEvent.Action.PERSONAL_DATA_EXPORTED, tenant=tenant,
        target_user=relation.user, detail=f"{relation.number}",
    )
    export_log_record(
        user=actor, tenant=tenant, fmt="zip", rows=1,
        what=_("Personal data of %(number)s") % {"number": relation.number},
    )
    return buffer.getvalue()


# --- erasure -----------------------------------------------------------------------------------


def erasure_refusals(relation: Relation, *, day: datetime.date | None = None) -> list[str]:
    """Why `relation` cannot be erased (yet): empty when it can."""
    day = day or timezone.localdate()
    if relation.anonymised_at is not None:
        return [_("This relation has already been anonymised.")]
    reasons = (source.erasure_refusal(relation, day) for source in personal_data_sources() if source.erasure_refusal)
    return [reason for reason in reasons if reason]


def relation_anonymise(*, actor: User | None, tenant: Tenant | None, relation: Relation) -> Relation:
    """Erase the person on request: empty every field that names or reaches them, in the card, in
    its history and in what the other apps keep (their registered `anonymise`), keeping the
    number, home and functions for the statistics. Irreversible; audited; one transaction."""
    with transaction.atomic():
        relation = Relation.objects.select_for_update().get(pk=relation.pk)
        refusals = erasure_refusals(relation)
        if refusals:
            raise ValidationError(refusals)
        blank = dict.fromkeys(PERSONAL_FIELDS, "")
        blank.update(last_name=ANONYMISED_NAME, birth_date=None, house_number=None, extra={})
        if relation.organisation_name:
            blank.update(organisation_name=ANONYMISED_NAME)
        for source in personal_data_sources():
            if source.anonymise is not None:
                source.anonymise(relation)
        relation.history.all().update(**blank)
        # Written without a history row of its own: the old values must not reappear in one, and
        # the card's search text is emptied, so no search finds the person again.
        with card.relations_changing([relation.pk]):
            Relation.objects.filter(pk=relation.pk).update(
                **blank, search_text="", anonymised_at=timezone.now(), archived=True
            )
        audit_record(
            actor=actor, action=AuditEvent.Action.RELATION_ANONYMISED, tenant=tenant,
            target_user=relation.user, detail=f"{relation.number}",
        )
    relation.refresh_from_db()
    return relation


# --- the view log ------------------------------------------------------------------------------


def card_view_record(*, user: User, relation: Relation, day: datetime.date | None = None) -> None:
    """Note that `user` opened `relation`'s card today; one row per user, relation and day, one
    query whether or not the row exists."""
    RelationView.objects.bulk_create(
        [RelationView(relation=relation, user=user, day=day or timezone.localdate())], ignore_conflicts=True
    )
