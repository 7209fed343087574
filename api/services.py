"""Use cases of API tokens: make one (the secret shown once), revoke it, recognise it on a
request, count its requests against the rate limit, and write down every use."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tenants.access import grants_fix
from tenants.models import Tenant, User
from tenants.proxies import rate_count
from tenants.services import service_login_create, user_block

from .models import ApiToken, ApiTokenUse, TokenScope, TokenUseOutcome

# What a token may do in its environment and below: reading is what the API's GET endpoints ask;
# writing adds the powers its POST and PATCH endpoints ask, each checked by the same services and
# permission questions as the screens.
READ_PERMISSIONS = frozenset(
    {"tenants.view_tenant", "relations.view_relation", "memberships.view_function"}
)
WRITE_PERMISSIONS = READ_PERMISSIONS | {
    "relations.add_relation",
    "relations.change_relation",
    "memberships.add_function",
    "memberships.change_function",
    "intake.add_registration",
}
SCOPE_PERMISSIONS = {TokenScope.READ: READ_PERMISSIONS, TokenScope.WRITE: WRITE_PERMISSIONS}

SECRET_START = "lb_"  # noqa: S105 (the marker every secret starts with, not a secret)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str


@transaction.atomic
def token_create(*, actor: User, tenant: Tenant, name: str, scope: str, expires_on: datetime.date) -> NewToken:
    """Make a token for `tenant` with its own service login. The secret is returned here and
    nowhere else: only its hash is stored."""
    errors: dict[str, list[str]] = {}
    today = timezone.localdate()
    if not actor.has_perm("api.add_apitoken", tenant):
        errors["tenant"] = [_("You may not make API tokens for this environment.")]
    if not name.strip():
        errors["name"] = [_("Give the token a name.")]
    if scope not in TokenScope.values:
        errors["scope"] = [_("Choose read, or read and write.")]
    if expires_on < today:
        errors["expires_on"] = [_("The last valid day is today or later.")]
    elif expires_on > today + datetime.timedelta(days=settings.API_TOKEN_MAX_DAYS):
        errors["expires_on"] = [
            _("A token is valid for at most %(days)s days; make a new one when it expires.")
            % {"days": settings.API_TOKEN_MAX_DAYS}
        ]
    if errors:
        raise ValidationError(errors)
    secret = SECRET_START + secrets.token_urlsafe(32)
    prefix = secret[: len(SECRET_START) + 8]
    user = service_login_create(actor=actor, tenant=tenant, username=f"api.{prefix[len(SECRET_START):]}", name=name.strip())
    token = ApiToken(
        tenant=tenant, name=name.strip(), scope=scope, prefix=prefix, key_hash=_hash(secret),
        expires_on=expires_on, user=user, created_by=actor,
    )
    token.full_clean(exclude=["user", "created_by"])
    token.save()
    return NewToken(token=token, secret=secret)


@transaction.atomic
def token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    """Stop a token at once. Its login is blocked too (audited), so nothing can act as it."""
    token = ApiToken.objects.select_for_update().select_related("user").get(pk=token.pk)
    if token.revoked_at is not None:
        raise ValidationError(_("This token has already been revoked."))
    token.revoked_at = timezone.now()
    token.revoked_by = actor
    token.save(update_fields=["revoked_at", "revoked_by"])
    user_block(actor=actor, user=token.user)
    return token


# --- a request with a token ------------------------------------------------------------------------


class TokenRefused(Exception):
    """A known token that may not be used now: revoked, expired or over its rate limit."""

    def __init__(self, token: ApiToken, outcome: str, retry_after: int | None = None):
        super().__init__(outcome)
        self.token, self.outcome, self.retry_after = token, outcome, retry_after


def token_find(secret: str) -> ApiToken | None:
    """The token whose secret this is (any state), with its environment and login."""
    if not secret.startswith(SECRET_START) or len(secret) > 200:
        return None
    digest = _hash(secret)
    token = ApiToken.objects.select_related("tenant", "user").filter(key_hash=digest).first()
    # The lookup is by hash already; comparing again in constant time costs nothing.
    if token is None or not hmac.compare_digest(token.key_hash, digest):
        return None
    return token


def token_authenticate(secret: str) -> ApiToken | None:
    """The token of a request, ready to act: its login holds exactly its scope's powers in its
    environment. None for an unknown secret; `TokenRefused` for a revoked or expired token or one
    over its rate limit."""
    token = token_find(secret)
    if token is None:
        return None
    if token.revoked_at is not None:
        raise TokenRefused(token, TokenUseOutcome.REVOKED)
    if token.is_expired():
        raise TokenRefused(token, TokenUseOutcome.EXPIRED)
    retry_after = rate_limit_hit(token)
    if retry_after is not None:
        raise TokenRefused(token, TokenUseOutcome.RATE_LIMITED, retry_after)
    grants_fix(token.user, tenant=token.tenant, permissions=SCOPE_PERMISSIONS[token.scope])
    return token


def rate_limit_hit(token: ApiToken) -> int | None:
    """Count this request in the shared cache (a fixed window per token); the seconds until the
    window ends when the token is over its limit, else None."""
    window = settings.API_RATE_WINDOW
    now = int(timezone.now().timestamp())
    start = now - now % window
    # One counter per token and window: the windows are aligned, so Retry-After is exact.
    if rate_count("api", f"{token.pk}:{start}", window=window + 5) > settings.API_RATE_LIMIT:
        return max(1, start + window - now)
    return None


def token_use_record(
    *, token: ApiToken, method: str, path: str, status: int, outcome: str = TokenUseOutcome.OK,
    client_address: str | None = None,
) -> ApiTokenUse:
    """Write down one request made with `token` (every use is audited, SPEC L3)."""
    return ApiTokenUse.objects.create(
        token=token, method=method[:10], path=path[:300], status=status, outcome=outcome,
        client_address=client_address or None,
    )


def token_uses_prune(day: datetime.date) -> dict:
    """The nightly job `api_token_uses`: forget the audit rows of token uses older than
    `API_TOKEN_USE_DAYS` days before `day` (the audit trail is kept that long, not for ever).
    Deletes in batches, so a first run on a large table holds no long lock."""
    cutoff = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min)) - datetime.timedelta(
        days=settings.API_TOKEN_USE_DAYS
    )
    deleted = 0
    while True:
        batch = list(ApiTokenUse.objects.filter(at__lt=cutoff).values_list("pk", flat=True)[:10_000])
        if not batch:
            break
        deleted += ApiTokenUse.objects.filter(pk__in=batch).delete()[0]
    return {"deleted": deleted, "before": cutoff.date().isoformat()}


def token_may(token: ApiToken, perm: str, obj) -> bool:
    """Whether the token's login holds `perm` on `obj` (a write needs the write scope)."""
    return token.user.has_perm(perm, obj)
