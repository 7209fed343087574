"""The intake flow in Chromium: a visitor fills in the public form, an administrator accepts the
registration, and the new member's card shows the confirmation mail in the communication log."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from intake.models import Registration
from relations.models import CommunicationEntry, Relation
from tests.factories import make_intake_form, make_mail_template

from .test_login_and_environments import log_in

pytestmark = pytest.mark.browser


def test_it_takes_a_public_registration_through_to_a_member_with_the_confirmation_in_the_log(page: Page, federation):
    confirmation = make_mail_template(federation.national, name="Nieuw lid (inschrijving)",
                                      email_subject="Welkom bij [department], [firstname]!")
    intake_form = make_intake_form(federation.province1, accepted_template=confirmation)

    # The visitor: no login. A bad postcode is refused at the field first.
    page.goto(f"/aanmelden/{intake_form.slug}/")
    form = page.get_by_test_id("intake-public-form")
    expect(page.get_by_test_id("privacy-statement")).to_contain_text("alleen voor je lidmaatschap")
    form.locator("[name=f_first_name]").fill("Femke")
    form.locator("[name=f_infix]").fill("van")
    form.locator("[name=f_last_name]").fill("Dijk")
    form.locator("[name=f_birth_date]").fill("2005-04-03")
    form.locator("[name=f_email]").fill("femke@example.org")
    form.locator("[name=f_postcode]").fill("12")
    form.locator("[name=department]").select_option(label="Afdeling 1.2")
    form.locator("[name=privacy]").check()
    form.locator("button[type=submit]").click()
    expect(page.locator("#id_f_postcode_error, .invalid-feedback").first).to_be_visible()
    assert not Registration.objects.exists()
    form.locator("[name=f_postcode]").fill("7001ab")
    form.locator("[name=f_house_number]").fill("12")
    form.locator("[name=privacy]").check()
    form.locator("button[type=submit]").click()
    expect(page.get_by_test_id("intake-sent")).to_be_visible()

    # The province's member administrator accepts it.
    log_in(page, "province_la")
    page.goto("/registrations/")
    rows = page.get_by_test_id("registration-row")
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link").click()
    expect(page.get_by_test_id("registration-data")).to_contain_text("femke@example.org")
    expect(page.get_by_test_id("no-duplicates")).to_be_visible()
    page.get_by_test_id("accept-form").locator("button[type=submit]").click()

    # The new member's card, with the confirmation mail and its PDF in the communication log.
    expect(page.get_by_test_id("relation-name")).to_have_text("Femke van Dijk")
    relation = Relation.objects.get(last_name="Dijk")
    assert relation.functions.get().tenant == federation.department12
    page.goto(f"/relations/{relation.pk}/communication/")
    entry = page.get_by_test_id("communication-entry")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("Welkom bij Afdeling 1.2, Femke!")
    expect(entry.get_by_test_id("communication-attachment")).to_be_visible()
    assert CommunicationEntry.objects.get(relation=relation).attachment.read().startswith(b"%PDF")
