"""The access matrix of the data-quality screens (issue 6): every URL, every kind of user,
compared with an oracle written here by hand. Runner, actors and the reading of the answers are
those of tests/tenants/test_access_matrix.py, whose completeness test also reads this MATRIX.

Who may do what:
- the error list, its exports, the recipients and their overview: member administrators and
  system administrators of the environment (not the department administrators' ledenmodule);
- an address is switched or removed only in its own environment: another one answers 404;
- the choice of rules: the national system administrator alone.
"""

from __future__ import annotations

import datetime
import logging

import pytest
from django.urls import reverse

from quality import services as quality
from quality.models import DataProblem, ErrorReportRecipient, QualityRuleSetting, RetentionSetting
from tests.factories import make_relation
from tests.fuzz import hostile_get_failures
from tests.tenants.test_access_matrix import (
    ACTORS,
    MISSING,
    MISSING_PK,
    _as,
    _client_for,
    matrix_failures,
)

pytestmark = pytest.mark.django_db

#               out  n_sb  n_la  p_sb  p_la  d_la  p2sb  d21  n_sb@p1
ADMINISTRATORS = (403, 200, 200, 200, 200, 403, 200, 403, 200)
NATIONAL_SB = (403, 200, 403, 403, 403, 403, 403, 403, 200)
NOT_POST = (403, 405, 405, 405, 405, 405, 405, 405, 405)
OWN_PROVINCE1 = (403, 404, 404, 302, 302, 404, 404, 404, 302)
OWN_NATIONAL = (403, 302, 302, 404, 404, 404, 404, 404, 404)



MATRIX: dict[tuple[str, str, str], tuple[int, ...]] = {
    ("GET", "quality_problem_list", "-"): ADMINISTRATORS,
    ("GET", "quality_problem_export", "csv"): ADMINISTRATORS,
    ("GET", "quality_problem_export", "xlsx"): ADMINISTRATORS,
    ("GET", "quality_problem_export", "pdf"): (403, 404, 404, 404, 404, 403, 404, 403, 404),
    ("GET", "quality_recipient_list", "-"): ADMINISTRATORS,
    ("POST", "quality_recipient_list", "-"): _as(ADMINISTRATORS, 302),
    ("GET", "quality_recipient_overview", "-"): ADMINISTRATORS,
    ("GET", "quality_recipient_toggle", "rc_province1"): NOT_POST,
    ("POST", "quality_recipient_toggle", "rc_province1"): OWN_PROVINCE1,
    ("POST", "quality_recipient_toggle", "rc_national"): OWN_NATIONAL,
    ("POST", "quality_recipient_toggle", "missing"): MISSING,
    ("GET", "quality_recipient_delete", "rc_province1"): NOT_POST,
    ("POST", "quality_recipient_delete", "rc_province1"): OWN_PROVINCE1,
    ("POST", "quality_recipient_delete", "rc_national"): OWN_NATIONAL,
    # The department administrator may not change an address even in their own environment.
    ("POST", "quality_recipient_delete", "rc_department11"): (403, 404, 404, 404, 404, 403, 404, 404, 404),
    ("GET", "quality_rule_list", "-"): NATIONAL_SB,
    ("POST", "quality_rule_list", "-"): _as(NATIONAL_SB, 302),
    ("GET", "quality_retention", "-"): NATIONAL_SB,
    ("POST", "quality_retention", "-"): _as(NATIONAL_SB, 302),
}


@pytest.fixture(autouse=True)
def _quiet(caplog, settings):
    caplog.set_level(logging.ERROR, logger="django.request")
    settings.ADDRESS_LOOKUP = "ledenbeheer.addresses.NoLookup"


@pytest.fixture
def objects(federation) -> dict:
    make_relation(federation.department11, last_name="Elf", email="")
    make_relation(federation.department21, last_name="Eenentwintig", email="")
    quality.checks_run(datetime.date.today())
    return {
        key: ErrorReportRecipient.objects.create(tenant=federation.tenants[tenant], email=f"{key}@example.org")
        for key, tenant in (("rc_province1", "province1"), ("rc_national", "national"),
                            ("rc_department11", "department11"))
    }


def _url(url_name: str, probe: str, objects: dict) -> str:
    if url_name == "quality_problem_export":
        return reverse(url_name, kwargs={"fmt": probe})
    if probe == "-":
        return reverse(url_name)
    return reverse(url_name, kwargs={"pk": MISSING_PK if probe == "missing" else objects[probe].pk})


def _post_data(url_name: str) -> dict:
    if url_name == "quality_recipient_list":
        return {"email": "nieuw@example.org", "active": "on"}
    if url_name == "quality_rule_list":
        # Everything active except the e-mail rule: a change from the defaults.
        return {"active": [r.code for r in quality.RULES if r.default_active and r.code != "missing_email"]}
    if url_name == "quality_retention":
        return {"years": "7"}
    return {}


def _state() -> tuple:
    return (
        list(ErrorReportRecipient.objects.order_by("pk").values_list("pk", "email", "active")),
        list(QualityRuleSetting.objects.order_by("code").values_list("code", "active")),
        list(DataProblem.objects.order_by("pk").values_list("pk", "closed_on")),
        list(RetentionSetting.objects.values_list("years", flat=True)),
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
        data=lambda name, probe: _post_data(name),
    )
    assert not failures, "\n".join(failures)


def test_it_keeps_post_rows_for_every_state_changing_view():
    posted = {url_name for method, url_name, _probe in MATRIX if method == "POST"}
    assert {"quality_recipient_list", "quality_recipient_toggle", "quality_recipient_delete",
            "quality_rule_list"} <= posted


def test_it_never_lists_or_exports_another_provinces_problems(federation, objects, login):
    # The oracle of the list: province 1 sees department 1.1's problem, never department 2.1's.
    client = _client_for(federation, "province_sb")
    page = client.get(reverse("quality_problem_list")).content.decode()
    d11 = DataProblem.objects.filter(relation__last_name="Elf").values_list("relation_id", flat=True).first()
    d21 = DataProblem.objects.filter(relation__last_name="Eenentwintig").values_list("relation_id", flat=True).first()
    assert reverse("relation_detail", kwargs={"pk": d11}) in page
    assert reverse("relation_detail", kwargs={"pk": d21}) not in page
    export = b"".join(client.get(reverse("quality_problem_export", kwargs={"fmt": "csv"})).streaming_content)
    assert b"Elf" in export and b"Eenentwintig" not in export


def test_it_answers_no_server_error_to_hostile_parameters_on_any_page(federation, objects):
    failures = hostile_get_failures(MATRIX, federation, url=lambda name, probe: _url(name, probe, objects))
    assert not failures, "\n".join(failures)
