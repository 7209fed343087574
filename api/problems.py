"""Errors of the API as RFC 9457 problem details (`application/problem+json`), in the language
the client asks for (Accept-Language: Dutch by default, or English)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation.trans_real import parse_accept_lang_header
from ninja import Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from tenants.proxies import client_address

from .models import TokenUseOutcome
from .services import TokenRefused, token_use_record

PROBLEM_TYPE = "application/problem+json"


class ProblemField(Schema):
    field: str
    message: str


class Problem(Schema):
    """An error: `title` says what kind, `detail` what happened; `errors` names the fields."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str = ""
    errors: list[ProblemField] = []


class ApiProblem(Exception):
    """Raised by an endpoint to answer with a problem of its own."""

    def __init__(self, status: int, detail: str, errors: list[dict[str, str]] | None = None):
        super().__init__(detail)
        self.status, self.detail, self.errors = status, detail, errors or []


TITLES = {
    400: gettext_lazy("Bad request"),
    401: gettext_lazy("Not authenticated"),
    403: gettext_lazy("Not allowed"),
    404: gettext_lazy("Not found"),
    405: gettext_lazy("Method not allowed"),
    422: gettext_lazy("Invalid input"),
    429: gettext_lazy("Too many requests"),
}


def problem(status: int, detail: str = "", errors: list[dict[str, str]] | None = None) -> HttpResponse:
    import json

    body = {"type": "about:blank", "title": str(TITLES.get(status, "")), "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    response = HttpResponse(json.dumps(body, ensure_ascii=False), status=status, content_type=f"{PROBLEM_TYPE}; charset=utf-8")
    return response


def language_of(request: HttpRequest) -> str:
    """The first language of Accept-Language that we speak; Dutch when none is."""
    for code, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


# --- the reasons pydantic gives for a field, in our words ------------------------------------------

FIELD_MESSAGES = {
    "extra_forbidden": gettext_lazy("Unknown field."),
    "missing": gettext_lazy("This field is required."),
    "int_parsing": gettext_lazy("Expected a whole number."),
    "int_type": gettext_lazy("Expected a whole number."),
    "int_from_float": gettext_lazy("Expected a whole number."),
    "string_type": gettext_lazy("Expected text."),
    "bool_parsing": gettext_lazy("Expected true or false."),
    "bool_type": gettext_lazy("Expected true or false."),
    "date_parsing": gettext_lazy("Expected a date (YYYY-MM-DD)."),
    "date_from_datetime_parsing": gettext_lazy("Expected a date (YYYY-MM-DD)."),
    "date_type": gettext_lazy("Expected a date (YYYY-MM-DD)."),
    "dict_type": gettext_lazy("Expected an object."),
    "list_type": gettext_lazy("Expected a list."),
    "literal_error": gettext_lazy("Not one of the allowed values."),
    "enum": gettext_lazy("Not one of the allowed values."),
    "model_attributes_type": gettext_lazy("Expected an object."),
    "json_invalid": gettext_lazy("The body is not valid JSON."),
}


def _field_message(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "less_than_equal":
        return _("At most %(limit)s.") % {"limit": ctx.get("le")}
    if kind == "greater_than_equal":
        return _("At least %(limit)s.") % {"limit": ctx.get("ge")}
    if kind == "string_too_long":
        return _("At most %(limit)s characters.") % {"limit": ctx.get("max_length")}
    if kind in FIELD_MESSAGES:
        return str(FIELD_MESSAGES[kind])
    return str(error.get("msg", ""))


def _field_name(loc: tuple | list) -> str:
    # ("body", "payload", "first_name") → "first_name"; ("query", "limit") → "limit".
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "payload", "filters")]
    return ".".join(parts) or "body"


# --- the handlers ----------------------------------------------------------------------------------


def _validation_error(request, exc: NinjaValidationError) -> HttpResponse:
    errors = [{"field": _field_name(e.get("loc", ())), "message": _field_message(e)} for e in exc.errors]
    return problem(422, _("The request has errors; nothing was changed."), errors)


def _service_refusal(request, exc: DjangoValidationError) -> HttpResponse:
    if hasattr(exc, "error_dict"):
        errors = [
            {"field": "body" if field == "__all__" else field, "message": message}
            for field, messages in exc.message_dict.items() for message in messages
        ]
        return problem(422, _("The request has errors; nothing was changed."), errors)
    return problem(422, " ".join(exc.messages))


def _api_problem(request, exc: ApiProblem) -> HttpResponse:
    return problem(exc.status, exc.detail, exc.errors)


def _not_found(request, exc: Exception) -> HttpResponse:
    return problem(404, _("There is no such object in this token's environment."))


def _forbidden(request, exc: Exception) -> HttpResponse:
    return problem(403, _("This token may not do this (its scope is read only, or the environment lacks the power)."))


def _not_authenticated(request, exc: AuthenticationError) -> HttpResponse:
    response = problem(401, _("Send a valid token: Authorization: Bearer <token>."))
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def _refused(request, exc: TokenRefused) -> HttpResponse:
    if exc.outcome == TokenUseOutcome.RATE_LIMITED:
        response = problem(429, _("Too many requests with this token; try again in %(seconds)s seconds.") % {"seconds": exc.retry_after})
        response["Retry-After"] = str(exc.retry_after)
    else:
        detail = _("This token has been revoked.") if exc.outcome == TokenUseOutcome.REVOKED else _("This token has expired.")
        response = problem(401, detail)
        response["WWW-Authenticate"] = 'Bearer realm="api", error="invalid_token"'
    token_use_record(
        token=exc.token, method=request.method, path=request.get_full_path(), status=response.status_code,
        outcome=exc.outcome, client_address=client_address(request),
    )
    return response


def _http_error(request, exc: HttpError) -> HttpResponse:
    return problem(exc.status_code, str(exc))


def install(api) -> None:
    """Answer every error of `api` as a problem."""
    api.add_exception_handler(NinjaValidationError, _validation_error)
    api.add_exception_handler(DjangoValidationError, _service_refusal)
    api.add_exception_handler(ApiProblem, _api_problem)
    api.add_exception_handler(Http404, _not_found)
    api.add_exception_handler(ObjectDoesNotExist, _not_found)
    api.add_exception_handler(PermissionDenied, _forbidden)
    api.add_exception_handler(AuthenticationError, _not_authenticated)
    api.add_exception_handler(TokenRefused, _refused)
    api.add_exception_handler(HttpError, _http_error)
