"""The access matrix of the ledenmodule, the notice-rule settings and looking along (ARCHITECTURE
"Safety"): every URL of issue 7, every kind of user, compared with an oracle written here by hand.
The runner, the actors and the reading of the answers are those of
tests/tenants/test_access_matrix.py; its completeness test also reads this MATRIX.

The ledenmodule is for department administrators only: every other role gets 403 before any
object is looked at (a national administrator sees it only by looking along, tested below). A
department administrator reaching a member of another department gets 404, the same answer as
for a number nobody has.

Objects: r_department11 / r_department21 members of those departments; r_former11 a former
member of department 1.1; k_department21 r_department21 found by its e-mail address (the
known-person search a registration starts with), k_mismatch the same card asked for with
another person's e-mail address; nr a notice rule; u_department_la the login of
department 1.1's administrator.
"""

from __future__ import annotations

import datetime
import logging

import pytest
from django.urls import reverse

from memberships.models import CancellationReason, Function, NoticeRule
from relations.models import Relation
from tenants.models import AuditEvent
from tests.factories import make_relation
from tests.fuzz import hostile_get_failures
from tests.tenants.test_access_matrix import ACTORS, MISSING_PK, _as, _client_for, matrix_failures
from tests.tenants.test_access_matrix import _request as _tenants_request
from wizards.models import Section, Wizard

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()

# (out, n_sb, n_la, p_sb, p_la, d_la, p2sb, d21, n_sb@p1)
OWN_DEPARTMENT = (403, 403, 403, 403, 403, 200, 403, 200, 403)
MEMBER_D11 = (403, 403, 403, 403, 403, 200, 403, 404, 403)
MEMBER_D21 = (403, 403, 403, 403, 403, 404, 403, 200, 403)
NOBODY = (403, 403, 403, 403, 403, 404, 403, 404, 403)
NATIONAL_SB_AT_HOME = (403, 200, 403, 403, 403, 403, 403, 403, 403)



MEMBER_PAGES = ("ledenmodule_member_detail", "ledenmodule_member_edit", "ledenmodule_member_end")

MATRIX: dict[tuple[str, str, str], tuple[int, ...]] = {
    # --- the department's own pages -------------------------------------------------------------
    ("GET", "ledenmodule_member_list", "-"): OWN_DEPARTMENT,
    ("GET", "ledenmodule_dashboard", "-"): OWN_DEPARTMENT,
    ("GET", "ledenmodule_member_search", "-"): OWN_DEPARTMENT,
    ("GET", "ledenmodule_member_create", "-"): OWN_DEPARTMENT,
    # An empty form only shows its errors.
    ("POST", "ledenmodule_member_create", "-"): OWN_DEPARTMENT,
    ("POST", "ledenmodule_member_create", "valid"): _as(OWN_DEPARTMENT, 302),
    ("GET", "ledenmodule_organisation", "-"): OWN_DEPARTMENT,
    ("GET", "ledenmodule_reports", "-"): OWN_DEPARTMENT,
    # A shipped ledenmodule wizard, run in the ledenmodule's layout; any other wizard is not there.
    ("GET", "ledenmodule_report_run", "w_ledenmodule"): OWN_DEPARTMENT,
    ("GET", "ledenmodule_report_run", "w_other"): NOBODY,
    ("GET", "ledenmodule_report_run", "missing"): NOBODY,
    ("GET", "ledenmodule_member_export", "csv"): OWN_DEPARTMENT,
    ("GET", "ledenmodule_member_export", "xlsx"): OWN_DEPARTMENT,
    ("GET", "ledenmodule_member_export", "pdf"): NOBODY,
    ("GET", "ledenmodule_my_history", "-"): OWN_DEPARTMENT,
    # Switching to one's own department; another one is not theirs to choose.
    ("POST", "ledenmodule_department_switch", "department11"): (403, 403, 403, 403, 403, 302, 403, 404, 403),
    ("POST", "ledenmodule_department_switch", "department12"): NOBODY,
    # --- one member -----------------------------------------------------------------------------
    **{("GET", name, "r_department11"): MEMBER_D11 for name in MEMBER_PAGES},
    **{("GET", name, "r_department21"): MEMBER_D21 for name in MEMBER_PAGES},
    **{("GET", name, "missing"): NOBODY for name in MEMBER_PAGES},
    # A former member's card opens (it is homed there); there is no membership left to end.
    ("GET", "ledenmodule_member_detail", "r_former11"): MEMBER_D11,
    ("GET", "ledenmodule_member_end", "r_former11"): NOBODY,
    ("POST", "ledenmodule_member_edit", "r_department11"): _as(MEMBER_D11, 302),
    ("POST", "ledenmodule_member_edit", "r_department21"): _as(MEMBER_D21, 302),
    ("POST", "ledenmodule_member_end", "r_department11"): _as(MEMBER_D11, 302),
    ("POST", "ledenmodule_member_end", "r_department21"): _as(MEMBER_D21, 302),
    # --- registering someone the federation knows ----------------------------------------------
    ("GET", "ledenmodule_member_enrol", "k_department21"): OWN_DEPARTMENT,
    # Department 2.1's administrator: already a member there, the form says so (nothing saved).
    ("POST", "ledenmodule_member_enrol", "k_department21"): (403, 403, 403, 403, 403, 302, 403, 200, 403),
    ("GET", "ledenmodule_member_enrol", "k_mismatch"): NOBODY,
    ("POST", "ledenmodule_member_enrol", "k_mismatch"): NOBODY,
    # --- looking along ---------------------------------------------------------------------------
    # National system administrators only (also from a province environment); nobody else learns
    # that the person exists.
    ("POST", "look_along_start", "u_department_la"): (403, 302, 404, 404, 404, 404, 404, 404, 302),
    ("POST", "look_along_start", "u_province_la"): (403, 404, 404, 404, 404, 404, 404, 404, 404),
    ("POST", "look_along_start", "missing"): (403, 404, 404, 404, 404, 404, 404, 404, 404),
    ("GET", "look_along_start", "u_department_la"): (403, 405, 405, 405, 405, 405, 405, 405, 405),
    # Stopping when not looking along: back home, nothing to record.
    ("POST", "look_along_stop", "-"): (302, 302, 302, 302, 302, 302, 302, 302, 302),
    # --- the federation's notice rules ------------------------------------------------------------
    ("GET", "notice_rule_list", "-"): NATIONAL_SB_AT_HOME,
    ("GET", "notice_rule_create", "-"): NATIONAL_SB_AT_HOME,
    ("POST", "notice_rule_create", "-"): _as(NATIONAL_SB_AT_HOME, 302),
    ("GET", "notice_rule_edit", "nr"): NATIONAL_SB_AT_HOME,
    ("POST", "notice_rule_edit", "nr"): _as(NATIONAL_SB_AT_HOME, 302),
    ("GET", "notice_rule_edit", "missing"): (403, 404, 403, 403, 403, 403, 403, 403, 403),
    ("POST", "notice_rule_delete", "nr"): _as(NATIONAL_SB_AT_HOME, 302),
}

# Views whose success changes only the session.
SUCCESS_WITHOUT_CHANGE = {"ledenmodule_department_switch", "look_along_stop"}


@pytest.fixture(autouse=True)
def _quiet(caplog, settings):
    caplog.set_level(logging.ERROR, logger="django.request")
    settings.ADDRESS_LOOKUP = "ledenbeheer.addresses.NoLookup"


@pytest.fixture
def objects(federation) -> dict:
    found: dict = {**federation.tenants}
    found["r_department11"] = make_relation(federation.department11, last_name="Elf", email="elf@example.org")
    found["r_department21"] = make_relation(
        federation.department21, last_name="Eenentwintig", email="eenentwintig@example.org"
    )
    former = make_relation(federation.department11, last_name="Vroeger")
    Function.objects.filter(relation=former).update(end_date=TODAY - datetime.timedelta(days=3))
    found["r_former11"] = former
    found["k_department21"] = found["r_department21"]
    found["k_mismatch"] = found["r_department21"]
    found["nr"] = NoticeRule.objects.create(
        tenant=federation.national, name="Opzegtermijn", received_from_month=11, received_from_day=1,
        received_until_month=1, received_until_day=1, ends_on_month=1, ends_on_day=1,
    )
    found["w_ledenmodule"] = Wizard.objects.filter(section=Section.LEDENMODULE).order_by("pk").first()
    found["w_other"] = Wizard.objects.exclude(section=Section.LEDENMODULE).order_by("pk").first()
    found["u_department_la"] = federation.department_la
    found["u_province_la"] = federation.province_la
    return found


def _url(url_name: str, probe: str, objects: dict) -> str:
    if url_name == "ledenmodule_member_export":
        return reverse(url_name, kwargs={"fmt": probe})
    if url_name == "ledenmodule_member_enrol":
        email = "eenentwintig@example.org" if probe == "k_department21" else "elf@example.org"
        return reverse(url_name, kwargs={"pk": objects[probe].pk}) + f"?email={email}"
    if probe in ("-", "valid") or url_name == "ledenmodule_department_switch":
        return reverse(url_name)
    pk = MISSING_PK if probe == "missing" else objects[probe].pk
    return reverse(url_name, kwargs={"pk": pk})


def _post_data(url_name: str, probe: str, objects: dict) -> dict:
    today = TODAY.isoformat()
    if url_name == "ledenmodule_department_switch":
        return {"department": objects[probe].pk}
    if url_name == "ledenmodule_member_create" and probe == "valid":
        from memberships.models import FunctionType

        return {
            "kind": "person", "first_name": "Nieuw", "last_name": "Lid", "country": "NL", "language": "nl",
            "magazine_delivery": "automatic", "gender": "", "function_type": FunctionType.objects.get(
                code="department_member").pk, "start_date": today, "tenant": "",
        }
    if url_name == "ledenmodule_member_edit":
        relation = objects[probe]
        return {
            "kind": "person", "first_name": "Jan", "last_name": relation.last_name + " Gewijzigd", "country": "NL",
            "language": "nl", "magazine_delivery": "automatic", "gender": "",
        }
    if url_name == "ledenmodule_member_end":
        return {"end_date": today, "reason": CancellationReason.objects.get(name="Verhuisd").pk, "note": ""}
    if url_name == "ledenmodule_member_enrol":
        from memberships.models import FunctionType

        return {"function_type": FunctionType.objects.get(code="department_member").pk, "start_date": today}
    if url_name in ("notice_rule_create", "notice_rule_edit"):
        return {
            "name": "Nieuwe regel", "received_from_day": 1, "received_from_month": 10, "received_until_day": 31,
            "received_until_month": 10, "ends_on_day": 1, "ends_on_month": 11, "active": "on",
        }
    return {}


def _state() -> tuple:
    return (
        list(Relation.objects.order_by("pk").values_list("pk", "last_name")),
        list(Function.objects.order_by("pk").values_list("pk", "end_date", "tenant_id")),
        list(NoticeRule.objects.order_by("pk").values_list("pk", "name")),
        AuditEvent.objects.count(),
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
        data=lambda name, probe: _post_data(name, probe, objects),
        success_without_change=SUCCESS_WITHOUT_CHANGE,
    )
    assert not failures, "\n".join(failures)


def test_it_keeps_post_rows_for_every_state_changing_view():
    posted = {url_name for method, url_name, _probe in MATRIX if method == "POST"}
    assert {
        "ledenmodule_member_create", "ledenmodule_member_edit", "ledenmodule_member_end", "ledenmodule_member_enrol",
        "ledenmodule_department_switch", "look_along_start", "look_along_stop", "notice_rule_create",
        "notice_rule_edit", "notice_rule_delete",
    } <= posted


# --- looking along: the national administrator sees what department 1.1's administrator sees ---


def _looking_along(federation):
    client = _client_for(federation, "national_sb")
    response = client.post(reverse("look_along_start", kwargs={"pk": federation.department_la.pk}))
    assert response.status_code == 302
    return client


LOOKING_ALONG = {
    ("GET", "ledenmodule_member_list", "-"): 200,
    ("GET", "ledenmodule_dashboard", "-"): 200,
    ("GET", "ledenmodule_member_detail", "r_department11"): 200,
    ("GET", "ledenmodule_member_detail", "r_department21"): 404,
    ("GET", "ledenmodule_member_edit", "r_department21"): 404,
    ("GET", "ledenmodule_member_end", "r_department11"): 200,
    ("GET", "ledenmodule_organisation", "-"): 200,
    ("GET", "ledenmodule_member_export", "csv"): 200,
    ("GET", "ledenmodule_my_history", "-"): 200,
    ("POST", "ledenmodule_department_switch", "department12"): 404,
    # Looking along with someone else needs stopping first.
    ("POST", "look_along_start", "u_department_la"): 404,
}


def test_it_shows_the_looked_along_persons_ledenmodule_and_nothing_more(federation, objects):
    client = _looking_along(federation)
    failures = []
    for (method, url_name, probe), expected in LOOKING_ALONG.items():
        url = _url(url_name, probe, objects)
        got, _changed = _request(client, method, url, _post_data(url_name, probe, objects) if method == "POST" else {})
        if got != expected:
            failures.append(f"{method} {url} ({url_name}, {probe}): expected {expected}, got {got}")
    assert not failures, "\n".join(failures)


def test_it_answers_404_to_a_department_administrator_probing_other_environments(federation, objects):
    # Other departments' members, the province and the federation: 404, as if they did not exist.
    client = _client_for(federation, "department_la")
    urls = [
        reverse("ledenmodule_member_detail", kwargs={"pk": objects["r_department21"].pk}),
        reverse("relation_detail", kwargs={"pk": objects["r_department21"].pk}),
        reverse("tenant_detail", kwargs={"pk": federation.province1.pk}),
        reverse("tenant_detail", kwargs={"pk": federation.national.pk}),
        reverse("tenant_detail", kwargs={"pk": federation.department12.pk}),
    ]
    for url in urls:
        assert _request(client, "GET", url, {})[0] == 404, url
    for tenant in (federation.province1, federation.national, federation.department12):
        got, _ = _request(client, "POST", reverse("switch_environment"), {"tenant": tenant.pk})
        assert got == 404, tenant


def test_it_answers_no_server_error_to_hostile_parameters_on_any_page(federation, objects):
    failures = hostile_get_failures(MATRIX, federation, url=lambda name, probe: _url(name, probe, objects))
    assert not failures, "\n".join(failures)
