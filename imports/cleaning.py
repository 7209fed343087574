"""Turning what Dutch member lists hold into the values the card's form expects: dates in three
written forms or as Excel dates, postcodes in any case with or without the space, phone numbers
in every usual form (also when Excel dropped the leading zero), a tussenvoegsel inside the
surname, a suffix inside the house number. Whether a value is allowed stays the card's business
(relations.forms / relations.services); this only reads."""

from __future__ import annotations

import datetime
import re

import phonenumbers
from django.utils.translation import gettext as _

# Longest first, so "van der" wins over "van".
INFIXES = sorted(
    (
        "van", "de", "der", "den", "het", "te", "ter", "ten", "'t", "van de", "van der", "van den",
        "van het", "van 't", "in de", "in het", "in 't", "op de", "op den", "op het", "op 't", "uit de",
        "uit den", "aan de", "aan den", "bij de", "d'", "da", "di", "du", "la", "le", "von", "zu",
        "von der", "vande", "vander", "van t",
    ),
    key=len, reverse=True,
)

DATE_PATTERN = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
ISO_PATTERN = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
HOUSE_NUMBER_PATTERN = re.compile(r"^(\d+)\s*[-/ ]?\s*([A-Za-z0-9 -]{0,10})$")
FORMULA_START = ("=", "+", "@")
DUTCH_MOBILE = re.compile(r"(?:\+31|0)6(\d{8})")


class CellError(ValueError):
    """A cell that cannot be read; the message is for the user."""


def parse_date(value: object) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = str(value).strip()
    if text.endswith(" 00:00:00"):
        text = text[:-9]
    match = DATE_PATTERN.match(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
    else:
        match = ISO_PATTERN.match(text)
        if not match:
            raise CellError(_("%(value)s is not a date; write it as dd-mm-jjjj.") % {"value": text})
        year, month, day = (int(g) for g in match.groups())
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise CellError(_("%(value)s does not exist.") % {"value": text}) from None


def parse_phone(value: object) -> str:
    text = str(value or "").strip()
    if not text:
        return ""
    digits = re.sub(r"\D", "", text)
    if text.startswith("00"):
        text = "+" + text[2:]
    elif re.fullmatch(r"[1-9]\d{8}", re.sub(r"[\s.-]", "", text)):
        # Excel stored 0612345678 as the number 612345678.
        text = "0" + digits
    mobile = DUTCH_MOBILE.fullmatch(re.sub(r"[\s.-]", "", text))
    if mobile:
        # The common case, without the library's parse: what it makes of a Dutch mobile number.
        return "+316" + mobile.group(1)
    try:
        number = phonenumbers.parse(text, "NL")
    except phonenumbers.NumberParseException:
        raise CellError(_("%(value)s is not a phone number.") % {"value": value}) from None
    # "Possible" (the right length for the country) rather than "valid": the metadata of
    # allocated ranges lags behind, and a member's real new number must not be refused.
    if not phonenumbers.is_possible_number(number):
        raise CellError(_("%(value)s is not a phone number.") % {"value": value})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_postcode(value: object, country: str) -> str:
    """Upper case; a Dutch postcode of only four digits is named as incomplete (Excel or a
    hasty typist dropped the letters). The card's rule then checks the form."""
    text = re.sub(r"\s+", " ", str(value or "").strip().upper())
    if country == "NL" and re.fullmatch(r"\d{4}", text):
        raise CellError(_("%(value)s is incomplete: the two letters are missing.") % {"value": text})
    return text


def parse_country(value: object) -> str:
    text = str(value or "").strip()
    if not text:
        return "NL"
    names = {
        "nederland": "NL", "netherlands": "NL", "the netherlands": "NL", "holland": "NL",
        "belgie": "BE", "belgië": "BE", "belgium": "BE", "duitsland": "DE", "germany": "DE",
        "luxemburg": "LU", "luxembourg": "LU", "frankrijk": "FR", "france": "FR",
        "verenigd koninkrijk": "GB", "united kingdom": "GB",
    }
    return names.get(text.lower(), text.upper())


def parse_gender(value: object) -> str:
    text = str(value or "").strip().lower()
    if not text:
        return ""
    genders = {
        "m": "m", "man": "m", "male": "m", "jongen": "m", "heer": "m", "dhr": "m", "dhr.": "m",
        "v": "f", "vrouw": "f", "f": "f", "female": "f", "meisje": "f", "mevr": "f", "mevr.": "f",
        "x": "x", "anders": "x", "other": "x", "o": "x", "onbekend": "", "unknown": "", "u": "",
    }
    if text not in genders:
        raise CellError(_("%(value)s is not a gender; use M, V or X.") % {"value": value})
    return genders[text]


def parse_house_number(value: object) -> tuple[int | None, str]:
    text = str(value or "").strip()
    if not text:
        return None, ""
    match = HOUSE_NUMBER_PATTERN.match(text)
    if not match or int(match.group(1)) == 0:
        raise CellError(_("%(value)s is not a house number.") % {"value": text})
    return int(match.group(1)), match.group(2).strip()


def split_infix(last_name: str) -> tuple[str, str]:
    """("de", "Vries") from "de Vries", and from "Vries, de" (how sorted lists write it)."""
    name = " ".join(last_name.split())
    if "," in name:
        surname, _sep, rest = name.partition(",")
        rest = rest.strip()
        if rest.lower() in INFIXES:
            return rest.lower(), surname.strip()
    lowered = name.lower()
    for infix in INFIXES:
        if lowered.startswith(infix + " ") and len(name) > len(infix) + 1:
            return name[: len(infix)].lower(), name[len(infix) + 1 :].strip()
    return "", name


def refuse_formula(value: str) -> str:
    """A text starting like a formula is refused: it would run when the card is exported to
    Excel. (A phone number may start with +; it is read above, not here.)"""
    if value.startswith(FORMULA_START):
        raise CellError(_("%(value)s looks like a spreadsheet formula; type the value itself.") % {"value": value})
    return value
