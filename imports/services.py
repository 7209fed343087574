"""Use cases of the bulk import (SPEC R11): upload, check (writes nothing), match, import in one
transaction, undo. The rules of a card are the card's own: every row is validated by the card's
forms (relations.forms) and written by its services (relations.services, memberships.services)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import OperationalError, connection, connections, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from memberships.card import NewMember, relations_create_bulk, relations_delete_bulk
from memberships.models import Function, FunctionType
from memberships.services import function_start_check
from relations.card import after_save_run_many
from relations.forms import RelationRowForm
from relations.models import CustomField, CustomFieldType, Relation
from relations.services import (
    RELATION_FIELDS,
    RowRefused,
    custom_fields_for,
    relation_validate,
    relations_update_bulk,
)
from tenants.access import can_enter
from tenants.bulk import bulk_insert
from tenants.leases import heartbeat, lease_release, lease_take
from tenants.models import Tenant, TenantKind, User

from . import cleaning, duplicates, parts
from .columns import (
    CUSTOM_PREFIX,
    DATE_FIELDS,
    normalise_header,
    part_columns,
    suggest_mapping,
    targets,
)
from .models import ColumnMapping, ImportBatch, ImportChange, ImportLease, ImportRow, progress_key
from .querysets import IMPORT_PERM
from .reading import FileRefused, Table, file_type_of, read_table

UNDO_DAYS = 14
BACKGROUND_ROWS = 2000
PROGRESS_EVERY = 500
CHUNK = 1000


class ImportRefused(ValidationError):
    """The import cannot go ahead; the message says why."""


# --- upload and mapping ------------------------------------------------------------------------


def import_upload(*, actor: User, tenant: Tenant, name: str, data: bytes) -> ImportBatch:
    """Keep an uploaded file once it can be read; refuse it (FileRefused) otherwise."""
    if not actor.has_perm(IMPORT_PERM, tenant):
        raise PermissionDenied
    table = read_table(data, name)
    batch = ImportBatch(
        tenant=tenant, user=actor, file_name=name[:200], file_type=file_type_of(name),
        encoding=table.encoding, sheet=table.sheet, rows_total=len(table.rows),
    )
    batch.mapping = suggest_mapping(table.headers, custom_fields_for(tenant), _remembered(tenant), actor, tenant)
    batch.file.save(name.rsplit("/", 1)[-1][:100], ContentFile(data), save=False)
    batch.save()
    return batch


def _remembered(tenant: Tenant) -> dict[str, str]:
    found = ColumnMapping.objects.filter(tenant=tenant).first()
    return found.headers if found else {}


def batch_table(batch: ImportBatch) -> Table:
    with batch.file.open("rb") as handle:
        data = handle.read()
    return read_table(data, batch.file_name, encoding=batch.encoding, sheet=batch.sheet)


def import_mapping_set(
    *, actor: User, batch: ImportBatch, mapping: dict[str, str], options: dict[str, Any],
    encoding: str = "", sheet: str = "",
) -> ImportBatch:
    """Store the mapping and the choices for the whole file, and remember the mapping for the
    environment's next import."""
    if batch.status not in (ImportBatch.Status.UPLOADED, ImportBatch.Status.CHECKED, ImportBatch.Status.FAILED):
        raise ImportRefused(_("This import has already been started."))
    reading_changed = (encoding and encoding != batch.encoding) or (sheet and sheet != batch.sheet)
    batch.encoding = encoding or batch.encoding
    batch.sheet = sheet or batch.sheet
    table = batch_table(batch)
    if reading_changed:
        # Another encoding or sheet: other headers, so suggest again.
        mapping = suggest_mapping(table.headers, custom_fields_for(batch.tenant), _remembered(batch.tenant),
                                  actor, batch.tenant)
    valid = {t.key for t in targets(custom_fields_for(batch.tenant), actor, batch.tenant)}
    clean = {str(k): v for k, v in mapping.items() if v in valid and str(k).isdigit() and int(k) < len(table.headers)}
    chosen = list(clean.values())
    doubled = sorted({v for v in chosen if chosen.count(v) > 1})
    if doubled:
        raise ImportRefused(_("Each field can be filled from one column only: %(fields)s.") % {"fields": ", ".join(doubled)})
    batch.mapping = clean
    batch.options = options
    batch.rows_total = len(table.rows)
    batch.status = ImportBatch.Status.UPLOADED
    batch.result = {}
    batch.save()
    ImportRow.objects.filter(batch=batch).delete()
    headers = {normalise_header(table.headers[int(k)]): v for k, v in clean.items() if table.headers[int(k)]}
    ColumnMapping.objects.update_or_create(
        tenant=batch.tenant, defaults={"headers": {**_remembered(batch.tenant), **headers}, "updated_at": timezone.now()}
    )
    return batch


# --- check -------------------------------------------------------------------------------------


def allowed_departments(user: User, tenant: Tenant):
    """Where rows of a file imported in `tenant` may become members: the departments of its
    subtree in which the user may add functions."""
    return Tenant.objects.visible_to(user, tenant).filter(kind=TenantKind.DEPARTMENT)


def membership_types():
    return FunctionType.objects.filter(active=True, counts_as_membership=True, tenant_kind=TenantKind.DEPARTMENT)


@dataclass
class RowOutcome:
    line: int
    action: str = "new"  # new | update | ambiguous | duplicate | unchanged | error
    errors: list[tuple[str, str]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    function: dict[str, Any] = field(default_factory=dict)
    relation: int | None = None
    candidates: list[int] = field(default_factory=list)
    changes: dict[str, list[str]] = field(default_factory=dict)
    first_line: int | None = None
    name: str = ""
    parts: dict[str, dict[str, Any]] = field(default_factory=dict)  # other apps' parts (imports/parts.py)

    def as_json(self) -> dict[str, Any]:
        return {
            "line": self.line, "action": self.action, "errors": self.errors,
            "data": {k: (v.isoformat() if isinstance(v, datetime.date) else v) for k, v in self.data.items()},
            "extra": {k: (v.isoformat() if isinstance(v, datetime.date) else v) for k, v in self.extra.items()},
            "function": self.function, "relation": self.relation, "candidates": self.candidates,
            "changes": self.changes, "first_line": self.first_line, "name": self.name,
            "parts": parts.as_json(self.parts),
        }


class Checker:
    """Reads, cleans, validates and matches the rows of one file; writes nothing."""

    def __init__(self, batch: ImportBatch, progress: Callable[[int], None] | None = None):
        self.batch = batch
        self.user = batch.user
        self.tenant = batch.tenant
        self.progress = progress or (lambda done: None)
        self.custom_fields = custom_fields_for(batch.tenant)
        self.custom_by_code = {f.code: f for f in self.custom_fields}
        self.part_columns = part_columns(self.user, self.tenant)
        self.labels = {t.key: t.label for t in targets(self.custom_fields, self.user, self.tenant)}
        self.departments = list(allowed_departments(self.user, self.tenant))
        self.departments_by_pk = {d.pk: d for d in self.departments}
        self.departments_by_name: dict[str, Tenant] = {}
        for department in reversed(self.departments):
            for name in (department.short_name, department.name):
                if name:
                    self.departments_by_name[name.lower()] = department
        self.types = list(membership_types())
        self.types_by_pk = {t.pk: t for t in self.types}
        self.options = batch.options or {}

    # The column a field came from, as the user named it.
    def column_label(self, key: str) -> str:
        for index, target in self.batch.mapping.items():
            if target == key:
                header = self.table.headers[int(index)]
                return header or self.labels.get(key, key)
        return self.labels.get(key, key)

    def run(self, write: Callable[[list[RowOutcome]], None] | None = None) -> list[RowOutcome]:
        """Check the file chunk by chunk: read, match, validate, then hand the chunk's outcomes
        to `write` (and forget them). Without `write` the outcomes are returned together."""
        self.table = batch_table(self.batch)
        self.seen: dict[tuple, int] = {}
        # The line that updates each card: a second row matching the same card is named here,
        # not first when the import runs (which refuses it all the same).
        self.updates: dict[int, int] = {}
        kept: list[RowOutcome] = []
        write = write or kept.extend
        rows, lines = self.table.rows, self.table.lines
        for start in range(0, len(rows), CHUNK):
            outcomes = [self.read_row(lines[index], rows[index]) for index in range(start, min(start + CHUNK, len(rows)))]
            self.match(outcomes)
            self.validate(outcomes)
            write(outcomes)
            self.progress(start + len(outcomes))
        return kept

    # -- reading ------------------------------------------------------------------------------

    def read_row(self, line: int, row: list[object]) -> RowOutcome:
        outcome = RowOutcome(line=line)
        raw = {key: row[int(index)] for index, key in self.batch.mapping.items()}
        values: dict[str, Any] = {}
        country = cleaning.parse_country(raw.get("country"))
        for key, value in raw.items():
            try:
                values[key] = self.read_cell(key, value, country)
            except cleaning.CellError as error:
                outcome.errors.append((self.column_label(key), str(error)))
        if "house_number" in values:
            number, suffix = values.pop("house_number")
            values["house_number"] = number
            if suffix and not values.get("house_number_suffix"):
                values["house_number_suffix"] = suffix
        if not values.get("infix") and values.get("last_name"):
            values["infix"], values["last_name"] = cleaning.split_infix(values["last_name"])
        values["country"] = country
        outcome.data = {k: v for k, v in values.items() if k in RELATION_FIELDS or k == "number"}
        outcome.extra = {k.removeprefix(CUSTOM_PREFIX): v for k, v in values.items() if k.startswith(CUSTOM_PREFIX)}
        outcome.parts = parts.row_values(values, self.part_columns)
        outcome.function = self.read_function(outcome, values)
        outcome.name = " ".join(str(outcome.data.get(k) or "") for k in ("first_name", "infix", "last_name")).strip()
        return outcome

    def read_cell(self, key: str, value: object, country: str) -> Any:
        text = value.strip() if isinstance(value, str) else value
        if key in self.part_columns:
            return parts.read_cell(self.part_columns[key], text)
        if key in DATE_FIELDS:
            return cleaning.parse_date(text)
        if key in ("phone", "mobile"):
            return cleaning.parse_phone(text)
        if key == "postcode":
            return cleaning.parse_postcode(text, country)
        if key == "gender":
            return cleaning.parse_gender(text)
        if key == "house_number":
            return cleaning.parse_house_number(text)
        if key == "country":
            return country
        if key == "number":
            digits = str(text or "").strip()
            if digits and not digits.isdigit():
                raise cleaning.CellError(_("%(value)s is not a relation number.") % {"value": digits})
            return int(digits) if digits else None
        if key.startswith(CUSTOM_PREFIX):
            custom = self.custom_by_code[key.removeprefix(CUSTOM_PREFIX)]
            if custom.field_type == CustomFieldType.DATE:
                return cleaning.parse_date(text)
            if custom.field_type == CustomFieldType.BOOLEAN:
                return {"ja": "true", "yes": "true", "1": "true", "j": "true", "nee": "false", "no": "false",
                        "0": "false", "n": "false"}.get(str(text or "").strip().lower(), str(text or ""))
            return cleaning.refuse_formula(str(text or ""))
        if isinstance(text, datetime.date):
            text = text.strftime("%d-%m-%Y")
        return cleaning.refuse_formula(str(text or ""))

    def read_function(self, outcome: RowOutcome, values: dict[str, Any]) -> dict[str, Any]:
        function: dict[str, Any] = {}
        department_name = str(values.get("department") or "").strip()
        if department_name:
            found = self.departments_by_name.get(department_name.lower())
            if found is None:
                outcome.errors.append((
                    self.column_label("department"),
                    _("%(value)s is not a department in your environment.") % {"value": department_name},
                ))
            else:
                function["department"] = found.pk
        elif self.options.get("department"):
            function["department"] = int(self.options["department"])
        elif len(self.departments) == 1:
            function["department"] = self.departments[0].pk
        type_name = str(values.get("function_type") or "").strip()
        if type_name:
            found_types = [t for t in self.types if type_name.lower() in (t.name.lower(), t.code.lower())]
            if not found_types:
                outcome.errors.append((
                    self.column_label("function_type"),
                    _("%(value)s is not a membership.") % {"value": type_name},
                ))
            else:
                function["function_type"] = found_types[0].pk
        elif self.options.get("function_type"):
            function["function_type"] = int(self.options["function_type"])
        start = values.get("start_date") or (
            datetime.date.fromisoformat(self.options["start_date"]) if self.options.get("start_date") else None
        )
        function["start_date"] = (start or datetime.date.today()).isoformat()
        return function

    # -- matching -----------------------------------------------------------------------------

    def match(self, outcomes: list[RowOutcome]) -> None:
        """Per row: the relation number; else e-mail address and birth date; else surname,
        birth date and postcode — among the cards the user may see."""
        visible = Relation.objects.visible_to(self.user, self.tenant)
        by_number: dict[int, int] = {}
        numbers = sorted({o.data["number"] for o in outcomes if o.data.get("number")})
        for chunk in _chunks(numbers):
            by_number.update(visible.filter(number__in=chunk).values_list("number", "pk"))
        # The cards that share an e-mail address, a surname and birth date, or an address with a
        # row: the matches, and the possible duplicates the scan's rules point at.
        cards: dict[int, SimpleNamespace] = {}
        fields = ("pk", "first_name", "infix", "last_name", "email", "birth_date", "postcode", "house_number")

        def keep(rows) -> list[SimpleNamespace]:
            found = []
            for values in rows:
                card = cards.setdefault(values[0], SimpleNamespace(**dict(zip(fields, values, strict=True))))
                card.postcode_key = _postcode_key(card.postcode)
                found.append(card)
            return found

        by_email: dict[str, list[SimpleNamespace]] = {}
        emails = sorted({str(o.data["email"]).lower() for o in outcomes if o.data.get("email")})
        for chunk in _chunks(emails):
            for card in keep(visible.annotate(email_l=Lower("email")).filter(email_l__in=chunk).values_list(*fields)):
                by_email.setdefault(card.email.lower(), []).append(card)
        by_person: dict[tuple[str, datetime.date], list[SimpleNamespace]] = {}
        people = sorted({(o.data["last_name"].lower(), o.data["birth_date"]) for o in outcomes
                         if o.data.get("birth_date") and o.data.get("last_name")})
        for chunk in _chunks(people):
            wanted = set(chunk)
            rows = (visible.annotate(last_name_l=Lower("last_name"))
                    .filter(last_name_l__in={n for n, _b in chunk}, birth_date__in={b for _n, b in chunk}).values_list(*fields))
            for card in keep(rows):
                key = (card.last_name.lower(), card.birth_date)
                if key in wanted:
                    by_person.setdefault(key, []).append(card)
        by_address: dict[tuple[str, int], list[SimpleNamespace]] = {}
        addresses = sorted({(_postcode_key(o.data["postcode"]), o.data["house_number"]) for o in outcomes
                            if o.data.get("postcode") and o.data.get("house_number")})
        for chunk in _chunks(addresses):
            wanted = set(chunk)
            postcodes = {p for p, _h in chunk} | {f"{p[:4]} {p[4:]}" for p, _h in chunk}
            rows = visible.filter(postcode__in=postcodes, house_number__in={h for _p, h in chunk}).values_list(*fields)
            for card in keep(rows):
                if (card.postcode_key, card.house_number) in wanted:
                    by_address.setdefault((card.postcode_key, card.house_number), []).append(card)
        # The same person twice in the file: `seen` lives as long as the check, across chunks.
        seen = self.seen
        for outcome in outcomes:
            if outcome.errors:
                continue
            data = outcome.data
            keys = []
            if data.get("number"):
                keys.append(("number", data["number"]))
            if data.get("email") and data.get("birth_date"):
                keys.append(("email", str(data["email"]).lower(), data["birth_date"]))
            if data.get("last_name") and data.get("birth_date"):
                keys.append(("name", data["last_name"].lower(), data["birth_date"], _postcode_key(data.get("postcode", ""))))
            earlier = next((seen[k] for k in keys if k in seen), None)
            if earlier is not None:
                outcome.action, outcome.first_line = "duplicate", earlier
                continue
            for key in keys:
                seen[key] = outcome.line
            if data.get("number"):
                pk = by_number.get(data["number"])
                if pk is None:
                    outcome.errors.append((self.column_label("number"), _("Relation number %(value)s is unknown in your environment.") % {"value": data["number"]}))
                    continue
                self._update(outcome, pk)
                continue
            email = str(data.get("email") or "").lower()
            birth = data.get("birth_date")
            last_name = str(data.get("last_name") or "").lower()
            postcode = _postcode_key(data.get("postcode", ""))
            found: list[int] = []
            if email and birth:
                found = [c.pk for c in by_email.get(email, []) if c.birth_date == birth]
            if not found and last_name and birth:
                found = [c.pk for c in by_person.get((last_name, birth), []) if c.postcode_key == postcode]
            if len(found) == 1:
                self._update(outcome, found[0])
            elif len(found) > 1:
                outcome.action, outcome.candidates = "ambiguous", sorted(found)
            else:
                # No match, but cards the duplicate scan would pair with this person (the same
                # e-mail address, the same birth date and a similar name, the same address and a
                # similar name): the user says whether it is one of them or a new card (R10).
                near = {c.pk: c for c in [*by_email.get(email, []), *by_person.get((last_name, birth), []),
                                          *by_address.get((postcode, data.get("house_number")), [])]}
                name = duplicates.name_of(data.get("first_name") or "", data.get("infix") or "", data.get("last_name") or "")
                scored = []
                for card in near.values():
                    pair = duplicates.pair_for(
                        name=name, email=email, birth_date=birth, postcode=postcode, house_number=data.get("house_number"),
                        other=SimpleNamespace(**{**vars(card), "postcode": card.postcode_key}),
                    )
                    if pair.reasons:
                        scored.append((-pair.score, card.pk))
                if scored:
                    outcome.action, outcome.candidates = "ambiguous", [pk for _score, pk in sorted(scored)]

    def _update(self, outcome: RowOutcome, pk: int) -> None:
        """The row updates card `pk`, unless an earlier row of the file already does."""
        earlier = self.updates.get(pk)
        if earlier is not None:
            outcome.errors.append(("", _("Line %(line)s already updates this relation.") % {"line": earlier}))
            return
        self.updates[pk] = outcome.line
        outcome.action, outcome.relation = "update", pk

    # -- validation with the card's own forms -------------------------------------------------

    def validate(self, outcomes: list[RowOutcome]) -> None:
        existing: dict[int, Relation] = {}
        wanted = sorted({o.relation for o in outcomes if o.relation} | {pk for o in outcomes for pk in o.candidates})
        for chunk in _chunks(wanted):
            existing.update((r.pk, r) for r in Relation.objects.filter(pk__in=chunk))
        for outcome in outcomes:
            if outcome.errors or outcome.action == "duplicate":
                continue
            if outcome.action == "update":
                self.validate_update(outcome, existing[outcome.relation])
            elif outcome.action in ("new", "ambiguous"):
                # An ambiguous row may become a new card: it must be a valid one.
                self.validate_new(outcome, need_function=outcome.action == "new")
            if outcome.errors:
                outcome.action = "error"
        parts.check(self, outcomes)
        for outcome in outcomes:
            if outcome.errors:
                outcome.action = "error"

    def card_data(self, values: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
        data = {"kind": "person", "language": "nl", "magazine_delivery": "automatic", "gender": ""}
        data.update({k: ("" if v is None else v) for k, v in values.items() if k in RELATION_FIELDS})
        data.update({f"extra_{code}": ("" if v is None else v) for code, v in extra.items()})
        return data

    def add_form_errors(self, outcome: RowOutcome, form) -> None:
        for name, errors in form.errors.items():
            key = name if name in RELATION_FIELDS else (
                CUSTOM_PREFIX + name.removeprefix("extra_") if name.startswith("extra_") else
                {"tenant": "department", "function_type": "function_type", "start_date": "start_date"}.get(name, "")
            )
            label = self.column_label(key) if key else ""
            for message in errors:
                outcome.errors.append((label, str(message)))

    def service_rules(self, outcome: RowOutcome, data: dict[str, Any]) -> None:
        # The service's rules read only the card's fields: a plain object carries them (a model
        # instance per row cost more than the rules).
        probe = SimpleNamespace(**{name: data.get(name) for name in RELATION_FIELDS})
        try:
            relation_validate(probe)
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                if not any(message in (m for _l, m in outcome.errors) for message in messages):
                    outcome.errors += [(self.column_label(name), m) for m in messages]

    def validate_new(self, outcome: RowOutcome, *, need_function: bool = True) -> None:
        """The row as a new card with its membership. An ambiguous row may still turn out to
        be an existing card, so it needs no membership yet (the import asks for one if the
        user makes it new)."""
        function = outcome.function
        department = self.departments_by_pk.get(function.get("department"))
        function_type = self.types_by_pk.get(function.get("function_type"))
        if need_function and department is None:
            outcome.errors.append((self.column_label("department"), _("Name the department, or choose one for the whole file.")))
        if need_function and function_type is None:
            outcome.errors.append((self.column_label("function_type"), _("Name the membership, or choose one for the whole file.")))
        if outcome.errors:
            return
        form = self.card_form(self.card_data(outcome.data, outcome.extra))
        if not form.is_valid():
            self.add_form_errors(outcome, form)
            return
        # The function's own rules, the ones function_start applies (memberships.services).
        if department is not None and function_type is not None:
            try:
                function_start_check(function_type=function_type, tenant=department,
                                     start_date=datetime.date.fromisoformat(function["start_date"]))
            except ValidationError as refusal:
                by_field = refusal.message_dict if hasattr(refusal, "error_dict") else {"start_date": refusal.messages}
                for name, messages in by_field.items():
                    label = self.column_label({"tenant": "department"}.get(name, name))
                    outcome.errors.extend((label, str(message)) for message in messages)
        outcome.data = dict(form.relation_data)
        outcome.extra = form.extra_data
        self.service_rules(outcome, form.relation_data)

    def card_form(self, data: dict[str, Any]) -> RelationRowForm:
        """The card's form (its row variant), bound to one row; one instance serves every row."""
        form = getattr(self, "_card_form", None)
        if form is None:
            form = self._card_form = RelationRowForm(data=data, custom_fields=self.custom_fields)
            return form
        return form.bind(data)

    def validate_update(self, outcome: RowOutcome, relation: Relation) -> None:
        """The card as it would be after the update, checked by the card's form."""
        current = {name: getattr(relation, name) for name in RELATION_FIELDS}
        chosen = set(self.options.get("update_fields") or [])
        incoming = {
            k: v for k, v in outcome.data.items()
            if k in RELATION_FIELDS and v not in (None, "") and (not chosen or k in chosen)
        }
        if "country" in incoming and "country" not in set(self.batch.mapping.values()):
            incoming.pop("country")
        merged = {**current, **incoming}
        extra_now = dict(relation.extra or {})
        extra_in = {k: v for k, v in outcome.extra.items() if v not in (None, "") and (not chosen or CUSTOM_PREFIX + k in chosen)}
        form = self.card_form(self.card_data(merged, {**extra_now, **extra_in}))
        if not form.is_valid():
            self.add_form_errors(outcome, form)
            return
        after = form.relation_data
        changes = {
            name: [_as_text(current[name]), _as_text(after[name])]
            for name in RELATION_FIELDS if name in incoming and _as_text(current[name]) != _as_text(after[name])
        }
        extra_after = form.extra_data
        for code in extra_in:
            if _as_text(extra_now.get(code)) != _as_text(extra_after.get(code)):
                changes[CUSTOM_PREFIX + code] = [_as_text(extra_now.get(code)), _as_text(extra_after.get(code))]
        outcome.data = {k: after[k] for k in incoming}
        outcome.extra = {k: extra_after.get(k) for k in extra_in}
        outcome.changes = changes
        if not changes:
            outcome.action = "unchanged"
        self.service_rules(outcome, after)


def _postcode_key(postcode: str) -> str:
    return str(postcode or "").replace(" ", "").upper()


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.strftime("%d-%m-%Y")
    return str(value)


def _chunks(values: list, size: int = CHUNK):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def import_check(*, batch: ImportBatch, progress: Callable[[int], None] | None = None) -> ImportBatch:
    """Check every row and match it; writes nothing but the outcome on the import record."""
    if batch.status not in (ImportBatch.Status.UPLOADED, ImportBatch.Status.QUEUED, ImportBatch.Status.CHECKING,
                            ImportBatch.Status.CHECKED):
        raise ImportRefused(_("This import has already been started."))
    counts = dict.fromkeys(("new", "update", "ambiguous", "duplicate", "unchanged", "error"), 0)
    part_counts: dict[str, int] = {}  # rows whose other apps' columns will write something

    def write(outcomes: list[RowOutcome]) -> None:
        rows = []
        for outcome in outcomes:
            counts[outcome.action] += 1
            if outcome.action != "duplicate":
                for key, values in outcome.parts.items():
                    if values:
                        part_counts[key] = part_counts.get(key, 0) + 1
            rows.append(ImportRow(batch=batch, line=outcome.line, action=outcome.action, outcome=outcome.as_json()))
        bulk_insert(ImportRow, rows)

    with transaction.atomic():
        # A check again (another mapping) replaces the earlier outcome; a file that cannot be
        # read leaves none.
        ImportRow.objects.filter(batch=batch).delete()
        try:
            Checker(batch, progress).run(write)
        except FileRefused as error:
            transaction.set_rollback(True)
            refusal = error
        else:
            refusal = None
    if refusal is not None:
        ImportRow.objects.filter(batch=batch).delete()
        batch.status, batch.message = ImportBatch.Status.FAILED, refusal.messages[0]
        batch.save(update_fields=["status", "message"])
        return batch
    batch.result = {"summary": counts, "parts": part_counts}
    batch.rows_total = batch.rows_done = sum(counts.values())
    batch.status = ImportBatch.Status.CHECKED
    batch.message = ""
    batch.save(update_fields=["result", "rows_total", "rows_done", "status", "message"])
    return batch


def batch_rows(batch: ImportBatch, actions: tuple[str, ...] | None = None, limit: int | None = None):
    """The check's outcome per row (RowOutcome.as_json), in file order, read in chunks; only
    the rows with one of `actions` when given, at most `limit` of them."""
    rows = ImportRow.objects.filter(batch=batch)
    if actions is not None:
        rows = rows.filter(action__in=actions)
    after, given = 0, 0
    while limit is None or given < limit:
        size = CHUNK if limit is None else min(CHUNK, limit - given)
        chunk = list(rows.filter(line__gt=after).order_by("line").values_list("line", "outcome")[:size])
        if not chunk:
            return
        for _line, outcome in chunk:
            yield outcome
        after, given = chunk[-1][0], given + len(chunk)


def row_errors(batch: ImportBatch) -> list[tuple[int, str, str]]:
    """(line, column, message) for every error, in file order."""
    return [(row["line"], column, message) for row in batch_rows(batch, ("error",)) for column, message in row["errors"]]


def error_text(line: int, column: str, message: str) -> str:
    if column:
        return _("line %(line)s, %(column)s: %(message)s") % {"line": line, "column": column, "message": message}
    return _("line %(line)s: %(message)s") % {"line": line, "message": message}


# --- import ------------------------------------------------------------------------------------


def import_reason(batch: ImportBatch) -> str:
    return (_("import %(file)s by %(user)s") % {"file": batch.file_name, "user": batch.user.get_username()})[:100]


def import_run(
    *, actor: User, batch_id: Any, choices: dict[str, str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportBatch:
    """Create and update the checked rows, all or nothing, in one transaction. `choices` says per
    line of an ambiguous row which card it is ("<pk>") or "new". A second start (a double
    click, a second worker) finds the import no longer waiting and changes nothing."""
    progress = progress or (lambda done: None)
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().select_related("tenant", "user").get(pk=batch_id)
        if batch.status == ImportBatch.Status.IMPORTED:
            raise ImportRefused(_("This file has already been imported."))
        if batch.status not in (ImportBatch.Status.CHECKED, ImportBatch.Status.IMPORTING):
            raise ImportRefused(_("Check the file before importing it."))
        if actor.pk != batch.user_id or not actor.is_active or not can_enter(actor, batch.tenant) \
                or not actor.has_perm(IMPORT_PERM, batch.tenant):
            raise PermissionDenied
        if ImportRow.objects.filter(batch=batch, action="error").exists():
            raise ImportRefused(_("The file still has errors; correct them and upload it again."))
        choices = choices or batch.options.get("choices") or {}
        for row in batch_rows(batch, ("ambiguous",)):
            if str(choices.get(str(row["line"]), "")) not in ("new", *(str(pk) for pk in row["candidates"])):
                raise ImportRefused(_("Choose for line %(line)s which relation it is, or a new one.") % {"line": row["line"]})
        try:
            created, updated = _apply(batch, choices, progress)
        except ValidationError as error:
            transaction.set_rollback(True)
            raise ImportRefused(error.messages) from None
        batch.status = ImportBatch.Status.IMPORTED
        batch.created_count, batch.updated_count = created, updated
        batch.imported_at = timezone.now()
        batch.rows_done = batch.rows_total
        batch.options = {**batch.options, "choices": choices}
        batch.save()
        # The cards' after-save checks (the data-quality recheck) run once for the whole file
        # after the commit, in the background (import_recheck).
        transaction.on_commit(lambda: _recheck_later(batch.pk))
    return batch


def _queue(task_name: str, *args) -> None:
    """Queue one of this app's tasks (imports.tasks). Imported here, the one place: the tasks
    module imports this one (a task calls its service), a circle within the app, not between apps."""
    from . import tasks

    getattr(tasks, task_name).delay(*args)


def _recheck_later(batch_id) -> None:
    _queue("import_recheck_task", str(batch_id))


def import_recheck(batch_id: Any) -> int:
    """The after-save checks of every card an import created or updated (the data-quality
    recheck, relations.card's registry), a chunk of cards at a time, after the import's commit:
    the same checks a card's save runs, kept out of the import's transaction, which they made
    20 % longer. Should the worker stop before they ran, the nightly quality check finds the
    same problems. Returns the number of cards checked."""
    ids = list(
        ImportChange.objects.filter(batch_id=batch_id).order_by("relation_id").values_list("relation_id", flat=True)
        .distinct()
    )
    for chunk in _chunks(ids, CHUNK * 2):
        after_save_run_many(list(Relation.objects.filter(pk__in=chunk).only("pk")))
    return len(ids)


def _row_action(row: dict, choices: dict[str, str]) -> tuple[str, int | None]:
    """What the import does with a checked row: ("new", None), ("update", pk) or ("skip", …)."""
    action, relation_pk = row["action"], row["relation"]
    if action == "ambiguous":
        choice = str(choices[str(row["line"])])
        return ("new", None) if choice == "new" else ("update", int(choice))
    if action == "update" and row["changes"]:
        return "update", relation_pk
    if action == "new":
        return "new", None
    return "skip", None


def _apply(batch: ImportBatch, choices: dict[str, str], progress) -> tuple[int, int]:
    """Write the checked rows through the core apps' bulk use cases (memberships.card.
    relations_create_bulk, relations.services.relations_update_bulk): the same rules as one card
    at a time. The rows are read back and written a chunk at a time — all inside the caller's one
    transaction, so a row refused in the last chunk still takes back the first. A row refused
    there is named by its line."""
    actor, reason = batch.user, import_reason(batch)
    departments = {d.pk: d for d in allowed_departments(actor, batch.tenant)}
    types = {t.pk: t for t in membership_types()}
    may_add: dict[int, bool] = {}
    fields_cache: dict = {}  # per environment its custom fields, read once for the whole file
    # Before anything is written: no card updated twice, and every card to update still one
    # the user sees here (only the line and the card of each update are kept meanwhile).
    first_line: dict[int, int] = {}
    for row in batch_rows(batch, ("update", "ambiguous")):
        action, pk = _row_action(row, choices)
        if action != "update":
            continue
        if pk in first_line:
            raise ValidationError(error_text(row["line"], "", _("Line %(line)s already updates this relation.") % {
                "line": first_line[pk]}))
        first_line[pk] = row["line"]
    wanted = list(first_line)
    visible: set[int] = set()
    for chunk in _chunks(wanted, CHUNK * 10):
        visible.update(Relation.objects.visible_to(actor, batch.tenant).filter(pk__in=chunk).values_list("pk", flat=True))
    for pk, line in first_line.items():
        if pk not in visible:
            raise ValidationError(error_text(line, "", _("The matching relation is no longer in your environment.")))
    del first_line, wanted, visible
    created = updated = done = 0
    chunk: list[dict] = []
    for row in batch_rows(batch):
        chunk.append(row)
        if len(chunk) == CHUNK:
            made, changed = _apply_chunk(batch, chunk, choices, actor, reason, departments, types, may_add, fields_cache)
            created, updated, done = created + made, updated + changed, done + len(chunk)
            chunk = []
            progress(done)
    if chunk:
        made, changed = _apply_chunk(batch, chunk, choices, actor, reason, departments, types, may_add, fields_cache)
        created, updated, done = created + made, updated + changed, done + len(chunk)
        progress(done)
    return created, updated


def _apply_chunk(batch, rows, choices, actor, reason, departments, types, may_add, fields_cache) -> tuple[int, int]:
    new_rows: list[tuple[int, NewMember]] = []
    updates: list[tuple[int, tuple[int, dict, dict | None]]] = []
    for row in rows:
        line = row["line"]
        action, relation_pk = _row_action(row, choices)
        if action == "skip":
            continue
        data = {k: _from_json(k, v) for k, v in row["data"].items() if k in RELATION_FIELDS}
        if row["action"] == "ambiguous":
            # Not compared with the chosen card at the check: only the filled cells count.
            data = {k: v for k, v in data.items() if v not in (None, "")}
        if action == "new":
            department = departments.get(row["function"].get("department"))
            function_type = types.get(row["function"].get("function_type"))
            if department is not None and department.pk not in may_add:
                may_add[department.pk] = actor.has_perm("memberships.add_function", department)
            if department is None or function_type is None or not may_add[department.pk]:
                raise ValidationError(error_text(line, "", _("The department or membership is no longer available to you.")))
            new_rows.append((line, NewMember(
                tenant=department, data=data, extra=row["extra"], function_type=function_type,
                function_tenant=department, start_date=datetime.date.fromisoformat(row["function"]["start_date"]),
            )))
        else:
            updates.append((line, (relation_pk, data, row["extra"] or None)))
    changes: list[ImportChange] = []
    try:
        made = relations_create_bulk(actor=actor, members=[member for _line, member in new_rows], reason=reason,
                                     fields_cache=fields_cache, after_save=False)
    except RowRefused as refusal:
        raise ValidationError([error_text(new_rows[refusal.index][0], "", m) for m in refusal.messages]) from None
    for (line, _member), (relation, function) in zip(new_rows, made, strict=True):
        changes.append(ImportChange(batch=batch, relation_id=relation.pk, line=line, action=ImportChange.Action.CREATED,
                                    after=_snapshot(relation), function_id=function.pk))
    del made
    before: dict[int, dict[str, Any]] = {}

    def keep_before(relation: Relation) -> None:
        before[relation.pk] = _snapshot(relation)

    # Custom fields of an update: the card's other custom values stay (as on the card's form).
    requested = [(pk, data, extra) for _line, (pk, data, extra) in updates]
    try:
        changed = relations_update_bulk(
            actor=actor, changes=requested, reason=reason, before_change=keep_before,
            extra_merge=lambda relation, extra: {**(relation.extra or {}), **extra}, fields_cache=fields_cache,
            after_save=False,
        )
    except RowRefused as refusal:
        raise ValidationError([error_text(updates[refusal.index][0], "", m) for m in refusal.messages]) from None
    for (line, _change), relation in zip(updates, changed, strict=True):
        changes.append(ImportChange(batch=batch, relation_id=relation.pk, line=line, action=ImportChange.Action.UPDATED,
                                    before=before[relation.pk], after=_snapshot(relation)))
    parts.apply(batch, rows, choices, {change.line: change.relation_id for change in changes}, error_text)
    bulk_insert(ImportChange, changes)
    return len(new_rows), len(updates)


def _from_json(name: str, value: Any) -> Any:
    if name == "birth_date" and value:
        return datetime.date.fromisoformat(value)
    return value


def _snapshot(relation: Relation) -> dict[str, Any]:
    values = {name: getattr(relation, name) for name in RELATION_FIELDS}
    values = {k: (v.isoformat() if isinstance(v, datetime.date) else v) for k, v in values.items()}
    values["extra"] = relation.extra or {}
    return values


# --- undo --------------------------------------------------------------------------------------


def undo_refusal(batch: ImportBatch) -> str | None:
    """Why this import can no longer be undone, or None. A chunk of cards at a time: four
    queries per CHUNK cards, not three per card (the page of a large import asks it too)."""
    if batch.status not in (ImportBatch.Status.IMPORTED, ImportBatch.Status.UNDOING) or batch.imported_at is None:
        return _("Only an import that was carried out can be undone.")
    if timezone.now() - batch.imported_at > datetime.timedelta(days=UNDO_DAYS):
        return _("An import can be undone within %(days)s days; this one is older.") % {"days": UNDO_DAYS}
    changed = []
    reason = import_reason(batch)
    after = batch.imported_at
    changes = batch.changes.order_by("line").values_list("line", "relation_id", "action", "function_id", "after")
    for start in range(0, batch.changes.count(), CHUNK):
        chunk = list(changes[start:start + CHUNK])
        ids = [relation_id for _line, relation_id, *_rest in chunk if relation_id]
        cards = Relation.objects.in_bulk(ids)
        edited = set(Relation.history.filter(id__in=ids, history_date__gt=after)
                     .exclude(history_change_reason=reason).values_list("id", flat=True))
        imported_functions = {function_id for *_rest, function_id, _after in chunk if function_id}
        for relation_id, function_id, history_type in Function.history.filter(
            relation_id__in=ids, history_date__gt=after
        ).values_list("relation_id", "id", "history_type"):
            if not (function_id in imported_functions and history_type == "+"):
                edited.add(relation_id)
        made = [relation_id for _line, relation_id, action, *_rest in chunk if action == ImportChange.Action.CREATED]
        edited.update(Function.objects.filter(relation_id__in=made).exclude(pk__in=imported_functions)
                      .values_list("relation_id", flat=True))
        for line, relation_id, _action, _function_id, snapshot in chunk:
            relation = cards.get(relation_id)
            if relation is None:
                changed.append(str(line))
            elif _snapshot(relation) != snapshot or relation_id in edited:
                changed.append(f"{relation.number}")
    if changed:
        return _("These relations have changed since the import, so it can no longer be undone: %(numbers)s.") % {
            "numbers": ", ".join(changed[:20]) + (" …" if len(changed) > 20 else "")
        }
    return parts.undo_refusal(batch)


def import_undo_start(*, actor: User, batch: ImportBatch) -> ImportBatch:
    """Undo an import: at once for a small file, through the worker for a large one (taking
    60,000 cards back outlasts a web request). Refused, with the reason, as `import_undo` is."""
    if batch.rows_total <= BACKGROUND_ROWS:
        return import_undo(actor=actor, batch_id=batch.pk)
    if not actor.has_perm(IMPORT_PERM, batch.tenant):
        raise PermissionDenied
    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.is_busy:
            raise ImportRefused(_("This file is already being processed."))
        refusal = undo_refusal(locked)
        if refusal:
            raise ImportRefused(refusal)
        locked.options = {**locked.options, "undo_by": actor.pk}
        locked.status, locked.message, locked.rows_done = ImportBatch.Status.UNDOING, "", 0
        locked.save(update_fields=["options", "status", "message", "rows_done"])
        _queue_step(locked, "undo")
    return locked


@transaction.atomic
def import_undo(*, actor: User, batch_id: Any) -> ImportBatch:
    """Take a whole import back: cards it made are deleted (with their membership), cards it
    changed get their earlier values. Refused, with the reason, when any of them changed since."""
    batch = ImportBatch.objects.select_for_update().select_related("user", "tenant").get(pk=batch_id)
    if not actor.has_perm(IMPORT_PERM, batch.tenant):
        raise PermissionDenied
    refusal = undo_refusal(batch)
    if refusal:
        raise ImportRefused(refusal)
    reason = _("undo of import %(file)s by %(user)s") % {"file": batch.file_name, "user": actor.get_username()}
    parts.undo(actor, batch)
    # The changed cards get their earlier values back through the bulk update (relation_update's
    # rules, one history row each carrying the reason, rechecked together); the cards the import
    # made are deleted with their functions by memberships, under one watch of them all. One
    # card at a time, a 2,000-row file took 140 s to take back (docs/benchmarks.md, bench_import).
    changes = batch.changes.order_by("-line")
    created = list(changes.filter(action=ImportChange.Action.CREATED).values_list("relation_id", flat=True))
    lines, restored = [], []
    for line, relation_id, before in changes.exclude(action=ImportChange.Action.CREATED).values_list(
        "line", "relation_id", "before"
    ):
        lines.append(line)
        restored.append((relation_id, {k: _from_json(k, v) for k, v in before.items() if k in RELATION_FIELDS},
                         before.get("extra")))
    for start in range(0, len(restored), CHUNK):  # a chunk at a time: the cards are not kept
        try:
            relations_update_bulk(actor=actor, changes=restored[start:start + CHUNK], reason=reason[:100])
        except RowRefused as refusal:
            messages = [error_text(lines[start + refusal.index], "", m) for m in refusal.messages]
            raise ImportRefused(messages) from None
    relations_delete_bulk(actor=actor, relation_ids=created, reason=reason[:100])
    batch.status = ImportBatch.Status.UNDONE
    batch.undone_at, batch.undone_by = timezone.now(), actor
    batch.save(update_fields=["status", "undone_at", "undone_by"])
    return batch


# --- background --------------------------------------------------------------------------------


def progress_writer(batch_id: Any) -> Callable[[int], None]:
    """Report progress where the page can see it while the work runs inside its transaction: in
    the shared cache (`ImportBatch.percent` reads it), and on PostgreSQL also in the row through a
    second connection — unless the step's own transaction holds that row (an import locks its
    batch), which it then skips instead of waiting for a lock its own transaction holds."""
    key = progress_key(batch_id)
    if connection.vendor != "postgresql":
        return lambda done: cache.set(key, done, 3600)
    extra = connections.create_connection("default")

    def write(done: int) -> None:
        cache.set(key, done, 3600)
        try:
            with extra.cursor() as cursor:
                cursor.execute("SET lock_timeout = '50ms'")
                # The table name is the model's own, never input.
                cursor.execute(f"UPDATE {ImportBatch._meta.db_table} SET rows_done = %s WHERE id = %s",  # noqa: S608
                               [done, str(batch_id)])
        except OperationalError:
            pass  # the row is locked by the step itself: the cache has the figure

    write.connection = extra  # closed by the task
    return write


def import_start(*, actor: User, batch: ImportBatch, step: str, choices: dict[str, str] | None = None) -> ImportBatch:
    """Check (step "check") or import (step "import") a file: at once for small files, through
    the worker for large ones. The task starts once this transaction has committed."""
    if batch.rows_total <= BACKGROUND_ROWS:
        if step == "check":
            return import_check(batch=batch)
        return import_run(actor=actor, batch_id=batch.pk, choices=choices)
    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.is_busy:
            raise ImportRefused(_("This file is already being processed."))
        if step == "import" and locked.status != ImportBatch.Status.CHECKED:
            raise ImportRefused(_("This file has already been imported.") if locked.status == ImportBatch.Status.IMPORTED
                                else _("Check the file before importing it."))
        locked.options = {**locked.options, "choices": choices or {}}
        locked.status = ImportBatch.Status.QUEUED if step == "check" else ImportBatch.Status.IMPORTING
        locked.rows_done = 0
        locked.save(update_fields=["options", "status", "rows_done"])
        _queue_step(locked, step)
    return locked


def _queue_step(batch: ImportBatch, step: str) -> None:
    """Queue `step` of `batch` for the worker once the caller's transaction commits, noting it in
    the batch's lease row (not yet taken), where the reaper finds it should the message be lost."""
    ImportLease.objects.update_or_create(
        batch=batch, defaults={"step": step, "queued_at": timezone.now(), "lease_token": "", "lease_until": None}
    )
    transaction.on_commit(lambda: _queue("import_batch_run_task", str(batch.pk), step))


def import_requeue(batch_id: Any) -> None:
    """Queue again the step a batch's worker was busy with (the reaper, when its lease ran out)."""
    _queue("import_batch_run_task", str(batch_id), ImportLease.objects.get(pk=batch_id).step)


def import_batch_run(batch_id: str, step: str) -> ImportBatch:
    """The worker's side of `import_start`; safe to run twice (a finished step is left alone).
    The step runs under the batch's lease (tenants/leases.py): a second delivery while a worker is
    busy with it steps aside, and should the worker die, the reaper queues the step again once
    the lease has run out."""
    lease, _created = ImportLease.objects.get_or_create(batch_id=batch_id, defaults={"step": step})
    token = lease_take(ImportLease, lease.pk, step=step)
    if token is None:  # another worker is busy with it
        return ImportBatch.objects.get(pk=batch_id)
    try:
        with heartbeat(ImportLease, lease.pk, token):
            return _batch_step(batch_id, step)
    finally:
        lease_release(ImportLease, lease.pk, token)


def _batch_step(batch_id: str, step: str) -> ImportBatch:
    batch = ImportBatch.objects.select_related("user", "tenant").get(pk=batch_id)
    user = batch.user
    if not user.is_active or not can_enter(user, batch.tenant) or not user.has_perm(IMPORT_PERM, batch.tenant):
        batch.status, batch.message = ImportBatch.Status.FAILED, _("You may no longer import here.")
        batch.save(update_fields=["status", "message"])
        return batch
    if step == "undo":
        return _undo_in_background(batch)
    progress = progress_writer(batch.pk)
    try:
        if step == "check":
            # "Being checked" too: the task delivered again after its worker died (acks late).
            # The check is one transaction that first clears an earlier outcome, so it simply
            # runs again.
            if batch.status not in (ImportBatch.Status.QUEUED, ImportBatch.Status.CHECKING):
                return batch
            batch.status = ImportBatch.Status.CHECKING
            batch.save(update_fields=["status"])
            return import_check(batch=batch, progress=progress)
        if batch.status != ImportBatch.Status.IMPORTING:
            return batch
        try:
            return import_run(actor=user, batch_id=batch.pk, progress=progress)
        except ImportRefused as error:
            # Back to "checked" with the reason, unless another delivery of the same task has
            # imported it meanwhile (then the refusal only says so).
            ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.IMPORTING).update(
                status=ImportBatch.Status.CHECKED, message=" ".join(error.messages)[:500]
            )
            return ImportBatch.objects.get(pk=batch.pk)
    finally:
        extra = getattr(progress, "connection", None)
        if extra is not None:
            extra.close()


def _undo_in_background(batch: ImportBatch) -> ImportBatch:
    """The worker's side of a large undo, by the user who asked for it; a refusal (something
    changed meanwhile, or that user may no longer import here) leaves the import as it was and
    says why on its page."""
    if batch.status != ImportBatch.Status.UNDOING:
        return batch
    actor = User.objects.filter(pk=batch.options.get("undo_by")).first()
    try:
        if actor is None or not actor.is_active or not can_enter(actor, batch.tenant):
            raise ImportRefused(_("You may no longer import here."))
        return import_undo(actor=actor, batch_id=batch.pk)
    except (ImportRefused, PermissionDenied) as error:
        message = " ".join(error.messages) if isinstance(error, ImportRefused) else _("You may no longer import here.")
        ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.UNDOING).update(
            status=ImportBatch.Status.IMPORTED, message=message[:500]
        )
        return ImportBatch.objects.get(pk=batch.pk)


def field_label(key: str, custom_fields: list[CustomField]) -> str:
    labels = {t.key: t.label for t in targets(custom_fields)}
    return labels.get(key, capfirst(key))
