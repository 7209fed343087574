"""Logging in through the real form and moving between environments, in Chromium."""

from __future__ import annotations

import re
from base64 import b32decode, b32encode

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    """Log in through the real form, and through the second step where the role needs one (the
    system administrators): set the app up, or type its current code (tests/e2e/test_two_factor.py)."""
    page.goto("/accounts/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        page.locator("form:has(input[name=password]) button[type=submit]").click()
    if page.url.endswith("/accounts/two-factor/setup/"):
        secret = page.get_by_test_id("totp-secret").inner_text()
        page.locator("input[name=code]").fill(code_for_secret(secret))
        with page.expect_navigation():
            page.get_by_test_id("enrol-form").locator("button[type=submit]").click()
        with page.expect_navigation():
            page.get_by_test_id("continue").click()
    elif page.url.endswith("/accounts/login/code/"):
        device = TOTPDevice.objects.get(user__username=username, confirmed=True)
        page.locator("input[name=code]").fill(code_for_secret(b32encode(device.bin_key).decode()))
        with page.expect_navigation():
            page.get_by_test_id("two-factor-form").locator("button[type=submit]").click()


def code_for_secret(secret: str) -> str:
    """The code an authenticator app shows now for this key (base32, as the page shows it)."""
    key = "".join(secret.split()).upper()
    return f"{totp(b32decode(key + '=' * (-len(key) % 8))):06d}"


def test_it_logs_in_and_switches_to_a_department(page: Page, federation):
    log_in(page, "province_sb")

    expect(page).to_have_url(re.compile(r"/$"))
    current = page.get_by_test_id("current-environment")
    expect(current).to_have_text("Provincie 1")
    # The stylesheets arrived: Bootstrap lays the navbar out as a flex row.
    expect(page.locator("header.navbar")).to_have_css("display", "flex")

    switcher = page.get_by_test_id("environment-switcher")
    switcher.click()
    page.locator("li.dropdown", has=switcher).get_by_role(
        "button", name="Afdeling 1.1", exact=True
    ).click()

    expect(current).to_have_text("Afdeling 1.1")


def test_it_looks_along_in_a_province_and_goes_back(page: Page, federation):
    log_in(page, "national_sb")
    current = page.get_by_test_id("current-environment")
    expect(current).to_have_text("Testfederatie")
    banner = page.get_by_test_id("looking-along-banner")
    expect(banner).to_have_count(0)

    # The "environments below this one" list on the home page.
    page.locator("main li", has_text="Provincie 2").get_by_role("button").click()

    expect(current).to_have_text("Provincie 2")
    expect(banner).to_be_visible()

    banner.get_by_role("button").click()

    expect(current).to_have_text("Testfederatie")
    expect(banner).to_have_count(0)


def test_it_shows_an_error_for_a_wrong_password(page: Page, federation):
    log_in(page, "province_sb", password="wrong-horse-battery")

    expect(page.locator("form").get_by_role("alert")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_test_id("current-environment")).to_have_count(0)


def test_it_collapses_the_menu_on_a_phone(page: Page, federation):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "province_sb")
    expect(page.get_by_test_id("current-environment")).to_have_text("Provincie 1")

    # Keyboard users can jump over the navigation: the skip link is the first stop.
    page.keyboard.press("Tab")
    skip_link = page.locator("a[href='#main']")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_visible()

    menu = page.locator("#main-nav")
    toggler = page.locator(".navbar-toggler")
    expect(menu).to_be_hidden()
    expect(toggler).to_be_visible()

    toggler.click()

    expect(menu).to_be_visible()
    expect(toggler).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_test_id("environment-switcher")).to_be_visible()
