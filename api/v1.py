"""Version 1 of the HTTP API (SPEC L3), with django-ninja: /api/v1/.

Every endpoint acts as its token's service login in its token's environment: lists and lookups go
through the same `visible_to` as the screens (an object elsewhere answers 404), writes ask the same
permissions and call the same services (relations, memberships, intake), so history names the
token. Errors are problem details (api/problems.py)."""


import base64
import binascii
import datetime
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Query, Router, Status
from ninja.openapi.docs import Swagger
from ninja.security import HttpBearer

from intake.forms import IntakeSubmissionForm, field_name
from intake.services import department_intake_form, registration_submit
from memberships.card import relation_create
from memberships.models import CancellationReason, Function, FunctionType
from memberships.services import function_end, function_start
from relations.access import relation_opens
from relations.models import Relation
from relations.services import relation_home_for, relation_update
from tenants.models import Tenant
from tenants.proxies import client_address

from . import problems
from .models import ApiToken
from .problems import ApiProblem, Problem
from .schemas import (
    PAGE_SIZE_MAX,
    CodeName,
    EnvironmentOut,
    FunctionEndIn,
    FunctionOut,
    FunctionStartIn,
    IntakeFormOut,
    RegistrationIn,
    RegistrationOut,
    RelationCreateIn,
    RelationOut,
    RelationPage,
    RelationUpdateIn,
)
from .services import token_authenticate, token_use_record


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <token>`; the token's login then holds its scope's powers."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        return token_authenticate(token)


api = NinjaAPI(
    title="Ledenbeheer API",
    version="1",
    description=(
        "The open API of Ledenbeheer: relations, functions, registrations and environments of the "
        "environment a token belongs to. See docs/api.md."
    ),
    urls_namespace="api-v1",
    auth=TokenAuth(),
    docs=Swagger(settings={"persistAuthorization": False}),
)
problems.install(api)


def _per_request(run):
    """Around every operation (authentication included): answer in the client's language and
    write down the use of the token."""

    @wraps(run)
    def wrapper(request, *args, **kwargs):
        language = problems.language_of(request)
        with translation.override(language):
            response = run(request, *args, **kwargs)
        response["Content-Language"] = language
        patch_vary_headers(response, ("Accept-Language", "Authorization"))
        token = getattr(request, "auth", None)
        if isinstance(token, ApiToken):
            token_use_record(
                token=token, method=request.method, path=request.get_full_path(), status=response.status_code,
                client_address=client_address(request),
            )
        return response

    return wrapper


api.add_decorator(_per_request, mode="view")

ERRORS = {401: Problem, 403: Problem, 404: Problem, 422: Problem, 429: Problem}


def _token(request) -> ApiToken:
    return request.auth


def _require(request, perm: str, obj=None) -> None:
    token = _token(request)
    if not token.user.has_perm(perm, obj if obj is not None else token.tenant):
        raise PermissionDenied


def _relations(request):
    token = _token(request)
    return Relation.objects.visible_to(token.user, token.tenant)


def _environments(request):
    token = _token(request)
    return Tenant.objects.visible_to(token.user, token.tenant)


def _relation_or_404(request, pk: int) -> Relation:
    return get_object_or_404(_relations(request).select_related("tenant"), pk=pk)


def _environment_or_404(request, pk: int) -> Tenant:
    return get_object_or_404(_environments(request), pk=pk)


# --- paging ---------------------------------------------------------------------------------------


def _cursor_decode(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        return int(base64.urlsafe_b64decode(cursor.encode() + b"==").decode())
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ApiProblem(422, _("The request has errors; nothing was changed."),
                         [{"field": "cursor", "message": _("Not a cursor this API gave out.")}]) from None


def _cursor_encode(pk: int) -> str:
    return base64.urlsafe_b64encode(str(pk).encode()).decode().rstrip("=")


# RelationOut's fields, read as values: building and validating a hundred model instances cost
# more than the query itself (docs/benchmarks.md, "API"), and a list page needs neither.
RELATION_VALUES = tuple(name for name in RelationOut.model_fields if name != "environment")


def relation_page(request, relations, *, cursor: str | None, limit: int) -> HttpResponse:
    """One page of `relations` in the order of their id, after the cursor: a keyset walk, so a
    page costs the same at the millionth relation as at the first, and no row is skipped or
    repeated when relations are added between two pages. The rows are `RelationPage`'s, taken
    straight from `.values()` (tests/api/test_api.py validates them against the schema)."""
    after = _cursor_decode(cursor)
    rows = list(
        relations.filter(pk__gt=after).order_by("pk").values(*RELATION_VALUES, environment=F("tenant_id"))[: limit + 1]
    )
    more = len(rows) > limit
    rows = rows[:limit]
    page = {"items": rows, "next_cursor": _cursor_encode(rows[-1]["id"]) if more and rows else None}
    return api.create_response(request, page, status=200)


# --- environments ---------------------------------------------------------------------------------

environments = Router(tags=["environments"])


def _environment_out(tenant: Tenant, parents: dict[str, int]) -> dict:
    return {
        "id": tenant.pk, "name": tenant.name, "short_name": tenant.short_name, "kind": tenant.kind,
        "parent": parents.get(tenant.parent_path),
    }


@environments.get("", response={200: list[EnvironmentOut], **ERRORS}, summary="The token's environment and everything below it")
def environment_list(request):
    tenants = list(_environments(request).only("pk", "name", "short_name", "kind", "path", "depth"))
    parents = {t.path: t.pk for t in tenants}
    # Above the token's own environment lies nothing it sees.
    parents.pop(_token(request).tenant.parent_path, None)
    return [_environment_out(t, parents) for t in tenants]


@environments.get("/{int:environment_id}", response={200: EnvironmentOut, **ERRORS}, summary="One environment")
def environment_detail(request, environment_id: int):
    tenant = _environment_or_404(request, environment_id)
    parents = {}
    if tenant.pk != _token(request).tenant.pk:
        parents = {tenant.parent_path: Tenant.objects.filter(path=tenant.parent_path).values_list("pk", flat=True).first()}
    return _environment_out(tenant, parents)


@environments.get(
    "/{int:environment_id}/members", response={200: RelationPage, **ERRORS},
    summary="The members of an environment on a date",
)
def environment_members(
    request, environment_id: int, on: datetime.date | None = None, cursor: str | None = None,
    limit: int = Query(50, ge=1, le=PAGE_SIZE_MAX),
):
    """Relations holding a membership in the environment (or below it) on `on` (default: today)."""
    _require(request, "relations.view_relation")
    tenant = _environment_or_404(request, environment_id)
    relations = _relations(request)
    day = on or timezone.localdate()
    scope = relations.environment_scope
    if scope is not None and scope.tenant_id == tenant.pk:
        members = relations.members_on(day, scope=scope)
    else:
        members = relations.members_on(day, tenant)
    return relation_page(request, members, cursor=cursor, limit=limit)


@environments.get(
    "/{int:environment_id}/intake-form", response={200: IntakeFormOut, **ERRORS},
    summary="The department's intake form: the fields a registration fills",
)
def environment_intake_form(request, environment_id: int):
    tenant = _environment_or_404(request, environment_id)
    intake_form = department_intake_form(tenant)
    if intake_form is None:
        raise ApiProblem(404, _("This environment has no intake form for department administrators."))
    return {
        "name": intake_form.name, "environment": intake_form.tenant_id,
        "rows": [{"target": r.target, "label": r.label, "required": r.required} for r in intake_form.rows.all()],
    }


@environments.post(
    "/{int:environment_id}/registrations", response={201: RegistrationOut, **ERRORS},
    summary="Register a new member through the department's intake form",
)
@transaction.atomic
def registration_create(request, environment_id: int, payload: RegistrationIn):
    """As the department administrators' form does: the registration lands, "new", in the form's
    environment, where it is accepted or rejected."""
    department = _environment_or_404(request, environment_id)
    _require(request, "intake.add_registration", department)
    intake_form = department_intake_form(department)
    if intake_form is None:
        raise ApiProblem(422, _("This environment has no intake form for department administrators."))
    form = IntakeSubmissionForm(
        {field_name(target): "" if value is None else value for target, value in payload.values.items()},
        intake_form=intake_form, departments=Tenant.objects.filter(pk=department.pk), public=False,
    )
    del form.fields["department"]
    known = {row.target for row in form.rows if field_name(row.target) in form.fields}
    errors = [{"field": f"values.{t}", "message": _("Unknown field.")} for t in payload.values if t not in known]
    if not form.is_valid() or errors:
        targets = {field_name(t): t for t in known}
        errors += [
            {"field": f"values.{targets.get(name, name)}", "message": message}
            for name, messages in form.errors.items() for message in messages
        ]
        raise ApiProblem(422, _("The request has errors; nothing was changed."), errors)
    registration = registration_submit(
        intake_form=intake_form, values=form.values(), department=department, actor=_token(request).user,
    )
    return Status(201, registration)


# --- relations ------------------------------------------------------------------------------------

relations = Router(tags=["relations"])


@relations.get("", response={200: RelationPage, **ERRORS}, summary="Relations of the environment, a page at a time")
def relation_list(
    request,
    q: str | None = Query(None, max_length=100, description="Part of a name, number, e-mail, postcode or city."),
    number: int | None = None,
    postcode: str | None = Query(None, max_length=10),
    email: str | None = Query(None, max_length=254),
    kind: str | None = Query(None, pattern="^(person|organisation)$"),
    home: int | None = Query(None, description="Only relations homed in this environment or below it."),
    member_on: datetime.date | None = Query(None, description="Only relations holding a membership on this date."),
    cursor: str | None = None,
    limit: int = Query(50, ge=1, le=PAGE_SIZE_MAX, description=f"At most {PAGE_SIZE_MAX}."),
):
    rows = _relations(request)
    scope = rows.environment_scope
    if q:
        rows = rows.filter(search_text__contains=q.strip().lower())
    if number is not None:
        rows = rows.filter(number=number)
    if postcode:
        rows = rows.filter(postcode__iexact=postcode.strip())
    if email:
        rows = rows.filter(email__iexact=email.strip())
    if kind:
        rows = rows.filter(kind=kind)
    if home is not None:
        rows = rows.filter(_environment_or_404(request, home).subtree_filter("tenant"))
    if member_on is not None:
        rows = rows.members_on(member_on, scope=scope) if scope is not None else rows.members_on(member_on)
    return relation_page(request, rows, cursor=cursor, limit=limit)


@relations.get("/{int:relation_id}", response={200: RelationOut, **ERRORS}, summary="One relation card")
def relation_detail(request, relation_id: int):
    return _relation_or_404(request, relation_id)


@relations.post("", response={201: RelationOut, **ERRORS}, summary="A new relation with its first function")
@transaction.atomic
def relation_add(request, payload: RelationCreateIn):
    token = _token(request)
    _require(request, "relations.add_relation")
    data = payload.dict()
    first = data.pop("first_function")
    extra = data.pop("extra")
    function_tenant = _environments(request).filter(pk=first["environment"]).first()
    function_type = FunctionType.objects.filter(code=first["function_type"], active=True).first()
    errors = []
    if function_tenant is None:
        errors.append({"field": "first_function.environment", "message": _("Not an environment of this token.")})
    if function_type is None:
        errors.append({"field": "first_function.function_type", "message": _("Unknown function type.")})
    if errors:
        raise ApiProblem(422, _("The request has errors; nothing was changed."), errors)
    _require(request, "memberships.add_function", function_tenant)
    relation = relation_create(
        actor=token.user, tenant=relation_home_for(function_tenant=function_tenant, environment=token.tenant),
        data=data, extra=extra, function_type=function_type, function_tenant=function_tenant,
        start_date=first["start_date"],
    )
    return Status(201, relation)


@relations.patch("/{int:relation_id}", response={200: RelationOut, **ERRORS}, summary="Change fields of a relation card")
@transaction.atomic
def relation_change(request, relation_id: int, payload: RelationUpdateIn):
    relation = _relation_or_404(request, relation_id)
    _require(request, "relations.change_relation", relation)
    data = payload.dict(exclude_unset=True)
    extra = data.pop("extra", None)
    for field, value in data.items():
        if value is None and field not in ("birth_date", "house_number"):
            raise ApiProblem(422, _("The request has errors; nothing was changed."),
                             [{"field": field, "message": _("Leave the field out or send a value.")}])
    return relation_update(actor=_token(request).user, relation=relation, data=data, extra=extra)


# --- functions ------------------------------------------------------------------------------------


def _functions_of(relation: Relation):
    return Function.objects.filter(relation=relation).select_related("function_type").order_by("-start_date", "pk")


@relations.get("/{int:relation_id}/functions", response={200: list[FunctionOut], **ERRORS}, tags=["functions"],
               summary="The functions of a relation, past ones included")
def function_list(request, relation_id: int):
    relation = _relation_or_404(request, relation_id)
    _require(request, "memberships.view_function")
    return list(_functions_of(relation))


@relations.post("/{int:relation_id}/functions", response={201: FunctionOut, **ERRORS}, tags=["functions"],
                summary="Start a function")
@transaction.atomic
def function_add(request, relation_id: int, payload: FunctionStartIn):
    relation = _relation_or_404(request, relation_id)
    _require(request, "memberships.add_function")
    tenant = _environments(request).filter(pk=payload.environment).first()
    function_type = FunctionType.objects.filter(code=payload.function_type, active=True).first()
    errors = []
    if tenant is None:
        errors.append({"field": "environment", "message": _("Not an environment of this token.")})
    if function_type is None:
        errors.append({"field": "function_type", "message": _("Unknown function type.")})
    if errors:
        raise ApiProblem(422, _("The request has errors; nothing was changed."), errors)
    _require(request, "memberships.add_function", tenant)
    function = function_start(
        actor=_token(request).user, relation=relation, function_type=function_type, tenant=tenant,
        start_date=payload.start_date, end_date=payload.end_date,
    )
    return Status(201, Function.objects.select_related("function_type").get(pk=function.pk))


functions = Router(tags=["functions"])


@functions.post("/{int:function_id}/end", response={200: list[FunctionOut], **ERRORS}, summary="End a function, with a reason")
@transaction.atomic
def function_finish(request, function_id: int, payload: FunctionEndIn):
    """Ending a membership ends every open function of the relation (SPEC R4); the answer lists
    every function that ended."""
    token = _token(request)
    function = Function.objects.select_related("relation__tenant", "function_type").filter(pk=function_id).first()
    if function is None or not relation_opens(token.user, token.tenant, function.relation):
        raise Http404
    _require(request, "memberships.change_function", function)
    reason = None
    if payload.reason is not None:
        reason = CancellationReason.objects.filter(pk=payload.reason, active=True).first()
        if reason is None:
            raise ApiProblem(422, _("The request has errors; nothing was changed."),
                             [{"field": "reason", "message": _("Unknown cancellation reason.")}])
    ended = function_end(actor=token.user, function=function, end_date=payload.end_date, reason=reason, note=payload.note)
    return list(Function.objects.filter(pk__in=[f.pk for f in ended]).select_related("function_type").order_by("pk"))


catalogue = Router(tags=["catalogue"])


@catalogue.get("/function-types", response={200: list[CodeName], **ERRORS}, summary="The function types a function can have")
def function_type_list(request):
    return list(FunctionType.objects.filter(active=True).order_by("order", "name").values("id", "code", "name"))


@catalogue.get("/cancellation-reasons", response={200: list[CodeName], **ERRORS}, summary="Reasons for ending a membership")
def cancellation_reason_list(request):
    return list(CancellationReason.objects.filter(active=True).order_by("order", "name").values("id", "name"))


api.add_router("/environments", environments)
api.add_router("/relations", relations)
api.add_router("/functions", functions)
api.add_router("", catalogue)


