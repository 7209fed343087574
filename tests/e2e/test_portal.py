"""The member portal in Chromium on a phone-sized window (375 px): a member asks for a login link,
logs in with it, corrects the address (a wrong postcode first), sees the change in the history,
opens the membership card and downloads its PDF, and the card's QR address shows validity only."""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from portal import services
from relations.models import Relation
from tests.factories import make_relation
from tests.portal.test_portal import MEMBER_DATA

pytestmark = pytest.mark.browser

LINK = re.compile(r"https?://[^\s/]+(/portal/login/[^\s/]+/)")
PHONE = {"width": 375, "height": 740}


@pytest.fixture(autouse=True)
def _offline_address_lookup(settings):
    settings.ADDRESS_LOOKUP = "ledenbeheer.addresses.NoLookup"


def _fits_the_phone(page: Page) -> None:
    # Nothing sticks out sideways: no horizontal scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def _menu(page: Page, test_id: str) -> None:
    # On a phone the menu is folded away behind the toggler.
    toggler = page.locator("button.navbar-toggler")
    if toggler.is_visible():
        toggler.click()
    page.get_by_test_id(test_id).click()


def test_a_member_uses_the_portal_on_a_phone(page: Page, federation, mailoutbox):
    anna = make_relation(federation.department11, **MEMBER_DATA)
    page.set_viewport_size(PHONE)

    # Ask for a link with the e-mail address on the card.
    page.goto("/portal/login/")
    _fits_the_phone(page)
    expect(page.get_by_test_id("no-email-hint")).to_contain_text("ledenadministratie van je afdeling")
    page.locator("input[name=email]").fill("anna@example.org")
    page.get_by_role("button", name="Stuur me een inloglink").click()
    expect(page.get_by_test_id("link-sent")).to_be_visible()
    assert [m.to for m in mailoutbox] == [["anna@example.org"]]

    # The link shows a button; pressing it logs in.
    link = LINK.search(mailoutbox[0].body).group(1)
    page.goto(link)
    page.get_by_test_id("use-link").click()
    expect(page).to_have_url(re.compile(r"/portal/$"))
    expect(page.get_by_test_id("own-data")).to_contain_text(str(anna.number))
    _fits_the_phone(page)

    # Correct the address: a wrong postcode first (a Dutch message, nothing saved), then right.
    page.get_by_test_id("edit-contact").click()
    page.locator("input[name=postcode]").fill("12")
    page.get_by_role("button", name="Opslaan").click()
    expect(page.locator("#id_postcode_error, .invalid-feedback, .errorlist").first).to_be_visible()
    expect(page.get_by_test_id("contact-form")).to_contain_text("postcode")
    anna.refresh_from_db()
    assert anna.postcode == "1234 AB"
    _fits_the_phone(page)
    page.locator("input[name=postcode]").fill("9999 ZZ")
    page.locator("input[name=house_number]").fill("12")
    page.locator("input[name=street]").fill("Nieuwe Weg")
    page.locator("input[name=city]").fill("Anders")
    page.get_by_role("button", name="Opslaan").click()
    expect(page).to_have_url(re.compile(r"/portal/$"))
    expect(page.get_by_test_id("own-address")).to_contain_text("Nieuwe Weg 12")

    # The history names the member.
    _menu(page, "nav-history")
    expect(page.get_by_test_id("history")).to_contain_text("(het lid)")
    expect(page.get_by_test_id("history")).to_contain_text("Dorpsstraat")

    # The membership card, and its PDF.
    _menu(page, "nav-card")
    card = page.get_by_test_id("membership-card")
    expect(card).to_contain_text("Anna Mulder")
    expect(card).to_contain_text("Afdeling 1.1")
    expect(card.locator("svg")).to_be_visible()
    _fits_the_phone(page)
    with page.expect_download() as download:
        page.get_by_test_id("card-pdf").click()
    with open(download.value.path(), "rb") as pdf:
        text = PdfReader(io.BytesIO(pdf.read())).pages[0].extract_text()
    assert "Anna Mulder" in text and str(anna.number) in text

    # The QR code's address: whether the holder is a member today, and nothing else.
    verify_url = services.membership_cards(Relation.objects.get(pk=anna.pk))[0].verify_url
    page.goto(re.sub(r"^https?://[^/]+", "", verify_url))
    expect(page.get_by_test_id("verify-valid")).to_contain_text("Geldig lid van Afdeling 1.1")
    body = page.locator("main").inner_text()
    assert "Anna" not in body and "Mulder" not in body and str(anna.number) not in body
    _fits_the_phone(page)

    # Logging out, from the phone's menu.
    page.goto("/portal/")
    page.wait_for_load_state("networkidle")
    page.locator("button.navbar-toggler").click()
    logout = page.get_by_test_id("logout")
    expect(logout).to_be_visible()
    # The menu slides open (Bootstrap's collapse): click once it has come to rest.
    page.locator(".navbar-collapse.show:not(.collapsing)").wait_for()
    with page.expect_navigation():
        logout.click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
