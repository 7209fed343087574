"""The ledenmodule in Chromium: a new department administrator sets a password through "forgot
password", logs in with the e-mail address on their card, registers a member after searching,
ends another membership with a reason and downloads the member list."""

from __future__ import annotations

import datetime
import io
import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from memberships.models import Function
from relations.models import Relation
from tests.factories import give_function, make_relation

pytestmark = pytest.mark.browser

TODAY = datetime.date.today()
LINK = re.compile(r"https?://[^\s/]+(/accounts/password/reset/[^\s/]+/[^\s/]+/)")
PASSWORD = "groene-tractor-op-het-erf"


@pytest.fixture(autouse=True)
def _offline_address_lookup(settings):
    settings.ADDRESS_LOOKUP = "ledenbeheer.addresses.NoLookup"


def test_a_department_administrator_works_in_the_ledenmodule(page: Page, federation, mailoutbox):
    anna = make_relation(federation.department11, first_name="Anna", last_name="Bakker", email="anna@example.org")
    give_function(anna, federation.department11, "department_member_administration", start_date=TODAY,
                  actor=federation.province_sb)
    make_relation(federation.department11, first_name="Carla", last_name="Huidig")
    mailoutbox.clear()

    # The first time: "forgot password" with the e-mail address on the card.
    page.goto("/accounts/password/reset/")
    page.locator("input[name=email]").fill("anna@example.org")
    page.locator("form:has(input[name=email]) button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/password/reset/sent/$"))
    assert [m.to for m in mailoutbox] == [["anna@example.org"]]
    page.goto(LINK.search(mailoutbox[0].body).group(1))
    page.locator("input[name=new_password1]").fill(PASSWORD)
    page.locator("input[name=new_password2]").fill(PASSWORD)
    page.locator("form:has(input[name=new_password1]) button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/password/reset/complete/$"))

    page.goto("/accounts/login/")
    page.locator("input[name=username]").fill("anna@example.org")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    # Home is the department's dashboard; the member list is one click away.
    expect(page).to_have_url(re.compile(r"/ledenmodule/(dashboard/)?$"))
    expect(page.get_by_test_id("current-environment")).to_have_text("Afdeling 1.1")
    page.goto("/ledenmodule/")
    expect(page.get_by_test_id("member-row")).to_have_count(2)

    # Register a member: search first; nobody known, so a new card with the membership.
    page.get_by_test_id("nav-register").click()
    search = page.get_by_test_id("known-person-search")
    search.locator("[name=last_name]").fill("Jansma")
    search.locator("[name=birth_date]").fill("2001-02-03")
    search.locator("button").click()
    expect(page.get_by_test_id("nobody-found")).to_be_visible()
    page.get_by_test_id("register-new").click()
    form = page.get_by_test_id("relation-form")
    expect(form.locator("[name=last_name]")).to_have_value("Jansma")
    form.locator("[name=first_name]").fill("Joris")
    form.locator("[name=email]").fill("joris@example.org")
    form.locator("button[type=submit]").click()
    expect(page.get_by_test_id("relation-name")).to_have_text("Joris Jansma")
    joris = Relation.objects.get(last_name="Jansma")
    assert joris.birth_date == datetime.date(2001, 2, 3)
    assert Function.objects.get(relation=joris).tenant == federation.department11

    # End another membership with a reason.
    page.goto("/ledenmodule/")
    page.get_by_role("link", name="Huidig, Carla").click()
    page.get_by_test_id("member-end").click()
    end_form = page.get_by_test_id("end-form")
    end_form.locator("[name=reason]").select_option(label="Verhuisd")
    end_form.locator("[name=note]").fill("Naar Groningen")
    end_form.locator("button").click()
    expect(page.get_by_role("status").first).to_contain_text("Carla Huidig")
    ended = Function.objects.get(relation__last_name="Huidig")
    assert (ended.end_date, ended.cancellation_reason.name) == (TODAY, "Verhuisd")

    # Download the member list.
    page.get_by_test_id("nav-reports").click()
    with page.expect_download() as info:
        page.get_by_test_id("download-xlsx").click()
    download = info.value
    assert download.suggested_filename.startswith("leden-afdeling-11-")
    with open(download.path(), "rb") as handle:
        sheet = load_workbook(io.BytesIO(handle.read())).active
    surnames = sorted(row[5] for row in sheet.iter_rows(min_row=2, values_only=True))
    # Carla's membership ended today: the end date is the first day it no longer holds
    # (docs/definitions.md), so she is not among the current members.
    assert surnames == ["Bakker", "Jansma"]


def test_the_federation_looks_along_with_a_department_administrator(page: Page, federation):
    from .test_login_and_environments import log_in

    anna = make_relation(federation.department11, first_name="Anna", last_name="Bakker", email="anna@example.org")
    give_function(anna, federation.department11, "department_member_administration", start_date=TODAY,
                  actor=federation.province_sb)

    log_in(page, "national_sb")
    page.goto(f"/relations/{anna.pk}/")
    page.get_by_test_id("look-along-start").click()

    expect(page).to_have_url(re.compile(r"/ledenmodule/(dashboard/)?$"))
    banner = page.get_by_test_id("looking-along-banner")
    expect(banner).to_contain_text("Anna Bakker")
    expect(page.get_by_test_id("current-environment")).to_have_text("Afdeling 1.1")
    page.get_by_test_id("look-along-stop").click()

    expect(page.get_by_test_id("relation-name")).to_have_text("Anna Bakker")
    expect(page.get_by_test_id("looking-along-banner")).to_have_count(0)
    expect(page.get_by_test_id("current-environment")).to_have_text("Testfederatie")
