"""Two-factor login in Chromium (SPEC T9): a system administrator sets up the app right after the
password step, logs in with its code, and a recovery code works once and only once."""

from __future__ import annotations

import re
from base64 import b32encode

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD

from .test_login_and_environments import code_for_secret

pytestmark = pytest.mark.browser


def password_step(page: Page, username: str) -> None:
    # The start page loads its widgets after it has shown (htmx): let them finish first, or one of
    # them may set a new CSRF cookie after the login page below has been read.
    page.wait_for_load_state("networkidle")
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("form:has(input[name=password]) button[type=submit]").click()


def send_code(page: Page, code: str) -> None:
    page.locator("input[name=code]").fill(code)
    with page.expect_navigation():
        page.get_by_test_id("two-factor-form").locator("button[type=submit]").click()


def test_it_enrols_logs_in_with_a_code_and_takes_a_recovery_code_once(page: Page, federation):
    # The password step sends a system administrator without an app to set one up.
    password_step(page, "province_sb")
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/setup/$"))
    expect(page.get_by_test_id("qr-code").locator("svg")).to_be_visible()
    secret = page.get_by_test_id("totp-secret").inner_text()
    page.locator("input[name=code]").fill(code_for_secret(secret))
    with page.expect_navigation():
        page.get_by_test_id("enrol-form").locator("button[type=submit]").click()
    codes = page.get_by_test_id("recovery-codes").locator("li").all_inner_texts()
    assert len(codes) == 10
    page.get_by_test_id("continue").click()
    expect(page.get_by_test_id("current-environment")).to_have_text("Provincie 1")

    # Next login: the app's code. The code of the enrolment is used; wait for the next one by
    # pretending the enrolment was one step earlier.
    device = TOTPDevice.objects.get(user=federation.province_sb, confirmed=True)
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=device.last_t - 1)
    password_step(page, "province_sb")
    expect(page).to_have_url(re.compile(r"/accounts/login/code/$"))
    send_code(page, code_for_secret(b32encode(device.bin_key).decode()))
    expect(page.get_by_test_id("current-environment")).to_have_text("Provincie 1")

    # A recovery code: once.
    password_step(page, "province_sb")
    send_code(page, codes[0])
    expect(page.get_by_test_id("current-environment")).to_have_text("Provincie 1")
    expect(page.get_by_role("status").filter(has_text="herstelcode")).to_be_visible()

    # And not twice.
    password_step(page, "province_sb")
    send_code(page, codes[0])
    expect(page).to_have_url(re.compile(r"/accounts/login/code/$"))
    expect(page.locator("form").get_by_text("al eerder gebruikt")).to_be_visible()
    expect(page.get_by_test_id("current-environment")).to_have_count(0)
