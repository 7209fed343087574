"""The start page, the reports and their downloads as users meet them: the widgets, hiding one,
the numbers of the end-date analysis against the raw rows, bad input with a Dutch message, an
environment without members, and the query counts of the pages that must stay fast."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from dashboard.reports import membership_flow, report_scope
from memberships.models import Function
from tenants.models import TenantKind
from tenants.services import tenant_create
from tests.tenants.test_access_matrix import _client_for

pytestmark = pytest.mark.django_db


WIDGETS = ("members", "season", "open_problems", "registrations_waiting", "exports_running", "imports_unfinished",
           "open_invoices", "count_mismatches")


def _dashboard(client) -> str:
    """The start page with its widgets loaded, the way htmx loads them."""
    page = client.get(reverse("home")).content.decode()
    for key in WIDGETS:
        if f'data-widget-placeholder="{key}"' in page:
            page += client.get(reverse("dashboard_widget", kwargs={"key": key}), HTTP_HX_REQUEST="true").content.decode()
    return page


def test_it_shows_the_widgets_of_every_app_on_the_national_start_page(federation, history):
    page = _dashboard(_client_for(federation, "national_sb"))
    for key in WIDGETS:
        assert f'data-widget="{key}"' in page, key
    # Each figure links to its list with the filter set.
    today = timezone.localdate()
    assert f'{reverse("relation_list")}?member_on={today.isoformat()}' in page
    assert f'{reverse("registration_list")}?status=new' in page
    assert f'{reverse("invoice_list")}?status=open' in page


def test_it_remembers_a_hidden_widget_per_user(federation, history):
    client = _client_for(federation, "province_sb")
    response = client.post(reverse("dashboard_widget_visibility"), {"key": "open_problems", "next": "/"})
    assert response.status_code == 302
    page = _dashboard(client)
    assert 'data-widget="open_problems"' not in page and 'data-widget="members"' in page
    assert "Datafouten tonen" in page
    # Someone else still sees it.
    assert 'data-widget="open_problems"' in _dashboard(_client_for(federation, "province_la"))
    client.post(reverse("dashboard_widget_visibility"), {"key": "open_problems", "visible": "1", "next": "/"})
    assert 'data-widget="open_problems"' in _dashboard(client)


def test_it_leaves_out_a_widget_that_is_not_for_the_user(federation, history):
    # Province administrators are no national system administrators: no count check for them.
    client = _client_for(federation, "province_sb")
    response = client.get(reverse("dashboard_widget", kwargs={"key": "count_mismatches"}), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response.content == b""
    assert client.get(reverse("dashboard_widget", kwargs={"key": "count_mismatches"})).status_code == 404
    assert client.get(reverse("dashboard_widget", kwargs={"key": "no-such-widget"})).status_code == 404


def test_it_gives_department_administrators_their_departments_dashboard(federation, history):
    client = _client_for(federation, "department_la")
    assert client.get(reverse("home")).url == reverse("ledenmodule_dashboard")
    page = client.get(reverse("ledenmodule_dashboard")).content.decode()
    today = timezone.localdate()
    members = Function.objects.memberships_held_on(today).in_subtree(federation.department11).count()
    assert f"data-figure>{members}</a>" in page
    assert 'data-widget="open_problems"' not in page  # not a ledenmodule screen
    assert 'id="flow-table"' in page


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"first": 2024, "last": 2020}, "Het eerste seizoen ligt na het laatste"),
        ({"first": 1990, "last": 2024}, "Kies hoogstens 25 seizoenen"),
        ({"last": 2999}, "is nog niet begonnen"),
        ({"first": "abc"}, "Vanaf seizoen"),
        ({"by": "shoe_size"}, "Uitsplitsing"),
    ],
)
def test_it_refuses_bad_choices_with_a_dutch_message(federation, history, params, message):
    for name in ("dashboard_flow", "dashboard_end_dates", "dashboard_flow_export"):
        if name == "dashboard_end_dates" and "by" in params:
            continue
        kwargs = {"fmt": "csv"} if name == "dashboard_flow_export" else {}
        response = _client_for(federation, "national_sb").get(reverse(name, kwargs=kwargs), params)
        assert response.status_code == 400, name
        assert message in response.content.decode(), name


def test_it_says_why_an_environment_without_members_is_empty(federation, history):
    empty = tenant_create(parent=federation.province2, kind=TenantKind.DEPARTMENT, name="Afdeling Leeg")
    client = _client_for(federation, "national_sb")
    flow = client.get(reverse("dashboard_flow"), {"department": empty.pk}).content.decode()
    assert "Afdeling Leeg had in deze seizoenen geen leden" in flow
    ends = client.get(reverse("dashboard_end_dates"), {"department": empty.pk}).content.decode()
    assert "Geen lidmaatschap in Afdeling Leeg of daaronder eindigde in deze seizoenen" in ends


def test_it_downloads_the_numbers_of_the_table(federation, history):
    client = _client_for(federation, "national_sb")
    response = client.get(reverse("dashboard_flow_export", kwargs={"fmt": "csv"}), {"first": 2016})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")), delimiter=";"))
    today = timezone.localdate()
    report = membership_flow(report_scope(environment=federation.national, department_id=None, first=2016,
                                          last=None, today=today), today=today)
    totals = [r for r in rows[1:] if r[1] == "Totaal"]
    assert [(r[0], int(r[3]), int(r[4]), int(r[5]), int(r[7])) for r in totals] == [
        (s.label, s.total.start, s.total.joined, s.total.left, s.total.end) for s in report.seasons
    ]
    xlsx = client.get(reverse("dashboard_flow_export", kwargs={"fmt": "xlsx"}), {"first": 2016})
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    assert sheet.max_row == len(rows)


def test_it_analyses_end_dates_like_the_raw_rows(federation, history):
    client = _client_for(federation, "national_sb")
    response = client.get(reverse("dashboard_end_dates"), {"first": 2016, "last": 2025})
    report = response.context["report"]
    ended = Function.objects.memberships().filter(end_date__gte=datetime.date(2016, 1, 1),
                                                  end_date__lt=datetime.date(2026, 1, 1))
    assert report.total == ended.count() == 5
    assert dict(report.reasons) == {"Verhuisd": 1, "Geen tijd meer": 1, "Overleden": 1, "geen reden opgegeven": 2}
    months = dict(report.months)
    assert months["juni"] == 1 and months["december"] == 2 and months["januari"] == 1 and months["maart"] == 1
    # h1: 1 January 2019 – 30 June 2022 is three whole years; h5: 2016–2020 is four.
    years = dict(report.years)
    assert years["3"] == 1 and years["4"] == 2
    assert sum(count for _label, count in report.departments) == 5
    assert years["< 1"] == 2


def test_it_builds_the_national_start_page_and_the_flow_in_few_queries(federation, history, django_assert_max_num_queries):
    client = _client_for(federation, "national_sb")
    client.get(reverse("home"))  # the session and the grants settle
    with django_assert_max_num_queries(12):
        assert client.get(reverse("home")).status_code == 200
    for key in WIDGETS:
        with django_assert_max_num_queries(12):
            assert client.get(reverse("dashboard_widget", kwargs={"key": key}), HTTP_HX_REQUEST="true").status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("dashboard_flow"), {"first": 2017, "last": 2026, "by": "province"}).status_code == 200
