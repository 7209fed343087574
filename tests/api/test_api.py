"""The API as a client meets it: tokens, paging, bad input, languages, rate limits, the audit of
every use, query counts, and the OpenAPI schema driving a client."""

from __future__ import annotations

import datetime
import hashlib
import json

import pytest
from django.urls import reverse
from openapi_spec_validator import validate

from api.models import ApiToken, ApiTokenUse
from api.schemas import RelationPage
from api.services import token_create
from memberships.models import CancellationReason, Function
from relations.models import Relation
from tests.factories import make_intake_form, make_relation

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()
RELATIONS = "/api/v1/relations"


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"]
    return body


# --- tokens --------------------------------------------------------------------------------------


def test_it_keeps_only_a_hash_of_the_secret(tokens):
    token, secret = tokens["p1_read"]
    assert secret not in json.dumps(list(ApiToken.objects.filter(pk=token.pk).values()), default=str)
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.startswith(token.prefix)


def test_it_shows_the_secret_once(login, federation):
    client = login(federation.province_sb)
    response = client.post(reverse("api_token_create"), {
        "name": "Eigen administratie", "tenant": federation.department11.pk, "scope": "write",
        "expires_on": (TODAY + datetime.timedelta(days=10)).isoformat(),
    })
    token = ApiToken.objects.get(name="Eigen administratie")
    assert response.url == reverse("api_token_detail", kwargs={"pk": token.pk})
    first = client.get(response.url).content.decode()
    assert 'data-testid="api-token-secret"' in first
    assert 'data-testid="api-token-secret"' not in client.get(response.url).content.decode()


def test_it_refuses_a_token_valid_longer_than_allowed_or_already_expired(federation):
    from django.core.exceptions import ValidationError

    too_long = TODAY + datetime.timedelta(days=10_000)
    yesterday = TODAY - datetime.timedelta(days=1)
    # (environment, last valid day, the field refused); province 2 is not the actor's.
    for tenant, expires_on, field in (
        (federation.province1, yesterday, "expires_on"),
        (federation.province1, too_long, "expires_on"),
        (federation.province2, TODAY, "tenant"),
    ):
        with pytest.raises(ValidationError) as refused:
            token_create(actor=federation.province_sb, tenant=tenant, name="x", scope="read", expires_on=expires_on)
        assert field in refused.value.message_dict
    assert not ApiToken.objects.exists()


def test_it_stops_a_revoked_token_at_once(login, federation, tokens, api_client):
    token, _secret = tokens["p1_write"]
    assert api_client("p1_write").get(RELATIONS).status_code == 200
    login(federation.province_sb).post(reverse("api_token_revoke", kwargs={"pk": token.pk}))
    body = _problem(api_client("p1_write").get(RELATIONS), 401)
    assert "ingetrokken" in body["detail"]
    token.user.refresh_from_db()
    assert not token.user.is_active


def test_it_answers_401_to_an_unknown_or_missing_token(api_client):
    assert _problem(api_client(None).get(RELATIONS), 401)
    from .conftest import ApiClient

    response = ApiClient("lb_made-up-secret").get(RELATIONS)
    _problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_it_logs_every_use_refused_ones_too(tokens, api_client):
    api_client("p1_read").get(RELATIONS, {"limit": 5})
    api_client("expired").get(RELATIONS)
    uses = {use.token.name: use for use in ApiTokenUse.objects.select_related("token")}
    assert uses["p1_read"].status == 200 and uses["p1_read"].path == f"{RELATIONS}?limit=5"
    assert (uses["expired"].status, uses["expired"].outcome) == (401, "expired")


def test_the_nightly_job_forgets_uses_older_than_the_kept_period(tokens, api_client, settings):
    from django.core.management import call_command
    from django.utils import timezone

    settings.API_TOKEN_USE_DAYS = 30
    api_client("p1_read").get(RELATIONS)
    api_client("d11_read").get(RELATIONS)
    old, recent = ApiTokenUse.objects.order_by("pk")
    now = timezone.now()
    ApiTokenUse.objects.filter(pk=old.pk).update(at=now - datetime.timedelta(days=31))
    ApiTokenUse.objects.filter(pk=recent.pk).update(at=now - datetime.timedelta(days=29))

    call_command("run_job", "api_token_uses", "--date", timezone.localdate().isoformat())

    assert list(ApiTokenUse.objects.values_list("pk", flat=True)) == [recent.pk]


def test_it_limits_the_requests_of_a_token(settings, api_client):
    settings.API_RATE_LIMIT = 3
    for _ in range(3):
        assert api_client("p1_read").get(RELATIONS).status_code == 200
    response = api_client("p1_read").get(RELATIONS)
    _problem(response, 429)
    assert int(response["Retry-After"]) >= 1
    # Another token has its own count.
    assert api_client("d11_read").get(RELATIONS).status_code == 200


# --- paging --------------------------------------------------------------------------------------


def test_it_walks_every_relation_once_with_the_cursor(api_client, federation):
    made = {make_relation(federation.department12, last_name=f"Lid {n}").pk for n in range(7)}
    seen, cursor = [], None
    while True:
        body = api_client("p1_read").get(RELATIONS, {"limit": 3, "home": federation.department12.pk, **({"cursor": cursor} if cursor else {})}).json()
        RelationPage.model_validate(body, by_name=True)  # the rows read as values have the schema's shape
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(made) and len(seen) == len(made)


def test_it_refuses_a_page_larger_than_the_maximum(api_client, settings):
    body = _problem(api_client("p1_read").get(RELATIONS, {"limit": 101}), 422)
    assert body["errors"] == [{"field": "limit", "message": "Ten hoogste 100."}]
    body = _problem(api_client("p1_read", "en").get(RELATIONS, {"limit": 101}), 422)
    assert body["errors"] == [{"field": "limit", "message": "At most 100."}]
    _problem(api_client("p1_read").get(RELATIONS, {"cursor": "not a cursor!"}), 422)


def test_it_filters_the_list(api_client, members, federation):
    def ids(**params):
        return {item["id"] for item in api_client("p1_read").get(RELATIONS, params).json()["items"]}

    assert ids(q="akkerman") == {members["d11a"].pk}
    assert ids(email="ANNA@example.org") == {members["d11a"].pk}
    assert ids(number=members["d12"].number) == {members["d12"].pk}
    assert ids(member_on=TODAY.isoformat(), home=federation.department12.pk) == {members["d12"].pk}
    assert ids(member_on=(TODAY - datetime.timedelta(days=1000)).isoformat()) == set()


# --- bad input: a clear message, nothing written --------------------------------------------------


def _new_relation(department, **fields) -> dict:
    return {"last_name": "Nieuw", **fields, "first_function": {
        "function_type": "department_member", "environment": department.pk, "start_date": TODAY.isoformat()}}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"nickname": "Nico"}, "nickname"),
        ({"birth_date": "31-02-2001"}, "birth_date"),
        ({"house_number": "twaalf"}, "house_number"),
        ({"gender": "q"}, "gender"),
        ({"first_name": "x" * 81}, "first_name"),
        ({"extra": "not an object"}, "extra"),
    ],
)
def test_it_refuses_unknown_fields_and_wrong_types(api_client, federation, body, field):
    before = Relation.objects.count()
    problem = _problem(api_client("p1_write").send("POST", RELATIONS, _new_relation(federation.department11, **body)), 422)
    assert field in {error["field"] for error in problem["errors"]}
    assert all(error["message"] for error in problem["errors"])
    assert Relation.objects.count() == before


def test_it_shows_the_services_refusal_at_the_field(api_client, federation):
    future = (TODAY + datetime.timedelta(days=3)).isoformat()
    problem = _problem(api_client("p1_write").send("POST", RELATIONS, _new_relation(federation.department11, birth_date=future)), 422)
    assert problem["errors"] == [{"field": "birth_date", "message": "De geboortedatum kan niet in de toekomst liggen."}]
    problem = _problem(api_client("p1_write", "en-GB,en;q=0.8").send(
        "POST", RELATIONS, _new_relation(federation.department11, birth_date=future)), 422)
    assert problem["errors"] == [{"field": "birth_date", "message": "The birth date cannot be in the future."}]
    assert not Relation.objects.filter(last_name="Nieuw").exists()


def test_it_refuses_a_registration_with_unknown_or_missing_answers(api_client, federation):
    make_intake_form(federation.province1, name="Afdelingsformulier", kind="department")
    url = reverse("api-v1:registration_create", kwargs={"environment_id": federation.department11.pk})
    problem = _problem(api_client("d11_write").send("POST", url, {"values": {"last_name": "Evers", "shoe_size": 44}}), 422)
    fields = {error["field"] for error in problem["errors"]}
    assert {"values.shoe_size", "values.first_name", "values.birth_date", "values.email"} <= fields


def test_it_changes_only_the_fields_sent_and_names_the_token_in_history(api_client, members, tokens):
    relation = members["d11a"]
    response = api_client("d11_write").send("PATCH", f"{RELATIONS}/{relation.pk}", {"city": "Kampen", "postcode": "8261ab"})
    assert response.status_code == 200, response.content
    relation.refresh_from_db()
    assert (relation.city, relation.postcode, relation.first_name) == ("Kampen", "8261 AB", "Anna")
    latest = relation.history.latest("history_id")
    assert latest.history_user == tokens["d11_write"][0].user
    assert latest.history_user.username.startswith("api.")


def test_it_ends_a_membership_with_a_reason(api_client, members, tokens):
    reason, _created = CancellationReason.objects.get_or_create(name="Verhuisd")
    function = Function.objects.get(relation=members["d11b"])
    response = api_client("d11_write").send("POST", f"/api/v1/functions/{function.pk}/end", {"end_date": TODAY.isoformat(), "reason": reason.pk})
    assert response.status_code == 200, response.content
    assert response.json()[0]["cancellation_reason"] == reason.pk
    function.refresh_from_db()
    assert function.end_date == TODAY and function.history.latest("history_id").history_user == tokens["d11_write"][0].user
    problem = _problem(api_client("d11_write").send("POST", f"/api/v1/functions/{function.pk}/end", {"end_date": "2001-01-01"}), 422)
    assert problem["errors"][0]["field"] == "end_date"


# --- query counts --------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ["national_read", "p1_read", "d11_read"])
def test_it_reads_a_list_page_in_a_fixed_number_of_queries(api_client, federation, django_assert_max_num_queries, actor):
    for n in range(30):
        make_relation(federation.department11 if n % 2 else federation.department12, last_name=f"Lid {n}")
    # Token and login (1), the environment's scope (1, not for the federation), the page (1),
    # the use written down (1).
    with django_assert_max_num_queries(4):
        response = api_client(actor).get(RELATIONS, {"limit": 10})
    assert response.status_code == 200 and len(response.json()["items"]) == 10
    with django_assert_max_num_queries(5):
        response = api_client(actor).get(RELATIONS, {"limit": 10, "member_on": TODAY.isoformat()})
    assert response.status_code == 200


# --- the schema and its documentation ---------------------------------------------------------------


def test_it_publishes_a_valid_openapi_schema(client):
    schema = client.get("/api/v1/openapi.json").json()
    validate(schema)
    assert schema["openapi"].startswith("3.")
    assert schema["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"


def test_it_serves_the_documentation_from_its_own_static_files(client):
    response = client.get("/api/v1/docs")
    html = response.content.decode()
    assert response.status_code == 200
    assert "/static/ninja/swagger-ui-bundle.js" in html and "cdn" not in html.lower()
    # No inline script: the settings travel as JSON data, read by a static script.
    assert "script-src 'self'" in response["Content-Security-Policy"]
