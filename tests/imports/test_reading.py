"""Reading uploads: encodings, delimiters, XLSX with date cells, and every kind of bad file
refused with a clear Dutch message and nothing written."""

from __future__ import annotations

import datetime
import io
import zipfile

import openpyxl
import pytest

from imports import services
from imports.models import ImportBatch
from imports.reading import FileRefused, read_table

pytestmark = pytest.mark.django_db


def xlsx(*sheets: tuple[str, list[list[object]]]) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets:
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_it_reads_utf8_with_and_without_bom_and_commas():
    text = "Voornaam,Achternaam\r\nZoë,Brontë\r\n"
    for data in (text.encode("utf-8"), ("\ufeff" + text).encode("utf-8")):
        table = read_table(data, "a.csv")
        assert table.delimiter == ","
        assert table.headers == ["Voornaam", "Achternaam"]
        assert table.rows == [["Zoë", "Brontë"]]


def test_it_detects_windows_1252_and_can_be_told_otherwise():
    data = "Voornaam;Achternaam\r\nRené;Müller\r\n".encode("cp1252")
    assert read_table(data, "a.csv").rows == [["René", "Müller"]]
    assert read_table(data, "a.csv").encoding_label == "Windows-1252"
    with pytest.raises(FileRefused):
        read_table(data, "a.csv", encoding="utf-8")


def test_it_reads_an_xlsx_with_date_cells_and_numbers_that_lost_their_zero(upload, federation):
    data = xlsx(("Leden", [
        ["Voornaam", "Achternaam", "Geboortedatum", "Mobiel", "Postcode", "Afdeling", "Lidmaatschap", "Opmerking"],
        ["Ans", "Bakker", datetime.datetime(1990, 4, 3), 612345678, "1234ab", "Afdeling 1.1", "Lid (afdelingsleden)", "=1+1"],
    ]))
    batch = upload(data, name="leden.xlsx")

    row = list(services.batch_rows(batch))[0]
    assert row["action"] == "new", row
    assert row["data"]["birth_date"] == "1990-04-03"
    assert row["data"]["mobile"] == "+31612345678"
    assert row["data"]["postcode"] == "1234 AB"


def test_it_never_evaluates_or_keeps_a_formula():
    data = xlsx(("Leden", [["Voornaam", "Achternaam"], ["=HYPERLINK(\"http://x\")", "Bakker"]]))
    table = read_table(data, "f.xlsx")
    # openpyxl wrote no cached value: the cell reads as empty, never as a formula or its result.
    assert table.rows == [["", "Bakker"]]


def test_it_lets_the_user_choose_a_sheet():
    data = xlsx(("Eerste", [["Naam"], ["A"]]), ("Tweede", [["Naam"], ["B"]]))
    assert read_table(data, "s.xlsx").sheets == ["Eerste", "Tweede"]
    assert read_table(data, "s.xlsx").rows == [["A"]]
    assert read_table(data, "s.xlsx", sheet="Tweede").rows == [["B"]]


def zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", "<a>" + " " * (50 * 1024 * 1024) + "</a>")
    return out.getvalue()


BAD_FILES = [
    ("empty", b"", "leden.csv", "Het bestand is leeg."),
    ("only a header", b"Voornaam;Achternaam\r\n", "leden.csv", "alleen een kopregel"),
    ("wrong extension", b"Voornaam\r\nJan\r\n", "leden.pdf", "geen van beide"),
    ("password-protected", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "leden.xlsx", "wachtwoord"),
    ("too large", b"a;b\r\n" + b"x;y\r\n" * (4 * 1024 * 1024 + 10), "leden.csv", "groter dan 20 MB"),
    ("zip bomb", None, "leden.xlsx", "veiligheid"),
    ("csv that is an xlsx", None, "leden.csv", "geen CSV-tekstbestand"),
    ("xlsx that is text", b"Voornaam;Achternaam\r\nJan;Jansen\r\n", "leden.xlsx", "geen Excel-werkmap"),
    ("neither utf-8 nor cp1252", b"Naam\r\n\x81\x8d\x8f\r\n", "leden.csv", "Windows-1252"),
]


@pytest.mark.parametrize(("what", "data", "name", "message"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_it_refuses_bad_files_clearly_and_writes_nothing(what, data, name, message, federation):
    if what == "zip bomb":
        data = zip_bomb()
    if what == "csv that is an xlsx":
        data = xlsx(("Leden", [["Naam"], ["A"]]))
    with pytest.raises(FileRefused) as refused:
        services.import_upload(actor=federation.province_la, tenant=federation.province1, name=name, data=data)
    assert message in refused.value.messages[0]
    assert ImportBatch.objects.count() == 0
