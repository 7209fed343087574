"""Reading an uploaded member list into rows of text: CSV in UTF-8 (with or without BOM) or
Windows-1252 with `;` or `,`, and XLSX read through openpyxl (read-only, defusedxml, cached
values: formulas are never evaluated). Everything a user can get wrong ends in `FileRefused`
with a message for them, never in an exception of a library."""

from __future__ import annotations

import csv
import datetime
import io
import zipfile
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
# An XLSX is a zip: refuse one that unpacks to more than this, or that packs suspiciously well
# (a "zip bomb" of a few kilobytes can unpack to gigabytes).
MAX_XLSX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_XLSX_RATIO = 200
MAX_ROWS = 200_000
MAX_COLUMNS = 200
PREVIEW_ROWS = 5

ENCODINGS = ("utf-8-sig", "utf-8", "cp1252")
ENCODING_LABELS = {"utf-8-sig": "UTF-8 (BOM)", "utf-8": "UTF-8", "cp1252": "Windows-1252"}
DELIMITERS = (";", ",", "\t")

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # encrypted (password-protected) Office files
ZIP_SIGNATURE = b"PK\x03\x04"


class FileRefused(ValidationError):
    """The upload cannot be read; the message says why, for the user."""


@dataclass
class Table:
    """The cells of one sheet: a header row and data rows, every cell text or a date."""

    headers: list[str]
    rows: list[list[object]]
    file_type: str  # "csv" or "xlsx"
    encoding: str = ""
    delimiter: str = ""
    sheet: str = ""
    sheets: list[str] = field(default_factory=list)
    # The line number of each row as the user sees it in Excel (the header is line 1).
    lines: list[int] = field(default_factory=list)

    @property
    def encoding_label(self) -> str:
        return ENCODING_LABELS.get(self.encoding, self.encoding)


def file_type_of(name: str) -> str:
    lowered = name.lower()
    if lowered.endswith(".csv") or lowered.endswith(".txt"):
        return "csv"
    if lowered.endswith(".xlsx"):
        return "xlsx"
    raise FileRefused(_("Upload a CSV file (.csv) or an Excel workbook (.xlsx); “%(name)s” is neither.") % {"name": name})


def read_table(data: bytes, name: str, *, encoding: str = "", sheet: str = "") -> Table:
    """The table in an uploaded file. `encoding` (CSV) and `sheet` (XLSX) override what is
    detected; the user picks them when the first rows show the detection was wrong."""
    file_type = file_type_of(name)
    if len(data) > MAX_UPLOAD_BYTES:
        raise FileRefused(_("The file is larger than 20 MB; split it into smaller files."))
    if not data.strip():
        raise FileRefused(_("The file is empty."))
    table = _read_xlsx(data, sheet) if file_type == "xlsx" else _read_csv(data, encoding)
    table.headers = [str(h).strip() if h is not None else "" for h in table.headers]
    # Rows without any value (Excel keeps formatted empty rows) are not rows; the others keep
    # their line number for the messages.
    kept = [(line, row) for line, row in enumerate(table.rows, start=2) if any(_filled(v) for v in row)]
    table.lines = [line for line, _row in kept]
    table.rows = [row for _line, row in kept]
    if not any(table.headers):
        raise FileRefused(_("The first row must hold the column names; it is empty."))
    if not table.rows:
        raise FileRefused(_("The file holds only a header row: there is nothing to import."))
    if len(table.rows) > MAX_ROWS:
        raise FileRefused(_("The file has more than %(max)s rows; split it into smaller files.") % {"max": MAX_ROWS})
    width = len(table.headers)
    table.rows = [(list(row) + [""] * width)[:width] for row in table.rows]
    return table


def _filled(value: object) -> bool:
    return value is not None and str(value).strip() != ""


# --- CSV ---------------------------------------------------------------------------------------


def detect_encoding(data: bytes) -> str:
    """UTF-8 with BOM, UTF-8, or Windows-1252; bytes valid in none of them are refused rather
    than read as something they are not."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        raise FileRefused(
            _("The file is neither UTF-8 nor Windows-1252 text. Save it from Excel as “CSV (puntkomma gescheiden)” or as .xlsx.")
        ) from None
    return "cp1252"


def sniff_delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    sample = text[:20_000]
    try:
        return csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        # The sniffer gives up on irregular files; the header row then decides.
        counts = {d: header.count(d) for d in DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ";"


def _read_csv(data: bytes, encoding: str) -> Table:
    if data.startswith(ZIP_SIGNATURE) or data.startswith(OLE_SIGNATURE) or b"\x00" in data[:4096]:
        raise FileRefused(_("This file is not a CSV text file, although its name ends in .csv."))
    encoding = encoding if encoding in ENCODINGS else detect_encoding(data)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        raise FileRefused(_("The file cannot be read as %(encoding)s.") % {"encoding": ENCODING_LABELS[encoding]}) from None
    text = text.lstrip("\ufeff")
    delimiter = sniff_delimiter(text)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error:
        raise FileRefused(_("The file is not a valid CSV file.")) from None
    if not rows:
        raise FileRefused(_("The file is empty."))
    if len(rows[0]) > MAX_COLUMNS:
        raise FileRefused(_("The file has more than %(max)s columns.") % {"max": MAX_COLUMNS})
    return Table(headers=rows[0], rows=rows[1:], file_type="csv", encoding=encoding, delimiter=delimiter)


# --- XLSX --------------------------------------------------------------------------------------


def _check_zip(data: bytes) -> None:
    if data.startswith(OLE_SIGNATURE):
        raise FileRefused(_("The workbook is protected with a password. Remove the password in Excel and upload it again."))
    if not data.startswith(ZIP_SIGNATURE):
        raise FileRefused(_("This file is not an Excel workbook, although its name ends in .xlsx."))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FileRefused(_("The workbook is damaged and cannot be read.")) from None
    names = {info.filename for info in infos}
    if "xl/workbook.xml" not in names:
        raise FileRefused(_("This file is not an Excel workbook, although its name ends in .xlsx."))
    unpacked = sum(info.file_size for info in infos)
    packed = max(1, sum(info.compress_size for info in infos))
    if unpacked > MAX_XLSX_UNPACKED_BYTES or unpacked / packed > MAX_XLSX_RATIO:
        raise FileRefused(_("The workbook unpacks to far more data than it holds; it is refused for safety."))


def _read_xlsx(data: bytes, sheet: str) -> Table:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    _check_zip(data)
    try:
        # read_only streams the sheet; data_only gives the values Excel stored for formula cells
        # instead of the formulas: we never evaluate a formula, nor keep one.
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError):
        raise FileRefused(_("The workbook is damaged and cannot be read.")) from None
    except Exception as error:  # defusedxml refuses entity tricks with its own exceptions
        if type(error).__module__.startswith("defusedxml"):
            raise FileRefused(_("The workbook contains unsafe XML and is refused.")) from None
        raise
    try:
        sheets = list(workbook.sheetnames)
        chosen = sheet if sheet in sheets else sheets[0]
        worksheet = workbook[chosen]
        rows: list[list[object]] = []
        for row in worksheet.iter_rows(values_only=True):
            if len(rows) > MAX_ROWS + 1:
                break
            rows.append([_xlsx_cell(v) for v in row[:MAX_COLUMNS]])
    except Exception as error:
        if type(error).__module__.startswith("defusedxml"):
            raise FileRefused(_("The workbook contains unsafe XML and is refused.")) from None
        if isinstance(error, (ValueError, KeyError, TypeError, zipfile.BadZipFile)):
            raise FileRefused(_("The workbook is damaged and cannot be read.")) from None
        raise
    finally:
        workbook.close()
    if not rows:
        raise FileRefused(_("The file is empty."))
    return Table(headers=[str(v) for v in rows[0]], rows=rows[1:], file_type="xlsx", sheet=chosen, sheets=sheets)


def _xlsx_cell(value: object) -> object:
    """Dates stay dates; whole numbers lose Excel's ".0"; everything else becomes text."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)
