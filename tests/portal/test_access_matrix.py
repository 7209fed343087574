"""The access matrix of the member portal (issue 18): every portal URL for every kind of user,
compared with an oracle written here by hand, and a sweep of every other URL of the project with
a member's login: a member reaches nothing but their own card (404, or 405 for a wrong method).

Two tables. MEMBER_MATRIX: the portal's own pages, for the actors of MEMBER_ACTORS (two members
with a login, a login without a role or a card, a department administrator and a national system
administrator who have no card of their own). ADMIN_MATRIX: the administrators' side (inviting,
approving corrections, the national approval setting), for the actors of every app's matrix.
"""

from __future__ import annotations

import logging
import uuid

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter, UUIDConverter

from portal import services
from portal.models import LoginLink
from relations.models import (
    ApprovalSetting,
    ChangeRequest,
    CommunicationEntry,
    CommunicationRefusal,
    CommunicationType,
    Relation,
)
from tenants.models import User
from tests.factories import make_relation
from tests.fuzz import hostile_get_failures
from tests.tenants.test_access_matrix import (
    ACTORS,
    EVERY_ROLE,
    PUBLIC,
    _as,
    matrix_failures,
)

pytestmark = pytest.mark.django_db

AUTH_BACKEND = "tenants.backends.TenantRoleBackend"
NEW_PASSWORD = "paarse-olifant-op-de-fiets"

MEMBER_ACTORS = ("anonymous", "member", "other_member", "outsider", "department_la", "national_sb")
#                     anon     member other  outsider d_la  n_sb
OWN = ("login", 200, 200, 404, 404, 404)
OWN_POST = ("login", 302, 302, 404, 404, 404)
OPEN = (200, 200, 200, 200, 200, 200)

MEMBER_MATRIX: dict[tuple[str, str, str], tuple] = {
    ("GET", "portal_home", "-"): OWN,
    ("GET", "portal_contact_edit", "-"): OWN,
    ("POST", "portal_contact_edit", "-"): OWN_POST,
    ("GET", "portal_history", "-"): OWN,
    ("GET", "portal_preferences", "-"): OWN,
    ("POST", "portal_preferences", "-"): OWN_POST,
    ("GET", "portal_password", "-"): OWN,
    ("POST", "portal_password", "-"): OWN_POST,
    ("GET", "portal_personal_data", "-"): OWN,
    ("GET", "portal_card", "-"): OWN,
    ("GET", "portal_card_pdf", "-"): OWN,
    # Open to anyone: asking for a link tells nothing; a link that is not valid logs nobody in.
    ("GET", "portal_login", "-"): OPEN,
    ("POST", "portal_login", "-"): OPEN,
    ("GET", "portal_login_link", "forged"): (400, 400, 400, 400, 400, 400),
    ("POST", "portal_login_link", "forged"): (400, 400, 400, 400, 400, 400),
    # The QR code's address: validity only, for anyone; a forged one shows nothing.
    ("GET", "portal_card_verify", "card_member"): OPEN,
    ("GET", "portal_card_verify", "forged"): (404, 404, 404, 404, 404, 404),
}

# The administrators' side, for the actors of every app's matrix (tests/tenants/test_access_matrix.py).
#            out  n_sb  n_la  p_sb  p_la  d_la  p2sb  d21  n_sb@p1
NATIONAL_SB = (403, 200, 403, 403, 403, 403, 403, 403, 200)
DEPARTMENT_ADMINS = (403, 403, 403, 403, 403, 200, 403, 200, 403)
ADMIN_MATRIX: dict[tuple[str, str, str], tuple] = {
    ("GET", "approval_settings", "-"): NATIONAL_SB,
    ("POST", "approval_settings", "-"): _as(NATIONAL_SB, 302),
    ("GET", "ledenmodule_change_requests", "-"): DEPARTMENT_ADMINS,
    # A correction of a member of department 1.1: its department decides; 2.1's administrator
    # cannot even find it.
    ("POST", "ledenmodule_change_requests", "cr_department11"): (
        403,
        403,
        403,
        403,
        403,
        302,
        403,
        404,
        403,
    ),
    ("POST", "portal_invite", "r_department11"): (403, 302, 302, 302, 302, 302, 404, 404, 302),
    ("POST", "portal_invite", "r_department21"): (403, 302, 302, 404, 404, 404, 302, 302, 404),
    ("GET", "portal_invite_selection", "-"): EVERY_ROLE,
    # Only persons the environment shows are invited; without one the page asks to select (400).
    ("POST", "portal_invite_selection", "r_department11"): (
        403,
        302,
        302,
        302,
        302,
        302,
        400,
        400,
        302,
    ),
}

MATRIX = {**MEMBER_MATRIX, **ADMIN_MATRIX}

# What a member may reach outside the portal: their own account, and what is open to anyone.
MEMBER_OWN_ACCOUNT = {
    "home": "sends the member to the portal",
    "password_change": "their own password",
    "switch_environment": "lists no environment for a login without a role",
    "two_factor_settings": "their own second factor",
    "two_factor_enrol": "their own second factor",
    "two_factor_recovery_codes": "their own second factor",
    "two_factor_disable": "their own second factor",
    "look_along_stop": "like logging out: without looking along it only sends to the home page",
}


@pytest.fixture(autouse=True)
def _quiet(caplog, settings):
    caplog.set_level(logging.ERROR, logger="django.request")
    settings.ADDRESS_LOOKUP = "ledenbeheer.addresses.NoLookup"


@pytest.fixture
def objects(federation) -> dict:
    member = make_relation(
        federation.department11, first_name="Anna", last_name="Mulder", email="anna@example.org"
    )
    other = make_relation(
        federation.department21, first_name="Bert", last_name="Ander", email="bert@example.org"
    )
    for relation in (member, other):
        services.member_login_ensure(actor=None, relation=relation)
        relation.refresh_from_db()
    CommunicationType.objects.create(tenant=federation.national, code="news", name="Nieuwsbrief")
    card = services.membership_cards(member)[0]
    return {
        "member": member,
        "other_member": other,
        "r_department11": member,
        "r_department21": other,
        "card_member": services.card_token(card.membership),
        "cr_department11": ChangeRequest.objects.create(
            relation=member,
            tenant=federation.department11,
            values={"city": "Utrecht"},
            previous={"city": ""},
            requested_by=member.user,
        ),
    }


def _member_clients(federation, objects) -> dict[str, Client]:
    clients = {}
    for actor in MEMBER_ACTORS:
        client = Client()
        if actor in ("member", "other_member"):
            client.force_login(objects[actor].user, backend=AUTH_BACKEND)
        elif actor != "anonymous":
            client.force_login(federation.users[actor], backend=AUTH_BACKEND)
        clients[actor] = client
    return clients


def _url(url_name: str, probe: str, objects: dict) -> str:
    if url_name == "portal_login_link":
        return reverse(url_name, args=["eyJsIjoxfQ:1abc:forged"])
    if url_name == "portal_card_verify":
        token = (
            objects["card_member"]
            if probe == "card_member"
            else objects["card_member"][:-4] + "AAAA"
        )
        return reverse(url_name, args=[token])
    if url_name == "portal_invite":
        return reverse(url_name, args=[objects[probe].pk])
    return reverse(url_name)


def _data(url_name: str, probe: str, objects: dict, actor: str = "") -> dict:
    if url_name == "portal_contact_edit":
        relation = objects.get(actor) or objects["member"]
        return {
            "email": relation.email,
            "phone": "",
            "mobile": "",
            "postcode": "1234 AB",
            "house_number": "7",
            "house_number_suffix": "",
            "street": "Kerkstraat",
            "city": "Ergens",
            "country": "NL",
        }
    if url_name == "portal_password":
        return {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    if url_name == "portal_login":
        return {"email": "anna@example.org"}
    if url_name == "approval_settings":
        return {"fields": ["street", "city"]}
    if url_name == "ledenmodule_change_requests":
        return {"request": objects[probe].pk, "decision": "approve"}
    if url_name == "portal_invite_selection":
        return {"relation": [objects[probe].pk], "next": ""}
    return {}


def _state() -> tuple:
    return (
        Relation.history.count(),
        CommunicationRefusal.objects.count(),
        sorted(User.objects.values_list("pk", "password")),
        LoginLink.objects.count(),
        CommunicationEntry.objects.count(),
        list(ApprovalSetting.objects.values_list("fields", flat=True)),
        list(ChangeRequest.objects.values_list("status", flat=True)),
    )


def _outcome(response) -> int | str:
    if response.status_code == 302 and response.url.startswith(reverse("login")):
        return "login"
    return response.status_code


@pytest.mark.parametrize(
    ("method", "url_name"), sorted({(m, u) for m, u, _p in MEMBER_MATRIX}), ids=lambda value: value
)
def test_it_gives_every_member_and_user_the_answer_of_the_matrix(
    method, url_name, federation, objects
):
    clients = _member_clients(federation, objects)
    failures = []
    for (m, u, probe), row in MEMBER_MATRIX.items():
        if (m, u) != (method, url_name):
            continue
        url = _url(url_name, probe, objects)
        for actor, expected in zip(MEMBER_ACTORS, row, strict=True):
            # The login-link throttle counts in the cache, which the rollback does not undo.
            cache.clear()
            with transaction.atomic():
                before = _state()
                if method == "GET":
                    response = clients[actor].get(url)
                else:
                    response = clients[actor].post(url, _data(url_name, probe, objects, actor))
                changed = _state() != before
                transaction.set_rollback(True)
            got = _outcome(response)
            where = f"{actor} {method} {url} ({url_name}, {probe})"
            if got != expected:
                failures.append(f"{where}: expected {expected}, got {got}")
            elif method == "POST" and expected == 302 and not changed:
                failures.append(f"{where}: answered 302 but changed nothing")
            elif method == "POST" and url_name != "portal_login" and expected != 302 and changed:
                failures.append(f"{where}: answered {got} but changed data")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    ("method", "url_name"), sorted({(m, u) for m, u, _p in ADMIN_MATRIX}), ids=lambda value: value
)
def test_it_gives_every_administrator_the_answer_of_the_matrix(
    method, url_name, federation, objects
):
    failures = matrix_failures(
        method,
        url_name,
        ADMIN_MATRIX,
        federation,
        state=_state,
        url=lambda name, probe: _url(name, probe, objects),
        data=lambda name, probe: _data(name, probe, objects),
    )
    assert not failures, "\n".join(failures)


def test_it_has_one_answer_per_actor_in_every_row():
    for key, row in MEMBER_MATRIX.items():
        assert len(row) == len(MEMBER_ACTORS), key
    for key, row in ADMIN_MATRIX.items():
        assert len(row) == len(ACTORS), key


def _patterns(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            if pattern.namespace == "api-v1":
                # The HTTP API answers a token, never a session: a member's login gets 401 there
                # (checked below); its own matrix (tests/api) covers every endpoint.
                continue
            yield from _patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield pattern


def _sample_url(pattern: URLPattern, relation_pk: int) -> str:
    kwargs = {}
    for name, converter in pattern.pattern.converters.items():
        if isinstance(converter, IntConverter):
            kwargs[name] = relation_pk
        elif isinstance(converter, UUIDConverter):
            kwargs[name] = uuid.uuid4()
        else:
            kwargs[name] = "csv"
    return reverse(pattern.name, kwargs=kwargs)


def test_it_lets_a_member_reach_nothing_but_their_own_card(federation, objects):
    # Every URL of the project that is not the portal's, not public and not the member's own
    # account, with the other member's card (or any number) where a URL takes one: 404, or 405
    # when the URL takes no GET (or no POST); nothing changes.
    client = Client()
    client.force_login(objects["member"].user, backend=AUTH_BACKEND)
    other = objects["other_member"].pk
    allowed = (
        set(PUBLIC) | set(MEMBER_OWN_ACCOUNT) | {n for _m, n, _p in MEMBER_MATRIX} | {"logout"}
    )
    failures = []
    checked = 0
    for pattern in _patterns(get_resolver().url_patterns):
        if pattern.name in allowed:
            continue
        url = _sample_url(pattern, other)
        for method in ("GET", "POST"):
            with transaction.atomic():
                before = _state()
                response = client.get(url) if method == "GET" else client.post(url, {})
                changed = _state() != before
                transaction.set_rollback(True)
            if response.status_code not in (404, 405) or changed:
                failures.append(
                    f"{method} {url} ({pattern.name}): {response.status_code}, changed={changed}"
                )
        checked += 1
    assert checked > 100
    assert not failures, "\n".join(failures)
    # The admin site too, and the home page sends the member to the portal.
    assert client.get("/admin/").status_code == 404
    assert client.get(reverse("api-v1:relation_list")).status_code == 401
    assert client.get(reverse("home")).url == reverse("portal_home")


def test_it_shows_a_member_their_own_data_only(federation, objects):
    client = Client()
    client.force_login(objects["member"].user, backend=AUTH_BACKEND)
    page = client.get(reverse("portal_home")).content.decode()
    assert "Anna Mulder" in page and "Bert" not in page
    assert (
        client.get(reverse("relation_detail", args=[objects["other_member"].pk])).status_code == 404
    )
    assert client.get(reverse("relation_detail", args=[objects["member"].pk])).status_code == 404


def test_it_answers_hostile_input_on_every_portal_page_without_a_server_error(federation, objects):
    # The shared fuzzer opens each GET page with hostile parameter values as a user who may open
    # it; on the portal that user is the member.
    clients = _member_clients(federation, objects)
    failures = []
    for (method, url_name, probe), _row in MEMBER_MATRIX.items():
        if method != "GET":
            continue
        url = _url(url_name, probe, objects)
        for value in ("a\x00b", "x" * 4000, "' OR 1=1; --", "😀", "<script>"):
            response = clients["member"].get(url, {"q": value, "page": value})
            if response.status_code >= 500:
                failures.append(f"{url} {value[:10]!r}: {response.status_code}")
    for token in ("a\x00b", "x" * 4000, "😀", "..%2f"):
        for name in ("portal_login_link", "portal_card_verify"):
            response = clients["anonymous"].get(
                f"/portal/{'login' if name == 'portal_login_link' else 'verify'}/{token}/"
            )
            if response.status_code >= 500:
                failures.append(f"{name} {token[:10]!r}: {response.status_code}")
    assert not failures, "\n".join(failures)


def test_it_answers_hostile_input_on_every_administrator_page_without_a_server_error(
    federation, objects
):
    failures = hostile_get_failures(
        ADMIN_MATRIX, federation, url=lambda name, probe: _url(name, probe, objects)
    )
    assert not failures, "\n".join(failures)
