"""The access matrix of the dashboard and its reports (issue 17): every URL, every kind of user,
compared with an oracle written here by hand. Runner, actors and the reading of the answers are
those of tests/tenants/test_access_matrix.py, whose completeness test also reads this MATRIX.

Who may do what:
- the reports (membership flow, its downloads, the end-date analysis) show the current
  environment to everyone who may view its relations — the department administrators see their
  own department; an outsider without a role is refused;
- hiding or showing a widget is every user's own business (the start page itself is in the
  tenants matrix, the department's dashboard in the ledenmodule matrix).

And the counts themselves: a province's reports never count another province's members.
"""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from dashboard.models import WidgetPreference
from tests.fuzz import hostile_get_failures
from tests.tenants.test_access_matrix import ACTORS, EVERY_ROLE, _as, _client_for, matrix_failures

pytestmark = pytest.mark.django_db

MATRIX: dict[tuple[str, str, str], tuple[int, ...]] = {
    ("GET", "dashboard_flow", "-"): EVERY_ROLE,
    ("GET", "dashboard_flow_export", "csv"): EVERY_ROLE,
    ("GET", "dashboard_flow_export", "xlsx"): EVERY_ROLE,
    ("GET", "dashboard_flow_export", "pdf"): _as(EVERY_ROLE, 404),
    ("GET", "dashboard_end_dates", "-"): EVERY_ROLE,
    ("POST", "dashboard_widget_visibility", "-"): _as(EVERY_ROLE, 302),
    ("GET", "dashboard_widget_visibility", "-"): _as(EVERY_ROLE, 405),
    ("GET", "dashboard_widget", "members"): EVERY_ROLE,
    ("GET", "dashboard_widget", "open_invoices"): (403, 200, 200, 200, 200, 404, 200, 404, 200),
    ("GET", "dashboard_widget", "missing"): _as(EVERY_ROLE, 404),
}


@pytest.fixture(autouse=True)
def _quiet(caplog):
    caplog.set_level(logging.ERROR, logger="django.request")


def _url(url_name: str, probe: str) -> str:
    if url_name == "dashboard_flow_export":
        return reverse(url_name, kwargs={"fmt": probe})
    if url_name == "dashboard_widget":
        return reverse(url_name, kwargs={"key": probe})
    return reverse(url_name)


def _state() -> tuple:
    return (list(WidgetPreference.objects.order_by("user_id").values_list("user_id", "hidden")),)


def test_it_has_one_answer_per_actor_in_every_row():
    for key, row in MATRIX.items():
        assert len(row) == len(ACTORS), key


@pytest.mark.parametrize(
    ("method", "url_name"),
    sorted({(m, u) for m, u, _probe in MATRIX}, key=lambda mu: (mu[1], mu[0])),
    ids=lambda value: value,
)
def test_it_gives_every_user_the_answer_of_the_matrix(method, url_name, federation, history):
    failures = matrix_failures(
        method, url_name, MATRIX, federation, state=_state,
        url=lambda name, probe: _url(name, probe),
        data=lambda name, probe: {"key": "members", "next": "/"},
    )
    assert not failures, "\n".join(failures)


def test_it_keeps_post_rows_for_every_state_changing_view():
    posted = {url_name for method, url_name, _probe in MATRIX if method == "POST"}
    assert {"dashboard_widget_visibility"} <= posted


def _csv(client, **params) -> str:
    response = client.get(reverse("dashboard_flow_export", kwargs={"fmt": "csv"}), params)
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode("utf-8-sig")


def test_it_never_counts_another_provinces_members_in_a_province(federation, history):
    client = _client_for(federation, "province_sb")
    export = _csv(client, first=2016, last=2026)
    assert "Afdeling 1.1" in export and "Afdeling 1.2" in export
    assert "Afdeling 2." not in export and "Provincie 2" not in export
    page = client.get(reverse("dashboard_flow"), {"by": "department", "first": 2016}).content.decode()
    assert "Afdeling 1.1" in page and "Afdeling 2.1" not in page
    # Asking for a department of the other province is refused, with the reason.
    refused = client.get(reverse("dashboard_flow"), {"department": federation.department21.pk})
    assert refused.status_code == 400
    assert "maakt geen deel uit van Provincie 1" in refused.content.decode()
    ends = client.get(reverse("dashboard_end_dates"), {"first": 2016}).content.decode()
    assert "Afdeling 1.1" in ends and "Afdeling 2." not in ends


def test_it_shows_each_environment_only_its_own_members_on_the_start_page(federation, history):
    from django.utils import timezone

    from memberships.models import Function

    today = timezone.localdate()
    for actor, tenant in (("national_sb", "national"), ("province_sb", "province1"), ("province2_sb", "province2")):
        page = _client_for(federation, actor).get(reverse("dashboard_widget", kwargs={"key": "members"})).content.decode()
        expected = Function.objects.memberships_held_on(today).in_subtree(federation.tenants[tenant]).count()
        assert f'data-figure>{expected}</a>' in page, actor


def test_it_answers_no_server_error_to_hostile_parameters_on_any_page(federation, history):
    failures = hostile_get_failures(MATRIX, federation, url=lambda name, probe: _url(name, probe))
    assert not failures, "\n".join(failures)
