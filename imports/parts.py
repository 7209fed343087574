"""Columns of the import that fill what other apps keep on a card (relations.card.RowPart; billing
registers the SEPA mandate): reading their cells, checking them by the part's own rules, writing
them after the cards in the import's transaction, and taking them back with the import. The
import itself calls this module at four points: reading a row, checking, importing and undoing."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError

from relations.card import PartRow, RowColumn, row_parts
from relations.services import RowRefused

from . import cleaning
from .models import ImportBatch


def source_of(batch: ImportBatch) -> str:
    """How a part names what this import wrote, to find it again at the undo."""
    return f"import:{batch.pk}"


def read_cell(column: RowColumn, value: object) -> Any:
    """A part's cell as the file holds it: a date read like the card's dates, text trimmed and
    refused when it looks like a formula; the part's own rules come at the check."""
    if column.kind == "date":
        return cleaning.parse_date(value)
    if isinstance(value, datetime.datetime | datetime.date):
        value = value.strftime("%d-%m-%Y")
    return cleaning.refuse_formula(str(value or "").strip())


def row_values(values: dict[str, Any], columns: dict[str, RowColumn]) -> dict[str, dict[str, Any]]:
    """{part key: {column key: value}} for the parts with a filled cell in this row."""
    found: dict[str, dict[str, Any]] = {}
    for part in row_parts():
        cells = {c.key: values[c.key] for c in part.columns if c.key in columns and c.key in values}
        if any(v not in (None, "") for v in cells.values()):
            found[part.key] = cells
    return found


def _json_values(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime.date) else v) for k, v in values.items()}


def as_json(parts: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {key: _json_values(values) for key, values in parts.items()}


def check(checker, outcomes: list) -> None:
    """Check the parts' cells of every row (not of a row that repeats an earlier one) with the
    part's rules, many rows at once; a row's part then holds what the import will write (empty:
    nothing to write, e.g. the card already has it) and its errors are the row's."""
    for part in row_parts():
        rows: list[tuple[Any, PartRow]] = []
        for outcome in outcomes:
            if part.key in outcome.parts and outcome.action != "duplicate":
                rows.append(
                    (
                        outcome,
                        PartRow(
                            line=outcome.line,
                            values=outcome.parts[part.key],
                            relation=outcome.relation
                            if outcome.action in ("update", "unchanged")
                            else None,
                        ),
                    )
                )
        if not rows:
            continue
        part.check(checker.user, checker.tenant, [row for _outcome, row in rows])
        for outcome, row in rows:
            # A cell that could not be read (a date that does not exist) has its error already;
            # the part, which saw no value there, does not name that column again.
            unread = {label for label, _message in outcome.errors}
            outcome.errors.extend(
                (label, message)
                for label, message in (
                    (checker.column_label(key), message) for key, message in row.errors
                )
                if label not in unread
            )
            outcome.parts[part.key] = _json_values(row.clean) if not row.errors else {}


def apply(
    batch: ImportBatch,
    rows: list[dict],
    choices: dict[str, str],
    relation_by_line: dict[int, int],
    error_text,
) -> None:
    """Write the parts of the imported rows, after their cards, in the import's transaction. A
    row the part refuses is named by its line (a ValidationError, as the cards' own)."""
    for part in row_parts():
        wanted: list[tuple[int, int, dict[str, Any]]] = []
        for row in rows:
            clean = (row.get("parts") or {}).get(part.key)
            if not clean or row["action"] == "duplicate":
                continue
            relation = relation_by_line.get(row["line"]) or row.get("relation")
            if relation is None and row["action"] == "ambiguous":
                choice = str(choices.get(str(row["line"]), ""))
                relation = int(choice) if choice.isdigit() else None
            if relation is not None:
                wanted.append((row["line"], relation, clean))
        if not wanted:
            continue
        try:
            part.apply(batch.user, batch.tenant, source_of(batch), wanted)
        except RowRefused as refusal:
            line = wanted[refusal.index][0]
            labels = {c.key: str(c.label) for c in part.columns}
            by_column = (
                refusal.message_dict if hasattr(refusal, "error_dict") else {"": refusal.messages}
            )
            raise ValidationError(
                [
                    error_text(line, labels.get(key, ""), message)
                    for key, messages in by_column.items()
                    for message in messages
                ]
            ) from None


def undo_refusal(batch: ImportBatch) -> str | None:
    for part in row_parts():
        refusal = part.undo_refusal(source_of(batch))
        if refusal:
            return refusal
    return None


def undo(actor, batch: ImportBatch) -> None:
    """Take back what the parts wrote for this import, before its cards are deleted."""
    for part in row_parts():
        part.undo(actor, source_of(batch))
