"""Billing in Chromium: set a rate, make a concept run, finalise it, open an invoice PDF,
download the SEPA collection file (valid against the XSD) and import the bank's statement."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
import sepaxml
from lxml import etree
from playwright.sync_api import Page, expect

from billing import services
from billing.camt import camt053_from_batch
from billing.models import CollectionBatch, Invoice
from tests.billing.world import MEMBER_IBANS, YEAR, billing_environment, member

from .test_login_and_environments import log_in

pytestmark = pytest.mark.browser

TODAY = datetime.date.today()


def test_it_bills_collects_and_books_the_statement(page: Page, federation, tmp_path):
    billing_environment(federation.province1)
    relation = member(federation.department11, "Incasso", first_name="Ina")
    services.mandate_create(tenant=federation.province1, relation=relation, reference="M-1", signed_on=TODAY,
                            iban=MEMBER_IBANS[0], account_holder="", actor=None)
    log_in(page, "province_sb")

    page.goto("/billing/rates/new/")
    form = page.get_by_test_id("rate-form")
    form.locator("[name=function_type]").select_option(label="Lid (afdelingsleden)")
    form.locator("[name=season_start]").fill(f"{YEAR}-01-01")
    form.locator("[name=name]").fill("Volwassen")
    form.locator("[name=amount]").fill("42.50")
    form.get_by_role("button", name="Opslaan").click()
    expect(page.get_by_test_id("rate")).to_contain_text("Volwassen")

    page.goto("/billing/runs/new/")
    form = page.get_by_test_id("run-form")
    form.locator("[name=name]").fill("Contributie")
    form.locator("[name=reference_date]").fill(f"{YEAR}-01-01")
    form.get_by_label("Lid (afdelingsleden)").check()
    form.get_by_role("button", name="Concept maken").click()
    expect(page.get_by_test_id("run-status")).to_have_text("Concept")
    expect(page.get_by_test_id("concept-line")).to_contain_text("Ina Incasso")
    expect(page.get_by_test_id("concept-summary")).to_contain_text("42,50")

    page.get_by_test_id("run-finalise").click()
    expect(page.get_by_test_id("run-status")).to_have_text("Definitief")
    expect(page.get_by_test_id("run-progress")).to_contain_text("1 van 1")
    invoice = Invoice.objects.get()
    page.get_by_role("link", name=invoice.number).click()
    expect(page.get_by_test_id("invoice-total")).to_contain_text("42,50")
    pdf = page.request.get(page.get_by_test_id("invoice-pdf").get_attribute("href"))
    assert pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")

    page.goto("/billing/collections/")
    form = page.get_by_test_id("batch-form")
    form.locator("[name=collection_date]").fill((TODAY + datetime.timedelta(days=5)).isoformat())
    form.get_by_role("button", name="Incassobestand maken").click()
    expect(page.get_by_role("status")).to_contain_text("1 transacties")
    with page.expect_download() as download_info:
        page.get_by_test_id("batch-download").click()
    xml = Path(download_info.value.path()).read_bytes()
    schema = etree.XMLSchema(etree.parse(str(Path(sepaxml.__file__).parent / "schemas" / "pain.008.001.02.xsd")))
    schema.assertValid(etree.fromstring(xml))

    statement = tmp_path / "camt053.xml"
    statement.write_bytes(camt053_from_batch(CollectionBatch.objects.get()))
    page.goto("/billing/statements/")
    page.get_by_test_id("statement-form").locator("[name=file]").set_input_files(str(statement))
    page.get_by_test_id("statement-form").get_by_role("button", name="Importeren").click()
    expect(page.get_by_test_id("statement-summary")).to_contain_text("1 van 1 gekoppeld")
    expect(page.get_by_test_id("entry")).to_contain_text(invoice.number)
    invoice.refresh_from_db()
    assert invoice.status == "paid"
