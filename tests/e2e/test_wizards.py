"""A selection wizard in Chromium: copy the member list, add a field from the searchable field
list with its own label, run it and download the Excel file."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.factories import make_relation
from wizards.models import Wizard

from .test_login_and_environments import log_in

pytestmark = pytest.mark.browser


def test_it_copies_a_wizard_adds_a_field_with_its_own_label_runs_it_and_downloads_excel(page: Page, federation):
    make_relation(federation.department11, first_name="Hansje", last_name="Brinker", mobile="06 12345678")
    make_relation(federation.department21, first_name="Hanna", last_name="Anders", mobile="06 87654321")
    original = Wizard.objects.get(code="member_list")
    original_fields = list(original.fields.values_list("field_key", "label"))

    log_in(page, "province_sb")
    page.goto("/wizards/")
    page.get_by_test_id("wizard-row").filter(has_text="Ledenlijst per afdeling").get_by_role(
        "link", name="Kopiëren"
    ).click()
    form = page.get_by_test_id("wizard-copy-form")
    form.get_by_label("Naam van de kopie").fill("Ledenlijst met mobiel")
    form.get_by_role("button", name="Kopiëren").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ledenlijst met mobiel")

    # "Klik voor keuze": search the field list and add the mobile number.
    page.get_by_test_id("field-search").press_sequentially("mobiel", delay=30)
    found = page.get_by_test_id("catalogue-field")
    expect(found).to_have_count(1)
    found.get_by_role("button").click()
    rows = page.get_by_test_id("wizard-field-row")
    new_row = rows.filter(has_text="Mobiel nummer")
    expect(new_row).to_have_count(1)
    new_row.get_by_label("Eigen vertaling").fill("GSM")
    page.get_by_test_id("wizard-save").click()
    expect(page.get_by_role("status")).to_contain_text("opgeslagen")

    page.get_by_test_id("wizard-run-link").click()
    page.get_by_test_id("wizard-refresh").click()
    result = page.get_by_test_id("wizard-result")
    expect(result.locator("thead")).to_contain_text("GSM")
    expect(page.get_by_test_id("wizard-result-row")).to_have_count(1)
    expect(result).to_contain_text("06 12345678")
    expect(result).not_to_contain_text("Anders")

    with page.expect_download() as download_info:
        page.get_by_test_id("wizard-export-xlsx").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    workbook = load_workbook(io.BytesIO(open(download.path(), "rb").read()), read_only=True)  # noqa: SIM115
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[0][-1] == "GSM"
    assert rows[1][-1] == "06 12345678"
    assert len(rows) == 2

    # The original stays as it was.
    assert list(original.fields.values_list("field_key", "label")) == original_fields
