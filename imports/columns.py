"""The fields a column of an import can fill, their names in the template, and the mapping
suggested from a file's headers (Dutch and English names, the template's own, and what the
environment chose last time)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.utils.text import capfirst
from django.utils.translation import gettext as _

from relations.card import RowColumn, row_parts
from relations.models import CustomField, Relation

# Card fields in the template's order; `number` only matches, it is never written.
CARD_FIELDS = (
    "number", "initials", "first_name", "infix", "last_name", "gender", "birth_date", "email",
    "phone", "mobile", "street", "house_number", "house_number_suffix", "postcode", "city", "country",
)
FUNCTION_FIELDS = ("function_type", "department", "start_date")
DATE_FIELDS = {"birth_date", "start_date"}
CUSTOM_PREFIX = "extra:"

# Header names (normalised: lower case, letters and digits only) people use for each field.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "number": ("relatienummer", "relatienr", "lidnummer", "lidnr", "relationnumber", "membernumber", "number"),
    "initials": ("voorletters", "initialen", "initials"),
    "first_name": ("voornaam", "roepnaam", "voornamen", "firstname", "givenname", "forename"),
    "infix": ("tussenvoegsel", "tussenvoegsels", "tussenv", "tv", "infix", "prefix"),
    "last_name": ("achternaam", "familienaam", "naam", "lastname", "surname", "familyname", "name"),
    "gender": ("geslacht", "gender", "sex"),
    "birth_date": ("geboortedatum", "gebdatum", "geboren", "geborenop", "birthdate", "dateofbirth", "dob", "birthday"),
    "email": ("email", "emailadres", "emailaddress", "mail", "mailadres"),
    "phone": ("telefoon", "telefoonnummer", "tel", "telnr", "vastetelefoon", "phone", "telephone", "phonenumber"),
    "mobile": ("mobiel", "mobielnummer", "mobieletelefoon", "gsm", "mobile", "mobilephone", "cellphone", "cell"),
    "street": ("straat", "straatnaam", "street", "streetname"),
    "house_number": ("huisnummer", "huisnr", "nr", "housenumber"),
    "house_number_suffix": ("toevoeging", "huisnummertoevoeging", "huisnrtoevoeging", "suffix", "busnummer", "addition"),
    "postcode": ("postcode", "postalcode", "zipcode", "zip", "pc"),
    "city": ("woonplaats", "plaats", "stad", "city", "town", "residence"),
    "country": ("land", "country"),
    "function_type": ("lidmaatschap", "soortlidmaatschap", "lidsoort", "soortlid", "membership", "membershiptype"),
    "department": ("afdeling", "department", "vereniging", "club"),
    "start_date": ("startdatum", "ingangsdatum", "begindatum", "lidsinds", "startdate", "membersince"),
}


def normalise_header(header: str) -> str:
    text = unicodedata.normalize("NFKD", str(header)).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]", "", text)


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    example: object = ""


def part_columns(user=None, tenant=None) -> dict[str, RowColumn]:
    """The columns of the parts other apps keep on a card (relations.card.row_part_register)
    that `user` is offered in `tenant`, by key; none without a user and environment."""
    if user is None or tenant is None:
        return {}
    return {column.key: column for part in row_parts() if part.offered(user, tenant) for column in part.columns}


def targets(custom_fields: list[CustomField], user=None, tenant=None) -> list[Target]:
    """Every field a column can fill, labelled in the user's language (the template's headers);
    with `user` and `tenant` also the columns of other apps' parts offered there."""
    found = []
    for name in CARD_FIELDS:
        found.append(Target(name, capfirst(str(Relation._meta.get_field(name).verbose_name))))
    found += [
        Target("function_type", _("Membership")),
        Target("department", _("Department")),
        Target("start_date", _("Start date")),
    ]
    found += [Target(f"{CUSTOM_PREFIX}{f.code}", f.label) for f in custom_fields]
    found += [Target(c.key, str(c.label), c.example) for c in part_columns(user, tenant).values()]
    return found


def suggest_mapping(headers: list[str], custom_fields: list[CustomField], remembered: dict[str, str],
                    user=None, tenant=None) -> dict[str, str]:
    """{column index: target key}: what the environment chose before for the same header, else
    the template's label, the field's code, or a known synonym. A target is used once."""
    known: dict[str, str] = {}
    parts = part_columns(user, tenant)
    for key, names in [*SYNONYMS.items(), *((c.key, c.synonyms) for c in parts.values())]:
        for name in names:
            known.setdefault(name, key)
    found = targets(custom_fields, user, tenant)
    for target in found:
        known[normalise_header(target.label)] = target.key
        known.setdefault(normalise_header(target.key.removeprefix(CUSTOM_PREFIX)), target.key)
    valid = {t.key for t in found}
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for index, header in enumerate(headers):
        norm = normalise_header(header)
        key = remembered.get(norm) if remembered.get(norm) in valid else known.get(norm)
        if key and key not in used:
            mapping[str(index)] = key
            used.add(key)
    return mapping
