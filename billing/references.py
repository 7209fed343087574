"""Payment references (betalingskenmerk) of invoices: the ISO 11649 structured creditor reference.

An invoice number `2027-000001` becomes `RF89 2027 0000 01`: "RF", two check digits (ISO 7064
MOD 97-10, as in an IBAN) and the number's digits. Dutch banks accept it in the
"betalingskenmerk" field and refuse a mistyped one, so a transfer that carries it names its
invoice for certain. The bank statement import reads the references in an entry's text
(`invoice_numbers_in`) besides the plain invoice numbers."""

from __future__ import annotations

import re

from stdnum import iso11649
from stdnum.iso7064 import mod_97_10

INVOICE_NUMBER_RE = re.compile(r"\b(\d{4}-\d{6})\b")
# "RF" + 2 check digits + the invoice number's digits, typed with or without spaces (ours hold
# digits only, so a word after the reference is not taken for part of it).
_RF_RE = re.compile(r"\bRF\d{2}(?: ?\d){1,21}\b", re.IGNORECASE)


def rf_reference(number: str) -> str:
    """The RF reference of an invoice number, printed in groups of four."""
    digits = number.replace("-", "")
    return iso11649.format("RF" + mod_97_10.calc_check_digits(digits + "RF") + digits)


def invoice_numbers_in(text: str) -> list[str]:
    """Invoice numbers named in a bank entry's text: plain (`2027-000001`) or as a valid RF
    reference (`RF89 2027 0000 01`); an RF reference with wrong check digits names nothing."""
    numbers = INVOICE_NUMBER_RE.findall(text)
    for match in _RF_RE.finditer(text):
        reference = iso11649.compact(match.group())
        digits = reference[4:]
        if iso11649.is_valid(reference) and len(digits) == 10 and digits.isdigit():
            numbers.append(f"{digits[:4]}-{digits[4:]}")
    return numbers
