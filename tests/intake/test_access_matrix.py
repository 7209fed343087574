"""The access matrix of intake forms and registrations (issue 5), read like
tests/tenants/test_access_matrix.py, whose completeness test also reads this MATRIX.

Objects:
- if_province1: province 1's public form (every department of province 1 may be chosen);
- if_national: the federation's form for province 2 (departments 2.1 and 2.2);
- reg_province1: a registration through if_province1 for department 1.1;
- reg_national: a registration through if_national for department 2.1 — in the federation's list
  and in province 2's.
Department administrators may enter registrations ("+Inschrijving") for their own department but
not see the list; intake forms are settings of system administrators.
"""

from __future__ import annotations

import datetime
import logging

import pytest
from django.urls import reverse

from intake import services as intake
from intake.models import IntakeForm, IntakeFormRow, Registration
from memberships.models import Function, FunctionType
from relations.models import Relation
from tests.factories import make_intake_form, make_relation
from tests.fuzz import hostile_get_failures
from tests.tenants.test_access_matrix import ACTORS, MISSING, MISSING_PK, _as, matrix_failures

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()

#                 out  n_sb  n_la  p_sb  p_la  d_la  p2sb  d21  n_sb@p1
SYSTEM_ADMINS = (403, 200, 403, 200, 403, 403, 200, 403, 200)
MEMBER_ADMINS = (403, 200, 200, 200, 200, 403, 200, 403, 200)
SEES_REG_P1 = (403, 200, 200, 200, 200, 404, 404, 404, 200)
SEES_REG_NAT = (403, 200, 200, 404, 404, 404, 200, 404, 404)



MATRIX: dict[tuple[str, str, str], tuple[int, ...]] = {
    # --- settings ----------------------------------------------------------------------------
    ("GET", "intake_form_list", "-"): SYSTEM_ADMINS,
    ("GET", "intake_form_create", "-"): SYSTEM_ADMINS,
    ("POST", "intake_form_create", "-"): _as(SYSTEM_ADMINS, 302),
    # A form is changed only in the environment that made it.
    ("GET", "intake_form_edit", "if_province1"): (403, 404, 403, 200, 403, 403, 404, 403, 200),
    ("GET", "intake_form_edit", "if_national"): (403, 200, 403, 404, 403, 403, 404, 403, 404),
    ("GET", "intake_form_edit", "missing"): (403, 404, 403, 404, 403, 403, 404, 403, 404),
    ("POST", "intake_form_edit", "if_province1"): (403, 404, 403, 302, 403, 403, 404, 403, 302),
    # --- "+Inschrijving": forms of this environment or above, for departments below it --------
    # The federation registers someone through a province's form too ("+ Inschrijving").
    ("GET", "intake_fill", "if_province1"): (403, 200, 200, 200, 200, 200, 404, 404, 200),
    ("GET", "intake_fill", "if_national"): (403, 200, 200, 404, 404, 404, 200, 200, 404),
    ("GET", "intake_fill", "missing"): MISSING,
    ("POST", "intake_fill", "if_province1"): (403, 302, 302, 302, 302, 302, 404, 404, 302),
    # --- registrations -------------------------------------------------------------------------
    # Department administrators get the forms to fill in, not the list.
    ("GET", "registration_list", "-"): (403, 200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "registration_detail", "reg_province1"): SEES_REG_P1,
    ("GET", "registration_detail", "reg_national"): SEES_REG_NAT,
    ("GET", "registration_detail", "missing"): MISSING,
    ("GET", "registration_accept", "reg_province1"): (403, 405, 405, 405, 405, 405, 405, 405, 405),
    ("POST", "registration_accept", "reg_province1"): _as(SEES_REG_P1, 302),
    ("POST", "registration_accept", "reg_national"): _as(SEES_REG_NAT, 302),
    ("POST", "registration_accept", "missing"): MISSING,
    ("POST", "registration_link", "reg_province1"): _as(SEES_REG_P1, 302),
    ("POST", "registration_reject", "reg_province1"): _as(SEES_REG_P1, 302),
    ("POST", "registration_reject", "reg_national"): _as(SEES_REG_NAT, 302),
}


@pytest.fixture(autouse=True)
def _quiet(caplog):
    caplog.set_level(logging.ERROR, logger="django.request")


@pytest.fixture
def objects(federation) -> dict:
    found: dict = {}
    found["if_province1"] = make_intake_form(federation.province1)
    found["if_national"] = make_intake_form(
        federation.national, name="Inschrijfformulier Provincie 2",
        departments=[federation.department21, federation.department22],
    )
    values = {"first_name": "Femke", "last_name": "Dijk", "birth_date": datetime.date(2005, 4, 3), "email": "femke@example.org"}
    found["reg_province1"] = intake.registration_submit(
        intake_form=found["if_province1"], values=values, department=federation.department11)
    found["reg_national"] = intake.registration_submit(
        intake_form=found["if_national"], values=values, department=federation.department21)
    # The duplicate reg_province1 can be linked to.
    found["r_duplicate"] = make_relation(federation.department11, first_name="Femke", last_name="Dijk",
                                         birth_date=datetime.date(2005, 4, 3), function_code="department_board_member")
    return found


def _url(url_name: str, probe: str, objects: dict) -> str:
    if probe == "-":
        return reverse(url_name)
    pk = MISSING_PK if probe == "missing" else objects[probe].pk
    return reverse(url_name, kwargs={"pk": pk})


def _post_data(url_name: str, probe: str, objects: dict, federation) -> dict:
    today = TODAY.isoformat()
    if url_name in ("intake_form_create", "intake_form_edit"):
        return {
            "name": "Nieuw formulier", "kind": "public", "active": "on", "privacy_statement": "Privacy",
            "function_type": FunctionType.objects.get(code="department_member").pk,
            "rows-TOTAL_FORMS": 1, "rows-INITIAL_FORMS": 0, "rows-MIN_NUM_FORMS": 0, "rows-MAX_NUM_FORMS": 60,
            "rows-0-order": 1, "rows-0-label": "Achternaam", "rows-0-target": "last_name", "rows-0-required": "on",
        }
    if url_name == "intake_fill":
        return {"f_first_name": "Kees", "f_last_name": "Nieuw", "f_birth_date": "2004-01-01",
                "f_email": "kees@example.org", "department": federation.department11.pk}
    if url_name == "registration_reject":
        return {"reason": "Dubbel"}
    department = federation.department21 if probe == "reg_national" else federation.department11
    data = {"department": department.pk, "start_date": today}
    if url_name == "registration_link":
        data["relation"] = objects["r_duplicate"].pk
    return data


def _state() -> tuple:
    return (
        list(IntakeForm.objects.order_by("pk").values_list("pk", "name")),
        IntakeFormRow.objects.count(),
        list(Registration.objects.order_by("pk").values_list("pk", "status")),
        Relation.objects.count(),
        Function.objects.count(),
    )


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
        method, url_name, MATRIX, federation, state=_state,
        url=lambda name, probe: _url(name, probe, objects),
        data=lambda name, probe: _post_data(name, probe, objects, federation),
    )
    assert not failures, "\n".join(failures)


def test_it_keeps_post_rows_for_every_state_changing_view():
    posted = {url_name for method, url_name, _probe in MATRIX if method == "POST"}
    assert {"intake_form_create", "intake_form_edit", "intake_fill", "registration_accept", "registration_link",
            "registration_reject"} <= posted


def test_it_lets_anyone_send_the_public_form_without_a_login(client, federation, objects):
    form = objects["if_province1"]
    url = reverse("intake_public", kwargs={"slug": form.slug})
    assert client.get(url).status_code == 200
    response = client.post(url, {"f_first_name": "Kees", "f_last_name": "Nieuw", "f_birth_date": "2004-01-01",
                                 "f_email": "kees@example.org", "department": federation.department12.pk, "privacy": "on"})
    assert response.status_code == 302
    assert Registration.objects.filter(department=federation.department12).count() == 1


def test_it_answers_no_server_error_to_hostile_parameters_on_any_page(federation, objects):
    failures = hostile_get_failures(MATRIX, federation, url=lambda name, probe: _url(name, probe, objects))
    assert not failures, "\n".join(failures)
