"""Postal addresses: postcode rules per country and completing an address from postcode and
house number through a pluggable lookup (PDOK Locatieserver for the Netherlands)."""

from __future__ import annotations

import json
import logging
import re
import urllib.parse
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

POSTCODE_PATTERNS = {
    "NL": (re.compile(r"^[1-9][0-9]{3} ?[A-Z]{2}$"), _("A Dutch postcode looks like 1234 AB.")),
    "BE": (re.compile(r"^[1-9][0-9]{3}$"), _("A Belgian postcode has four digits, like 1000.")),
}


def clean_postcode(value: str, country: str) -> str:
    """Validate a postcode for its country and write it the usual way ("1234 AB")."""
    value = (value or "").strip().upper()
    if not value:
        return value
    country = (country or "").upper()
    pattern = POSTCODE_PATTERNS.get(country)
    if pattern is not None and not pattern[0].match(value):
        raise ValidationError(pattern[1], code="invalid_postcode")
    if country == "NL" and " " not in value:
        value = f"{value[:4]} {value[4:]}"
    return value


@dataclass(frozen=True)
class Address:
    street: str
    city: str


class LookupUnavailable(Exception):
    """The address could not be checked: the lookup service did not answer (or there is none)."""


class PdokLookup:
    """Dutch addresses from PDOK's public Locatieserver. A failure raises `LookupUnavailable`:
    the user keeps what they typed and is told the address was not checked."""

    url = "https://api.pdok.nl/bzk/locatieserver/search/v3_1/free"

    def __init__(self, timeout: float = 2.0):
        self.timeout = timeout

    def fetch(self, postcode: str, house_number: int) -> dict:
        query = urllib.parse.urlencode(
            {"q": f"postcode:{postcode.replace(' ', '')} and huisnummer:{house_number}",
             "fq": "type:adres", "rows": 1, "fl": "straatnaam woonplaatsnaam"}
        )
        with urllib.request.urlopen(f"{self.url}?{query}", timeout=self.timeout) as response:  # noqa: S310
            return json.load(response)

    def lookup(self, postcode: str, house_number: int) -> Address | None:
        try:
            answer = self.fetch(postcode, house_number)
        except (OSError, ValueError) as error:
            logger.info("Address lookup unavailable: %s", error)
            raise LookupUnavailable from error
        docs = answer.get("response", {}).get("docs", [])
        if not docs:
            return None
        return Address(street=docs[0].get("straatnaam", ""), city=docs[0].get("woonplaatsnaam", ""))


class NoLookup:
    """For installations without internet access: addresses are always typed by hand."""

    def lookup(self, postcode: str, house_number: int) -> Address | None:
        raise LookupUnavailable


def address_lookup(postcode: str, house_number: int) -> Address | None:
    """The address at `postcode` and `house_number`, None when there is none; raises
    `LookupUnavailable` when it could not be checked."""
    lookup_class = import_string(settings.ADDRESS_LOOKUP)
    return lookup_class().lookup(postcode, house_number)
