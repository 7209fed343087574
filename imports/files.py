"""Files the import hands out: the template (XLSX and CSV, with the environment's custom fields
and an example row) and the uploaded file back with an error column."""

from __future__ import annotations

import csv
import datetime
import io

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from relations.exports import BOM, csv_cell
from relations.models import CustomField, CustomFieldType

from .columns import CUSTOM_PREFIX, Target, targets
from .reading import Table

EXAMPLE = {
    "number": "", "initials": "J.", "first_name": "Jan", "infix": "de", "last_name": "Vries", "gender": "M",
    "birth_date": datetime.date(1960, 3, 14), "email": "jan.de.vries@example.nl", "phone": "030 123 4567",
    "mobile": "06 12345678", "street": "Dorpsstraat", "house_number": "12", "house_number_suffix": "a",
    "postcode": "3511 AB", "city": "Utrecht", "country": "NL", "function_type": "Lid (afdelingsleden)",
    "department": "", "start_date": datetime.date.today().replace(month=1, day=1),
}


def template_rows(custom_fields: list[CustomField], department_name: str, membership_name: str,
                  offered: list[Target] | None = None) -> tuple[list[str], list[object]]:
    """The template's headers and example row: `offered` targets (default: the card's fields and
    `custom_fields`; the other apps' columns only when offered in the environment)."""
    headers, example = [], []
    for target in offered if offered is not None else targets(custom_fields):
        headers.append(target.label)
        if target.key.startswith(CUSTOM_PREFIX):
            custom = next(f for f in custom_fields if f.code == target.key.removeprefix(CUSTOM_PREFIX))
            example.append(_custom_example(custom))
        elif target.key == "department":
            example.append(department_name)
        elif target.key == "function_type":
            example.append(membership_name)
        else:
            example.append(EXAMPLE.get(target.key, target.example))
    return headers, example


def _custom_example(field: CustomField) -> object:
    if field.field_type == CustomFieldType.DATE:
        return datetime.date.today()
    if field.field_type == CustomFieldType.BOOLEAN:
        return _("yes")
    if field.field_type == CustomFieldType.CHOICE:
        return (field.choice_list or [""])[0]
    if field.field_type == CustomFieldType.NUMBER:
        return "1"
    return ""


def _text(value: object) -> str:
    if isinstance(value, datetime.date):
        return value.strftime("%d-%m-%Y")
    return "" if value is None else str(value)


def csv_bytes(rows: list[list[object]]) -> bytes:
    """CSV for Excel: UTF-8 with BOM, `;`, formula-like cells made harmless."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    for row in rows:
        writer.writerow([csv_cell(_text(v)) if not isinstance(v, datetime.date) else _text(v) for v in row])
    return (BOM + out.getvalue()).encode("utf-8")


def xlsx_bytes(rows: list[list[object]], title: str) -> bytes:
    """Every text as a text cell (never a formula), dates as dates shown dd-mm-jjjj."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    for index, row in enumerate(rows):
        sheet.append([None for _v in row])
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(row=index + 1, column=column)
            if isinstance(value, datetime.date):
                cell.value = value
                cell.number_format = "DD-MM-YYYY"
            else:
                cell.value = _text(value)
                cell.data_type = "s"
            if index == 0:
                cell.font = Font(bold=True)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def error_file_rows(table: Table, errors: dict[int, list[str]]) -> list[list[object]]:
    """The uploaded rows as they were, with a last column naming what is wrong in each."""
    rows: list[list[object]] = [[*table.headers, _("Errors")]]
    for line, row in zip(table.lines, table.rows, strict=True):
        rows.append([*row, " | ".join(errors.get(line, []))])
    return rows
