"""The access matrix of relation cards, functions, search and configuration (ARCHITECTURE
"Safety"): every URL of issue 3, every kind of user, compared with an oracle written here by
hand. The runner, the actors and the reading of the answers are those of
tests/tenants/test_access_matrix.py; its completeness test also reads this MATRIX.

Which relations each environment shows (the rule the oracle encodes by hand):
- r_department11 / r_department21: members homed in those departments;
- r_national: homed in the federation (a national board member): only national users;
- r_guest: homed in department 2.1 with a CURRENT board function in department 1.1: visible in
  both branches;
- r_former: homed in department 2.1 with an ENDED function in department 1.1: not visible in
  province 1 (past functions do not open the card);
- f_<relation>: that relation's membership; f_guest_board: r_guest's board function in 1.1.
"""

from __future__ import annotations

import datetime
import logging

import pytest
from django.urls import reverse

from memberships.models import CancellationReason, Function, FunctionType
from relations.models import (
    ColumnPreference,
    CommunicationEntry,
    CommunicationType,
    CustomField,
    Relation,
    SavedSearch,
)
from tests.factories import give_function, make_relation
from tests.fuzz import hostile_get_failures
from tests.tenants.test_access_matrix import (
    ACTORS,
    EVERY_ROLE,
    MISSING,
    MISSING_PK,
    _as,
    _client_for,
    matrix_failures,
)
from tests.tenants.test_access_matrix import _request as _tenants_request

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()

# Rows of visibility, reused below: (out, n_sb, n_la, p_sb, p_la, d_la, p2sb, d21, n_sb@p1)
SEES_D11 = (403, 200, 200, 200, 200, 200, 404, 404, 200)
SEES_D21 = (403, 200, 200, 404, 404, 404, 200, 200, 404)
SEES_NAT = (403, 200, 200, 404, 404, 404, 404, 404, 404)
SEES_ALL = EVERY_ROLE
SYSTEM_ADMINS = (403, 200, 403, 200, 403, 403, 200, 403, 200)
NATIONAL_SB = (403, 200, 403, 403, 403, 403, 403, 403, 200)
# The privacy tab (GDPR): national system administrators only; 404 where the card is not seen.
NATIONAL_SB_D11 = (403, 200, 403, 403, 403, 403, 404, 404, 200)
NATIONAL_SB_D21 = (403, 200, 403, 404, 404, 404, 403, 403, 404)



def _without_communication(row: tuple) -> tuple:
    # Department administrators do not see the communication log: 403 where they see the card.
    cells = list(row)
    for index in (5, 7):
        if cells[index] == 200:
            cells[index] = 403
    return tuple(cells)


CARD = ("relation_detail", "relation_edit", "relation_history", "function_list", "function_add")

MATRIX: dict[tuple[str, str, str], tuple[int, ...]] = {
    # --- search, exports, columns, saved searches, bulk end -------------------------------------
    ("GET", "relation_list", "-"): EVERY_ROLE,
    ("GET", "relation_count", "-"): EVERY_ROLE,
    ("GET", "relation_export", "csv"): EVERY_ROLE,
    ("GET", "relation_export", "xlsx"): EVERY_ROLE,
    ("POST", "relation_columns", "-"): _as(EVERY_ROLE, 302),
    ("POST", "saved_search_create", "-"): _as(EVERY_ROLE, 302),
    # Only its owner, in the environment where it was saved, can delete a saved search.
    ("POST", "saved_search_delete", "s_province_sb"): (403, 404, 404, 302, 404, 404, 404, 404, 404),
    ("GET", "memberships_bulk_end", "-"): EVERY_ROLE,
    # Ending r_department11's membership: the form only offers what the environment shows.
    ("POST", "memberships_bulk_end", "f_department11"): (403, 302, 302, 302, 302, 302, 200, 200, 302),
    ("GET", "address_lookup", "-"): EVERY_ROLE,
    # --- the card ------------------------------------------------------------------------------
    **{("GET", name, "r_department11"): SEES_D11 for name in CARD},
    **{("GET", name, "r_department21"): SEES_D21 for name in CARD},
    **{("GET", name, "r_national"): SEES_NAT for name in CARD},
    **{("GET", name, "r_guest"): SEES_ALL for name in CARD},
    **{("GET", name, "r_former"): SEES_D21 for name in CARD},
    **{("GET", name, "missing"): MISSING for name in CARD},
    ("GET", "relation_communication", "r_department11"): _without_communication(SEES_D11),
    ("GET", "relation_communication", "r_department21"): _without_communication(SEES_D21),
    ("GET", "relation_communication", "r_former"): _without_communication(SEES_D21),
    ("GET", "relation_communication", "missing"): MISSING,
    ("POST", "relation_communication", "r_department11"): _as(_without_communication(SEES_D11), 302),
    ("POST", "relation_communication", "r_former"): _as(_without_communication(SEES_D21), 302),
    ("GET", "relation_create", "-"): EVERY_ROLE,
    # An empty form only shows its errors.
    ("POST", "relation_create", "-"): EVERY_ROLE,
    ("POST", "relation_edit", "r_department11"): SEES_D11,
    ("POST", "relation_edit", "r_former"): SEES_D21,
    ("POST", "function_add", "r_department11"): SEES_D11,
    ("POST", "function_add", "r_former"): SEES_D21,
    # --- actions on one function ----------------------------------------------------------------
    ("GET", "function_end", "f_department11"): SEES_D11,
    ("GET", "function_end", "f_department21"): SEES_D21,
    ("GET", "function_end", "f_other_relation"): MISSING,
    # r_guest's home membership lies in department 2.1: province 1 sees the card, not the power.
    ("GET", "function_end", "f_guest"): (403, 200, 200, 403, 403, 403, 200, 200, 200),
    ("GET", "function_end", "f_guest_board"): SEES_ALL[:6] + (403, 403, 200),
    ("POST", "function_end", "f_department11"): _as(SEES_D11, 302),
    ("POST", "function_end", "f_department21"): _as(SEES_D21, 302),
    # Correcting a function's dates: the same power as ending it.
    ("GET", "function_dates", "f_department11"): SEES_D11,
    ("GET", "function_dates", "f_department21"): SEES_D21,
    ("GET", "function_dates", "f_other_relation"): MISSING,
    ("GET", "function_dates", "f_guest"): (403, 200, 200, 403, 403, 403, 200, 200, 200),
    ("POST", "function_dates", "f_department11"): _as(SEES_D11, 302),
    ("POST", "function_dates", "f_department21"): _as(SEES_D21, 302),
    ("GET", "function_delete", "f_department11"): (403, 200, 403, 403, 403, 403, 404, 404, 200),
    ("GET", "function_delete", "f_department21"): (403, 200, 403, 404, 404, 404, 403, 403, 404),
    ("POST", "function_delete", "f_department11"): (403, 302, 403, 403, 403, 403, 404, 404, 302),
    ("POST", "function_delete", "f_department21"): (403, 302, 403, 404, 404, 404, 403, 403, 404),
    ("GET", "member_transfer", "f_department11"): (403, 200, 200, 200, 200, 403, 404, 404, 200),
    ("GET", "member_transfer", "f_department21"): (403, 200, 200, 404, 404, 404, 200, 403, 404),
    # To department 1.2: within province 1.
    ("POST", "member_transfer", "f_department11"): (403, 302, 302, 302, 302, 403, 404, 404, 302),
    # r_guest (homed in 2.1) also given a membership in 1.1, moved to 1.2: the home would leave
    # province 2, so only the federation may (issue 12, defect 1); a refusal changes nothing.
    ("POST", "member_transfer", "f_guest_member11"): (403, 302, 200, 200, 200, 403, 403, 403, 302),
    # --- magazine addresses ---------------------------------------------------------------------
    ("GET", "magazine_addresses", "-"): EVERY_ROLE,
    ("POST", "magazine_block", "a_shared"): (403, 302, 302, 302, 302, 302, 302, 302, 302),
    # --- configuration --------------------------------------------------------------------------
    ("GET", "custom_field_list", "-"): SYSTEM_ADMINS,
    ("GET", "custom_field_create", "-"): SYSTEM_ADMINS,
    ("POST", "custom_field_create", "-"): _as(SYSTEM_ADMINS, 302),
    # Only the current environment's own fields can be changed there.
    ("GET", "custom_field_edit", "cf_province1"): (403, 404, 403, 200, 403, 403, 404, 403, 200),
    ("GET", "custom_field_edit", "cf_national"): (403, 200, 403, 404, 403, 403, 404, 403, 404),
    ("GET", "custom_field_delete", "cf_province1"): (403, 404, 403, 200, 403, 403, 404, 403, 200),
    ("POST", "custom_field_delete", "cf_province1"): (403, 404, 403, 302, 403, 403, 404, 403, 302),
    ("GET", "communication_type_list", "-"): SYSTEM_ADMINS,
    ("POST", "communication_type_list", "-"): _as(SYSTEM_ADMINS, 302),
    ("GET", "communication_type_edit", "ct_province1"): (403, 404, 403, 200, 403, 403, 404, 403, 200),
    ("POST", "communication_type_edit", "ct_province1"): (403, 404, 403, 302, 403, 403, 404, 403, 302),
    ("GET", "cancellation_reason_list", "-"): NATIONAL_SB,
    ("POST", "cancellation_reason_list", "-"): _as(NATIONAL_SB, 302),
    ("GET", "cancellation_reason_edit", "cr"): NATIONAL_SB,
    ("POST", "cancellation_reason_edit", "cr"): _as(NATIONAL_SB, 302),
    # --- the privacy tab (GDPR) -----------------------------------------------------------------
    ("GET", "relation_privacy", "r_department11"): NATIONAL_SB_D11,
    ("GET", "relation_privacy", "r_department21"): NATIONAL_SB_D21,
    ("GET", "relation_privacy", "missing"): MISSING,
    ("GET", "relation_personal_data", "r_department11"): NATIONAL_SB_D11,
    ("GET", "relation_personal_data", "r_department21"): NATIONAL_SB_D21,
    ("GET", "relation_personal_data", "missing"): MISSING,
    # r_erasable holds no current function, so the erasure goes through.
    ("POST", "relation_anonymise", "r_erasable"): _as(NATIONAL_SB_D11, 302),
    ("POST", "relation_anonymise", "missing"): MISSING,
}

# Views whose success may legitimately change nothing (e.g. blocking when one magazine remains).
SUCCESS_WITHOUT_CHANGE = {"magazine_block"}


@pytest.fixture(autouse=True)
def _quiet_and_offline(caplog, settings):
    caplog.set_level(logging.ERROR, logger="django.request")
    settings.ADDRESS_LOOKUP = "ledenbeheer.addresses.NoLookup"


@pytest.fixture
def objects(federation) -> dict:
    found: dict = {}
    found["r_department11"] = make_relation(federation.department11, last_name="Elf", postcode="1111 AA", house_number=1)
    found["r_department21"] = make_relation(federation.department21, last_name="Eenentwintig")
    found["r_national"] = make_relation(
        federation.national, last_name="Landelijk", function_code="national_board_member"
    )
    guest = make_relation(federation.department21, last_name="Gast")
    found["r_guest"] = guest
    found["f_guest_board"] = give_function(guest, federation.department11, "department_board_member")
    former = make_relation(federation.department21, last_name="Vroeger")
    found["r_former"] = former
    Function.objects.create(
        relation=former, tenant=federation.department11,
        function_type=FunctionType.objects.get(code="department_board_member"),
        start_date=TODAY - datetime.timedelta(days=400), end_date=TODAY - datetime.timedelta(days=10),
    )
    membership = Function.objects.memberships()
    for key in ("department11", "department21", "guest"):
        relation = found[f"r_{key}"]
        found[f"f_{key}"] = membership.get(relation=relation)
    found["f_guest_member11"] = give_function(guest, federation.department11, "department_member")
    # A second relation at r_department11's address, both receiving the magazine.
    make_relation(federation.department11, last_name="Huisgenoot", postcode="1111 AA", house_number=1)
    found["a_shared"] = "1111 AA|1|"
    found["s_province_sb"] = SavedSearch.objects.create(
        user=federation.province_sb, tenant=federation.province1, name="Mijn zoekopdracht", query_string="q=a"
    )
    found["cf_province1"] = CustomField.objects.create(
        tenant=federation.province1, code="diploma", label="Diploma", field_type="text"
    )
    found["cf_national"] = CustomField.objects.create(
        tenant=federation.national, code="werk", label="Werk", field_type="text"
    )
    found["ct_province1"] = CommunicationType.objects.create(tenant=federation.province1, code="tel", name="Telefoon")
    found["cr"] = CancellationReason.objects.get(name="Verhuisd")
    erasable = make_relation(
        federation.department11, last_name="Uitgeschreven", start_date=TODAY - datetime.timedelta(days=400)
    )
    Function.objects.filter(relation=erasable).update(end_date=TODAY - datetime.timedelta(days=10))
    found["r_erasable"] = erasable
    return found


def _url(url_name: str, probe: str, objects: dict) -> str:
    if url_name == "relation_export":
        return reverse(url_name, kwargs={"fmt": probe})
    if url_name == "address_lookup":
        return reverse(url_name) + "?postcode=1234AB&house_number=1"
    if probe in ("-", "a_shared") or url_name == "memberships_bulk_end":
        return reverse(url_name)
    if url_name in ("function_end", "function_dates", "function_delete", "member_transfer"):
        if probe == "f_other_relation":
            # r_department21's membership asked for under r_department11's card.
            return reverse(url_name, kwargs={"pk": objects["r_department11"].pk,
                                             "function_pk": objects["f_department21"].pk})
        function = objects[probe]
        return reverse(url_name, kwargs={"pk": function.relation_id, "function_pk": function.pk})
    pk = MISSING_PK if probe == "missing" else objects[probe].pk
    return reverse(url_name, kwargs={"pk": pk})


def _post_data(url_name: str, probe: str, objects: dict, federation) -> dict:
    today = TODAY.isoformat()
    data = {
        "relation_columns": {"columns": ["number", "name"]},
        "saved_search_create": {"name": "Test", "query_string": "q=jan"},
        "relation_communication": {"date": today, "subject": "Gebeld", "body": ""},
        "function_end": {"end_date": today, "note": ""},
        "function_dates": {"start_date": (TODAY - datetime.timedelta(days=400)).isoformat(), "end_date": ""},
        "member_transfer": {"to_department": federation.department12.pk, "date": today},
        "magazine_block": {"address": "1111 AA|1|"},
        "custom_field_create": {"label": "Maat", "code": "maat", "field_type": "text", "order": 1},
        "communication_type_list": {"code": "bezoek", "name": "Bezoek"},
        "communication_type_edit": {"code": "tel", "name": "Telefoongesprek"},
        "cancellation_reason_list": {"name": "Studie", "order": 9, "active": "on"},
        "cancellation_reason_edit": {"name": "Verhuisd naar buitenland", "order": 1, "active": "on"},
        "relation_anonymise": {"understood": "on", "number": str(objects["r_erasable"].number)},
    }.get(url_name, {})
    if url_name == "memberships_bulk_end":
        function = objects[probe]
        data = {"relation": [function.relation_id], "functions": [function.pk], "end_date": today}
    return data


# Environments inside province 1, where its communication type is offered (and then required).
IN_PROVINCE1 = {"province_sb", "province_la", "department_la", "national_sb@province1"}


def _for_actor(data: dict, url_name: str, actor: str, objects: dict) -> dict:
    if url_name == "relation_communication" and actor in IN_PROVINCE1:
        return {**data, "communication_type": objects["ct_province1"].pk}
    return data


def _state() -> tuple:
    return (
        list(Relation.objects.order_by("pk").values_list("pk", "last_name", "tenant_id", "magazine_delivery")),
        list(Function.objects.order_by("pk").values_list("pk", "start_date", "end_date")),
        SavedSearch.objects.count(),
        list(ColumnPreference.objects.values_list("user_id", "columns")),
        list(CustomField.objects.order_by("pk").values_list("pk", "label")),
        list(CommunicationType.objects.order_by("pk").values_list("pk", "name")),
        list(CancellationReason.objects.order_by("pk").values_list("pk", "name", "active")),
        CommunicationEntry.objects.count(),
    )


def _request(client, method: str, url: str, data: dict):
    return _tenants_request(client, method, url, data, state=_state)


def test_it_has_one_answer_per_actor_in_every_row():
    for key, row in MATRIX.items():
        assert len(row) == len(ACTORS), key


@pytest.mark.parametrize(
    ("method", "url_name"),
    sorted({(m, u) for m, u, _probe in MATRIX}, key=lambda mu: (mu[1], mu[0])),
    ids=lambda value: value,
)
def test_it_gives_every_user_the_answer_of_the_matrix(method, url_name, federation, objects):
    failures = matrix_failures(
        method, url_name, MATRIX, federation, request=_request,
        url=lambda name, probe: _url(name, probe, objects),
        data=lambda name, probe: _post_data(name, probe, objects, federation),
        for_actor=lambda data, actor: _for_actor(data, url_name, actor, objects),
        success_without_change=SUCCESS_WITHOUT_CHANGE,
    )
    assert not failures, "\n".join(failures)


def test_it_keeps_post_rows_for_every_state_changing_view():
    posted = {url_name for method, url_name, _probe in MATRIX if method == "POST"}
    state_changing = {
        "relation_columns", "saved_search_create", "saved_search_delete", "memberships_bulk_end",
        "relation_create", "relation_edit", "relation_communication", "function_add", "function_end",
        "function_dates", "function_delete", "member_transfer", "magazine_block", "custom_field_create",
        "custom_field_delete", "communication_type_list", "communication_type_edit",
        "cancellation_reason_list", "cancellation_reason_edit", "relation_anonymise",
    }
    assert state_changing <= posted


def test_it_never_lets_a_province_administrator_guess_another_provinces_relation(federation, objects):
    # Every page of the card, probed by number guessing: 404, the same as for a number nobody has.
    client = _client_for(federation, "province_sb")
    relation = objects["r_department21"]
    function = objects["f_department21"]
    urls = [reverse(name, kwargs={"pk": relation.pk}) for name in (*CARD, "relation_communication")]
    urls += [
        reverse(name, kwargs={"pk": relation.pk, "function_pk": function.pk})
        for name in ("function_end", "function_dates", "function_delete", "member_transfer")
    ]
    for url in urls:
        assert _request(client, "GET", url, {})[0] == 404, url
        assert _request(client, "POST", url, {})[0] == 404, url


def test_it_answers_no_server_error_to_hostile_parameters_on_any_page(federation, objects):
    failures = hostile_get_failures(MATRIX, federation, url=lambda name, probe: _url(name, probe, objects))
    assert not failures, "\n".join(failures)
