"""The error list in Chromium: a member administrator finds a card with a missing e-mail address,
completes it, and the problem is gone from the list."""

from __future__ import annotations

import datetime

import pytest
from playwright.sync_api import Page, expect

from quality import services as quality
from tests.factories import make_relation

from .test_login_and_environments import log_in

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _offline_address_lookup(settings):
    settings.ADDRESS_LOOKUP = "ledenbeheer.addresses.NoLookup"


def test_it_leads_from_the_error_list_to_the_card_and_closes_the_problem_on_save(page: Page, federation):
    make_relation(
        federation.department11, first_name="Mees", last_name="Zondermail", email="",
        birth_date=datetime.date(2003, 4, 5), postcode="1234 AB", house_number=3, street="Dijk", city="Ergens",
    )
    quality.checks_run(datetime.date.today())

    log_in(page, "province_la")
    page.goto("/quality/problems/")
    problem = page.get_by_test_id("problem")
    expect(problem).to_have_count(1)
    expect(problem).to_contain_text("E-mailadres ontbreekt")
    problem.get_by_role("link", name="Zondermail, Mees").click()
    expect(page.get_by_test_id("relation-name")).to_have_text("Mees Zondermail")

    page.goto(page.url + "edit/")
    form = page.get_by_test_id("relation-form")
    form.locator("[name=email]").fill("mees@example.org")
    form.locator("button[type=submit]").click()
    expect(page.get_by_test_id("relation-name")).to_have_text("Mees Zondermail")

    page.goto("/quality/problems/")
    expect(page.get_by_test_id("problems-none")).to_be_visible()
