"""Two-factor login (SPEC T9): a TOTP app with ten one-time recovery codes, required for the roles
national chooses, optional for everyone else; the admin site behind the same login and factor."""

from __future__ import annotations

import datetime
import secrets
from base64 import b32encode
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice

from .events import audit_record
from .models import (
    AuditEvent,
    RecoveryCode,
    RecoveryCodeDevice,
    Role,
    RoleAssignment,
    TwoFactorPolicy,
    User,
)
from .sessions import user_sessions_end

# Until national saves its own choice: the system administrators of the federation and the
# provinces must use a second factor.
DEFAULT_REQUIRED_ROLES = ("national_system_administrator", "province_system_administrator")
RECOVERY_CODE_COUNT = 10
# Ten characters of an alphabet without look-alikes (no 0/O, 1/I/L): about 48 bits each.
RECOVERY_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
RECOVERY_CODE_LENGTH = 10


# --- the national policy ---------------------------------------------------------------------------


def required_roles() -> QuerySet[Role]:
    policy = TwoFactorPolicy.objects.first()
    if policy is None:
        return Role.objects.filter(code__in=DEFAULT_REQUIRED_ROLES)
    return policy.required_roles.all()


def two_factor_required(user: User) -> bool:
    """True when the user holds, today, a role that national says needs a second factor."""
    today = datetime.date.today()
    return RoleAssignment.objects.not_ended(today).filter(
        user=user, start_date__lte=today, role__in=required_roles()
    ).exists()


def two_factor_policy_set(*, actor: User | None, roles: list[Role]) -> TwoFactorPolicy:
    with transaction.atomic():
        policy = TwoFactorPolicy.objects.select_for_update().first() or TwoFactorPolicy()
        policy.changed_at = timezone.now()
        policy.changed_by = actor
        policy.save()
        policy.required_roles.set(roles)
        audit_record(
            actor=actor, action=AuditEvent.Action.TWO_FACTOR_POLICY_CHANGED,
            detail=", ".join(sorted(role.label for role in roles)) or "-",
        )
    return policy


# --- a user's devices -----------------------------------------------------------------------------


def totp_device(user: User) -> TOTPDevice | None:
    """The user's confirmed authenticator app, if any."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def has_second_factor(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user: User) -> int:
    return RecoveryCode.objects.filter(device__user=user, used_at__isnull=True).count()


def totp_enrolment_device(user: User) -> TOTPDevice:
    """The unconfirmed device of an enrolment under way (a new one when there is none), so that
    reloading the page keeps the QR code the user may already have scanned."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=_("Authenticator app"), confirmed=False)
    return device


def totp_secret(device: TOTPDevice) -> str:
    """The key as the app wants it typed: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def totp_qr_svg(device: TOTPDevice, *, account: str) -> str:
    """The otpauth:// address as an inline SVG QR code: drawn here, no request to anyone else."""
    issuer = settings.OTP_TOTP_ISSUER
    query = urlencode({"secret": totp_secret(device).replace(" ", ""), "issuer": issuer, "digits": device.digits})
    uri = f"otpauth://totp/{issuer}:{account}?{query}"
    return segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff", omitsize=False)


def totp_enrolment_confirm(*, user: User, device: TOTPDevice, token: str) -> list[str]:
    """Confirm the app with a code it shows; the app replaces any earlier one. Returns new recovery
    codes (shown once, stored hashed)."""
    if device.user_id != user.pk or device.confirmed:
        raise ValidationError(_("This enrolment is no longer valid. Start again."))
    if not device.verify_token(_digits(token)):
        raise ValidationError(_("This code is not right. Check the time on your phone and try the newest code."))
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        return recovery_codes_generate(user=user)


def recovery_codes_generate(*, user: User) -> list[str]:
    """Ten new one-time codes; the earlier ones stop working."""
    codes = [
        "".join(secrets.choice(RECOVERY_CODE_ALPHABET) for _i in range(RECOVERY_CODE_LENGTH))
        for _n in range(RECOVERY_CODE_COUNT)
    ]
    with transaction.atomic():
        RecoveryCodeDevice.objects.filter(user=user).delete()
        device = RecoveryCodeDevice.objects.create(user=user, name=_("Recovery codes"), confirmed=True)
        RecoveryCode.objects.bulk_create(
            RecoveryCode(device=device, code_hash=make_password(code)) for code in codes
        )
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def second_factor_verify(*, user: User, token: str) -> Device | None:
    """The device that accepts this code: the app's six digits, or an unused recovery code (which
    is then used up). None when neither does."""
    token = (token or "").strip()
    if not token or len(token) > 20:
        return None
    digits = _digits(token)
    if digits.isdigit() and len(digits) == 6:
        device = totp_device(user)
        if device is not None and device.verify_token(digits):
            return device
        return None
    for device in RecoveryCodeDevice.objects.filter(user=user, confirmed=True):
        if device.verify_token(token):
            return device
    return None


def two_factor_disable(*, user: User) -> None:
    """Someone for whom it is optional turns their second factor off on their own account page."""
    if two_factor_required(user):
        raise ValidationError(_("Your role needs two-factor login; it cannot be turned off."))
    _devices_delete(user)


def two_factor_reset(*, actor: User, user: User, keep_session_key: str | None = None) -> None:
    """A national system administrator resets someone's second factor (a lost phone): the app and
    the recovery codes go, every session of that user ends, and the user enrols again at the next
    login when their role needs it."""
    with transaction.atomic():
        _devices_delete(user)
        audit_record(
            actor=actor, action=AuditEvent.Action.TWO_FACTOR_RESET, tenant=user.tenant, target_user=user
        )
    user_sessions_end(user=user, keep_session_key=keep_session_key if actor.pk == user.pk else None)


def _devices_delete(user: User) -> None:
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        RecoveryCodeDevice.objects.filter(user=user).delete()


def _digits(token: str) -> str:
    return "".join(str(token).split()).replace("-", "")


# --- the admin site ---------------------------------------------------------------------------------


class TwoFactorAdminSite(admin.AdminSite):
    """Django's admin, entered through our own login (with its lock-out and second factor) and only
    with a session verified by a second factor."""

    def has_permission(self, request) -> bool:
        return super().has_permission(request) and request.user.is_verified()

    def login(self, request, extra_context=None):
        if request.user.is_authenticated:
            # Logged in, but without a verified second factor in this session: set one up (or log
            # in again with it) first.
            return redirect("two_factor_settings")
        next_url = request.GET.get("next") or reverse("admin:index")
        return redirect(f"{reverse('login')}?{urlencode({'next': next_url})}")
