"""Importing members in Chromium: download the template, fill it in, upload it, fix an error
the check names, import, and find the new members; then merge two cards from "Mogelijke
dubbelen"."""

from __future__ import annotations

import datetime
import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from relations.models import Relation
from tests.factories import make_relation

from .test_login_and_environments import log_in

pytestmark = pytest.mark.browser


def _filled_template(path: str, tmp_path, birth: str) -> str:
    with open(path, "rb") as handle:
        workbook = load_workbook(io.BytesIO(handle.read()))
    sheet = workbook.active
    headers = [c.value for c in sheet[1]]
    sheet.delete_rows(2)
    for first, last, born in (("Fenna", "van Dijk", datetime.date(1994, 5, 6)), ("Gijs", "Hoekstra", birth)):
        row = [""] * len(headers)
        row[headers.index("Voornaam")] = first
        row[headers.index("Achternaam")] = last
        row[headers.index("Geboortedatum")] = born
        row[next(i for i, h in enumerate(headers) if h.startswith("Mobiel"))] = 612345678  # Excel dropped the leading zero
        row[headers.index("Afdeling")] = "Afdeling 1.1"
        row[headers.index("Lidmaatschap")] = "Lid (afdelingsleden)"
        sheet.append(row)
    target = tmp_path / f"leden-{len(str(birth))}.xlsx"
    workbook.save(target)
    return str(target)


def test_it_imports_members_from_the_template_after_fixing_an_error(page: Page, federation, tmp_path):
    log_in(page, "province_la")
    page.goto("/relations/")
    page.get_by_test_id("relation-list-import").click()
    with page.expect_download() as download_info:
        page.get_by_test_id("template-xlsx").click()
    template = download_info.value.path()
    with open(template, "rb") as handle:
        headers = [c.value for c in next(load_workbook(io.BytesIO(handle.read())).active.iter_rows(max_row=1))]
    assert "Achternaam" in headers and "Geboortedatum" in headers

    # First attempt: a birth date that does not exist.
    page.get_by_test_id("import-file").set_input_files(_filled_template(template, tmp_path, "31-02-2001"))
    page.get_by_test_id("upload-submit").click()
    expect(page.get_by_test_id("first-rows")).to_contain_text("Fenna")
    page.get_by_test_id("check-submit").click()
    expect(page.get_by_test_id("check-errors")).to_contain_text("regel 3, Geboortedatum: 31-02-2001 bestaat niet.")
    with page.expect_download() as errors_info:
        page.get_by_test_id("error-file").click()
    error_sheet = load_workbook(io.BytesIO(open(errors_info.value.path(), "rb").read())).active  # noqa: SIM115
    assert "bestaat niet" in str(error_sheet.cell(row=3, column=error_sheet.max_column).value)
    assert Relation.objects.count() == 0

    # The corrected file.
    page.get_by_role("link", name="Upload het verbeterde bestand").click()
    page.get_by_test_id("import-file").set_input_files(_filled_template(template, tmp_path, "28-02-2001"))
    page.get_by_test_id("upload-submit").click()
    page.get_by_test_id("check-submit").click()
    expect(page.get_by_test_id("summary")).to_contain_text("2 nieuwe relaties met een lidmaatschap")
    page.get_by_test_id("import-submit").click()
    expect(page.get_by_test_id("import-done")).to_contain_text("2 aangemaakt")

    page.get_by_role("link", name="Naar de relaties").click()
    page.get_by_test_id("relation-search-box").fill("Hoekstra")
    page.get_by_test_id("relation-search-box").press("Enter")
    expect(page.locator("#relation-results")).to_contain_text("Hoekstra, Gijs")
    assert Relation.objects.get(last_name="Dijk").infix == "van"
    assert Relation.objects.get(last_name="Hoekstra").mobile == "+31612345678"


def test_it_merges_two_cards_from_the_list_of_possible_duplicates(page: Page, federation):
    birth = datetime.date(1975, 3, 3)
    make_relation(federation.department11, first_name="Marieke", last_name="Vos", birth_date=birth)
    make_relation(federation.department12, first_name="Marieke", last_name="Vosse", birth_date=birth, city="Apeldoorn")

    log_in(page, "province_la")
    page.goto("/duplicates/")
    page.get_by_test_id("duplicate-scan").click()
    row = page.get_by_test_id("duplicate-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("zelfde geboortedatum, gelijkende naam")
    row.get_by_test_id("merge-link").click()
    form = page.get_by_test_id("merge-form")
    form.get_by_label("Apeldoorn").check()
    form.get_by_test_id("merge-submit").click()

    expect(page.get_by_role("status").filter(has_text="samengevoegd")).to_have_count(1)
    kept = Relation.objects.filter(merged_into__isnull=True, last_name__startswith="Vos")
    assert kept.count() == 1 and kept.get().city == "Apeldoorn"
