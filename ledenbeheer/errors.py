"""Answers to requests a user can make but the site cannot take: a NUL byte in the address, a
body or form that is too large. Each gets a page in the user's language that says what was wrong,
never a server error (ARCHITECTURE "Safety")."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token


def _megabytes(size: int | None) -> str:
    return f"{(size or 0) / (1024 * 1024):.1f}".rstrip("0").rstrip(".")


def bad_request_reason(exception: Exception | None) -> str:
    """What the user sent that the site refuses, in their language."""
    if isinstance(exception, RequestDataTooBig):
        return _(
            "What you sent is too large: a form may hold at most %(size)s MB (files not counted). "
            "Send less at once."
        ) % {"size": _megabytes(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)}
    if isinstance(exception, TooManyFieldsSent):
        return _("The form you sent has too many fields (at most %(count)s). Send less at once.") % {
            "count": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        }
    if isinstance(exception, TooManyFilesSent):
        return _("You sent too many files at once (at most %(count)s).") % {
            "count": settings.DATA_UPLOAD_MAX_NUMBER_FILES
        }
    return _("The request could not be understood. Go back and try again.")


@requires_csrf_token
def bad_request(request, exception=None):
    """handler400: Django's bare "Bad Request (400)" page, but saying what was wrong."""
    return render(request, "400.html", {"reason": bad_request_reason(exception)}, status=400)


class RejectNulBytesMiddleware:
    """A NUL byte cannot be stored or searched for (PostgreSQL refuses it in text); in the
    address or a GET parameter it is refused here, once for every page, with a 400 that says so."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()
        ):
            reason = _("The address contains a character that is not allowed (a NUL byte). Remove it and try again.")
            return render(request, "400.html", {"reason": reason}, status=400)
        return self.get_response(request)
