"""The SEPA direct-debit mandate as columns of the bulk import (SPEC B3: "mandates per relation …
in the import"). The import does not know billing: BillingConfig.ready() registers this part with
relations.card.row_part_register, and the import checks, records and takes back mandates through
it, with the rules of the card's mandate form (billing.services)."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from schwifty import IBAN
from schwifty import exceptions as iban_errors

from relations.card import PartRow, RowColumn, RowPart
from relations.services import RowRefused
from tenants.models import Tenant, User

from .models import Mandate
from .services import (
    MandateFields,
    MandateRow,
    billing_environment_for,
    mandate_fields_check,
    mandates_create_bulk,
    mandates_undo,
    mandates_undo_refusal,
)

ADD_PERM = "billing.add_mandate"

COLUMNS = (
    RowColumn(
        "mandate_iban",
        gettext_lazy("IBAN (direct debit)"),
        example="NL91ABNA0417164300",
        synonyms=(
            "iban",
            "ibannummer",
            "rekeningnummer",
            "bankrekening",
            "bankrekeningnummer",
            "incassoiban",
            "machtigingiban",
            "accountnumber",
            "bankaccount",
        ),
    ),
    RowColumn(
        "mandate_reference",
        gettext_lazy("Mandate reference"),
        synonyms=(
            "machtigingskenmerk",
            "kenmerkmachtiging",
            "mandaatkenmerk",
            "mandaatreferentie",
            "machtigingsreferentie",
            "mandatereference",
            "mandateid",
        ),
    ),
    RowColumn(
        "mandate_signed_on",
        gettext_lazy("Date mandate signed"),
        kind="date",
        example=datetime.date.today().replace(month=1, day=1),
        synonyms=(
            "datumondertekening",
            "ondertekendop",
            "machtigingsdatum",
            "datummachtiging",
            "getekendop",
            "datesigned",
            "mandatedate",
            "signaturedate",
        ),
    ),
    RowColumn(
        "mandate_bic", gettext_lazy("BIC"), synonyms=("bic", "biccode", "swift", "swiftcode")
    ),
    RowColumn(
        "mandate_holder",
        gettext_lazy("Account holder"),
        synonyms=("rekeninghouder", "tenaamstelling", "tnv", "tennamevan", "accountholder"),
    ),
    RowColumn(
        "mandate_sequence",
        gettext_lazy("First or recurring collection (FRST/RCUR)"),
        synonyms=("frstrcur", "sequencetype", "eerstofherhaald", "incassotype", "volgorde"),
    ),
)
# The service's fields as the import's columns.
FIELD_COLUMNS = {
    "iban": "mandate_iban",
    "bic": "mandate_bic",
    "signed_on": "mandate_signed_on",
    "reference": "mandate_reference",
}
# A sequence cell: recurring (RCUR, collected before) or not (FRST, the next collection is a first).
SEQUENCES = {
    "frst": False,
    "first": False,
    "eerste": False,
    "nieuw": False,
    "rcur": True,
    "recurring": True,
    "herhaald": True,
    "doorlopend": True,
    "vervolg": True,
}


def offered(user: User, tenant: Tenant) -> bool:
    """Where the card would let the user record a mandate: an environment that bills."""
    return billing_environment_for(tenant) is not None and user.has_perm(ADD_PERM, tenant)


def _iban_message(value: str) -> str | None:
    """The IBAN's error named with the value, as the import names every wrong cell."""
    try:
        IBAN(value)
    except iban_errors.InvalidChecksumDigits:
        return _("%(value)s has a wrong check digit; check the number.") % {"value": value}
    except iban_errors.SchwiftyException:
        return _("%(value)s is not a valid IBAN.") % {"value": value}
    return None


def check(user: User, tenant: Tenant, rows: list[PartRow]) -> None:
    """The mandate of every row by the card's rules; a row whose card already has this mandate
    (the same reference and IBAN, or without a reference an active mandate on the same IBAN) has
    nothing to record. Two queries for all rows."""
    refusal = None
    if billing_environment_for(tenant) is None:
        refusal = _("This environment does not bill yet: fill in its billing details first.")
    elif not user.has_perm(ADD_PERM, tenant):
        refusal = _("You may not record direct-debit mandates here.")
    if refusal:
        for row in rows:
            row.errors.append(
                (next(k for k, v in row.values.items() if v not in (None, "")), refusal)
            )
        return
    for row in rows:
        values = row.values
        iban = str(values.get("mandate_iban") or "").strip()
        if not iban:
            row.errors.append(("mandate_iban", _("Enter the IBAN of the mandate.")))
            continue
        fields, errors = mandate_fields_check(
            iban=iban,
            signed_on=values.get("mandate_signed_on"),
            reference=str(values.get("mandate_reference") or ""),
            bic=str(values.get("mandate_bic") or ""),
        )
        if "iban" in errors:
            errors["iban"] = [_iban_message(iban) or errors["iban"][0]]
        for name, messages in errors.items():
            row.errors.extend(
                (FIELD_COLUMNS.get(name, "mandate_iban"), message) for message in messages
            )
        sequence = str(values.get("mandate_sequence") or "").strip().lower()
        if sequence and sequence not in SEQUENCES:
            row.errors.append(
                (
                    "mandate_sequence",
                    _("%(value)s is neither FRST (first collection) nor RCUR (recurring).")
                    % {"value": values.get("mandate_sequence")},
                )
            )
        if not row.errors:
            row.clean = {
                "iban": fields.iban,
                "bic": fields.bic,
                "reference": fields.reference,
                "signed_on": fields.signed_on.isoformat(),
                "holder": str(values.get("mandate_holder") or "")[:70],
                "recurring": SEQUENCES.get(sequence, False),
            }
    checked = [row for row in rows if row.clean]
    existing = {
        reference: (relation_id, iban)
        for reference, relation_id, iban in Mandate.objects.filter(
            tenant=tenant,
            reference__in={row.clean["reference"] for row in checked if row.clean["reference"]},
        ).values_list("reference", "relation_id", "iban")
    }
    active = dict(
        Mandate.objects.active()
        .filter(
            tenant=tenant,
            relation_id__in={row.relation for row in checked if row.relation},
        )
        .values_list("relation_id", "iban")
    )
    first_line: dict[str, int] = {}
    for row in checked:
        reference = row.clean["reference"]
        if reference and reference in first_line:
            row.errors.append(
                (
                    "mandate_reference",
                    _("Line %(line)s already has this mandate reference.")
                    % {"line": first_line[reference]},
                )
            )
        elif reference and reference in existing:
            if existing[reference] != (row.relation, row.clean["iban"]):
                row.errors.append(
                    ("mandate_reference", _("This mandate reference is already in use."))
                )
            row.clean = {}  # else: this card already has this mandate
        elif not reference and row.relation and active.get(row.relation) == row.clean["iban"]:
            row.clean = {}  # the card's active mandate already collects from this account
        if reference:
            first_line.setdefault(reference, row.line)
        if row.errors:
            row.clean = {}


def apply(
    user: User, tenant: Tenant, source: str, rows: list[tuple[int, int, dict[str, Any]]]
) -> None:
    """Record the checked mandates of the imported rows (RowRefused(index) names the row)."""
    if not offered(user, tenant):
        raise RowRefused(
            0,
            ValidationError(
                {"mandate_iban": [_("You may not record direct-debit mandates here.")]}
            ),
        )
    items = [
        MandateRow(
            relation_id=relation,
            fields=MandateFields(
                iban=clean["iban"],
                bic=clean["bic"],
                reference=clean["reference"],
                signed_on=datetime.date.fromisoformat(clean["signed_on"]),
            ),
            account_holder=clean["holder"],
            recurring=clean["recurring"],
        )
        for _line, relation, clean in rows
    ]
    try:
        mandates_create_bulk(tenant=tenant, actor=user, rows=items, source=source)
    except RowRefused as refusal:
        by_field = (
            refusal.message_dict if hasattr(refusal, "error_dict") else {"iban": refusal.messages}
        )
        raise RowRefused(
            refusal.index,
            ValidationError(
                {
                    FIELD_COLUMNS.get(name, "mandate_iban"): messages
                    for name, messages in by_field.items()
                }
            ),
        ) from None


def undo(user: User, source: str) -> None:
    mandates_undo(source=source)


MANDATE_PART = RowPart(
    key="billing_mandate",
    label=gettext_lazy("Direct-debit mandates to record"),
    columns=COLUMNS,
    offered=offered,
    check=check,
    apply=apply,
    undo_refusal=lambda source: mandates_undo_refusal(source=source),
    undo=undo,
)
