"""Logging in and out (password, then the second factor), passwords (forced change, reset by
e-mail, one-time links), lock-out, and the two-factor pages of one's own account."""

from __future__ import annotations

import time

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, user_login_failed
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from .. import services, two_factor
from ..access import can_manage_user, environment_required, get_user_or_404, require_perm
from ..forms import (
    LoginForm,
    PasswordResetForm,
    TwoFactorCodeForm,
    TwoFactorEnrolForm,
    TwoFactorPolicyForm,
)
from ..models import RecoveryCodeDevice
from ..proxies import client_address, rate_limit_hit
from ..sessions import SESSION_PENDING_LOGIN_KEY, login_session_record, user_sessions_end


class LoginView(auth_views.LoginView):
    """The first step: username (or e-mail address) and password. Someone with a second factor,
    or whose role needs one, is not logged in yet: the session remembers who passed this step, and
    the next page asks for the code (or sets the app up)."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if not (two_factor.has_second_factor(user) or two_factor.two_factor_required(user)):
            response = super().form_valid(form)
            login_session_record(request=self.request, user=user)
            return response
        # A fresh session key for the half-logged-in state, so a key planted before cannot follow.
        self.request.session.cycle_key()
        self.request.session[SESSION_PENDING_LOGIN_KEY] = {
            "user": user.pk, "backend": user.backend, "at": int(time.time()),
            "next": self.get_success_url(),
        }
        if two_factor.has_second_factor(user):
            return redirect("login_two_factor")
        return redirect("two_factor_enrol")


def _pending_user(request):
    """The user who passed the password step in this session, if that was recent enough."""
    pending = request.session.get(SESSION_PENDING_LOGIN_KEY)
    if not pending or time.time() - pending.get("at", 0) > settings.TWO_FACTOR_PENDING_SECONDS:
        request.session.pop(SESSION_PENDING_LOGIN_KEY, None)
        return None
    user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    if user is not None:
        user.backend = pending["backend"]
    return user


def _credentials(user) -> dict:
    return {"username": user.username}


def _code_refused(request, user):
    """A wrong code counts as a failed login for django-axes' lock-out. Returns the lock-out page
    when this failure locked the account, else None."""
    user_login_failed.send(sender=__name__, credentials=_credentials(user), request=request)
    if AxesProxyHandler.is_locked(request, credentials=_credentials(user)):
        request.session.pop(SESSION_PENDING_LOGIN_KEY, None)
        return locked_out(request)
    return None


def _login_complete(request, user, device):
    """Both factors passed: log in, mark the session verified, remember the session."""
    pending = request.session.pop(SESSION_PENDING_LOGIN_KEY, {})
    auth_login(request, user, backend=user.backend)
    otp_login(request, device)
    login_session_record(request=request, user=user)
    next_url = pending.get("next") or settings.LOGIN_REDIRECT_URL
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        next_url = settings.LOGIN_REDIRECT_URL
    return redirect(next_url)


@never_cache
@require_http_methods(["GET", "POST"])
def login_two_factor(request):
    """The second step: the app's code or a recovery code."""
    user = _pending_user(request)
    if user is None or not two_factor.has_second_factor(user):
        return redirect("login")
    if AxesProxyHandler.is_locked(request, credentials=_credentials(user)):
        request.session.pop(SESSION_PENDING_LOGIN_KEY, None)
        return locked_out(request)
    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = two_factor.second_factor_verify(user=user, token=form.cleaned_data["code"])
        if device is None:
            if (response := _code_refused(request, user)) is not None:
                return response
            form.add_error("code", _("This code is not right, or it was used before."))
        else:
            response = _login_complete(request, user, device)
            if isinstance(device, RecoveryCodeDevice):
                messages.warning(request, _(
                    "You logged in with a recovery code; it cannot be used again. %(count)d codes are left: "
                    "make new ones on your two-factor page if you are running out."
                ) % {"count": two_factor.recovery_codes_left(user)})
            return response
    return render(request, "accounts/login_two_factor.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_enrol(request):
    """Setting up the authenticator app: right after the password step for someone whose role
    needs it, or from one's own two-factor page. Shows the recovery codes once, when done."""
    if request.user.is_authenticated:
        user, logging_in = request.user, False
        if two_factor.has_second_factor(user) and not user.is_verified():
            # Replacing the app takes a session that passed the current one.
            raise PermissionDenied
    else:
        user, logging_in = _pending_user(request), True
        if user is None:
            return redirect("login")
        if AxesProxyHandler.is_locked(request, credentials=_credentials(user)):
            request.session.pop(SESSION_PENDING_LOGIN_KEY, None)
            return locked_out(request)
        if two_factor.has_second_factor(user):
            # Enrolled meanwhile (another tab): the code step, never a second enrolment.
            return redirect("login_two_factor")
    device = two_factor.totp_enrolment_device(user)
    form = TwoFactorEnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = two_factor.totp_enrolment_confirm(user=user, device=device, token=form.cleaned_data["code"])
        except ValidationError as error:
            if logging_in and (response := _code_refused(request, user)) is not None:
                return response
            form.add_error("code", error)
        else:
            device.refresh_from_db()
            continue_url = reverse("home")
            if logging_in:
                continue_url = _login_complete(request, user, device).url
            else:
                otp_login(request, device)
            context = {"codes": codes, "enrolled": True, "continue_url": continue_url}
            return render(request, "accounts/two_factor_recovery_codes.html", context)
    context = {
        "form": form,
        "logging_in": logging_in,
        "qr_svg": two_factor.totp_qr_svg(device, account=user.username),
        "secret": two_factor.totp_secret(device),
    }
    return render(request, "accounts/two_factor_enrol.html", context)


@never_cache
@login_required
def two_factor_settings(request):
    """One's own account page for the second factor."""
    user = request.user
    context = {
        "device": two_factor.totp_device(user),
        "required": two_factor.two_factor_required(user),
        "codes_left": two_factor.recovery_codes_left(user),
        "verified": user.is_verified(),
        "can_change_policy": request.tenant is not None
        and user.has_perm("tenants.change_twofactorpolicy", request.tenant),
    }
    return render(request, "accounts/two_factor_settings.html", context)


@never_cache
@login_required
@require_POST
def two_factor_recovery_codes(request):
    """Ten new recovery codes, shown once; only in a session that passed the second factor."""
    if not request.user.is_verified():
        raise PermissionDenied
    codes = two_factor.recovery_codes_generate(user=request.user)
    context = {"codes": codes, "enrolled": False, "continue_url": reverse("two_factor_settings")}
    return render(request, "accounts/two_factor_recovery_codes.html", context)


@login_required
@require_POST
def two_factor_disable(request):
    if not request.user.is_verified():
        raise PermissionDenied
    try:
        two_factor.two_factor_disable(user=request.user)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, _("Two-factor login is off for your account."))
    return redirect("two_factor_settings")


@environment_required
@require_POST
def user_two_factor_reset(request, pk: int):
    """A national system administrator resets someone's second factor (a lost phone)."""
    user = get_user_or_404(request, pk)
    if not can_manage_user(request.user, user, "tenants.reset_two_factor"):
        raise PermissionDenied
    two_factor.two_factor_reset(actor=request.user, user=user, keep_session_key=request.session.session_key)
    messages.success(
        request,
        _("The two-factor login of %(username)s has been reset; their sessions have ended.") % {"username": user.username},
    )
    return redirect("user_detail", pk=user.pk)


@environment_required
@require_http_methods(["GET", "POST"])
def two_factor_policy(request):
    """National decides which roles need two-factor login."""
    require_perm(request, "tenants.change_twofactorpolicy")
    form = TwoFactorPolicyForm(request.POST if request.method == "POST" else None, initial={"roles": list(two_factor.required_roles())})
    if request.method == "POST" and form.is_valid():
        two_factor.two_factor_policy_set(actor=request.user, roles=list(form.cleaned_data["roles"]))
        messages.success(request, _("The roles that need two-factor login have been saved."))
        return redirect("two_factor_policy")
    return render(request, "accounts/two_factor_policy.html", {"form": form})


def locked_out(request, response=None, credentials=None):
    """django-axes calls this when a (username, IP address) pair is locked. The page says only
    that: no form, no hint whether the password was right."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = _(
        "Too many failed attempts. This account is locked for %(minutes)d minutes from this "
        "address. Try again later or ask a system administrator to unblock it."
    ) % {"minutes": minutes}
    return render(request, "accounts/locked_out.html", {"lockout_message": message}, status=429)


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        response = super().form_valid(form)
        services.user_password_changed(user=form.user)
        # Django already refuses the other sessions (their password hash is stale); end them
        # outright, and keep this one (which got a new key).
        user_sessions_end(user=form.user, keep_session_key=self.request.session.session_key)
        login_session_record(request=self.request, user=form.user)
        messages.success(self.request, _("Your password has been changed."))
        return response


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    form_class = PasswordResetForm
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form):
        # Counted per visitor address and per e-mail address typed, in the shared cache, so that
        # nobody floods an inbox or the mail server; the answer says so plainly.
        email = form.cleaned_data["email"].strip().lower()
        limit, window = settings.PASSWORD_RESET_RATE_LIMIT, settings.PASSWORD_RESET_RATE_WINDOW
        by_address = rate_limit_hit("password-reset-address", client_address(self.request) or "unknown", limit=limit, window=window)
        by_account = rate_limit_hit("password-reset-account", email, limit=limit, window=window)
        if by_address or by_account:
            form.add_error(None, _(
                "Too many password reset requests. Wait an hour and try again, or ask your system "
                "administrator for a new link."
            ))
            response = self.form_invalid(form)
            response.status_code = 429
            return response
        # Links in the mail point at the configured site address, not at whatever Host header
        # the request carried.
        self.extra_email_context = {"site_url": settings.SITE_URL}
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        services.user_password_changed(user=form.user)
        user_sessions_end(user=form.user)
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"
