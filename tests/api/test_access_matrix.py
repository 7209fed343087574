"""The access matrix of the API (SPEC L3), with oracles written here by hand.

Two parts:
- TOKEN_MATRIX: every endpoint of /api/v1/, asked with every kind of token — none, revoked,
  expired, read and write tokens of province 1 and of department 1.1, a write token of province 2
  (the other branch) — about objects of their own and of other environments. An object elsewhere
  answers 404; a write with a read token 403; a revoked or expired token 401. A write that
  succeeds leaves history naming the token's login; any other answer writes nothing.
- MATRIX: the token screen (System administration › API tokens) for the users of every role,
  run by the shared runner of tests/tenants/test_access_matrix.py.
"""

from __future__ import annotations

import datetime
import logging

import pytest
from django.urls import reverse

from api.models import ApiToken
from intake.models import Registration
from memberships.models import Function
from relations.models import Relation
from tenants.models import Tenant, User
from tests.factories import make_intake_form
from tests.fuzz import hostile_get_failures
from tests.tenants.test_access_matrix import MISSING_PK, _request, matrix_failures

from .conftest import ApiClient

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()

TOKEN_ACTORS = ("none", "revoked", "expired", "p1_read", "p1_write", "d11_read", "d11_write", "p2_write")


def _row(*cells: int) -> tuple[int, ...]:
    """A row whose first three cells (no token, revoked, expired) answer 401."""
    return (401, 401, 401, *cells)


ALL = _row(200, 200, 200, 200, 200)
SEES_D11 = _row(200, 200, 200, 200, 404)
SEES_D12 = _row(200, 200, 404, 404, 404)
SEES_P1 = _row(200, 200, 404, 404, 404)
SEES_D21 = _row(404, 404, 404, 404, 200)
WRITES_D11 = _row(403, 200, 403, 200, 404)
WRITES_D12 = _row(403, 200, 404, 404, 404)
WRITES_D21 = _row(404, 404, 404, 404, 200)
MISSING = _row(404, 404, 404, 404, 404)


def _created(row: tuple) -> tuple:
    return tuple(201 if cell == 200 else cell for cell in row)


#                                                          none rev  exp  p1r  p1w  d11r d11w p2w
TOKEN_MATRIX: dict[tuple[str, str, str], tuple[int, ...]] = {
    ("GET", "api-v1:environment_list", "-"): ALL,
    ("GET", "api-v1:environment_detail", "e_d11"): SEES_D11,
    ("GET", "api-v1:environment_detail", "e_p1"): SEES_P1,
    ("GET", "api-v1:environment_detail", "e_d21"): SEES_D21,
    ("GET", "api-v1:environment_detail", "missing"): MISSING,
    ("GET", "api-v1:environment_members", "e_d11"): SEES_D11,
    ("GET", "api-v1:environment_members", "e_d21"): SEES_D21,
    ("GET", "api-v1:environment_intake_form", "e_d11"): SEES_D11,
    ("GET", "api-v1:environment_intake_form", "e_d21"): SEES_D21,
    ("POST", "api-v1:registration_create", "e_d11"): _created(WRITES_D11),
    ("POST", "api-v1:registration_create", "e_d21"): _created(WRITES_D21),
    ("POST", "api-v1:registration_create", "missing"): MISSING,
    ("GET", "api-v1:relation_list", "-"): ALL,
    # The first function in department 1.1: province 2 cannot place anyone there (a field error).
    ("POST", "api-v1:relation_add", "in_d11"): _row(403, 201, 403, 201, 422),
    ("POST", "api-v1:relation_add", "in_d21"): _row(403, 422, 403, 422, 201),
    ("GET", "api-v1:relation_detail", "r_d11"): SEES_D11,
    ("GET", "api-v1:relation_detail", "r_d12"): SEES_D12,
    ("GET", "api-v1:relation_detail", "r_d21"): SEES_D21,
    ("GET", "api-v1:relation_detail", "missing"): MISSING,
    ("PATCH", "api-v1:relation_change", "r_d11"): WRITES_D11,
    ("PATCH", "api-v1:relation_change", "r_d12"): WRITES_D12,
    ("PATCH", "api-v1:relation_change", "r_d21"): WRITES_D21,
    ("PATCH", "api-v1:relation_change", "missing"): MISSING,
    ("GET", "api-v1:function_list", "r_d11"): SEES_D11,
    ("GET", "api-v1:function_list", "r_d21"): SEES_D21,
    ("POST", "api-v1:function_add", "r_d11"): _created(WRITES_D11),
    ("POST", "api-v1:function_add", "r_d21"): _created(WRITES_D21),
    ("POST", "api-v1:function_add", "missing"): MISSING,
    ("POST", "api-v1:function_finish", "f_d11"): WRITES_D11,
    ("POST", "api-v1:function_finish", "f_d12"): WRITES_D12,
    ("POST", "api-v1:function_finish", "f_d21"): WRITES_D21,
    ("POST", "api-v1:function_finish", "missing"): MISSING,
    ("GET", "api-v1:function_type_list", "-"): ALL,
    ("GET", "api-v1:cancellation_reason_list", "-"): ALL,
}

# Endpoints that write, and where their success is recorded with the token's name.
WRITES = {"registration_create", "relation_add", "relation_change", "function_add", "function_finish"}


@pytest.fixture
def probes(federation, members):
    for department in (federation.department11, federation.department21):
        make_intake_form(Tenant.objects.get_parent(department), name=f"Afdelingsformulier {department.pk}", kind="department")
    found = {
        "e_d11": federation.department11, "e_d12": federation.department12, "e_d21": federation.department21,
        "e_p1": federation.province1,
        "r_d11": members["d11a"], "r_d12": members["d12"], "r_d21": members["d21"],
    }
    for key in ("d11", "d12", "d21"):
        found[f"f_{key}"] = Function.objects.get(relation=found[f"r_{key}"])
    return found


def _path(url_name: str, probe: str, probes: dict) -> str:
    if probe in ("-", "in_d11", "in_d21"):
        return reverse(url_name)
    kwarg = {"e": "environment_id", "r": "relation_id", "f": "function_id"}
    if probe == "missing":
        name = url_name.split(":")[1]
        key = "environment_id" if name.startswith(("environment", "registration")) else (
            "function_id" if name == "function_finish" else "relation_id")
        return reverse(url_name, kwargs={key: MISSING_PK})
    return reverse(url_name, kwargs={kwarg[probe[0]]: probes[probe].pk})


def _body(url_name: str, probe: str, probes: dict) -> dict | None:
    name = url_name.split(":")[1]
    if name == "registration_create":
        return {"values": {"first_name": "Eva", "last_name": "Evers", "birth_date": "2001-02-03", "email": "eva@example.org"}}
    if name == "relation_add":
        department = probes["e_d11"] if probe == "in_d11" else probes["e_d21"]
        return {"last_name": "Nieuw", "first_name": "Nina", "first_function": {
            "function_type": "department_member", "environment": department.pk, "start_date": TODAY.isoformat()}}
    if name == "relation_change":
        return {"city": "Zwolle"}
    if name == "function_add":
        relation = probes.get(probe)
        tenant = relation.tenant if relation is not None else probes["e_d11"]
        return {"function_type": "department_chair", "environment": tenant.pk, "start_date": TODAY.isoformat()}
    if name == "function_finish":
        return {"end_date": TODAY.isoformat(), "note": "Verhuisd"}
    return None


def _state() -> tuple:
    return (
        Relation.objects.count(), Relation.history.count(), Function.objects.count(), Function.history.count(),
        Registration.objects.count(),
        sorted(Relation.objects.values_list("pk", "city")), sorted(Function.objects.values_list("pk", "end_date")),
    )


def _written_by(name: str, user: User) -> bool:
    """Whether the write that just succeeded names the token's login."""
    if name == "registration_create":
        return Registration.objects.latest("pk").submitted_by_id == user.pk
    if name in ("relation_add", "relation_change"):
        return Relation.history.latest("history_id").history_user_id == user.pk
    return Function.history.latest("history_id").history_user_id == user.pk


@pytest.fixture(autouse=True)
def _quiet_refusals(caplog):
    caplog.set_level(logging.ERROR, logger="django.request")


@pytest.mark.parametrize(
    ("method", "url_name"), sorted({(m, u) for m, u, _p in TOKEN_MATRIX}, key=lambda mu: (mu[1], mu[0])),
    ids=lambda value: value,
)
def test_it_gives_every_token_the_answer_of_the_matrix(method, url_name, tokens, probes):
    from django.db import transaction

    clients = {actor: ApiClient(tokens[actor][1] if actor != "none" else None) for actor in TOKEN_ACTORS}
    failures = []
    name = url_name.split(":")[1]
    for (m, u, probe), row in TOKEN_MATRIX.items():
        if (m, u) != (method, url_name):
            continue
        path = _path(url_name, probe, probes)
        body = _body(url_name, probe, probes)
        for actor, expected in zip(TOKEN_ACTORS, row, strict=True):
            with transaction.atomic():
                before = _state()
                client = clients[actor]
                response = client.get(path) if method == "GET" else client.send(method, path, body)
                changed = _state() != before
                where = f"{actor} {method} {path} ({probe})"
                if response.status_code != expected:
                    failures.append(f"{where}: expected {expected}, got {response.status_code} {response.content[:200]!r}")
                elif response.status_code >= 400 and not response["Content-Type"].startswith("application/problem+json"):
                    failures.append(f"{where}: an error that is not a problem")
                elif name in WRITES and response.status_code < 300:
                    if not changed:
                        failures.append(f"{where}: answered {response.status_code} but wrote nothing")
                    elif not _written_by(name, tokens[actor][0].user):
                        failures.append(f"{where}: the write does not name the token")
                elif changed:
                    failures.append(f"{where}: answered {response.status_code} but changed data")
                transaction.set_rollback(True)
    assert not failures, "\n".join(failures)


def test_it_lists_exactly_what_the_environment_shows(api_client, probes, members):
    # The oracle, by hand: province 1 shows the members of 1.1 and 1.2; department 1.1 its own two;
    # province 2 the member of 2.1.
    expected = {
        "p1_read": {members["d11a"].pk, members["d11b"].pk, members["d12"].pk},
        "d11_read": {members["d11a"].pk, members["d11b"].pk},
        "p2_write": {members["d21"].pk},
    }
    for actor, ids in expected.items():
        body = api_client(actor).get(reverse("api-v1:relation_list")).json()
        assert {item["id"] for item in body["items"]} == ids, actor
        members_page = api_client(actor).get(
            reverse("api-v1:environment_members", kwargs={"environment_id": api_client and probes["e_d11"].pk})
        )
        if actor == "p2_write":
            assert members_page.status_code == 404
        else:
            assert {item["id"] for item in members_page.json()["items"]} == {members["d11a"].pk, members["d11b"].pk}


def test_it_has_one_answer_per_token_in_every_row():
    for key, row in TOKEN_MATRIX.items():
        assert len(row) == len(TOKEN_ACTORS), key


def test_it_covers_every_endpoint_of_the_schema():
    from api.v1 import api

    schema = api.get_openapi_schema()
    operations = {(method.upper(), op["operationId"]) for ops in schema["paths"].values() for method, op in ops.items()}
    covered = {(method, url_name.split(":")[1]) for method, url_name, _probe in TOKEN_MATRIX}
    assert {(m, op.rsplit("_v1_", 1)[-1]) for m, op in operations} == covered


# --- the token screen ----------------------------------------------------------------------------

#                                                 out  n_sb  n_la  p_sb  p_la  d_la  p2sb  d21  n_sb@p1
SYSTEM_ADMINS = (403, 200, 403, 200, 403, 403, 200, 403, 200)
MATRIX: dict[tuple[str, str, str], tuple[int, ...]] = {
    ("GET", "api_token_list", "-"): SYSTEM_ADMINS,
    ("GET", "api_token_create", "-"): SYSTEM_ADMINS,
    # A token for department 1.1: province 2 is not offered it, so its form shows an error.
    ("POST", "api_token_create", "-"): (403, 302, 403, 302, 403, 403, 200, 403, 302),
    ("GET", "api_token_detail", "t_p1"): (403, 200, 403, 200, 403, 403, 404, 403, 200),
    ("GET", "api_token_detail", "t_p2"): (403, 200, 403, 404, 403, 403, 200, 403, 404),
    ("GET", "api_token_detail", "missing"): (403, 404, 403, 404, 403, 403, 404, 403, 404),
    ("POST", "api_token_revoke", "t_p1"): (403, 302, 403, 302, 403, 403, 404, 403, 302),
    ("POST", "api_token_revoke", "t_p2"): (403, 302, 403, 404, 403, 403, 302, 403, 404),
}
# Every API endpoint is in TOKEN_MATRIX; the documentation and the schema are public
# (tests/tenants/test_access_matrix.py, PUBLIC).
ENDPOINTS = {url_name for _m, url_name, _p in TOKEN_MATRIX}


@pytest.fixture
def screen_objects(federation, tokens):
    return {"t_p1": tokens["p1_write"][0], "t_p2": tokens["p2_write"][0]}


def _screen_url(url_name: str, probe: str, objects: dict) -> str:
    if probe == "-":
        return reverse(url_name)
    return reverse(url_name, kwargs={"pk": MISSING_PK if probe == "missing" else objects[probe].pk})


def _screen_state() -> tuple:
    return (list(ApiToken.objects.order_by("pk").values_list("pk", "revoked_at")), User.objects.count())


@pytest.mark.parametrize(
    ("method", "url_name"), sorted({(m, u) for m, u, _p in MATRIX}, key=lambda mu: (mu[1], mu[0])),
    ids=lambda value: value,
)
def test_it_gives_every_user_the_answer_of_the_matrix(method, url_name, federation, screen_objects):
    def data(name, probe):
        if name == "api_token_create":
            return {"name": "Eigen administratie", "tenant": federation.department11.pk, "scope": "read",
                    "expires_on": (TODAY + datetime.timedelta(days=30)).isoformat()}
        return {}

    failures = matrix_failures(
        method, url_name, MATRIX, federation, url=lambda name, probe: _screen_url(name, probe, screen_objects),
        data=data, request=lambda client, m, url, d: _request(client, m, url, d, state=_screen_state),
    )
    assert not failures, "\n".join(failures)


def test_it_answers_no_server_error_to_hostile_parameters(federation, screen_objects):
    failures = hostile_get_failures(MATRIX, federation, url=lambda name, probe: _screen_url(name, probe, screen_objects))
    assert not failures, "\n".join(failures)


def test_it_answers_no_server_error_to_hostile_parameters_on_any_endpoint(tokens, probes):
    """Every GET endpoint, asked by a token that sees the object, with each hostile value of
    tests/fuzz.py in each of its query parameters: a problem or an answer, never a 5xx."""
    from api.v1 import api
    from tests.fuzz import HOSTILE_VALUES

    schema = api.get_openapi_schema()
    parameters = {
        op["operationId"].rsplit("_v1_", 1)[-1]: [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
        for ops in schema["paths"].values() for method, op in ops.items() if method == "get"
    }
    client = ApiClient(tokens["p1_read"][1])
    failures = []
    for (method, url_name, probe), row in TOKEN_MATRIX.items():
        name = url_name.split(":")[1]
        if method != "GET" or row[TOKEN_ACTORS.index("p1_read")] != 200:
            continue
        path = _path(url_name, probe, probes)
        for parameter in [*parameters[name], "cursor"]:
            for value in HOSTILE_VALUES:
                response = client.get(path, {parameter: value})
                if response.status_code >= 500:
                    failures.append(f"{path}?{parameter}={value[:20]!r}: {response.status_code}")
    for huge in ("99999999999999999999999", "9223372036854775808"):
        response = client.get(f"/api/v1/relations/{huge}")
        if response.status_code != 404:
            failures.append(f"relation {huge}: {response.status_code}")
    assert not failures, "\n".join(failures)
