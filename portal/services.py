"""Use cases of the member portal (SPEC L2): a member's login, made and linked to their card;
one-time login links, asked for by the member or sent by an administrator as an invitation;
what the member sees of their own card; the digital membership card and its signed verification.

Logins are made only through tenants.services and linked through relations.services; a member's
login holds no role. Corrections of the card go through relations.services like every other edit
(relation_update), or become a change request when the federation wants the department to approve
those fields (relations.services.change_request_create).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from billing.models import BillingEnvironment, Invoice, Mandate
from memberships.models import Function
from relations.models import CommunicationEntry, Relation, RelationKind
from relations.services import communication_entry_add, relation_login_link
from tenants.models import Tenant, User
from tenants.periods import has_ended
from tenants.services import user_create, username_free, username_suggestion

from .models import LoginLink

LINK_SALT = "portal.login-link"
CARD_SALT = "portal.membership-card"
# What the communication log keeps of a login mail instead of the link: the log is read by others.
LINK_PLACEHOLDER = "[persoonlijke link, niet bewaard]"


class LinkRefused(Exception):
    """A login link that does not log anyone in; `message` says why, in the user's language."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- who is a member -------------------------------------------------------------------------------


def member_relation_for_email(email: str) -> Relation | None:
    """The one person's card that carries `email` and has (or had) a membership; None when no card
    or more than one does (a shared family address: the department sorts that out)."""
    email = (email or "").strip()
    if not email:
        return None
    members = (
        Function.objects.memberships()
        .filter(
            # The card's search text holds its e-mail address in lower case and has a trigram
            # index: the lookup does not read every card (this page is open to anyone).
            relation__search_text__contains=email.lower(),
            relation__email__iexact=email,
            relation__kind=RelationKind.PERSON,
            relation__anonymised_at__isnull=True,
        )
        .values_list("relation_id", flat=True)
        .distinct()[:2]
    )
    ids = list(members)
    return Relation.objects.select_related("tenant").get(pk=ids[0]) if len(ids) == 1 else None


def member_relation_of(user: User) -> Relation | None:
    """The card a login belongs to, if any (not an erased one)."""
    if not user.is_authenticated:
        return None
    return (
        Relation.objects.select_related("tenant")
        .filter(user=user, anonymised_at__isnull=True)
        .first()
    )


@transaction.atomic
def member_login_ensure(*, actor: User | None, relation: Relation) -> User:
    """The member's login: the one linked to the card, else one made now (through
    tenants.services, without a role or a password) from the card's e-mail address."""
    relation = (
        Relation.objects.select_for_update(of=("self",))
        .select_related("user", "tenant")
        .get(pk=relation.pk)
    )
    if relation.user_id is not None:
        return relation.user
    if not relation.email:
        raise ValidationError(
            _("%(name)s has no e-mail address on the card: fill it in first.")
            % {"name": relation.display_name}
        )
    user = User.objects.with_email(relation.email).first()
    if user is None:
        base = username_suggestion(
            first_name=relation.first_name or relation.initials, last_name=relation.last_name
        )
        user = user_create(
            actor=actor,
            tenant=relation.tenant,
            username=username_free(base=base or f"R{relation.number}"),
            email=relation.email,
            first_name=relation.first_name,
            last_name=" ".join(p for p in [relation.infix, relation.last_name] if p),
            send_link=False,
        )
    relation_login_link(relation=relation, user=user)
    return user


# --- one-time login links --------------------------------------------------------------------------


def _hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def _link_lifetime(purpose: str) -> datetime.timedelta:
    if purpose == LoginLink.Purpose.INVITATION:
        return datetime.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
    return datetime.timedelta(minutes=settings.PORTAL_LOGIN_LINK_MINUTES)


def login_link_create(*, user: User, purpose: str, actor: User | None = None) -> str:
    """A new one-time link for `user`; returns its full URL (never stored)."""
    nonce = secrets.token_urlsafe(24)
    link = LoginLink.objects.create(
        user=user,
        purpose=purpose,
        nonce_hash=_hash(nonce),
        expires_at=timezone.now() + _link_lifetime(purpose),
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    token = signing.dumps({"l": link.pk, "n": nonce}, salt=LINK_SALT)
    return f"{settings.SITE_URL}{reverse('portal_login_link', args=[token])}"


def login_link_check(token: str) -> LoginLink:
    """The link `token` names, if it can still log in; LinkRefused says why not."""
    invalid = _("This login link is not valid. Ask for a new one below.")
    try:
        data = signing.loads(token, salt=LINK_SALT, max_age=settings.PASSWORD_RESET_TIMEOUT)
    except signing.SignatureExpired:
        raise LinkRefused(_("This login link has expired. Ask for a new one below.")) from None
    except signing.BadSignature:
        raise LinkRefused(invalid) from None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("l"), int)
        or not isinstance(data.get("n"), str)
    ):
        raise LinkRefused(invalid)
    link = LoginLink.objects.select_related("user").filter(pk=data["l"]).first()
    if link is None or not hmac.compare_digest(link.nonce_hash, _hash(data["n"])):
        raise LinkRefused(invalid)
    if link.used_at is not None:
        raise LinkRefused(
            _(
                "This login link has been used already; each link works once. Ask for a new one below."
            )
        )
    if link.expires_at <= timezone.now():
        raise LinkRefused(_("This login link has expired. Ask for a new one below."))
    if not link.user.is_active:
        raise LinkRefused(
            _("This login has been blocked. Ask your department's member administration.")
        )
    return link


def login_link_use(link: LoginLink) -> User:
    """Mark the link used; only the request that does so may log in with it."""
    used = LoginLink.objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=timezone.now())
    if used != 1:
        raise LinkRefused(
            _(
                "This login link has been used already; each link works once. Ask for a new one below."
            )
        )
    return link.user


def _login_mail(
    *, relation: Relation, url: str, invitation: bool, department: Tenant
) -> tuple[str, str]:
    context = {
        "relation": relation,
        "url": url,
        "invitation": invitation,
        "department": department,
        "valid_minutes": settings.PORTAL_LOGIN_LINK_MINUTES,
        "valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
        "site_url": settings.SITE_URL,
    }
    with translation.override(relation.language or settings.LANGUAGE_CODE):
        subject = render_to_string("portal/email/login_link_subject.txt", context).strip()
        body = render_to_string("portal/email/login_link.txt", context)
    return subject, body


def login_link_send(*, relation: Relation, actor: User | None, invitation: bool) -> User:
    """Mail the member a one-time login link (asked for, or an administrator's invitation), and
    write the mail on the card's communication log without the link."""
    # tasks.py imports this module; imported at the top the two would import each other.
    from .tasks import send_portal_mail

    with transaction.atomic():
        user = member_login_ensure(actor=actor, relation=relation)
        purpose = LoginLink.Purpose.INVITATION if invitation else LoginLink.Purpose.REQUESTED
        url = login_link_create(user=user, purpose=purpose, actor=actor)
        subject, body = _login_mail(
            relation=relation, url=url, invitation=invitation, department=relation.tenant
        )
        _subject, logged = _login_mail(
            relation=relation,
            url=LINK_PLACEHOLDER,
            invitation=invitation,
            department=relation.tenant,
        )
        communication_entry_add(
            actor=actor if actor is not None and actor.is_authenticated else None,
            relation=relation,
            tenant=relation.tenant,
            subject=subject[:200],
            body=_("To: %(email)s") % {"email": relation.email} + "\n\n" + logged,
            channel=CommunicationEntry.Channel.EMAIL,
        )
        to = relation.email
        transaction.on_commit(lambda: send_portal_mail.delay(to, subject, body))
    return user


@dataclass
class InvitationResult:
    invited: list[Relation]
    without_email: list[Relation]
    refused: list[tuple[Relation, str]]


def invitations_send(*, actor: User, relations: list[Relation]) -> InvitationResult:
    """Invite members to the portal, one mail each; a card without an e-mail address (or whose
    address another person's login uses) is reported back, nothing is sent for it."""
    result = InvitationResult([], [], [])
    for relation in relations:
        if not relation.email:
            result.without_email.append(relation)
            continue
        try:
            login_link_send(relation=relation, actor=actor, invitation=True)
        except ValidationError as error:
            result.refused.append((relation, " ".join(error.messages)))
        else:
            result.invited.append(relation)
    return result


# --- what the member sees --------------------------------------------------------------------------


@dataclass
class MemberFunctions:
    current: list[Function]
    future: list[Function]
    past: list[Function]


def member_functions(relation: Relation, day: datetime.date | None = None) -> MemberFunctions:
    """The member's functions (memberships first), split into current, future and past."""
    day = day or timezone.localdate()
    rows = list(
        Function.objects.filter(relation=relation)
        .select_related("function_type", "tenant", "cancellation_reason")
        .order_by("-function_type__counts_as_membership", "-start_date", "pk")
    )
    # One definition of "current" (tenants/periods.py): a function ending today is past today.
    return MemberFunctions(
        current=[f for f in rows if f.is_active_on(day)],
        future=[f for f in rows if f.start_date > day],
        past=[f for f in rows if has_ended(f.end_date, day)],
    )


def member_invoices(relation: Relation) -> list[Invoice]:
    return list(
        Invoice.objects.filter(relation=relation)
        .select_related("tenant")
        .order_by("-date", "-number")[:50]
    )


def member_mandates(relation: Relation) -> list[Mandate]:
    return list(
        Mandate.objects.filter(relation=relation, ended_on__isnull=True).select_related("tenant")
    )


# --- the digital membership card ---------------------------------------------------------------------


@dataclass
class MembershipCard:
    relation: Relation
    membership: Function
    season: tuple[datetime.date, datetime.date]
    verify_url: str


def _season(tenant: Tenant, day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The season holding `day` of the nearest environment above (or at) `tenant` that bills;
    the calendar year when none does."""
    environments = {
        env.tenant.path: env
        for env in BillingEnvironment.objects.filter(
            tenant__path__in=tenant.ancestor_paths()
        ).select_related("tenant")
    }
    for path in reversed(tenant.ancestor_paths()):
        if path in environments:
            return environments[path].season_of(day)
    return datetime.date(day.year, 1, 1), datetime.date(day.year, 12, 31)


def card_token(membership: Function) -> str:
    """The signed part of the verification URL: which card and which department; it cannot be
    guessed or altered, and it says nothing readable about the person."""
    return signing.Signer(salt=CARD_SALT).sign_object(
        {"r": membership.relation_id, "t": membership.tenant_id}
    )


def membership_cards(relation: Relation, day: datetime.date | None = None) -> list[MembershipCard]:
    """A card for each membership the member holds today."""
    day = day or timezone.localdate()
    memberships = (
        Function.objects.memberships()
        .active_on(day)
        .filter(relation=relation)
        .select_related("function_type", "tenant")
        .order_by("tenant__name")
    )
    return [
        MembershipCard(
            relation=relation,
            membership=membership,
            season=_season(membership.tenant, day),
            verify_url=f"{settings.SITE_URL}{reverse('portal_card_verify', args=[card_token(membership)])}",
        )
        for membership in memberships
    ]


@dataclass
class Verification:
    department: Tenant
    day: datetime.date
    valid: bool


def card_verify(token: str, day: datetime.date | None = None) -> Verification | None:
    """What the QR code's URL may show: whether the card's holder is a member of its department
    today. None for a forged or altered URL."""
    try:
        data = signing.Signer(salt=CARD_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError):
        return None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("r"), int)
        or not isinstance(data.get("t"), int)
    ):
        return None
    department = Tenant.objects.filter(pk=data["t"]).first()
    if department is None:
        return None
    day = day or timezone.localdate()
    valid = (
        Function.objects.memberships()
        .active_on(day)
        .filter(relation_id=data["r"], tenant=department, relation__anonymised_at__isnull=True)
        .exists()
    )
    return Verification(department=department, day=day, valid=valid)
