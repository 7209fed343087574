"""Downloads of a relation search: CSV for Excel and XLSX (ARCHITECTURE "Safety").

CSV is UTF-8 with a BOM (so Excel reads the accents), `;`-separated (the Dutch Excel default),
dates dd-mm-jjjj, and a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a
leading `'` so a spreadsheet never runs it as a formula. In XLSX every text is written as a text
cell, which Excel never evaluates, so the value stays as it was typed; dates are real dates shown
dd-mm-jjjj. Both read the rows in chunks of 2,000, so a large export never holds the whole result
in memory. Every export of personal data is logged (who, environment, what, rows) through
`relations.services.export_log_record`. The `*_write` functions write to a file and report
progress, for the background exports of the selection wizards. What a column needs loaded
alongside beyond the card itself (current memberships) comes from the app that knows it, through
`column_data_register`.
"""

from __future__ import annotations

import csv
import datetime
import decimal
import logging
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from django.db.models import QuerySet
from django.http import FileResponse, HttpResponseBase, StreamingHttpResponse
from django.utils.translation import gettext
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from tenants.models import Tenant, User

from .filters import Column, as_text
from .models import ExportLog, Relation
from .services import export_log_record

logger = logging.getLogger("ledenbeheer.exports")

CHUNK_SIZE = 2000
STREAM_ROWS = 500
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_FIRST = frozenset(FORMULA_STARTS)
BOM = "\ufeff"


def csv_cell(value: Any) -> str:
    """A value as a CSV cell for Excel: dd-mm-jjjj dates, and formula-like text made harmless."""
    if type(value) is str:  # most cells: the quick way
        return "'" + value if value[:1] in FORMULA_FIRST else value
    text = as_text(value)
    # A number (a negative amount, say) is no formula: only text is made harmless.
    if text.startswith(FORMULA_STARTS) and not isinstance(value, int | float | decimal.Decimal):
        return "'" + text
    return text


ColumnData = Callable[[QuerySet[Relation], Tenant], QuerySet[Relation]]
_column_data: dict[str, ColumnData] = {}


def column_data_register(needs: str, load: ColumnData) -> None:
    """`load(queryset, tenant)` adds what columns with `needs=<needs>` read (memberships
    registers "memberships", a prefetch of the current memberships)."""
    _column_data[needs] = load


def with_column_data(queryset: QuerySet[Relation], columns: list[Column], tenant: Tenant) -> QuerySet[Relation]:
    """The queryset with what the columns need loaded alongside (a join or one prefetch query per
    chunk of rows)."""
    needs = {c.needs for c in columns}
    if "tenant" in needs:
        queryset = queryset.select_related("tenant")
    for need in sorted(needs & _column_data.keys()):
        queryset = _column_data[need](queryset, tenant)
    return queryset


def _rows(rows: QuerySet | Iterable, columns: list[Column]) -> Iterator[list[Any]]:
    """The cells of every row; a queryset is read in chunks (with its prefetches per chunk)."""
    objects = rows.iterator(chunk_size=CHUNK_SIZE) if isinstance(rows, QuerySet) else rows
    for obj in objects:
        yield [column.value(obj) for column in columns]


def _log(*, actor: User, tenant: Tenant, fmt: str, rows: int, what: str | None = None) -> ExportLog:
    what = what or gettext("Relation search")
    logger.info(
        "%s exported %d relations as %s from %s (%s)",
        actor.username, rows, fmt, tenant.name, what,
        extra={"user_id": actor.pk, "username": actor.username, "tenant_id": tenant.pk, "format": fmt, "rows": rows},
    )
    return export_log_record(user=actor, tenant=tenant, what=what, fmt=fmt, rows=rows)


class _Echo:
    """A file-like object whose write() hands the line back, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def _csv_writer(output) -> Any:
    return csv.writer(output, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")


def csv_stream(
    queryset: QuerySet[Relation] | Iterable, columns: list[Column], *, actor: User, tenant: Tenant,
    what: str | None = None,
) -> Iterator[bytes]:
    """The export as CSV, produced row by row for a StreamingHttpResponse."""
    writer = _csv_writer(_Echo())
    count = 0
    # Logged when the download starts, before the first byte leaves: a download that is broken
    # off (or whose process dies) is in the export log all the same. Its row count is written
    # when the stream ends.
    log = _log(actor=actor, tenant=tenant, fmt="csv", rows=0, what=what)
    try:
        yield (BOM + writer.writerow([csv_cell(c.label) for c in columns])).encode("utf-8")
        # Sent in blocks of STREAM_ROWS rows: one write to the socket per row costs more than
        # the row itself.
        block: list[str] = []
        for row in _rows(queryset, columns):
            block.append(writer.writerow([csv_cell(v) for v in row]))
            count += 1
            if len(block) >= STREAM_ROWS:
                yield "".join(block).encode("utf-8")
                block = []
        if block:
            yield "".join(block).encode("utf-8")
    finally:
        ExportLog.objects.filter(pk=log.pk).update(rows=count)


def csv_write(
    output: IO[str], queryset: QuerySet | Iterable, columns: list[Column],
    progress: Callable[[int], None] | None = None,
) -> int:
    """The export as CSV into a text file opened with newline=""; returns the number of rows.
    `progress` hears the count every CHUNK_SIZE rows."""
    writer = _csv_writer(output)
    output.write(BOM)
    writer.writerow([csv_cell(c.label) for c in columns])
    count = 0
    for row in _rows(queryset, columns):
        writer.writerow([csv_cell(v) for v in row])
        count += 1
        if progress and count % CHUNK_SIZE == 0:
            progress(count)
    return count


def _xlsx_cell(sheet, value: Any, *, date_format: str = "DD-MM-YYYY"):
    """A value for a write-only sheet: plain where openpyxl writes it as it is (most cells: a
    plain value costs a third less than a cell object), a cell where it needs a format or must
    not become a formula."""
    if isinstance(value, datetime.date):
        cell = WriteOnlyCell(sheet, value)
        cell.number_format = date_format
        return cell
    if isinstance(value, bool) or value is None:
        return as_text(value)
    if isinstance(value, int | float | decimal.Decimal):
        return value
    text = as_text(value)
    if ILLEGAL_CHARACTERS_RE.search(text):
        text = ILLEGAL_CHARACTERS_RE.sub("", text)
    if text.startswith("="):
        # openpyxl takes text starting with "=" for a formula; a text cell is never evaluated.
        cell = WriteOnlyCell(sheet, text)
        cell.data_type = "s"
        return cell
    return text


# Excel refuses these in a sheet's name, a name longer than 31 characters, and an apostrophe at
# either end; a wizard's name may hold any of them.
SHEET_TITLE_FORBIDDEN = str.maketrans("", "", "\\/?*[]:")


def sheet_title(title: str) -> str:
    """`title` as a name Excel accepts for a sheet; never empty."""
    cleaned = ILLEGAL_CHARACTERS_RE.sub("", str(title)).translate(SHEET_TITLE_FORBIDDEN)
    return cleaned.strip().strip("'")[:31].strip() or "Export"


def xlsx_write(
    output: IO[bytes] | str, queryset: QuerySet | Iterable, columns: list[Column], *, title: str = "Relaties",
    progress: Callable[[int], None] | None = None,
) -> int:
    """The export as an XLSX workbook (openpyxl write-only mode, rows streamed to a temporary
    file) saved to `output`; returns the number of rows."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title(title))
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, ILLEGAL_CHARACTERS_RE.sub("", as_text(column.label)))
        cell.data_type = "s"
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in _rows(queryset, columns):
        sheet.append([_xlsx_cell(sheet, v) for v in row])
        count += 1
        if progress and count % CHUNK_SIZE == 0:
            progress(count)
    workbook.save(output)
    return count


def xlsx_file(
    queryset: QuerySet[Relation] | Iterable, columns: list[Column], *, actor: User, tenant: Tenant,
    title: str = "Relaties", what: str | None = None,
) -> IO[bytes]:
    """The export as an XLSX workbook in a temporary file, rewound."""
    output = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115 (the response closes it)
    count = xlsx_write(output, queryset, columns, title=title)
    output.seek(0)
    _log(actor=actor, tenant=tenant, fmt="xlsx", rows=count, what=what)
    return output


XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download_response(
    rows: QuerySet | Iterable, columns: list[Column], *, fmt: str, actor: User, tenant: Tenant, filename: str,
    title: str, what: str | None = None,
) -> HttpResponseBase:
    """The download of an export as the browser gets it: CSV streamed row by row, XLSX as a
    file; `filename` without its extension. Either way the export is logged."""
    name = f"{filename}.{fmt}"
    if fmt == "csv":
        response = StreamingHttpResponse(
            csv_stream(rows, columns, actor=actor, tenant=tenant, what=what), content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return FileResponse(
        xlsx_file(rows, columns, actor=actor, tenant=tenant, title=title, what=what),
        as_attachment=True, filename=name, content_type=XLSX_CONTENT_TYPE,
    )
