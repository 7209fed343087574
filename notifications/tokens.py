"""The token registry: every `[token]` a mail template may hold, what it means and where its value
comes from. The dictionary page ("Woordenboek") lists this registry; saving a template refuses a
token that is not in it. Values are plain text; whoever puts them into HTML escapes them (the
document template is auto-escaped)."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from relations.models import Relation
from tenants.models import Tenant

TOKEN_RE = re.compile(r"\[([A-Za-z0-9_]+)\]")


@dataclass
class TokenContext:
    """What a document is about: the relation (possibly unsaved, built from a registration), the
    sending environment, the membership and department it concerns, and a registration's
    submitted rows."""

    tenant: Tenant
    relation: Relation | None = None
    department: Tenant | None = None
    membership_name: str = ""
    start_date: datetime.date | None = None
    registration_rows: list[tuple[str, str]] = field(default_factory=list)
    registration_date: datetime.date | None = None
    today: datetime.date = field(default_factory=datetime.date.today)
    # Values the sending app supplies for the tokens it registered (`token_register`), e.g. an
    # invoice's number and amount for billing's mails.
    values: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Token:
    key: str
    group: str
    description: str
    resolve: Callable[[TokenContext], str]
    example: str = ""


def _date(value: datetime.date | None) -> str:
    return date_format(value, "j F Y") if value else ""


def _relation(attribute: str) -> Callable[[TokenContext], str]:
    def resolve(context: TokenContext) -> str:
        value = getattr(context.relation, attribute, "") if context.relation is not None else ""
        return "" if value is None else str(value)

    return resolve


def _tenant(attribute: str) -> Callable[[TokenContext], str]:
    return lambda context: str(getattr(context.tenant, attribute, "") or "")


def _province(context: TokenContext) -> str:
    department = context.department
    if department is None:
        return ""
    parent = Tenant.objects.filter(path=department.parent_path).only("name").first()
    return parent.name if parent is not None else ""


def _tenant_address(context: TokenContext) -> str:
    t = context.tenant
    street = " ".join(p for p in [t.postal_street, t.postal_house_number] if p)
    town = " ".join(p for p in [t.postal_postcode, t.postal_city] if p)
    return ", ".join(p for p in [street, town] if p)


def _relation_extra(code: str) -> Callable[[TokenContext], str]:
    def resolve(context: TokenContext) -> str:
        if context.relation is None:
            return ""
        return str((context.relation.extra or {}).get(code, ""))

    return resolve


RELATION = _("Relation")
MEMBERSHIP = _("Membership")
ENVIRONMENT = _("Sending environment")
REGISTRATION = _("Registration")
GENERAL = _("General")

TOKENS: dict[str, Token] = {
    token.key: token
    for token in [
        Token("firstname", RELATION, _("First name"), _relation("first_name"), "Jan"),
        Token("initials", RELATION, _("Initials"), _relation("initials"), "J.P."),
        Token("infix", RELATION, _("Infix (“van”, “de”)"), _relation("infix"), "de"),
        Token("lastname", RELATION, _("Surname"), _relation("last_name"), "Vries"),
        Token("fullname", RELATION, _("Full name"), _relation("display_name"), "Jan de Vries"),
        Token("relationnumber", RELATION, _("Relation number"), _relation("number"), "100123"),
        Token("email", RELATION, _("E-mail address"), _relation("email"), "jan@example.org"),
        Token("phone", RELATION, _("Phone"), _relation("phone"), ""),
        Token("mobile", RELATION, _("Mobile phone"), _relation("mobile"), ""),
        Token("birthdate", RELATION, _("Birth date"),
              lambda c: _date(c.relation.birth_date if c.relation else None), "3 mei 2004"),
        Token("address", RELATION, _("Street and house number"), _relation("address_line"), "Dorpsstraat 1"),
        Token("postcode", RELATION, _("Postcode"), _relation("postcode"), "7001 AB"),
        Token("city", RELATION, _("City"), _relation("city"), "Doetinchem"),
        Token("iban", RELATION, _("Bank account (IBAN) of the relation: the custom field with code “iban”"),
              _relation_extra("iban"), "NL91 ABNA 0417 1643 00"),
        Token("department", MEMBERSHIP, _("Department of the membership"),
              lambda c: c.department.name if c.department else "", "Afdeling Achterhoek"),
        Token("province", MEMBERSHIP, _("Province of that department"), _province, "Gelderland"),
        Token("membership", MEMBERSHIP, _("Name of the membership"), lambda c: c.membership_name, "Lid"),
        Token("startdate", MEMBERSHIP, _("Start date of the membership"), lambda c: _date(c.start_date), "1 januari 2026"),
        Token("organisation", ENVIRONMENT, _("Name of the sending environment"), _tenant("name"), ""),
        Token("organisation_email", ENVIRONMENT, _("Its e-mail address"), _tenant("email"), ""),
        Token("organisation_phone", ENVIRONMENT, _("Its phone number"), _tenant("phone"), ""),
        Token("organisation_website", ENVIRONMENT, _("Its website"), _tenant("website"), ""),
        Token("organisation_address", ENVIRONMENT, _("Its postal address"), _tenant_address, ""),
        Token("organisation_iban", ENVIRONMENT, _("Its bank account (IBAN)"), _tenant("iban"), ""),
        Token("registrationdate", REGISTRATION, _("Date of the registration"),
              lambda c: _date(c.registration_date), ""),
        Token("registration_summary", REGISTRATION, _("Every row of the registration form with its answer"),
              lambda c: "\n".join(f"{label}: {value}" for label, value in c.registration_rows), ""),
        Token("today", GENERAL, _("Today's date"), lambda c: _date(c.today), ""),
    ]
}


def supplied(key: str) -> Callable[[TokenContext], str]:
    """A token whose value the sending app puts into `TokenContext.values`."""
    return lambda context: context.values.get(key, "")


def token_register(token: Token) -> None:
    """Add a token of an app above notifications (billing's invoice tokens), from its
    AppConfig.ready(); its value comes from `TokenContext.values` (see `supplied`)."""
    if TOKENS.get(token.key, token) is not token:
        raise ValueError(f"token [{token.key}] is registered twice")
    TOKENS[token.key] = token


def tokens_used(text: str) -> set[str]:
    return set(TOKEN_RE.findall(text or ""))


def tokens_unknown(text: str) -> list[str]:
    """The `[tokens]` in `text` that the registry does not know, in order of appearance."""
    seen: list[str] = []
    for key in TOKEN_RE.findall(text or ""):
        if key not in TOKENS and key not in seen:
            seen.append(key)
    return seen


def tokens_render(text: str, context: TokenContext) -> str:
    """`text` with every known token replaced by its plain-text value. Unknown tokens (only
    possible in a template saved before a token was retired) stay as they are."""

    def replace(match: re.Match) -> str:
        token = TOKENS.get(match.group(1))
        return token.resolve(context) if token is not None else match.group(0)

    return TOKEN_RE.sub(replace, text or "")


def token_search(query: str) -> list[Token]:
    query = (query or "").strip().lower()
    tokens = list(TOKENS.values())
    if not query:
        return tokens
    return [t for t in tokens if query in t.key or query in str(t.description).lower() or query in str(t.group).lower()]
