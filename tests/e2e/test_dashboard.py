"""The dashboard in Chromium: each role's start page renders with its widgets, a widget opens its
filtered list, the membership-flow chart is drawn with the same numbers as its table, and the
CSV downloads."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from dashboard.counts import counts_rebuild
from memberships.models import Function
from tests.dashboard.world import make_history

from .test_login_and_environments import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def history(federation):
    made = make_history(federation)
    counts_rebuild(timezone.localdate())
    return made


def _members_now(tenant) -> int:
    return Function.objects.memberships_held_on(timezone.localdate()).in_subtree(tenant).count()


@pytest.mark.parametrize(("username", "tenant"), [("national_sb", "national"), ("province_la", "province1")])
def test_it_shows_each_role_its_dashboard_with_widgets(page: Page, federation, history, username, tenant):
    log_in(page, username)
    page.goto("/")
    members = page.locator('[data-widget="members"]')
    expect(members).to_be_visible()
    expect(members.locator("[data-figure]").first).to_have_text(str(_members_now(federation.tenants[tenant])))
    expect(page.locator('[data-widget="registrations_waiting"]')).to_be_visible()
    # Every placeholder was replaced by its widget or went away.
    expect(page.locator("[data-widget-placeholder]")).to_have_count(0)


def test_it_gives_the_department_administrator_the_departments_dashboard(page: Page, federation, history):
    log_in(page, "department_la")
    page.goto("/")
    assert page.url.endswith("/ledenmodule/dashboard/")
    expect(page.get_by_test_id("nav-dashboard")).to_have_attribute("aria-current", "page")
    expect(page.locator('[data-widget="members"] [data-figure]').first).to_have_text(
        str(_members_now(federation.department11))
    )
    expect(page.locator("#flow-chart")).to_have_attribute("data-chart-ready", "1")


def test_it_opens_the_filtered_list_behind_a_widget(page: Page, federation, history):
    log_in(page, "province_sb")
    page.goto("/")
    link = page.locator('[data-widget="members"] a[data-figure]').first
    expect(link).to_be_visible()
    with page.expect_navigation():
        link.click()
    assert "/relations/?member_on=" in page.url
    expect(page.locator("body")).to_contain_text("Afdeling 1.1")


def test_it_draws_the_flow_chart_with_the_numbers_of_its_table_and_downloads_them(page: Page, federation, history):
    log_in(page, "national_sb")
    page.goto("/reports/flow/?first=2016")
    canvas = page.locator("#flow-chart")
    expect(canvas).to_have_attribute("data-chart-ready", "1")
    drawn = json.loads(canvas.get_attribute("data-chart-values"))
    table = page.locator("#flow-table tbody tr")
    rows = table.count()
    assert rows == timezone.localdate().year - 2016 + 1
    columns = [[int(v) for v in table.nth(i).locator("td[data-value]").evaluate_all("cells => cells.map(c => c.dataset.value)")]
               for i in range(rows)]
    assert drawn == [list(series) for series in zip(*columns, strict=True)]
    assert any(any(series) for series in drawn)
    # The PNG button appears once the chart is drawn.
    expect(page.get_by_role("button", name="Grafiek als PNG")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_test_id("flow-csv").click()
    text = open(download.value.path(), encoding="utf-8-sig").read()  # noqa: SIM115 (read at once)
    totals = [r for r in csv.reader(io.StringIO(text), delimiter=";") if len(r) > 1 and r[1] == "Totaal"]
    assert [int(r[3]) for r in totals] == [c[0] for c in columns]  # the start of every season
