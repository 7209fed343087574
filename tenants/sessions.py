"""The life of a logged-in session: an idle timeout and an absolute lifetime, the sessions a login
started (so a password change or a second-factor reset ends the others), and the headers every
answer to a logged-in user carries (no caching, a Permissions-Policy)."""

from __future__ import annotations

import time
from importlib import import_module

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from .models import LoginSession, User

# When the login (both factors) happened, and when the session last did something: Unix seconds.
SESSION_LOGIN_AT_KEY = "login_at"
SESSION_SEEN_AT_KEY = "seen_at"
# A login waiting for its second factor: {"user": pk, "backend": path, "at": seconds, "next": url}.
SESSION_PENDING_LOGIN_KEY = "two_factor_pending"
# Writing the session on every click would cost a database write per request; a minute of
# precision is plenty for a timeout of half an hour.
SEEN_AT_PRECISION = 60


def login_session_record(*, request, user: User) -> None:
    """Remember the session a login started (after Django gave it a new key)."""
    now = int(time.time())
    request.session[SESSION_LOGIN_AT_KEY] = now
    request.session[SESSION_SEEN_AT_KEY] = now
    # The key exists only once the session is saved; save now so it can be recorded.
    request.session.save()
    LoginSession.objects.update_or_create(
        session_key=request.session.session_key, defaults={"user": user}
    )


def user_sessions_end(*, user: User, keep_session_key: str | None = None) -> int:
    """End every session the user's logins started, except `keep_session_key` (the one in which
    the user changed their own password). Works for any session store."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    ended = 0
    for login_session in LoginSession.objects.filter(user=user).exclude(session_key=keep_session_key or ""):
        store(session_key=login_session.session_key).delete()
        login_session.delete()
        ended += 1
    return ended


class SessionLifetimeMiddleware:
    """Log out after SESSION_IDLE_TIMEOUT without a request, and SESSION_ABSOLUTE_LIFETIME after
    the login whatever happens; the login page then says why."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            session = request.session
            login_at = session.setdefault(SESSION_LOGIN_AT_KEY, now)
            seen_at = session.setdefault(SESSION_SEEN_AT_KEY, now)
            if now - seen_at > settings.SESSION_IDLE_TIMEOUT.total_seconds():
                return self._ended(request, _("You were logged out after %(minutes)d minutes without activity.") % {
                    "minutes": settings.SESSION_IDLE_TIMEOUT.total_seconds() // 60,
                })
            if now - login_at > settings.SESSION_ABSOLUTE_LIFETIME.total_seconds():
                return self._ended(request, _("You were logged out because you logged in %(hours)d hours ago.") % {
                    "hours": settings.SESSION_ABSOLUTE_LIFETIME.total_seconds() // 3600,
                })
            if now - seen_at >= SEEN_AT_PRECISION:
                session[SESSION_SEEN_AT_KEY] = now
        return self.get_response(request)

    @staticmethod
    def _ended(request, message: str):
        logout(request)
        messages.info(request, message)
        login_url = f"{reverse('login')}?next={request.get_full_path()}" if request.method == "GET" else reverse("login")
        if getattr(request, "htmx", False):
            # An htmx request would swap the login page into a fragment; load it as a page.
            return HttpResponseClientRedirect(login_url)
        return redirect(login_url)


class PrivateResponseMiddleware:
    """Every answer to a logged-in user (or to a login waiting for its second factor) may hold
    personal data: no browser or proxy keeps a copy. And every answer says which browser features
    the site never uses (Permissions-Policy)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.user.is_authenticated or SESSION_PENDING_LOGIN_KEY in request.session:
            patch_cache_control(response, no_store=True, private=True)
        if settings.PERMISSIONS_POLICY:
            response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response
