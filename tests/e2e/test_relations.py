"""The main flows of relation cards, in Chromium: find a member by part of the name, add a
relation with its membership, end a membership with a reason, transfer a member."""

from __future__ import annotations

import datetime

import pytest
from playwright.sync_api import Page, expect

from memberships.models import Function
from relations import paging
from relations.models import Relation
from tests.factories import make_relation
from tests.relations.test_search import many_members

from .test_login_and_environments import log_in

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _offline_address_lookup(settings):
    settings.ADDRESS_LOOKUP = "ledenbeheer.addresses.NoLookup"


def test_it_finds_a_member_by_part_of_the_name_as_you_type(page: Page, federation):
    make_relation(federation.department11, first_name="Hansje", last_name="Brinker")
    make_relation(federation.department11, first_name="Pieter", last_name="Post")
    make_relation(federation.department21, first_name="Hanna", last_name="Anders")  # other province

    log_in(page, "province_sb")
    page.goto("/relations/")
    page.get_by_test_id("relation-search-box").press_sequentially("ans", delay=30)

    rows = page.get_by_test_id("relation-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Brinker")
    rows.first.get_by_role("link").first.click()
    expect(page.get_by_test_id("relation-name")).to_have_text("Hansje Brinker")


def test_it_finds_what_people_type(page: Page, federation):
    """The list writes "Aarts, Teun": typed back like that, or with the tussenvoegsel anywhere,
    a postcode with or without its space, or without the accents, the search finds the person; an
    exact e-mail address comes first."""
    make_relation(federation.department11, first_name="Teun", last_name="Aarts", postcode="2665 RA")
    make_relation(federation.department11, first_name="Jan", infix="van", last_name="Dijk", postcode="2665 XY")
    make_relation(federation.department11, first_name="Zoë", last_name="Ĳzerman")
    make_relation(federation.department11, first_name="Maria", last_name="Smit", postcode="2665 XY")

    log_in(page, "province_sb")
    page.goto("/relations/")
    box = page.get_by_test_id("relation-search-box")
    rows = page.get_by_test_id("relation-row")
    for typed, name in [
        ("Aarts, Teun", "Aarts"), ("Dijk, van", "Dijk"), ("Dijk van", "Dijk"), ("van Dijk", "Dijk"),
        ("2665ra", "Aarts"), ("2665 RA", "Aarts"), ("Zoe IJzerman", "zerman"),
    ]:
        box.fill("")
        box.press_sequentially(typed, delay=20)
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text(name)

    # An exact e-mail address comes first, before a name that sorts earlier and holds it too.
    make_relation(federation.department11, first_name="Ans", last_name="Aalbers", email="info@teun.nl.example.org")
    make_relation(federation.department11, first_name="Wim", last_name="Zwart", email="info@teun.nl")
    box.fill("")
    box.press_sequentially("info@teun.nl", delay=20)
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Zwart")
    expect(rows.nth(1)).to_contain_text("Aalbers")


def test_a_common_term_shows_its_rows_first_and_then_its_count(page: Page, federation, monkeypatch):
    """A term the sample of names finds often: the first page comes from the walk, saying "more
    than 50"; the count line then asks for the count itself and shows it."""
    many_members(federation.department11, 120, city="Utrecht")
    monkeypatch.setattr(paging, "WALK", 100)
    monkeypatch.setattr(paging, "SAMPLE_STEP", 1)
    monkeypatch.setattr(paging, "PROBE", 110)
    paging._walk_bound.clear()
    log_in(page, "province_sb")
    page.goto("/relations/")
    with page.expect_response(lambda response: "/relations/count/" in response.url):
        page.get_by_test_id("relation-search-box").press_sequentially("lid", delay=30)
    expect(page.get_by_test_id("relation-row")).to_have_count(50)
    expect(page.get_by_test_id("result-count")).to_have_text(
        "Meer dan 110 relaties gevonden: maak de zoekopdracht nauwkeuriger om ze allemaal te zien"
    )
    paging._walk_bound.clear()


def test_it_adds_a_relation_with_a_membership(page: Page, federation):
    log_in(page, "province_sb")
    page.goto("/relations/new/")
    form = page.get_by_test_id("relation-form")
    form.locator("[name=first_name]").fill("Sanne")
    form.locator("[name=infix]").fill("van der")
    form.locator("[name=last_name]").fill("Berg")
    form.locator("[name=email]").fill("sanne@example.org")
    form.locator("[name=postcode]").fill("6711ab")
    form.locator("[name=house_number]").fill("12")
    form.locator("[name=street]").fill("Dorpsstraat")
    form.locator("[name=city]").fill("Ede")
    first = page.get_by_test_id("first-function")
    first.locator("[name=function_type]").select_option(label="Lid (afdelingsleden)")
    first.locator("[name=tenant]").select_option(label="— — Afdeling 1.2")
    form.locator("button[type=submit]").click()

    expect(page.get_by_test_id("relation-name")).to_have_text("Sanne van der Berg")
    relation = Relation.objects.get(last_name="Berg")
    assert relation.postcode == "6711 AB"
    assert relation.tenant == federation.department12
    membership = Function.objects.get(relation=relation)
    assert membership.tenant == federation.department12
    assert membership.start_date == datetime.date.today()


def test_it_ends_a_membership_with_a_reason(page: Page, federation):
    relation = make_relation(federation.department11, first_name="Kees", last_name="Klaassen")
    log_in(page, "province_sb")
    page.goto(f"/relations/{relation.pk}/functions/")
    page.get_by_test_id("function-end").first.click()

    form = page.get_by_test_id("function-end-form")
    expect(page.get_by_test_id("membership-end-warning")).to_be_visible()
    form.locator("[name=reason]").select_option(label="Verhuisd")
    form.locator("[name=note]").fill("Naar Canada")
    form.locator("button[type=submit]").click()

    expect(page.get_by_test_id("functions")).to_be_visible()
    membership = Function.objects.get(relation=relation)
    assert membership.end_date == datetime.date.today()
    assert membership.cancellation_reason.name == "Verhuisd"
    assert membership.cancellation_note == "Naar Canada"


def test_it_transfers_a_member_to_another_department(page: Page, federation):
    relation = make_relation(federation.department11, first_name="Lotte", last_name="de Wit")
    log_in(page, "national_sb")
    page.goto(f"/relations/{relation.pk}/functions/")
    page.get_by_test_id("function-transfer").first.click()

    form = page.get_by_test_id("member-transfer-form")
    form.locator("[name=to_department]").select_option(label="Afdeling 2.2")
    form.locator("button[type=submit]").click()

    expect(page.get_by_test_id("functions")).to_be_visible()
    relation.refresh_from_db()
    assert relation.tenant == federation.department22
    current = Function.objects.memberships().active_on(datetime.date.today() + datetime.timedelta(days=1))
    assert list(current.filter(relation=relation).values_list("tenant", flat=True)) == [federation.department22.pk]
